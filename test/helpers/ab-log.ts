/** Predictions logs for A/B tests, written in the router's log format (csv-stringify, RFC 4180). */
import { appendFileSync, writeFileSync } from 'node:fs';
import { stringify } from 'csv-stringify/sync';

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

export type LogRow = PredictionRow | FeedbackRow;

export function logHeader(features: readonly string[] = IRIS_FEATURES): string[] {
  return ['ts', 'event', 'request_id', 'user_id', 'variant', 'model_alias', 'model_version', ...features, 'prediction', 'label', 'latency_ms'];
}

function iso(ts: number | string): string {
  return typeof ts === 'number' ? new Date(ts).toISOString() : ts;
}

export function logRecord(row: LogRow, features: readonly string[] = IRIS_FEATURES): string[] {
  if (row.event === 'feedback') {
    return [iso(row.ts), 'feedback', row.request_id, '', '', '', '', ...features.map(() => ''), '', row.label, ''];
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
}): LogRow[] {
  const classes = options.classes ?? ['setosa', 'versicolor', 'virginica'];
  let state = (options.seed ?? 1) >>> 0;
  const random = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const rows: LogRow[] = [];
  const start = options.start ?? Date.UTC(2025, 8, 17, 12);
  for (let i = 0; i < options.n; i++) {
    const variant = random() < options.splitB ? 'B' : 'A';
    const label = classes[Math.floor(random() * classes.length)]!;
    const right = random() < (variant === 'A' ? options.accuracyA : options.accuracyB);
    const prediction = right ? label : classes[(classes.indexOf(label) + 1) % classes.length]!;
    const id = `${options.prefix ?? 'r'}${i}`;
    const ts = start + i * 1000;
    const inline = i % 2 === 0;
    rows.push({
      ts,
      request_id: id,
      variant,
      model_version: variant === 'A' ? options.versionA : options.versionB,
      prediction,
      ...(inline ? { label } : {}),
      latency_ms: (variant === 'A' ? 3 : 4) + (i % 10) / 10,
    });
    if (!inline) rows.push({ event: 'feedback', ts: ts + 500, request_id: id, label });
  }
  return rows;
}
