/**
 * Live traffic as drift's current data: the feature columns of the last N `prediction` rows of the
 * router's predictions log(s), optionally only rows at or after a time. Each replica's file is read
 * in one streaming pass keeping a ring of its last N rows; the rings are merged by `ts`. Only rows
 * that end up in the window have their cells checked, so one bad row from last week does not block
 * monitoring for good; a row with the wrong field count or time stamp is a broken log, and an error.
 */

import { open, stat } from 'node:fs/promises';
import type { Feature } from '../config/index.js';
import { InputError } from '../errors.js';
import { categoryError, columnIndices, numberError, parseNumber, slotsFor, timeError } from './cell-values.js';
import { scanCsv, type CsvParser } from './csv-records.js';
import { addCount, type ValueCounts } from './read-columns.js';

/** The log's fixed leading columns; a file whose header starts so is read as a predictions log. */
export const LOG_HEADER_START = ['ts', 'event', 'request_id'] as const;

export interface LogWindow {
  /** The last `rows` prediction rows count. */
  rows: number;
  /** Only rows with ts at or after this (ms since the epoch); null for all. */
  since: number | null;
}

export interface LogReadOptions {
  parser?: CsvParser;
  signal?: AbortSignal;
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
}

/** Whether a header is the predictions log's. */
export function isLogHeader(header: readonly string[]): boolean {
  return LOG_HEADER_START.every((name, i) => header[i] === name);
}

/**
 * Bytes up to and including the file's last line end. A replica may be half-way through appending
 * a row; that partial last line is left for the next run.
 */
export async function completeLength(file: string): Promise<number> {
  const { size } = await stat(file);
  const handle = await open(file, 'r');
  try {
    const block = Buffer.alloc(64 * 1024);
    let end = size;
    while (end > 0) {
      const start = Math.max(0, end - block.length);
      const { bytesRead } = await handle.read(block, 0, end - start, start);
      const at = block.subarray(0, bytesRead).lastIndexOf(10);
      if (at !== -1) return start + at + 1;
      end = start;
    }
    return 0;
  } finally {
    await handle.close();
  }
}

/** One file's last `capacity` accepted rows; grows up to capacity, then wraps. */
class RowRing {
  count = 0;
  ts: Float64Array;
  line: Float64Array;
  numeric: Float64Array[];
  codes: Int32Array[];
  prediction: Int32Array;
  /** Cell problems of rows still in the ring, by slot; thrown only if the row makes the window. */
  readonly errors = new Map<number, InputError>();

  constructor(
    private readonly capacity: number,
    numericCount: number,
    codeCount: number,
  ) {
    const size = Math.min(capacity, 1024);
    this.ts = new Float64Array(size);
    this.line = new Float64Array(size);
    this.numeric = Array.from({ length: numericCount }, () => new Float64Array(size));
    this.codes = Array.from({ length: codeCount }, () => new Int32Array(size));
    this.prediction = new Int32Array(size);
  }

  /** The slot for the next row, dropping the oldest row once full. */
  next(): number {
    if (this.count === this.ts.length && this.count < this.capacity) this.grow(Math.min(this.capacity, this.count * 2));
    const slot = this.count % this.capacity;
    this.count++;
    this.errors.delete(slot);
    return slot;
  }

  /** Slots from oldest to newest. */
  slots(): number[] {
    const size = Math.min(this.count, this.capacity);
    const oldest = this.count > this.capacity ? this.count % this.capacity : 0;
    return Array.from({ length: size }, (_, i) => (oldest + i) % this.capacity);
  }

  private grow(size: number): void {
    const more = <T extends Float64Array | Int32Array>(array: T): T => {
      const bigger = new (array.constructor as new (n: number) => T)(size);
      bigger.set(array);
      return bigger;
    };
    this.ts = more(this.ts);
    this.line = more(this.line);
    this.numeric = this.numeric.map(more);
    this.codes = this.codes.map(more);
    this.prediction = more(this.prediction);
  }
}

/** Category strings as small integer codes, shared by every file's ring. */
class Dictionary {
  private readonly codes = new Map<string, number>();
  readonly values: string[] = [];

  code(value: string): number {
    let code = this.codes.get(value);
    if (code === undefined) {
      code = this.values.length;
      this.codes.set(value, code);
      this.values.push(value);
    }
    return code;
  }
}

const NO_VALUE = -1;

