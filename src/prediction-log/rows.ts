/**
 * Log rows as records: what the router appends, and what every reader gets back. decodeRow holds
 * the one rule by which a row is valid or malformed, whoever reads it (live drift, the A/B
 * analysis, the router's feedback index).
 */
import { featureNumberExpectation, parseDecimal, parseFeatureNumber } from '../stats/number.js';
import { EVENT_KINDS, LOG_HEAD_COLUMNS, LOG_OPTIONAL_COLUMNS, LOG_TAIL_COLUMNS, legacyLogColumns, logColumns, olderLogColumns, type FixedColumn, type LogSchema, type Variant } from './columns.js';
import { encodeLine, type Cell } from './line.js';

export interface PredictionRecord {
  /** Epoch milliseconds. */
  ts: number;
  requestId: string;
  userId: string;
  variant: Variant;
  alias: string;
  version: string;
  /** Feature values in config order. */
  features: readonly (number | string)[];
  prediction: string;
  label: string | null;
  latencyMs: number;
  /** The model's probability of each class, in dataset.classes order, when logged (older rows have none). */
  probabilities?: readonly number[];
}

export interface FeedbackRecord {
  ts: number;
  requestId: string;
  label: string;
}

/** A /predict request that failed after its variant was assigned (the model raised, a worker failed, the deadline passed). */
export interface FailureRecord {
  ts: number;
  requestId: string;
  userId: string;
  variant: Variant;
  alias: string;
  /** The registry version the alias was serving, when known. */
  version: string | null;
  /** Feature values in config order (they passed the router's validation). */
  features: readonly (number | string)[];
  /** The router's error code, such as PREDICTION_FAILED or DEADLINE_EXCEEDED. */
  errorCode: string;
  latencyMs: number;
}

/** The share of users sent to B in force from `ts` on. */
export interface SplitRecord {
  ts: number;
  splitB: number;
}

/**
 * A shadow model's prediction for a request prod answered (router.shadow_share), written after the
 * prod row of the same request: the same request id, user and features, no variant (the client never
 * saw it), the shadowed alias (staging, or previous_<prod alias> during a post-promotion watch).
 */
export interface ShadowRecord {
  ts: number;
  requestId: string;
  userId: string;
  /** The alias the shadow version stands for: config.mlflow.staging_alias, or previous_<prod alias>. */
  alias: string;
  version: string;
  /** Feature values in config order, as the prod row has them. */
  features: readonly (number | string)[];
  /** The shadow's class, or null when it could not predict the row (errorCode says why). */
  prediction: string | null;
  /** Why the shadow gave no prediction (PREDICTION_FAILED: this row; WORKER_FAILED, MODEL_UNAVAILABLE: its batch); null with a prediction. */
  errorCode: string | null;
  /**
   * The latency the request would have had with the shadow's model: prod's logged latency with prod's
   * worker round trip replaced by the shadow batch's (see shadowLatencyMs in src/router/shadow.ts).
   */
  latencyMs: number;
  /** The shadow model's probability of each class, in dataset.classes order, when it predicted and they were logged. */
  probabilities?: readonly number[];
}

export type LogEntry =
  | ({ event: 'prediction' } & PredictionRecord)
  | ({ event: 'feedback' } & FeedbackRecord)
  | ({ event: 'failure' } & FailureRecord)
  | ({ event: 'split' } & SplitRecord)
  | ({ event: 'shadow' } & ShadowRecord);
export type PredictionEntry = Extract<LogEntry, { event: 'prediction' }>;
export type FeedbackEntry = Extract<LogEntry, { event: 'feedback' }>;
export type FailureEntry = Extract<LogEntry, { event: 'failure' }>;
export type SplitEntry = Extract<LogEntry, { event: 'split' }>;
export type ShadowEntry = Extract<LogEntry, { event: 'shadow' }>;

function latencyCell(latencyMs: number): number {
  return Math.round(latencyMs * 1000) / 1000;
}

