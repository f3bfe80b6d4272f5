/**
 * Live traffic as drift's current data: the feature columns of the last N `prediction` rows of the
 * router's log set (the files merged by time), optionally only rows at or after a time. The log is
 * streamed and only the window is kept, so memory does not grow with the log. Rows are decoded by
 * the log module's one rule: a malformed row (a value that cannot be binned, a broken line) is
 * reported with its file and line and left out; the rest is analysed.
 */
import type { Feature } from '../config/index.js';
import { scanLog, type LogSchema, type LogSet, type MalformedRow, type PredictionEntry } from '../prediction-log/index.js';
import { addCount, type ValueCounts } from './read-columns.js';

export interface LogWindow {
  /** The last `rows` prediction rows count. */
  rows: number;
  /** Only rows with ts at or after this (ms since the epoch); null for all. */
  since: number | null;
}

/** What the read found wrong, for the result and the report. */
export interface LogQuality {
  rows_read: number;
  malformed_rows: number;
  /** The first malformed rows with file, line and problem. */
  malformed: MalformedRow[];
  /** Files that are not this config's log, with why. */
  unreadable: { path: string; reason: string }[];
  /** Files read without a header (cut by an older copytruncate). */
  headerless: string[];
}

export interface LogColumns {
  /** Prediction rows in the window. */
  rows: number;
  /** Prediction rows seen in the files (at or after `since`), before the window cut. */
  predictionRows: number;
  numeric: Map<string, Float64Array>;
  categorical: Map<string, ValueCounts>;
  /** What the model answered for the rows of the window: the live stand-in for the target. */
  predictions: ValueCounts;
  /** ts of the window's first and last row (ISO-8601), null for an empty window. */
  firstTs: string | null;
  lastTs: string | null;
  quality: LogQuality;
  /** Files of the set read as this config's log. */
  filesRead: number;
}

/** The last `window.rows` prediction rows of the set (merged by ts), as drift's current columns. */
export async function readLogColumns(set: LogSet, schema: LogSchema, window: LogWindow, options: { signal?: AbortSignal } = {}): Promise<LogColumns> {
  const ring: PredictionEntry[] = [];
  let next = 0;
  let predictionRows = 0;
  const report = await scanLog(
    set,
    schema,
    (entry) => {
      if (entry.event !== 'prediction' || (window.since !== null && entry.ts < window.since)) return;
      predictionRows++;
      if (ring.length < window.rows) ring.push(entry);
      else ring[next] = entry;
      next = (next + 1) % window.rows;
    },
    { events: ['prediction'], signal: options.signal },
  );
  const picked = ring.length < window.rows ? ring : [...ring.slice(next), ...ring.slice(0, next)];
  const features: readonly Feature[] = schema.features;
  const numeric = new Map<string, Float64Array>();
  const categorical = new Map<string, ValueCounts>();
  features.forEach((feature, k) => {
    if (feature.type === 'numeric') {
      numeric.set(feature.name, Float64Array.from(picked, (entry) => entry.features[k] as number));
    } else {
      const counts: ValueCounts = new Map();
      for (const entry of picked) addCount(counts, String(entry.features[k]));
      categorical.set(feature.name, counts);
    }
  });
  const predictions: ValueCounts = new Map();
  for (const entry of picked) addCount(predictions, entry.prediction);
  const iso = (entry: PredictionEntry | undefined): string | null => (entry ? new Date(entry.ts).toISOString() : null);
  return {
    rows: picked.length,
    predictionRows,
    numeric,
    categorical,
    predictions,
    firstTs: iso(picked[0]),
    lastTs: iso(picked.at(-1)),
    filesRead: report.files.filter((f) => f.read).length,
    quality: {
      rows_read: report.rows,
      malformed_rows: report.malformedCount,
      malformed: report.malformed,
      unreadable: report.unreadable,
      headerless: report.files.filter((f) => f.headerless).map((f) => f.path),
    },
  };
}
