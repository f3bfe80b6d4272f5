/** Predictions logs for A/B tests, written in the router's log format (csv-stringify, RFC 4180). */
import { appendFileSync, writeFileSync } from 'node:fs';
import { stringify } from 'csv-stringify/sync';
import { seededRandom } from '../../src/random.js';

export const IRIS_FEATURES = ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'];

export interface PredictionRow {
  event?: 'prediction';
  ts: number | string;
  request_id: string;
  user_id?: string;
  variant: 'A' | 'B';
  model_alias?: string;
  model_version: string;
  features?: Record<string, number | string>;
  prediction: string;
  label?: string;
  latency_ms?: number | string;
}

export interface FeedbackRow {
  event: 'feedback';
  ts: number | string;
  request_id: string;
  label: string;
}

/** A request that failed after its variant was assigned. */
export interface FailureRow {
  event: 'failure';
  ts: number | string;
  request_id: string;
  user_id: string;
  variant: 'A' | 'B';
  model_version: string;
  error_code: string;
  latency_ms?: number;
}

/** The shadow model's prediction for a request prod answered. */
export interface ShadowRow {
  event: 'shadow';
  ts: number | string;
  request_id: string;
  user_id: string;
  model_alias?: string;
  model_version: string;
  /** Empty with an error code: the shadow failed on the request. */
  prediction: string;
  error_code?: string;
  latency_ms?: number;
}

/** The share of users sent to B from this time on. */
export interface SplitRow {
  event: 'split';
  ts: number | string;
  ab_split_b: number;
}

export type LogRow = PredictionRow | FeedbackRow | FailureRow | SplitRow | ShadowRow;

export function logHeader(features: readonly string[] = IRIS_FEATURES): string[] {
  return ['ts', 'event', 'request_id', 'user_id', 'variant', 'model_alias', 'model_version', ...features, 'prediction', 'label', 'latency_ms', 'error_code', 'ab_split_b'];
}

function iso(ts: number | string): string {
  return typeof ts === 'number' ? new Date(ts).toISOString() : ts;
}

export function logRecord(row: LogRow, features: readonly string[] = IRIS_FEATURES): string[] {
  const blank = features.map(() => '');
  if (row.event === 'feedback') return [iso(row.ts), 'feedback', row.request_id, '', '', '', '', ...blank, '', row.label, '', '', ''];
  if (row.event === 'split') return [iso(row.ts), 'split', '', '', '', '', '', ...blank, '', '', '', '', String(row.ab_split_b)];
  if (row.event === 'shadow') {
    return [iso(row.ts), 'shadow', row.request_id, row.user_id, '', row.model_alias ?? 'staging', row.model_version, ...features.map(() => '1.5'), row.prediction, '', String(row.latency_ms ?? 4), row.error_code ?? '', ''];
  }
  if (row.event === 'failure') {
    const alias = row.variant === 'A' ? 'prod' : 'staging';
    return [iso(row.ts), 'failure', row.request_id, row.user_id, row.variant, alias, row.model_version, ...features.map(() => '1.5'), '', '', String(row.latency_ms ?? 2), row.error_code, ''];
  }
  return [
    iso(row.ts),
    'prediction',
    row.request_id,
    row.user_id ?? `u-${row.request_id}`,
    row.variant,
    row.model_alias ?? (row.variant === 'A' ? 'prod' : 'staging'),
    row.model_version,
    ...features.map((f) => String(row.features?.[f] ?? 1.5)),
    row.prediction,
    row.label ?? '',
    String(row.latency_ms ?? 3.2),
    '',
    '',
  ];
}

export function logText(rows: readonly LogRow[], features: readonly string[] = IRIS_FEATURES, header = true): string {
  return stringify([...(header ? [logHeader(features)] : []), ...rows.map((r) => logRecord(r, features))]);
}

export function writeLog(file: string, rows: readonly LogRow[], features: readonly string[] = IRIS_FEATURES): void {
  writeFileSync(file, logText(rows, features));
}

export function appendLog(file: string, rows: readonly LogRow[], features: readonly string[] = IRIS_FEATURES): void {
  appendFileSync(file, logText(rows, features, false));
}

/**
 * A seeded experiment: `n` requests split by `splitB`, arm accuracies pA and pB, every request
 * labelled (inline or by feedback, alternating). Versions name the arms' models.
 */