/** A model's class probabilities (by class name) in the classes' order, as the log stores them; a class the model does not know has 0. */
export function classProbabilities(byClass: Readonly<Record<string, number>>, classes: readonly string[]): number[] {
  return classes.map((c) => byClass[c] ?? 0);
}

/** Probabilities are written to 6 decimals, `;` between them (no quoting needed). */
export const PROBABILITY_SEPARATOR = ';';

function probabilitiesCell(probabilities: readonly number[] | undefined): string | null {
  if (!probabilities) return null;
  return probabilities.map((p) => String(Math.round(p * 1e6) / 1e6)).join(PROBABILITY_SEPARATOR);
}

export function predictionLine(record: PredictionRecord): string {
  return encodeLine(predictionCells(record));
}

/** The cells of a row about one request (a prediction, a failure or a shadow prediction): who, which arm, what it was sent. */
function requestCells(
  event: 'prediction' | 'failure' | 'shadow',
  record: PredictionRecord | FailureRecord | ShadowRecord,
  outcome: { prediction: string | null; label: string | null; errorCode: string | null; probabilities?: readonly number[] },
): Cell[] {
  return [
    new Date(record.ts).toISOString(),
    event,
    record.requestId,
    record.userId,
    'variant' in record ? record.variant : null,
    record.alias,
    record.version,
    ...record.features,
    outcome.prediction,
    outcome.label,
    latencyCell(record.latencyMs),
    outcome.errorCode,
    null,
    probabilitiesCell(outcome.probabilities),
  ];
}

export function predictionCells(record: PredictionRecord): Cell[] {
  return requestCells('prediction', record, { prediction: record.prediction, label: record.label, errorCode: null, probabilities: record.probabilities });
}

export function feedbackLine(record: FeedbackRecord, featureCount: number): string {
  return encodeLine(feedbackCells(record, featureCount));
}

export function feedbackCells(record: FeedbackRecord, featureCount: number): Cell[] {
  return [new Date(record.ts).toISOString(), 'feedback', record.requestId, null, null, null, null, ...new Array<null>(featureCount).fill(null), null, record.label, null, null, null, null];
}

export function failureLine(record: FailureRecord): string {
  return encodeLine(failureCells(record));
}

/** A failure row: the request's cells as a prediction has them, no prediction or label, the error code. */
export function failureCells(record: FailureRecord): Cell[] {
  return requestCells('failure', record, { prediction: null, label: null, errorCode: record.errorCode });
}

export function shadowLine(record: ShadowRecord): string {
  return encodeLine(shadowCells(record));
}

/** A shadow row: a prediction row's cells for the same request, with no variant and no label; a failed one has the error code instead of a prediction. */
export function shadowCells(record: ShadowRecord): Cell[] {
  return requestCells('shadow', record, { prediction: record.prediction, label: null, errorCode: record.errorCode, probabilities: record.probabilities });
}

// Not splitLine: line.ts's splitLine splits a CSV line into its cells.
export function splitEventLine(record: SplitRecord, featureCount: number): string {
  return encodeLine(splitEventCells(record, featureCount));
}

/** A split row: the time and ab_split_b, every other cell empty. */
export function splitEventCells(record: SplitRecord, featureCount: number): Cell[] {
  return [new Date(record.ts).toISOString(), 'split', null, null, null, null, null, ...new Array<null>(featureCount).fill(null), null, null, null, null, record.splitB, null];
}

/** Where a file's columns are: found by name in its header, so older and newer layouts both read. */
export interface LogLayout {
  width: number;
  /** Header position of each fixed column; -1 for an optional column the file does not have (its cells read as empty). */
  fixed: Record<FixedColumn, number>;
  /** Header position of each configured feature, in config order. */
  features: number[];
}

/** The layout the config's own header has. */
export function configLayout(schema: LogSchema): LogLayout {
  return knownLayout(logColumns(schema), schema);
}