/** The last `window.rows` prediction rows of `files` (merged by ts), as drift's current columns. */
export async function readLogColumns(files: readonly string[], features: readonly Feature[], window: LogWindow, options: LogReadOptions = {}): Promise<LogColumns> {
  const numericFeatures = features.filter((f) => f.type === 'numeric');
  const categoricalFeatures = features.filter((f) => f.type === 'categorical');
  const dictionaries = categoricalFeatures.map(() => new Dictionary());
  const predictionDictionary = new Dictionary();
  const rings: RowRing[] = [];
  let predictionRows = 0;
  // Slots: numeric features, categorical features, then ts, event, prediction.
  const wanted = [...numericFeatures, ...categoricalFeatures].map((f) => f.name);
  const tsSlot = wanted.length;
  const eventSlot = tsSlot + 1;
  const predictionSlot = tsSlot + 2;
  const nNumeric = numericFeatures.length;

  for (const file of files) {
    const ring = new RowRing(window.rows, nNumeric, categoricalFeatures.length);
    rings.push(ring);
    const end = await completeLength(file);
    await scanCsv(
      file,
      {
        header(header) {
          if (!isLogHeader(header)) {
            throw new InputError(`${file}: expected a predictions log header starting ${LOG_HEADER_START.join(',')}, got ${header.slice(0, 3).join(',')}`);
          }
          return slotsFor(header.length, columnIndices(file, header, [...wanted, 'ts', 'event', 'prediction']));
        },
        record(fields, line) {
          if (fields[eventSlot] !== 'prediction') return;
          const tsText = fields[tsSlot]!;
          const ts = Date.parse(tsText);
          if (ts !== ts) throw timeError(file, line, 'ts', tsText);
          if (window.since !== null && ts < window.since) return;
          predictionRows++;
          const slot = ring.next();
          ring.ts[slot] = ts;
          ring.line[slot] = line;
          for (let k = 0; k < nNumeric; k++) {
            const text = fields[k]!;
            const value = parseNumber(text);
            if (value !== value && !ring.errors.has(slot)) ring.errors.set(slot, numberError(file, line, wanted[k]!, text));
            ring.numeric[k]![slot] = value;
          }
          for (let c = 0; c < categoricalFeatures.length; c++) {
            const text = fields[nNumeric + c]!;
            if (text === '' && !ring.errors.has(slot)) ring.errors.set(slot, categoryError(file, line, wanted[nNumeric + c]!));
            ring.codes[c]![slot] = text === '' ? NO_VALUE : dictionaries[c]!.code(text);
          }
          const prediction = fields[predictionSlot]!;
          ring.prediction[slot] = prediction === '' ? NO_VALUE : predictionDictionary.code(prediction);
        },
      },
      { ...options, end },
    );
    // An empty file is a router that has not written its header yet: no rows, not an error.
  }

  const picked = pickWindow(rings, window.rows);
  for (const [r, slot] of picked) {
    const error = rings[r]!.errors.get(slot);
    if (error) throw error;
  }
  const numeric = new Map<string, Float64Array>();
  numericFeatures.forEach((feature, k) => {
    numeric.set(feature.name, Float64Array.from(picked, ([r, slot]) => rings[r]!.numeric[k]![slot]!));
  });
  const categorical = new Map<string, ValueCounts>();
  categoricalFeatures.forEach((feature, c) => {
    const counts: ValueCounts = new Map();
    for (const [r, slot] of picked) addCount(counts, dictionaries[c]!.values[rings[r]!.codes[c]![slot]!]!);
    categorical.set(feature.name, counts);
  });
  const predictions: ValueCounts = new Map();
  for (const [r, slot] of picked) {
    const code = rings[r]!.prediction[slot]!;
    if (code !== NO_VALUE) addCount(predictions, predictionDictionary.values[code]!);
  }
  const iso = (entry: readonly [number, number] | undefined): string | null => (entry ? new Date(rings[entry[0]]!.ts[entry[1]]!).toISOString() : null);
  return {
    rows: picked.length,
    predictionRows,
    numeric,
    categorical,
    predictions,
    firstTs: iso(picked[0]),
    lastTs: iso(picked[picked.length - 1]),
  };
}

/** [ring, slot] of the last `rows` rows over all rings, oldest first; several files merge by ts. */
function pickWindow(rings: readonly RowRing[], rows: number): (readonly [number, number])[] {
  const all = rings.flatMap((ring, r) => ring.slots().map((slot) => [r, slot] as const));
  if (rings.length > 1) {
    // Stable: equal times keep file order, then line order.
    all.sort(([ra, sa], [rb, sb]) => rings[ra]!.ts[sa]! - rings[rb]!.ts[sb]! || ra - rb || rings[ra]!.line[sa]! - rings[rb]!.line[sb]!);
  }
  return all.slice(Math.max(0, all.length - rows));
}