export function simulatedRows(options: {
  n: number;
  splitB: number;
  accuracyA: number;
  accuracyB: number;
  versionA: string;
  versionB: string;
  start?: number;
  seed?: number;
  prefix?: string;
  classes?: readonly string[];
  /** Base latency of each arm in ms (each request adds 0.0–0.9); 3 for both by default. */
  latencyMs?: { A: number; B: number };
  /**
   * Requests come from this many users, user k with weight 1/(k + 1) (a few heavy users, many light
   * ones), each sticky to the arm of its first request; by default every request has its own user.
   */
  users?: number;
}): (PredictionRow | FeedbackRow)[] {
  const classes = options.classes ?? ['setosa', 'versicolor', 'virginica'];
  const random = seededRandom(options.seed ?? 1);
  const rows: (PredictionRow | FeedbackRow)[] = [];
  const start = options.start ?? Date.UTC(2025, 8, 17, 12);
  const users = options.users ?? 0;
  const weights = Array.from({ length: users }, (_, k) => 1 / (k + 1));
  const total = weights.reduce((a, b) => a + b, 0);
  const armOf = new Map<number, 'A' | 'B'>();
  const pickUser = (): number => {
    let x = random() * total;
    for (let k = 0; k < users; k++) if ((x -= weights[k]!) < 0) return k;
    return users - 1;
  };
  for (let i = 0; i < options.n; i++) {
    const user = users > 0 ? pickUser() : -1;
    const drawn: 'A' | 'B' = random() < options.splitB ? 'B' : 'A';
    const variant = user < 0 ? drawn : (armOf.get(user) ?? drawn);
    if (user >= 0) armOf.set(user, variant);
    const label = classes[Math.floor(random() * classes.length)]!;
    const right = random() < (variant === 'A' ? options.accuracyA : options.accuracyB);
    const prediction = right ? label : classes[(classes.indexOf(label) + 1) % classes.length]!;
    const id = `${options.prefix ?? 'r'}${i}`;
    const ts = start + i * 1000;
    const inline = i % 2 === 0;
    rows.push({
      ts,
      request_id: id,
      ...(user >= 0 ? { user_id: `user-${user}` } : {}),
      variant,
      model_version: variant === 'A' ? options.versionA : options.versionB,
      prediction,
      ...(inline ? { label } : {}),
      latency_ms: (options.latencyMs?.[variant] ?? 3) + (i % 10) / 10,
    });
    if (!inline) rows.push({ event: 'feedback', ts: ts + 500, request_id: id, label });
  }
  return rows;
}

/**
 * The same rows with a shadow model beside A: after each of A's predictions a shadow row of
 * `version`, right with `accuracy` (seeded; the label is the request's, inline or by feedback); a
 * `failures` share of them are failed shadow rows (WORKER_FAILED, no prediction).
 */
export function withShadow(
  rows: readonly (PredictionRow | FeedbackRow)[],
  options: { version: string; accuracy: number; alias?: string; seed?: number; classes?: readonly string[]; failures?: number },
): LogRow[] {
  const classes = options.classes ?? ['setosa', 'versicolor', 'virginica'];
  const random = seededRandom(options.seed ?? 1);
  const labels = new Map<string, string>();
  for (const r of rows) if (r.label !== undefined) labels.set(r.request_id, r.label);
  const out: LogRow[] = [];
  for (const r of rows) {
    out.push(r);
    if (r.event === 'feedback' || r.variant !== 'A') continue;
    const label = labels.get(r.request_id) ?? r.prediction;
    const right = random() < options.accuracy;
    const failed = random() < (options.failures ?? 0);
    out.push({
      event: 'shadow',
      ts: Number(r.ts) + 100,
      request_id: r.request_id,
      user_id: r.user_id ?? `u-${r.request_id}`,
      model_alias: options.alias ?? 'staging',
      model_version: options.version,
      prediction: failed ? '' : right ? label : classes[(classes.indexOf(label) + 1) % classes.length]!,
      ...(failed ? { error_code: 'WORKER_FAILED' } : {}),
      latency_ms: Number(r.latency_ms ?? 3.2),
    });
  }
  return out.sort((x, y) => Number(x.ts) - Number(y.ts));
}