/**
 * The layouts this config's own header has had, newest first: a file without a header (cut by an
 * older router's copytruncate) is read by the one its rows fit.
 */
export function configLayouts(schema: LogSchema): LogLayout[] {
  return [configLayout(schema), ...olderLogColumns(schema).map((header) => knownLayout(header, schema))];
}

function knownLayout(header: readonly string[], schema: LogSchema): LogLayout {
  const layout = layoutOf(header, schema);
  if (typeof layout === 'string') throw new Error(layout);
  return layout;
}

/** The layout of a header, or why the file cannot be read with this config. The optional columns may be absent (an older log). */
export function layoutOf(header: readonly string[], schema: LogSchema): LogLayout | string {
  const at = (name: string): number => header.indexOf(name);
  const required = legacyLogColumns(schema);
  const missing = required.filter((name) => at(name) === -1);
  if (missing.length > 0) return `expected a predictions log header with the columns ${required.join(',')}, got one without ${missing.map((m) => JSON.stringify(m)).join(', ')}`;
  const twice = header.find((name, i) => name !== '' && header.indexOf(name) !== i);
  if (twice !== undefined) return `column ${JSON.stringify(twice)} appears twice in the header`;
  const fixed = Object.fromEntries([...LOG_HEAD_COLUMNS, ...LOG_TAIL_COLUMNS, ...LOG_OPTIONAL_COLUMNS].map((name) => [name, at(name)])) as Record<FixedColumn, number>;
  return { width: header.length, fixed, features: schema.features.map((f) => at(f.name)) };
}

export interface RowProblem {
  problem: string;
  /** A prediction or label outside the classes, for the A/B report's tally. */
  unknownLabel?: string;
}

const ISO_TS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:?\d{2})$/;
const VERSION = /^\d+$/;
const ERROR_CODE = /^[A-Z][A-Z0-9_]*$/;
const EVENTS = new Set<string>(EVENT_KINDS);
const EVENT_LIST = `${EVENT_KINDS.slice(0, -1).map((e) => JSON.stringify(e)).join(', ')} or ${JSON.stringify(EVENT_KINDS.at(-1))}`;

function quote(value: string): string {
  return JSON.stringify(value.length > 40 ? `${value.slice(0, 37)}...` : value);
}

function got(value: string): string {
  return value === '' ? 'an empty value' : quote(value);
}

/** The classes as a lookup from text to the schema's own string. */
export function classLookup(schema: LogSchema): Map<string, string> {
  return new Map(schema.classes.map((c) => [c, c]));
}

const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** Digits at [at, at + n) of text as a number, or -1. */
function digits(text: string, at: number, n: number): number {
  let value = 0;
  for (let i = at; i < at + n; i++) {
    const c = text.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    value = value * 10 + c;
  }
  return value;
}

/** A log time stamp (ISO-8601 with a time and a zone) in epoch ms, or NaN. */
export function parseLogTime(text: string): number {
  // The router's own form, 2026-12-01T12:34:56.789Z, read digit by digit: Date.parse is the hot spot of a read.
  if (text.length === 24 && text.charCodeAt(23) === 90 && text.charCodeAt(19) === 46 && text.charCodeAt(10) === 84 && text.charCodeAt(4) === 45 && text.charCodeAt(7) === 45 && text.charCodeAt(13) === 58 && text.charCodeAt(16) === 58) {
    const year = digits(text, 0, 4);
    const month = digits(text, 5, 2);
    const day = digits(text, 8, 2);
    const hour = digits(text, 11, 2);
    const minute = digits(text, 14, 2);
    const second = digits(text, 17, 2);
    const ms = digits(text, 20, 3);
    const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
    if (year < 0 || month < 1 || month > 12 || day < 1 || day > DAYS_IN_MONTH[month - 1]! || (month === 2 && day === 29 && !leap) || hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59 || ms < 0) {
      return Number.NaN;
    }
    return Date.UTC(year, month - 1, day, hour, minute, second, ms);
  }
  return ISO_TS.test(text) ? Date.parse(text) : Number.NaN;
}

