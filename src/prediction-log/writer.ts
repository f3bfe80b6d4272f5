/**
 * The predictions log writer: one file per router, append-only, header first, one writer.
 *
 * - Group commit: the rows appended while the current code runs go out together in one write, on
 *   this thread, as soon as it is done; so with `ack: written` a reply waits for its row to reach the
 *   operating system (a `write` returned) at the cost of one write per batch of answers, not per row.
 *   A kill -9 then loses no answered row.
 * - `fsync` says what a machine crash may lose: `never` (what the OS had not written back), `interval`
 *   (at most `intervalMs`), `always` (nothing: the batch is fdatasync'ed before anyone is answered).
 * - A failed write (ENOSPC, EIO, EFBIG) fails its batch and is never retried; whatever part of it
 *   reached the file is cut off again (ftruncate to the last whole batch) before the next write, so
 *   rows are never torn and never written twice.
 * - Rotation by size or by the clock (hourly, daily: UTC) starts a new file with the header; the
 *   live path never disappears (the old file is hard-linked to its rotated name, then the new file
 *   is renamed over the live path). An outside rotation is followed: `reopen()` (SIGHUP) and a
 *   moved or deleted file (checked every `checkMs`) open the path anew; a file truncated in place
 *   (logrotate's copytruncate) is rebuilt with the header and the rows its copy missed, found by
 *   comparing the copy's bytes with the bytes this writer wrote last.
 * - A file of this config's log in an earlier layout (fewer optional columns: an older router's)
 *   is moved aside as a rotated file and a new one started, as is a file of rows without a header.
 */
import { ftruncateSync, writeSync } from 'node:fs';
import { link, mkdir, open, readFile, rename, stat, statfs, unlink, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { ConfigError, DriftgateError } from '../errors.js';
import { EVENT_KINDS, isLogHeader, olderLogColumns, type EventKind, type LogSchema } from './columns.js';
import { completeLength, rotatedPath, siblingNames } from './files.js';
import { encodeLine, splitLine } from './line.js';
import {
  classLookup,
  configLayouts,
  decodeRow,
  failureLine,
  feedbackLine,
  isProblem,
  predictionLine,
  shadowLine,
  splitEventLine,
  type FailureRecord,
  type FeedbackRecord,
  type PredictionRecord,
  type ShadowRecord,
  type SplitRecord,
} from './rows.js';

export type FsyncPolicy = 'never' | 'interval' | 'always';
export type AckPolicy = 'written' | 'buffered';
export type RotateEvery = 'none' | 'hourly' | 'daily';

export interface LogWriterOptions {
  file: string;
  columns: readonly string[];
  /** To recognise a file of this log that lost its header. */
  schema: LogSchema;
  fsync: FsyncPolicy;
  ack: AckPolicy;
  /** fsync period (fsync: interval) and, with ack: buffered, how often buffered rows are written. */
  intervalMs: number;
  rotate: { maxBytes: number; every: RotateEvery };
  now?: () => number;
  /** How often the file is checked for a move, deletion or truncation by someone else. */
  checkMs?: number;
  /** Bytes of recent writes kept to rebuild what a copytruncate missed. */
  historyBytes?: number;
  onEvent?: (event: LogWriterEvent) => void;
}

export type LogWriterEvent =
  | { kind: 'opened'; created: boolean; repairedBytes: number }
  | { kind: 'rotated'; reason: 'size' | 'interval' | 'headerless' | 'upgrade'; to: string }
  | { kind: 'rotate_failed'; reason: string }
  | { kind: 'reopened'; reason: 'signal' | 'moved' | 'deleted' }
  | { kind: 'truncated'; copy: string | null; restoredBytes: number }
  | { kind: 'foreign_append'; bytes: number }
  | { kind: 'write_failed'; code: string; message: string; rows: number }
  | { kind: 'recovered'; afterMs: number };

/** A row that could not be written: the request it belongs to is not answered as logged. */
export class LogWriteError extends DriftgateError {
  constructor(
    readonly errno: string,
    message: string,
    options: { cause?: unknown } = {},
  ) {
    super('UNAVAILABLE', message, options);
  }
}

interface Pending {
  line: string;
  event: EventKind;
  resolve: () => void;
  reject: (error: LogWriteError) => void;
}

interface Failure {
  code: string;
  message: string;
  since: number;
  /** The disk has room again: report ready, and let the next write tell. */
  roomAgain: boolean;
}

export interface LogWriterStats {
  rowsWritten: Record<EventKind, number>;
  rowsFailed: Record<EventKind, number>;
  bytesWritten: number;
  commits: number;
  writeErrors: Record<string, number>;
  rotations: number;
  lastError: string | null;
}

const HOUR_MS = 3_600_000;
// Free space at which a failing log is tried again (and /ready says ready): a few batches' worth.
const FREE_BYTES_TO_RETRY = 64 * 1024;
const SPACE_ERRORS = new Set(['ENOSPC', 'EDQUOT']);
// After a failed rotation or repair, the next attempt waits this long (rows keep going to the current file, or fail).
const ROTATE_RETRY_MS = 10_000;
const REPAIR_RETRY_MS = 1_000;
const MAX_FLUSHES_PER_TURN = 1000;

function errnoOf(error: unknown): string {
  return (error as NodeJS.ErrnoException).code ?? 'EIO';
}

function zeroCounts(): Record<EventKind, number> {
  return Object.fromEntries(EVENT_KINDS.map((kind) => [kind, 0])) as Record<EventKind, number>;
}

async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r').catch(() => null);
  if (!handle) return;
  await handle.sync().catch(() => undefined);
  await handle.close();
}

