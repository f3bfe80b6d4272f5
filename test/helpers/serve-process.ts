/** A real `driftgate serve` process and a small closed-loop load generator, for the router and A/B tests. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import { CLI_BIN, NODE_BIN, PROJECT_ROOT } from '../../src/project.js';

export interface RouterProcess {
  url: string;
  pid: number;
  stderr: string[];
  exited: Promise<{ exitCode: number | undefined; signal: string | undefined; stdout: string }>;
  kill(signal: NodeJS.Signals): void;
}

export function startRouter(configFile: string, port: number, env: Record<string, string> = {}): RouterProcess {
  const child = execa(NODE_BIN, [CLI_BIN, 'serve', '--config', configFile, '--json'], {
    cwd: PROJECT_ROOT,
    env: { DRIFTGATE_CONFIG: undefined, MLFLOW_TRACKING_URI: undefined, DRIFTGATE_LOG_PATH: undefined, DRIFTGATE_ROUTER_PORT: undefined, ...env },
    reject: false,
    stdin: 'ignore',
    stderr: 'pipe',
    buffer: { stdout: true, stderr: false },
    // The graceful stop may take a few seconds on a busy machine; never escalate to SIGKILL behind the test's back.
    forceKillAfterDelay: false,
  });
  const stderr: string[] = [];
  readline.createInterface({ input: child.stderr! }).on('line', (line) => stderr.push(line));
  return {
    url: `http://127.0.0.1:${port}`,
    pid: child.pid!,
    stderr,
    exited: child.then((r) => ({ exitCode: r.exitCode, signal: r.signal, stdout: String(r.stdout) })),
    kill: (signal) => void child.kill(signal),
  };
}

export async function getJson<T>(url: string, init: RequestInit = {}): Promise<{ status: number; body: T }> {
  const response = await fetch(url, { ...init, signal: AbortSignal.timeout(30_000) });
  return { status: response.status, body: (await response.json()) as T };
}

/** Iris feature rows, cycled through by the load generator so every class shows up. */
export const IRIS_ROWS: Record<string, number>[] = readFileSync(path.join(PROJECT_ROOT, 'data', 'iris.csv'), 'utf8')
  .trim()
  .split('\n')
  .slice(1)
  .map((line) => {
    const [a, b, c, d] = line.split(',').map(Number);
    return { sepal_length: a!, sepal_width: b!, petal_length: c!, petal_width: d! };
  });

export interface PredictAnswer {
  request_id: string;
  variant: 'A' | 'B';
  alias: string;
  model_version: string;
  prediction: string;
  probabilities: Record<string, number>;
}

export interface Sample {
  user: string;
  status: number;
  body: PredictAnswer | { error: { code: string; message: string } } | null;
  sentAt: number;
  doneAt: number;
  /** A connection error (the server is gone) or a client timeout. */
  error?: string;
}

export async function predictOnce(url: string, user: string, i: number, timeoutMs = 30_000): Promise<Sample> {
  const sentAt = Date.now();
  try {
    const response = await fetch(`${url}/predict`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ user_id: user, features: IRIS_ROWS[i % IRIS_ROWS.length] }),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const body = (await response.json()) as Sample['body'];
    return { user, status: response.status, body, sentAt, doneAt: Date.now() };
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code;
    return { user, status: 0, body: null, sentAt, doneAt: Date.now(), error: cause ?? (error as Error).name };
  }
}

/** `concurrency` loops, each sending its next request when the last one is answered, until stop(). */
export async function loadUntil(url: string, options: { concurrency: number; users: string[]; stop: () => boolean; timeoutMs?: number }): Promise<Sample[]> {
  const samples: Sample[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: options.concurrency }, async () => {
      while (!options.stop()) {
        const i = next++;
        const sample = await predictOnce(url, options.users[i % options.users.length]!, i, options.timeoutMs);
        samples.push(sample);
        // A router that is gone refuses at once; do not spin on it.
        if (sample.status === 0) await sleep(20);
      }
    }),
  );
  return samples;
}

export function answer(sample: Sample): PredictAnswer {
  if (sample.status !== 200) throw new Error(`expected 200, got ${sample.status} ${JSON.stringify(sample.body)} ${sample.error ?? ''}`);
  return sample.body as PredictAnswer;
}

export function statusCounts(samples: readonly Sample[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const s of samples) {
    const key = s.status === 0 ? `error:${s.error}` : s.status === 200 ? '200' : `${s.status}:${(s.body as { error: { code: string } }).error.code}`;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

/** A process that exists and is not a zombie waiting for its (dead) parent to be reaped. */
export function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}
