/** The one way to wait for a router: poll GET /ready until it answers 200 with what the caller needs. */
import { setTimeout as sleep } from 'node:timers/promises';
import { DriftgateError } from '../errors.js';

/** The parts of a /ready answer a caller waits on. */
export interface ReadyBody {
  status: string;
  reasons: string[];
  models: Record<'prod' | 'staging', { version: string | null; state: string }>;
  workers: { slot: number; pid: number | null; state: string; models: string[] }[];
  /** The shadow (router.shadow_share): its state and version, and its own workers. */
  shadow?: { state: string; version: string | null; alias: string | null; workers: { slot: number; pid: number | null; state: string; models: string[] }[] };
}

export interface WaitForReadyOptions {
  timeoutMs: number;
  /** More than 200: e.g. every worker holding both versions. */
  accept?: (body: ReadyBody) => boolean;
  /** True once the router's process has exited: waiting longer is pointless. */
  gone?: () => boolean;
  intervalMs?: number;
}

/** Resolves with the first /ready body that is 200 and accepted; else fails with the last answer. */
export async function waitForReady(url: string, options: WaitForReadyOptions): Promise<ReadyBody> {
  const deadline = Date.now() + options.timeoutMs;
  let last = 'no answer';
  while (Date.now() < deadline && !options.gone?.()) {
    try {
      const response = await fetch(new URL('/ready', url), { signal: AbortSignal.timeout(5000) });
      const body = (await response.json()) as ReadyBody;
      if (response.status === 200 && (options.accept?.(body) ?? true)) return body;
      last = `${response.status} ${JSON.stringify(body)}`;
    } catch (error) {
      last = (error as Error).message;
    }
    await sleep(options.intervalMs ?? 250);
  }
  const why = options.gone?.() ? 'the router exited (see its log)' : `it was not ready within ${options.timeoutMs} ms`;
  throw new DriftgateError('UNAVAILABLE', `the router at ${url} did not become ready: ${why}; last /ready: ${last}`);
}