export class LogWriter {
  private handle!: FileHandle;
  /** Bytes of whole batches in the current file: where a failed write is cut back to. */
  private size = 0;
  private period = 0;
  /** `size` when the file was last found where it should be. */
  private checkedSize = 0;
  private needsRepair = false;
  private dirty = false;
  private queue: Pending[] = [];
  private flushQueued = false;
  private flushesThisTurn = 0;
  private turnWatched = false;
  /** An operation on the file (rotation, check, reopen, sync) is running: rows wait for it. */
  private busy = false;
  private chain: Promise<void> = Promise.resolve();
  private rotateRetryAt = 0;
  private repairRetryAt = 0;
  private repairFailure: LogWriteError | null = null;
  private closed = false;
  private failure: Failure | null = null;
  /** Recent writes of the current file at their offsets (the header included when this writer wrote it). */
  private history: { start: number; bytes: Buffer }[] = [];
  private historyTotal = 0;
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly header: Buffer;
  private readonly now: () => number;
  private readonly counters: LogWriterStats = { rowsWritten: zeroCounts(), rowsFailed: zeroCounts(), bytesWritten: 0, commits: 0, writeErrors: {}, rotations: 0, lastError: null };

  private constructor(private readonly options: LogWriterOptions) {
    this.header = Buffer.from(encodeLine([...options.columns]));
    this.now = options.now ?? Date.now;
  }

  get file(): string {
    return this.options.file;
  }

  /** Open (or create) the log and start its timers. A file with another header is a config error (exit 2). */
  static async open(options: LogWriterOptions): Promise<LogWriter> {
    const writer = new LogWriter(options);
    await writer.openFile();
    writer.startTimers();
    return writer;
  }

  get stats(): LogWriterStats {
    return { ...this.counters, rowsWritten: { ...this.counters.rowsWritten }, rowsFailed: { ...this.counters.rowsFailed }, writeErrors: { ...this.counters.writeErrors } };
  }

  /** Why rows cannot be written now, or null. */
  problem(): string | null {
    const f = this.failure;
    if (!f || f.roomAgain) return null;
    const failed = EVENT_KINDS.reduce((sum, kind) => sum + this.counters.rowsFailed[kind], 0);
    return `the predictions log ${this.file} cannot be written (${f.code}: ${f.message}) since ${new Date(f.since).toISOString()}; ${failed} rows could not be logged so far`;
  }

  appendPrediction(record: PredictionRecord): Promise<void> {
    return this.append(predictionLine(record), 'prediction');
  }

  appendFeedback(record: FeedbackRecord): Promise<void> {
    return this.append(feedbackLine(record, this.options.schema.features.length), 'feedback');
  }

  appendFailure(record: FailureRecord): Promise<void> {
    return this.append(failureLine(record), 'failure');
  }

  appendSplit(record: SplitRecord): Promise<void> {
    return this.append(splitEventLine(record, this.options.schema.features.length), 'split');
  }

  appendShadow(record: ShadowRecord): Promise<void> {
    return this.append(shadowLine(record), 'shadow');
  }