/**
 * The one rule: a row is its cells in the layout's width, a known event, an ISO-8601 time, a
 * request id; a prediction also has variant A or B, a registry version number, a user id, every
 * feature a number within the float32 range (or a category), a prediction among the classes, a
 * label among the classes or none, and a latency >= 0; a feedback row has a label among the classes;
 * a failure has a prediction's request cells (its version may be empty), an error code and a latency
 * >= 0; a split row (no request id) has ab_split_b, a number in [0, 1]; a shadow row has a
 * prediction's cells with an empty variant and label and a non-empty model_alias.
 */
export function decodeRow(cells: readonly string[], layout: LogLayout, schema: LogSchema, classes: ReadonlyMap<string, string>): LogEntry | RowProblem {
  if (cells.length !== layout.width) return { problem: `expected ${layout.width} fields, got ${cells.length}` };
  const f = layout.fixed;
  const event = cells[f.event]!;
  if (!EVENTS.has(event)) return { problem: `event: expected ${EVENT_LIST}, got ${got(event)}` };
  const tsText = cells[f.ts]!;
  const ts = parseLogTime(tsText);
  if (!Number.isFinite(ts)) return { problem: `ts: expected an ISO-8601 UTC time, got ${got(tsText)}` };
  if (event === 'split') {
    const splitText = f.ab_split_b === -1 ? '' : cells[f.ab_split_b]!;
    const splitB = parseDecimal(splitText);
    if (!(splitB >= 0 && splitB <= 1)) return { problem: `ab_split_b: expected a number >= 0 and <= 1, got ${got(splitText)}` };
    // "-0" reads as 0.
    return { event: 'split', ts, splitB: splitB === 0 ? 0 : splitB };
  }
  const requestId = cells[f.request_id]!;
  if (requestId === '') return { problem: 'request_id: expected an id, got an empty value' };
  const labelText = cells[f.label]!;
  const unknown = (what: string, value: string): RowProblem => ({ problem: `${what} ${quote(value)} is not one of the classes ${schema.classes.join(', ')}`, unknownLabel: value });
  // Class names are the schema's own strings: a kept label holds no slice of the text it was read from.
  const label = labelText === '' ? null : classes.get(labelText);
  if (event === 'feedback') {
    if (labelText === '') return { problem: 'label: a feedback row needs a label, got an empty value' };
    if (label === undefined || label === null) return unknown('label', labelText);
    return { event: 'feedback', ts, requestId, label };
  }
  const failure = event === 'failure';
  const shadow = event === 'shadow';
  const variantText = cells[f.variant]!;
  // Checked here for every event but shadow, so the failure and prediction rows below have one.
  const variant: Variant | null = variantText === 'A' || variantText === 'B' ? variantText : null;
  if (shadow) {
    // The client never saw a shadow's answer: it belongs to no arm, and carries no label of its own.
    if (variantText !== '') return { problem: `variant: expected an empty value on a shadow row, got ${got(variantText)}` };
    if (labelText !== '') return { problem: `label: expected an empty value on a shadow row (feedback for the request labels it), got ${got(labelText)}` };
  } else if (variant === null) return { problem: `variant: expected "A" or "B", got ${got(variantText)}` };
  const version = cells[f.model_version]!;
  if (failure) {
    // A failure may come before its alias served any version (no model loaded).
    if (version !== '' && !VERSION.test(version)) return { problem: `model_version: expected a registry version number or an empty value, got ${got(version)}` };
  } else if (!VERSION.test(version)) return { problem: `model_version: expected a registry version number, got ${got(version)}` };
  const userId = cells[f.user_id]!;
  if (userId === '') return { problem: 'user_id: expected a user id, got an empty value' };
  const features: (number | string)[] = new Array(layout.features.length);
  for (let k = 0; k < layout.features.length; k++) {
    const text = cells[layout.features[k]!]!;
    const feature = schema.features[k]!;
    if (feature.type === 'numeric') {
      const value = parseFeatureNumber(text);
      if (value !== value) return { problem: `${feature.name}: expected ${featureNumberExpectation(text)}, got ${got(text)}` };
      features[k] = value;
    } else {
      if (text === '') return { problem: `${feature.name}: expected a category, got an empty value` };
      features[k] = text;
    }
  }
  const alias = cells[f.model_alias]!;
  const errorText = f.error_code === -1 ? '' : cells[f.error_code]!;
  const badErrorCode = (): RowProblem => ({ problem: `error_code: expected an error code (capital letters, digits and _, such as "PREDICTION_FAILED"), got ${got(errorText)}` });
  if (shadow && errorText !== '') {
    // The shadow could not predict this request: no prediction, the reason instead.
    if (!ERROR_CODE.test(errorText)) return badErrorCode();
    if (alias === '') return { problem: 'model_alias: expected the shadowed alias on a shadow row, got an empty value' };
    if (cells[f.prediction]! !== '') return { problem: `prediction: expected an empty value on a failed shadow row (error_code ${errorText}), got ${got(cells[f.prediction]!)}` };
    const latencyMs = latencyOf(cells[f.latency_ms]!);
    if (typeof latencyMs !== 'number') return latencyMs;
    return { event: 'shadow', ts, requestId, userId, alias, version, features, prediction: null, errorCode: errorText, latencyMs };
  }
  if (failure) {
    const errorCode = errorText;
    if (!ERROR_CODE.test(errorCode)) return badErrorCode();
    const latencyMs = latencyOf(cells[f.latency_ms]!);
    if (typeof latencyMs !== 'number') return latencyMs;
    return { event: 'failure', ts, requestId, userId, variant: variant!, alias, version: version === '' ? null : version, features, errorCode, latencyMs };
  }
  const predictionText = cells[f.prediction]!;
  const prediction = classes.get(predictionText);
  if (prediction === undefined) return unknown('prediction', predictionText);
  if (label === undefined) return unknown('label', labelText);
  const latencyMs = latencyOf(cells[f.latency_ms]!);
  if (typeof latencyMs !== 'number') return latencyMs;
  const probabilitiesText = f.probabilities === -1 ? '' : cells[f.probabilities]!;
  const probabilities = probabilitiesText === '' ? undefined : probabilitiesOf(probabilitiesText, schema.classes.length);
  if (probabilities && !Array.isArray(probabilities)) return probabilities;
  const scores = probabilities ? { probabilities } : {};
  if (shadow) {
    if (alias === '') return { problem: 'model_alias: expected the shadowed alias on a shadow row, got an empty value' };
    return { event: 'shadow', ts, requestId, userId, alias, version, features, prediction, errorCode: null, latencyMs, ...scores };
  }
  return {
    event: 'prediction',
    ts,
    requestId,
    userId,
    variant: variant!,
    alias,
    version,
    features,
    prediction,
    label,
    latencyMs,
    ...scores,
  };
}

/** One probability per class, each in [0, 1], `;` between them. */
function probabilitiesOf(text: string, classes: number): number[] | RowProblem {
  const parts = text.split(PROBABILITY_SEPARATOR);
  const values = parts.map(parseDecimal);
  if (parts.length !== classes || !values.every((p) => p >= 0 && p <= 1)) {
    return { problem: `probabilities: expected ${classes} numbers in [0, 1] separated by "${PROBABILITY_SEPARATOR}" (one per class of dataset.classes), got ${got(text)}` };
  }
  return values;
}

function latencyOf(text: string): number | RowProblem {
  const latencyMs = parseDecimal(text);
  return latencyMs >= 0 ? latencyMs : { problem: `latency_ms: expected a number >= 0, got ${got(text)}` };
}

export function isProblem(decoded: LogEntry | RowProblem): decoded is RowProblem {
  return 'problem' in decoded;
}
