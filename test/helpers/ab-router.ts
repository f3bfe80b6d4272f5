/** A real `driftgate serve` for A/B end-to-end tests, and a client that sends labelled traffic to it. */
import { setTimeout as sleep } from 'node:timers/promises';
import { getJson, startRouter as startRouterProcess } from './serve-process.js';

export interface Router {
  url: string;
  stderr: () => string;
  stop: () => Promise<void>;
}

export function startRouter(configFile: string, port: number, env: Record<string, string> = {}): Router {
  const router = startRouterProcess(configFile, port, env);
  return {
    url: router.url,
    stderr: () => router.stderr.join('\n'),
    stop: async () => {
      router.kill('SIGTERM');
      await router.exited;
    },
  };
}

/** Poll `url` until `accept` likes the JSON body (status 200); the last answer is in the error. */
export async function waitFor<T>(url: string, accept: (body: T) => boolean, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  while (Date.now() < deadline) {
    try {
      const { status, body } = await getJson<T>(url);
      if (status === 200 && accept(body)) return body;
      last = `${status} ${JSON.stringify(body)}`;
    } catch (error) {
      last = (error as Error).message;
    }
    await sleep(250);
  }
  throw new Error(`${url}: condition not met within ${timeoutMs} ms; last answer: ${last}`);
}

export interface Served {
  request_id: string;
  variant: 'A' | 'B';
  alias: string;
  model_version: string;
  prediction: string;
}

/**
 * Send each row as one user's request, `concurrency` at a time; every third request carries its
 * label inline, the others get it through POST /feedback, as a labelling pipeline would. Labels go
 * with `Authorization: Bearer <labelToken>` (the router's DRIFTGATE_LABEL_TOKEN).
 */
export async function sendTraffic(
  url: string,
  rows: readonly Record<string, string>[],
  options: { features: readonly string[]; target: string; users: string; labelToken: string; concurrency?: number },
): Promise<Served[]> {
  const answers: Served[] = new Array(rows.length);
  let next = 0;
  const labelled = { 'content-type': 'application/json', authorization: `Bearer ${options.labelToken}` };
  const worker = async (): Promise<void> => {
    for (let i = next++; i < rows.length; i = next++) {
      const row = rows[i]!;
      const label = row[options.target]!;
      const inline = i % 3 === 0;
      const features = Object.fromEntries(options.features.map((f) => [f, Number(row[f])]));
      const { status, body } = await getJson<Served>(`${url}/predict`, {
        method: 'POST',
        headers: inline ? labelled : { 'content-type': 'application/json' },
        body: JSON.stringify({ user_id: `${options.users}-${i}`, features, ...(inline ? { label } : {}) }),
      });
      if (status !== 200) throw new Error(`POST /predict answered ${status}: ${JSON.stringify(body)}`);
      answers[i] = body;
      if (!inline) {
        const feedback = await fetch(`${url}/feedback`, {
          method: 'POST',
          headers: labelled,
          body: JSON.stringify({ request_id: body.request_id, label }),
          signal: AbortSignal.timeout(30_000),
        });
        if (feedback.status !== 202) throw new Error(`POST /feedback answered ${feedback.status}: ${await feedback.text()}`);
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency ?? 8 }, worker));
  return answers;
}
