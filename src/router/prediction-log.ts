/**
 * The predictions log: one CSV file, append-only, header once. Rows are buffered and written every
 * flush interval as one write of whole rows, by one writer at a time, so rows never interleave or
 * tear however many requests run at once. A graceful stop flushes everything; a kill -9 loses at
 * most the rows of the last flush interval.
 */
import { mkdirSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { stringify } from 'csv-stringify/sync';
import type { Config } from '../config/index.js';
import { ConfigError } from '../errors.js';
import type { Variant } from './assign.js';

export const LOG_HEAD_COLUMNS = ['ts', 'event', 'request_id', 'user_id', 'variant', 'model_alias', 'model_version'] as const;
export const LOG_TAIL_COLUMNS = ['prediction', 'label', 'latency_ms'] as const;

/** The log's columns for a config: the fixed ones around the feature columns in config order. */
export function logColumns(config: Pick<Config, 'dataset'>): string[] {
  return [...LOG_HEAD_COLUMNS, ...config.dataset.features.map((f) => f.name), ...LOG_TAIL_COLUMNS];
}

/** A feature named like a log column would make the header ambiguous; refuse it at start-up. */
export function checkLogColumns(config: Pick<Config, 'dataset' | 'source'>): void {
  const fixed = new Set<string>([...LOG_HEAD_COLUMNS, ...LOG_TAIL_COLUMNS]);
  config.dataset.features.forEach((feature, i) => {
    if (fixed.has(feature.name)) {
      throw new ConfigError(
        config.source.file,
        `dataset.features[${i}]`,
        `expected a name that is not a column of the predictions log (${[...fixed].join(', ')}), got ${JSON.stringify(feature.name)}`,
      );
    }
  });
}

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
}

export interface FeedbackRecord {
  ts: number;
  requestId: string;
  label: string;
}

/** Where the router writes rows; the file-backed PredictionLog in production, an array in tests. */
export interface LogSink {
  appendPrediction(record: PredictionRecord): void;
  appendFeedback(record: FeedbackRecord): void;
}

type Cell = string | number | null;

export function predictionRow(record: PredictionRecord): Cell[] {
  return [
    new Date(record.ts).toISOString(),
    'prediction',
    record.requestId,
    record.userId,
    record.variant,
    record.alias,
    record.version,
    ...record.features,
    record.prediction,
    record.label,
    Math.round(record.latencyMs * 1000) / 1000,
  ];
}

export function feedbackRow(record: FeedbackRecord, featureCount: number): Cell[] {
  return [new Date(record.ts).toISOString(), 'feedback', record.requestId, null, null, null, null, ...new Array<null>(featureCount).fill(null), null, record.label, null];
}

export interface PredictionLogOptions {
  flushIntervalMs: number;
  /** fdatasync after every flush: survives a power cut, costs a disk round trip per interval. */
  syncEachFlush?: boolean;
  /** A failed write; the rows stay buffered and are retried at the next flush. */
  onError?: (error: Error) => void;
}

export interface OpenReport {
  created: boolean;
  /** Bytes of a torn last row (a crash in the middle of a write) cut off when the file was opened. */
  repairedBytes: number;
}

export interface LogStats {
  rowsWritten: number;
  rowsPending: number;
  flushes: number;
  lastError: string | null;
}

const HEAD_PROBE = 64 * 1024;

export class PredictionLog implements LogSink {
  private pending: Cell[][] = [];
  private chain: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | null;
  private closed = false;
  private readonly counters = { rowsWritten: 0, flushes: 0, lastError: null as string | null };

  private constructor(
    readonly file: string,
    readonly columns: readonly string[],
    private readonly handle: FileHandle,
    private readonly options: PredictionLogOptions,
    readonly opened: OpenReport,
  ) {
    this.timer = setInterval(() => void this.flush(), options.flushIntervalMs);
    this.timer.unref();
  }