  /**
   * Append one row (a line from rows.ts). With ack `written` the promise settles when the row's
   * write returned (and, with fsync `always`, was synced), or rejects with LogWriteError; with ack
   * `buffered` it resolves at once and the row is written at the next interval.
   */
  append(line: string, event: EventKind): Promise<void> {
    if (this.closed) return Promise.reject(new LogWriteError('ECLOSED', `the predictions log ${this.file} is closed`));
    if (this.options.ack === 'buffered') {
      this.queue.push({ line, event, resolve: () => undefined, reject: () => undefined });
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ line, event, resolve, reject });
      this.flushSoon();
    });
  }

  /**
   * Write what is queued as soon as the code running now is done (a microtask): every row appended
   * meanwhile (the answers of one inference batch resume together) goes out in one write, and the
   * replies need no further turn of the event loop. A caller that appends in a loop of its own would
   * never let the loop turn; after many flushes without a turn, the next one waits for it.
   */
  private flushSoon(): void {
    if (this.flushQueued) return;
    this.flushQueued = true;
    const run = (): void => {
      this.flushQueued = false;
      this.flush();
    };
    if (this.flushesThisTurn++ < MAX_FLUSHES_PER_TURN) queueMicrotask(run);
    else setImmediate(run);
    if (!this.turnWatched) {
      this.turnWatched = true;
      setImmediate(() => {
        this.turnWatched = false;
        this.flushesThisTurn = 0;
      });
    }
  }

  /**
   * One write of every queued row, on this thread: a write to the page cache takes microseconds, and
   * a reply then needs no extra turn of the event loop to learn that its row is in the file (the
   * thread pool's round trip cost about a third of the throughput in npm run bench:router). While an
   * operation on the file runs (a rotation, a check, a sync with fsync `always`) rows wait, and that
   * operation flushes them after.
   */
  private flush(): void {
    if (this.queue.length === 0 || this.busy) return;
    if (this.needsRepair && this.now() < this.repairRetryAt) return this.fail(this.takeQueue(), this.repairFailure!);
    const buffer = Buffer.from(this.queue.length === 1 ? this.queue[0]!.line : this.queue.map((p) => p.line).join(''));
    if (this.needsRepair || this.rotationDue(buffer.length)) {
      void this.operate(() => this.prepare(buffer.length));
      return;
    }
    const batch = this.takeQueue();
    try {
      this.writeNow(buffer);
    } catch (error) {
      return this.fail(batch, error as LogWriteError);
    }
    if (this.options.fsync === 'always') {
      void this.operate(async () => {
        try {
          await this.syncOrUndo(buffer.length);
        } catch (error) {
          return this.fail(batch, error as LogWriteError);
        }
        this.succeed(batch);
      });
      return;
    }
    this.dirty = true;
    this.succeed(batch);
  }

  private takeQueue(): Pending[] {
    const batch = this.queue;
    this.queue = [];
    return batch;
  }

  private succeed(batch: Pending[]): void {
    this.counters.commits++;
    for (const p of batch) this.counters.rowsWritten[p.event]++;
    // A full disk may still take a small batch; it counts as mended only once there is room again.
    if (this.failure && (this.failure.roomAgain || !SPACE_ERRORS.has(this.failure.code))) {
      this.options.onEvent?.({ kind: 'recovered', afterMs: this.now() - this.failure.since });
      this.failure = null;
    }
    for (const p of batch) p.resolve();
  }

  private fail(batch: Pending[], error: LogWriteError): void {
    this.counters.writeErrors[error.errno] = (this.counters.writeErrors[error.errno] ?? 0) + 1;
    this.counters.lastError = error.message;
    for (const p of batch) this.counters.rowsFailed[p.event]++;
    if (!this.failure || this.failure.roomAgain) this.failure = { code: error.errno, message: error.message, since: this.failure?.since ?? this.now(), roomAgain: false };
    this.options.onEvent?.({ kind: 'write_failed', code: error.errno, message: error.message, rows: batch.length });
    for (const p of batch) p.reject(error);
  }

  /** Operations on the file run one at a time, in order; rows wait while one runs. */
  private operate(task: () => Promise<void>): Promise<void> {
    const run = this.chain.then(async () => {
      this.busy = true;
      try {
        await task();
      } finally {
        this.busy = false;
        this.flushSoon();
      }
    });
    this.chain = run.catch(() => undefined);
    return run;
  }

  private rotationDue(bytes: number): boolean {
    const { maxBytes, every } = this.options.rotate;
    if (this.now() < this.rotateRetryAt) return false;
    return (every !== 'none' && this.periodOf(this.now()) !== this.period) || (maxBytes > 0 && this.size > this.header.length && this.size + bytes > maxBytes);
  }

  /** Before a batch: cut a torn tail, rotate when the file is full or its period is over. */
  private async prepare(bytes: number): Promise<void> {
    if (this.needsRepair) {
      try {
        await this.repair();
      } catch (error) {
        this.repairFailure = error as LogWriteError;
        this.repairRetryAt = this.now() + REPAIR_RETRY_MS;
        return;
      }
    }
    if (!this.rotationDue(bytes)) return;
    const byClock = this.options.rotate.every !== 'none' && this.periodOf(this.now()) !== this.period;
    // A file moved or truncated from outside is dealt with first, so a rotation never carries it off half-mended.
    await this.check();
    if (this.size > this.header.length) await this.rotate(byClock ? 'interval' : 'size');
    this.period = this.periodOf(this.now());
  }

  private periodOf(ms: number): number {
    const { every } = this.options.rotate;
    return every === 'hourly' ? Math.floor(ms / HOUR_MS) : every === 'daily' ? Math.floor(ms / (24 * HOUR_MS)) : 0;
  }

  /** Write the whole buffer now; a failure cuts off whatever part of it reached the file. */
  private writeNow(buffer: Buffer): void {
    let offset = 0;
    try {
      while (offset < buffer.length) {
        const written = writeSync(this.handle.fd, buffer, offset, buffer.length - offset);
        if (written === 0) throw Object.assign(new Error('the write made no progress'), { code: 'EIO' });
        offset += written;
      }
    } catch (error) {
      if (offset > 0) {
        try {
          ftruncateSync(this.handle.fd, this.size);
        } catch {
          // Cut before the next write (prepare), or that write fails too.
          this.needsRepair = true;
        }
      }
      throw new LogWriteError(errnoOf(error), `writing to ${this.file} failed: ${(error as Error).message}`, { cause: error });
    }
    this.remember(this.size, buffer);
    this.size += buffer.length;
    this.counters.bytesWritten += buffer.length;
  }

  private async syncOrUndo(length: number): Promise<void> {
    try {
      await this.handle.datasync();
    } catch (error) {
      // Not durable: take the batch back out, so that a failed request leaves no row behind.
      this.size -= length;
      this.forget(this.size);
      this.needsRepair = true;
      await this.repair().catch(() => undefined);
      throw new LogWriteError(errnoOf(error), `syncing ${this.file} failed: ${(error as Error).message}`, { cause: error });
    }
  }

  /** Cut the file back to its last whole batch. */
  private async repair(): Promise<void> {
    try {
      await this.handle.truncate(this.size);
    } catch (error) {
      throw new LogWriteError(errnoOf(error), `cutting a torn row off ${this.file} failed: ${(error as Error).message}`, { cause: error });
    }
    this.needsRepair = false;
    this.repairFailure = null;
  }

  private remember(start: number, bytes: Buffer): void {
    const limit = this.options.historyBytes ?? 16 << 20;
    this.history.push({ start, bytes });
    this.historyTotal += bytes.length;
    while (this.history.length > 1 && this.historyTotal - this.history[0]!.bytes.length >= limit) this.historyTotal -= this.history.shift()!.bytes.length;
  }

  /** Drop remembered bytes at and after `offset`. */
  private forget(offset: number): void {
    while (this.history.length > 0 && this.history.at(-1)!.start >= offset) this.historyTotal -= this.history.pop()!.bytes.length;
  }

  /** Bytes [from, to) of the current file as this writer wrote them, or null when they are no longer remembered. */
  private recall(from: number, to: number): Buffer | null {
    if (from === to) return Buffer.alloc(0);
    const first = this.history[0];
    if (!first || from < first.start) return null;
    const parts: Buffer[] = [];
    for (const { start, bytes } of this.history) {
      const end = start + bytes.length;
      if (end <= from || start >= to) continue;
      parts.push(bytes.subarray(Math.max(0, from - start), Math.min(bytes.length, to - start)));
    }
    const joined = Buffer.concat(parts);
    return joined.length === to - from ? joined : null;
  }

  private resetHistory(withHeader: boolean): void {
    this.history = [];
    this.historyTotal = 0;
    if (withHeader) this.remember(0, this.header);
  }

  // ---- opening, rotation, outside changes -----------------------------------------------------

  /**
   * Open the path for appending: create it with the header, or check the header and cut a torn tail.
   * `repaired`: torn bytes already cut off the file that an upgrade moved aside, for the opened event.
   */
  private async openFile(repaired = 0): Promise<void> {
    const { file } = this.options;
    await mkdir(path.dirname(file), { recursive: true }).catch(() => undefined);
    let handle: FileHandle;
    try {
      handle = await open(file, 'a+');
    } catch (error) {
      const code = errnoOf(error);
      throw new DriftgateError('UNAVAILABLE', `cannot open the predictions log ${file} for appending (${code}: ${(error as Error).message}); check router.log_path (DRIFTGATE_LOG_PATH)`, {
        exitCode: ['EACCES', 'EISDIR', 'EROFS', 'ENOTDIR', 'EPERM'].includes(code) ? 2 : 1,
        cause: error,
      });
    }
    try {
      let info = await handle.stat();
      let created = false;
      let repairedBytes = repaired;
      if (info.size > 0 && info.size < this.header.length && this.header.subarray(0, info.size).equals(await readAll(handle, info.size))) {
        // A crash while the header was being written: start the file again.
        await handle.truncate(0);
        repairedBytes = info.size;
        info = await handle.stat();
      }
      if (info.size === 0) {
        await handle.write(this.header, 0, this.header.length);
        created = true;
        this.size = this.header.length;
        this.resetHistory(true);
        if (this.options.fsync !== 'never') {
          await handle.datasync();
          await syncDir(path.dirname(file));
        }
      } else {
        const firstLine = await readFirstLine(handle, info.size);
        if (`${firstLine}\n` !== this.header.toString()) {
          if (this.isOlderLayout(firstLine)) {
            // This config's log as an older router wrote it (fewer optional columns): its rows stay
            // readable under a rotated name (cut to whole rows, as this file would have been), and
            // a new file starts with the new header, so no file mixes two layouts.
            const whole = await completeLength(handle, info.size);
            if (whole < info.size) await handle.truncate(whole);
            if (this.options.fsync !== 'never') await handle.datasync();
            await handle.close();
            const to = await this.freeRotatedPath();
            await rename(file, to);
            this.options.onEvent?.({ kind: 'rotated', reason: 'upgrade', to });
            return this.openFile(info.size - whole);
          }
          if (!this.isOwnHeaderless(firstLine)) {
            throw new ConfigError(
              file,
              '',
              `expected a predictions log whose header is ${JSON.stringify(this.header.toString().trimEnd())}, got ${JSON.stringify(firstLine.slice(0, 300))}; move the file aside or point router.log_path (DRIFTGATE_LOG_PATH) elsewhere`,
            );
          }
          // Rows of this log without a header (an old copytruncate): move the file aside, start anew.
          await handle.close();
          const to = await this.freeRotatedPath();
          await rename(file, to);
          this.options.onEvent?.({ kind: 'rotated', reason: 'headerless', to });
          return this.openFile();
        }
        // Every row is one line, so bytes after the last line end are a row torn by a crash.
        const whole = await completeLength(handle, info.size);
        if (whole < info.size) await handle.truncate(whole);
        repairedBytes = info.size - whole;
        this.size = whole;
        this.resetHistory(false);
      }
      this.handle = handle;
      this.checkedSize = this.size;
      this.period = this.periodOf(this.now());
      this.options.onEvent?.({ kind: 'opened', created, repairedBytes });
    } catch (error) {
      await handle.close().catch(() => undefined);
      if (error instanceof DriftgateError) throw error;
      throw new DriftgateError('UNAVAILABLE', `cannot prepare the predictions log ${file} (${errnoOf(error)}: ${(error as Error).message})`, { cause: error });
    }
  }

  /** A header this config's log had before the current one (fewer optional columns), exactly as a router wrote it. */
  private isOlderLayout(firstLine: string): boolean {
    return olderLogColumns(this.options.schema).some((header) => `${firstLine}\n` === encodeLine(header));
  }

  private isOwnHeaderless(firstLine: string): boolean {
    if (isLogHeader(splitLine(firstLine) ?? [])) return false;
    const cells = splitLine(firstLine);
    if (!cells) return false;
    const { schema } = this.options;
    const classes = classLookup(schema);
    return configLayouts(schema).some((layout) => cells.length === layout.width && !isProblem(decodeRow(cells, layout, schema, classes)));
  }

  private async freeRotatedPath(): Promise<string> {
    for (let attempt = 0; ; attempt++) {
      const candidate = rotatedPath(this.options.file, this.now(), attempt);
      if (!(await stat(candidate).catch(() => null))) return candidate;
    }
  }

  /** Start a new file: the old one keeps its rows under a rotated name; the live path never goes missing. */
  private async rotate(reason: 'size' | 'interval'): Promise<void> {
    const { file } = this.options;
    const dir = path.dirname(file);
    const temp = path.join(dir, `.${path.basename(file)}.${process.pid}.new`);
    let to = '';
    try {
      to = await this.freeRotatedPath();
      const fresh = await open(temp, 'w');
      try {
        await fresh.write(this.header, 0, this.header.length);
        if (this.options.fsync !== 'never') await fresh.datasync();
      } finally {
        await fresh.close();
      }
      try {
        await link(file, to);
      } catch (error) {
        if (errnoOf(error) === 'ENOENT') throw error;
        // No hard links here (some network file systems): a plain rename, the live path briefly absent.
        await rename(file, to);
      }
      await rename(temp, file);
      if (this.options.fsync !== 'never') await syncDir(dir);
    } catch (error) {
      await unlink(temp).catch(() => undefined);
      this.rotateRetryAt = this.now() + ROTATE_RETRY_MS;
      this.options.onEvent?.({ kind: 'rotate_failed', reason: `${errnoOf(error)}: ${(error as Error).message}` });
      return;
    }
    await this.switchTo(true);
    this.counters.rotations++;
    this.options.onEvent?.({ kind: 'rotated', reason, to });
  }

  /** Close the current handle (synced) and open the live path. */
  private async switchTo(fresh: boolean): Promise<void> {
    const old = this.handle;
    if (this.options.fsync !== 'never' || fresh) await old.datasync().catch(() => undefined);
    await old.close().catch(() => undefined);
    this.dirty = false;
    await this.openFile();
  }

  /** Open the path anew (SIGHUP after an outside `mv`). */
  reopen(reason: 'signal' | 'moved' | 'deleted' = 'signal'): Promise<void> {
    return this.operate(async () => {
      if (this.closed) return;
      await this.switchTo(false);
      this.options.onEvent?.({ kind: 'reopened', reason });
    });
  }

  /** Has the file been moved, deleted or truncated by someone else? */
  private async check(): Promise<void> {
    if (this.closed) return;
    const own = await this.handle.stat().catch(() => null);
    if (!own) return;
    const atPath = await stat(this.options.file).catch(() => null);
    if (!atPath || atPath.ino !== own.ino || atPath.dev !== own.dev) {
      // Deleted: the rows written since the last look were answered after it and are in no file now;
      // they go into the new one (a few rows the deleter may have meant to drop come back with them).
      const orphaned = own.nlink === 0 ? this.recall(this.checkedSize, this.size) : null;
      await this.switchTo(false);
      if (orphaned && orphaned.length > 0) this.writeNow(orphaned);
      this.checkedSize = this.size;
      this.options.onEvent?.({ kind: 'reopened', reason: own.nlink === 0 ? 'deleted' : 'moved' });
      return;
    }
    if (own.size < this.size && !this.needsRepair) {
      await this.recoverTruncation(own.size);
      return;
    }
    if (own.size > this.size && !this.needsRepair) {
      // Another process appends to this file too (two routers on one log path).
      this.options.onEvent?.({ kind: 'foreign_append', bytes: own.size - this.size });
      this.size = own.size;
      this.resetHistory(false);
    }
    if (this.failure && !this.failure.roomAgain) {
      const room = await statfs(path.dirname(this.options.file)).catch(() => null);
      if (room && room.bavail * room.bsize >= FREE_BYTES_TO_RETRY) this.failure.roomAgain = true;
    }
    this.checkedSize = this.size;
  }

  /**
   * The file was cut to zero in place (copytruncate): it holds only what was written since, without
   * a header. Rebuild it as header + every row the copy does not have, and replace it atomically.
   */
  private async recoverTruncation(currentSize: number): Promise<void> {
    const { file } = this.options;
    const cutAt = this.size - currentSize;
    const copy = await this.findCopy(cutAt);
    let from = cutAt;
    if (copy) from = this.lineStartBefore(copy.size) ?? cutAt;
    const since = await readFile(file).catch(() => null);
    const restored = this.recall(from, cutAt);
    const tail = since ?? this.recall(cutAt, this.size) ?? Buffer.alloc(0);
    const body = Buffer.concat([restored ?? Buffer.alloc(0), tail]);
    const temp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.new`);
    const fresh = await open(temp, 'w');
    try {
      await fresh.write(Buffer.concat([this.header, body]));
      if (this.options.fsync !== 'never') await fresh.datasync();
    } finally {
      await fresh.close();
    }
    await rename(temp, file);
    await this.switchTo(false);
    this.resetHistory(true);
    this.remember(this.header.length, body);
    this.options.onEvent?.({ kind: 'truncated', copy: copy?.path ?? null, restoredBytes: restored?.length ?? 0 });
  }

  /** The rotated sibling that is a byte copy of this file up to its size (at most `limit`), newest first. */
  private async findCopy(limit: number): Promise<{ path: string; size: number } | null> {
    let best: { path: string; size: number } | null = null;
    for (const name of siblingNames(this.options.file)) {
      const info = await stat(name).catch(() => null);
      if (!info?.isFile() || info.size > limit || info.size <= this.header.length || (best && info.size <= best.size)) continue;
      const k = Math.min(4096, info.size);
      const mine = this.recall(info.size - k, info.size);
      if (!mine) continue;
      const handle = await open(name, 'r').catch(() => null);
      if (!handle) continue;
      try {
        const theirs = Buffer.alloc(k);
        await handle.read(theirs, 0, k, info.size - k);
        if (theirs.equals(mine)) best = { path: name, size: info.size };
      } finally {
        await handle.close();
      }
    }
    return best;
  }

  /** The start of the line that holds byte offset - 1 (so a copy ending mid-row gets that row again). */
  private lineStartBefore(offset: number): number | null {
    const first = this.history[0];
    if (!first) return null;
    const bytes = this.recall(first.start, offset);
    if (!bytes) return null;
    const at = bytes.lastIndexOf(10);
    return at === -1 ? null : first.start + at + 1;
  }

  private startTimers(): void {
    const checkMs = this.options.checkMs ?? 250;
    const check = setInterval(() => void this.operate(() => this.check()).catch(() => undefined), checkMs);
    const tick = setInterval(() => {
      if (this.options.ack === 'buffered') this.flush();
      if (this.options.fsync === 'interval' && this.dirty) {
        this.dirty = false;
        // Beside the writes, not between them: a sync takes milliseconds, rows should not wait for it.
        this.handle.datasync().catch((error: unknown) =>
          this.options.onEvent?.({ kind: 'write_failed', code: errnoOf(error), message: `syncing ${this.file} failed: ${(error as Error).message}`, rows: 0 }),
        );
      }
    }, this.options.intervalMs);
    for (const timer of [check, tick]) {
      timer.unref();
      this.timers.push(timer);
    }
  }

  /** Write what is queued, sync and close. Rows appended after this are refused. */
  async close(): Promise<void> {
    if (this.closed) return this.chain;
    this.closed = true;
    for (const timer of this.timers) clearInterval(timer);
    // Wait for a running operation, write what is queued (a flush may start a rotation first), until all is out.
    do {
      await this.operate(async () => undefined);
      this.flush();
    } while (this.queue.length > 0);
    await this.operate(async () => {
      await this.handle.datasync().catch(() => undefined);
      await this.handle.close();
    });
  }
}

async function readAll(handle: FileHandle, size: number): Promise<Buffer> {
  const bytes = Buffer.alloc(size);
  await handle.read(bytes, 0, size, 0);
  return bytes;
}

async function readFirstLine(handle: FileHandle, size: number): Promise<string> {
  const text = (await readAll(handle, Math.min(size, 64 * 1024))).toString('utf8');
  const newline = text.indexOf('\n');
  return newline === -1 ? text : text.slice(0, newline);
}
