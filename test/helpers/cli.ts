/** Run the built CLI the way users and Airflow do: the package bin on the pinned Node. */
import { execa } from 'execa';
import { CLI_BIN, NODE_BIN, PROJECT_ROOT } from '../../src/project.js';

export interface CliResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export async function runCli(
  args: string[],
  options: { env?: Record<string, string | undefined>; cwd?: string; timeoutMs?: number } = {},
): Promise<CliResult> {
  const result = await execa(NODE_BIN, [CLI_BIN, ...args], {
    cwd: options.cwd ?? PROJECT_ROOT,
    env: { DRIFTGATE_CONFIG: undefined, MLFLOW_TRACKING_URI: undefined, ...options.env },
    reject: false,
    timeout: options.timeoutMs ?? 600_000,
    stdin: 'ignore',
    stripFinalNewline: false,
  });
  return { exitCode: result.exitCode ?? -1, stdout: String(result.stdout), stderr: String(result.stderr) };
}

/** The last stdout line parsed: the --json contract. */
export function lastJson(stdout: string): unknown {
  const lines = stdout.trimEnd().split('\n');
  return JSON.parse(lines[lines.length - 1] ?? '');
}