  /**
   * Open (or create) the log. An existing file must carry exactly this header: a log written for
   * other features would mix columns. A torn last row left by a crash is cut off.
   */
  static async open(file: string, columns: readonly string[], options: PredictionLogOptions): Promise<PredictionLog> {
    mkdirSync(path.dirname(file), { recursive: true });
    const handle = await open(file, 'a+');
    try {
      const header = stringify([columns as string[]]);
      const { size } = await handle.stat();
      let repairedBytes = 0;
      if (size === 0) {
        await writeAll(handle, Buffer.from(header));
      } else {
        const probe = Buffer.alloc(Math.min(size, HEAD_PROBE));
        await handle.read(probe, 0, probe.length, 0);
        const firstLine = probe.toString('utf8').split('\n')[0] ?? '';
        if (`${firstLine}\n` !== header) {
          throw new ConfigError(
            file,
            '',
            `expected a predictions log whose header is ${JSON.stringify(header.trimEnd())}, got ${JSON.stringify(firstLine.slice(0, 300))}; move the file aside or point router.log_path (DRIFTGATE_LOG_PATH) elsewhere`,
          );
        }
        repairedBytes = await cutTornTail(handle, size);
      }
      return new PredictionLog(file, columns, handle, options, { created: size === 0, repairedBytes });
    } catch (error) {
      await handle.close();
      throw error;
    }
  }

  appendPrediction(record: PredictionRecord): void {
    this.push(predictionRow(record));
  }

  appendFeedback(record: FeedbackRecord): void {
    this.push(feedbackRow(record, this.columns.length - LOG_HEAD_COLUMNS.length - LOG_TAIL_COLUMNS.length));
  }

  private push(row: Cell[]): void {
    if (this.closed) throw new Error(`the predictions log ${this.file} is closed`);
    this.pending.push(row);
  }

  get stats(): LogStats {
    return { ...this.counters, rowsPending: this.pending.length };
  }

  /** Write what is buffered; resolves when it is in the file. Flushes never overlap. */
  flush(): Promise<void> {
    this.chain = this.chain.then(() => this.writePending());
    return this.chain;
  }

  private async writePending(): Promise<void> {
    if (this.pending.length === 0) return;
    const rows = this.pending;
    this.pending = [];
    try {
      await writeAll(this.handle, Buffer.from(stringify(rows)));
      if (this.options.syncEachFlush) await this.handle.datasync();
      this.counters.rowsWritten += rows.length;
      this.counters.flushes += 1;
      this.counters.lastError = null;
    } catch (error) {
      // Keep the rows, in order, for the next attempt; the router reports the failure.
      this.pending = rows.concat(this.pending);
      this.counters.lastError = (error as Error).message;
      this.options.onError?.(error as Error);
    }
  }

  /** Flush everything, sync it to disk and close the file. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.flush();
    try {
      await this.handle.datasync();
    } finally {
      await this.handle.close();
    }
    if (this.pending.length > 0) throw new Error(`${this.pending.length} rows could not be written to ${this.file}: ${this.counters.lastError}`);
  }
}

/** One write call normally; a short write (rare for files) continues where it stopped. */
async function writeAll(handle: FileHandle, buffer: Buffer): Promise<void> {
  let offset = 0;
  while (offset < buffer.length) {
    const { bytesWritten } = await handle.write(buffer, offset, buffer.length - offset);
    offset += bytesWritten;
  }
}

/**
 * Every row is one line (user ids and categorical values cannot hold control characters), so a
 * file that does not end in a newline ends in a torn row: cut it back to the last newline.
 */
async function cutTornTail(handle: FileHandle, size: number): Promise<number> {
  const last = Buffer.alloc(1);
  await handle.read(last, 0, 1, size - 1);
  if (last[0] === 0x0a) return 0;
  const chunk = Buffer.alloc(64 * 1024);
  let end = size;
  while (end > 0) {
    const start = Math.max(0, end - chunk.length);
    const { bytesRead } = await handle.read(chunk, 0, end - start, start);
    const at = chunk.subarray(0, bytesRead).lastIndexOf(0x0a);
    if (at >= 0) {
      await handle.truncate(start + at + 1);
      return size - (start + at + 1);
    }
    end = start;
  }
  // Not even the header is whole: never happens to a file this writer made, but leave it be.
  return 0;
}
