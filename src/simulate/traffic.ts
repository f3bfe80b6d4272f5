/** Send realistic traffic to a running router: N requests from M users, labels inline or as feedback. */
import type { Config } from '../config/index.js';
import { DriftgateError } from '../errors.js';
import { seededRandom } from '../random.js';

export interface TrafficOptions {
  baseUrl: string;
  requests: number;
  users: number;
  concurrency: number;
  /** Labelled rows to draw from (feature columns + target). */
  rows: Record<string, string>[];
  labels: 'inline' | 'feedback' | 'none';
  /** Sent as `Authorization: Bearer` with every label (DRIFTGATE_LABEL_TOKEN); null: labels go without one. */
  labelToken: string | null;
  seed: number;
  signal?: AbortSignal;
  onProgress?: (done: number) => void;
}

export interface TrafficResult {
  sent: number;
  ok: number;
  failed: number;
  statuses: Record<string, number>;
  variants: Record<string, number>;
  versions: Record<string, number>;
  /** Accuracy per variant among answered, labelled requests. */
  accuracy: Record<string, number>;
  seconds: number;
}

interface PredictReply {
  request_id: string;
  variant: string;
  model_version: string;
  prediction: string;
}

export async function sendTraffic(config: Config, options: TrafficOptions): Promise<TrafficResult> {
  if (options.rows.length === 0) throw new DriftgateError('INPUT_INVALID', 'simulate: no data rows to send', { exitCode: 2 });
  const random = seededRandom(options.seed);
  const features = config.dataset.features.map((f) => f.name);
  const plan = Array.from({ length: options.requests }, () => ({
    row: options.rows[Math.floor(random() * options.rows.length)]!,
    user: `user-${Math.floor(random() * options.users)}`,
  }));
  const result: TrafficResult = { sent: 0, ok: 0, failed: 0, statuses: {}, variants: {}, versions: {}, accuracy: {}, seconds: 0 };
  const correct: Record<string, number> = {};
  const started = Date.now();
  let next = 0;
  const count = (map: Record<string, number>, key: string): void => {
    map[key] = (map[key] ?? 0) + 1;
  };
  // Only requests that carry a label get the token: a plain prediction needs none.
  const labelHeaders = options.labelToken === null ? {} : { authorization: `Bearer ${options.labelToken}` };
  const post = async (route: string, body: unknown, labelled: boolean): Promise<Response> =>
    fetch(new URL(route, options.baseUrl), {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(labelled ? labelHeaders : {}) },
      body: JSON.stringify(body),
      signal: options.signal ?? AbortSignal.timeout(30_000),
    });
  const worker = async (): Promise<void> => {
    while (next < plan.length) {
      const { row, user } = plan[next++]!;
      const label = row[config.dataset.target]!;
      const body = {
        user_id: user,
        features: Object.fromEntries(features.map((f) => [f, Number(row[f])])),
        ...(options.labels === 'inline' ? { label } : {}),
      };
      result.sent++;
      try {
        const response = await post('/predict', body, options.labels === 'inline');
        count(result.statuses, String(response.status));
        if (response.status !== 200) {
          result.failed++;
          await response.body?.cancel();
          continue;
        }
        const reply = (await response.json()) as PredictReply;
        result.ok++;
        count(result.variants, reply.variant);
        count(result.versions, `${reply.variant}:${reply.model_version}`);
        if (reply.prediction === label) count(correct, reply.variant);
        if (options.labels === 'feedback') {
          const feedback = await post('/feedback', { request_id: reply.request_id, label }, true);
          await feedback.body?.cancel();
          if (feedback.status !== 202) count(result.statuses, `feedback ${feedback.status}`);
        }
      } catch (error) {
        result.failed++;
        count(result.statuses, (error as Error).name === 'TimeoutError' ? 'timeout' : 'network error');
      }
      if (result.sent % 100 === 0) options.onProgress?.(result.sent);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(options.concurrency, options.requests)) }, worker));
  for (const [variant, n] of Object.entries(result.variants)) result.accuracy[variant] = (correct[variant] ?? 0) / n;
  result.seconds = (Date.now() - started) / 1000;
  return result;
}
