/**
 * Run a child process the way execa does it: a timeout, then SIGTERM, then a forced kill; the child
 * dies with us; every failure is one ChildProcessError with exit code, signal, timed-out flag and
 * the stderr tail. The child gets an allowlisted environment (child-env.ts), never all of ours.
 */
import { execa } from 'execa';
import { ChildProcessError, tail } from '../errors.js';
import { childEnv, type ChildKind } from './child-env.js';

/** Callers that do not say what their child is get this: every non-secret kind (the bootstrap's pip, the demo's CLI children). */
export const DEFAULT_INHERIT: readonly ChildKind[] = ['driftgate'];

export interface RunOptions {
  cwd?: string;
  /** Variables set for the child on top of what it inherits; undefined removes one. */
  env?: Record<string, string | undefined>;
  /** What the child is, so what it inherits from our environment; DEFAULT_INHERIT when not given. */
  inherit?: readonly ChildKind[];
  /** Our variables passed by name although no kind allows them: the only way a DRIFTGATE_* secret reaches a child. */
  passEnv?: readonly string[];
  timeoutMs?: number;
  /** Grace period between SIGTERM and SIGKILL. */
  killAfterMs?: number;
  signal?: AbortSignal;
  /** Each stderr line as it arrives (progress goes there); stdout is collected. */
  onStderrLine?: (line: string) => void;
  /** Each stdout line as it arrives, for children that report progress on stdout (pip). */
  onStdoutLine?: (line: string) => void;
  /** A short name for messages; defaults to the file. */
  label?: string;
}

export interface RunResult {
  stdout: string;
  stderr: string;
}

export async function runChild(file: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const stderrLines: string[] = [];
  const child = execa(file, args, {
    cwd: options.cwd,
    env: childEnv({ inherit: options.inherit ?? DEFAULT_INHERIT, extra: options.env, pass: options.passEnv }),
    extendEnv: false,
    timeout: options.timeoutMs,
    forceKillAfterDelay: options.killAfterMs ?? 5000,
    cancelSignal: options.signal,
    cleanup: true,
    reject: false,
    stdin: 'ignore',
    lines: false,
    stderr: [
      'pipe',
      function* (line: unknown) {
        const text = String(line);
        stderrLines.push(text);
        if (stderrLines.length > 400) stderrLines.splice(0, 200);
        options.onStderrLine?.(text);
        yield text;
      },
    ],
    stdout: options.onStdoutLine
      ? [
          'pipe',
          function* (line: unknown) {
            options.onStdoutLine?.(String(line));
            yield line;
          },
        ]
      : 'pipe',
  });
  const result = await child;
  if (result.failed) {
    const stderr = typeof result.stderr === 'string' ? result.stderr : stderrLines.join('\n');
    throw new ChildProcessError({
      command: options.label ?? file,
      exitStatus: result.exitCode,
      signal: result.signal,
      timedOut: result.timedOut,
      stderrTail: tail(stderr || stderrLines.join('\n'), 15),
      reason: result.isCanceled ? 'cancelled' : result.timedOut ? `after ${options.timeoutMs} ms` : result.exitCode === undefined && !result.signal ? result.shortMessage : undefined,
    });
  }
  return { stdout: String(result.stdout ?? ''), stderr: String(result.stderr ?? '') };
}
