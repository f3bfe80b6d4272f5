/**
 * Streaming reads of a log set: every file line by line, each line decoded by the one rule
 * (rows.ts), the files merged by time so several replicas read as one stream. Memory is a chunk per
 * file plus what the caller keeps; a bad line is reported with its file and line and the read goes
 * on. A file is read up to its size when the set was opened, so a log still being written reads as
 * a snapshot, and a row being appended (no line end yet) is left for the next read.
 */
import { createReadStream } from 'node:fs';
import { createGunzip } from 'node:zlib';
import type { EventKind, LogSchema } from './columns.js';
import { isLogHeader } from './columns.js';
import { completeLength, type LogSet, type OpenLogFile } from './files.js';
import { splitLine } from './line.js';
import { classLookup, configLayouts, decodeRow, isProblem, layoutOf, type LogEntry, type LogLayout } from './rows.js';

export interface LogPosition {
  file: string;
  /** 1-based line in the file (the header is line 1). */
  line: number;
}

export interface MalformedRow extends LogPosition {
  problem: string;
}

/** How many malformed rows are kept with their problem (all are counted). */
export const MALFORMED_KEPT = 50;

export interface ScanOptions {
  /** Only rows of these events are decoded and handed over; the others are counted, unread (a pre-pass). */
  events?: readonly EventKind[];
  /** Read only the last this many bytes of each file (from the next line start; lines are then counted from there). */
  tailBytes?: number;
  signal?: AbortSignal;
}

export interface FileReport {
  path: string;
  /** False when the file could not be read as this config's log (see ScanReport.unreadable). */
  read: boolean;
  rows: number;
  /** The file has no header (cut by an old copytruncate): read with the config's columns. */
  headerless: boolean;
  /** Bytes after the last line end: a row being written, or one torn by a crash or a copy. */
  incompleteBytes: number;
}

export interface ScanReport {
  files: FileReport[];
  /** Files that are not readable as this config's log (another header, not a log, a compression it cannot read), with why. */
  unreadable: { path: string; reason: string }[];
  /** Data rows read (headers excluded), malformed ones included. */
  rows: number;
  malformedCount: number;
  /** The first MALFORMED_KEPT malformed rows, in reading order. */
  malformed: MalformedRow[];
  /** Predictions and labels outside the classes, and how often each occurred. */
  unknownLabels: Record<string, number>;
}

export type EntryHandler = (entry: LogEntry, at: LogPosition) => void;

// 64 KiB text chunks stay in V8's young generation and die young; 1 MiB ones land in large-object
// space and pile up until a full GC (the same finding as drift/csv-records.ts).
const CHUNK_BYTES = 1 << 16;
const READ_BYTES = 1 << 20;

/** The rows of one file, a chunk at a time. */
class FileCursor {
  entries: LogEntry[] = [];
  lines: number[] = [];
  index = 0;
  done = false;
  layout: LogLayout | null = null;
  readonly report: FileReport;
  /** Lines read so far; in a tail read, counted from where the tail starts. */
  private line = 0;
  private skipToLineStart = false;
  private rest: Buffer = Buffer.alloc(0);
  private chunks: AsyncIterator<Buffer> | null = null;

  constructor(
    readonly file: OpenLogFile,
    private readonly scan: Scan,
  ) {
    this.report = { path: file.path, read: true, rows: 0, headerless: false, incompleteBytes: 0 };
  }

  async start(tailBytes: number | undefined): Promise<void> {
    const { file } = this;
    if (file.gzip) {
      const stream = createReadStream('', { fd: file.handle, autoClose: false, start: 0 }).pipe(createGunzip());
      this.chunks = stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
      return;
    }
    const end = await completeLength(file.handle, file.size);
    this.report.incompleteBytes = file.size - end;
    let start = 0;
    if (tailBytes !== undefined && end > tailBytes) {
      // The header still decides the layout; the tail starts at the first whole line.
      await this.readHeader();
      start = end - tailBytes;
      this.skipToLineStart = true;
    }
    this.chunks = readChunks(file, start, end);
  }

  private async readHeader(): Promise<void> {
    const probe = Buffer.alloc(Math.min(64 * 1024, this.file.size));
    const { bytesRead } = await this.file.handle.read(probe, 0, probe.length, 0);
    const text = probe.subarray(0, bytesRead).toString('utf8');
    const newline = text.indexOf('\n');
    this.takeFirstLine(newline === -1 ? text : text.slice(0, newline));
  }

  /** Decode the next chunk's lines; false at the end of the file. */
  async fill(): Promise<boolean> {
    this.entries = [];
    this.lines = [];
    this.index = 0;
    while (!this.done && this.entries.length === 0) {
      const next = await this.chunks!.next();
      if (next.done) {
        this.done = true;
        if (this.rest.length > 0) this.report.incompleteBytes += this.rest.length;
        break;
      }
      this.scan.signal?.throwIfAborted();
      let bytes = this.rest.length > 0 ? Buffer.concat([this.rest, next.value]) : next.value;
      const last = bytes.lastIndexOf(10);
      if (last === -1) {
        this.rest = bytes;
        continue;
      }
      this.rest = bytes.subarray(last + 1);
      bytes = bytes.subarray(0, last);
      const text = bytes.toString('utf8');
      let from = 0;
      if (this.skipToLineStart) {
        this.skipToLineStart = false;
        from = text.indexOf('\n') + 1;
        if (from === 0) continue;
      }
      for (;;) {
        const newline = text.indexOf('\n', from);
        const raw = newline === -1 ? text.slice(from) : text.slice(from, newline);
        this.takeLine(raw);
        if (newline === -1) break;
        from = newline + 1;
      }
    }
    return this.entries.length > 0;
  }

  private takeFirstLine(raw: string): boolean {
    const line = raw.charCodeAt(0) === 0xfeff ? raw.slice(1) : raw;
    const cells = splitLine(stripCr(line)) ?? [];
    if (isLogHeader(cells)) {
      const layout = layoutOf(cells.map((c) => c.trim()), this.scan.schema);
      if (typeof layout === 'string') {
        this.unreadable(`line 1: ${layout}`);
        return true;
      }
      this.layout = layout;
      return true;
    }
    // A file cut by an old copytruncate has rows and no header: read it with the config's columns
    // (those of the layout its rows fit: an older router wrote them with fewer optional columns).
    const layout = configLayouts(this.scan.schema).find((l) => cells.length === l.width && !isProblem(decodeRow(cells, l, this.scan.schema, this.scan.classes)));
    if (layout) {
      this.layout = layout;
      this.report.headerless = true;
      return false;
    }
    const shown = line.length > 120 ? `${line.slice(0, 117)}...` : line;
    this.unreadable(`line 1: expected a predictions log header starting ts,event,request_id, got ${JSON.stringify(shown)}`);
    return true;
  }

  unreadable(reason: string): void {
    this.scan.unreadable(this.file.path, reason);
    this.report.read = false;
    this.done = true;
  }

  private takeLine(raw: string): void {
    if (this.done) return;
    this.line++;
    if (this.layout === null) {
      if (raw.length === 0) return;
      if (this.takeFirstLine(raw)) return;
    }
    const line = stripCr(raw);
    if (line.length === 0) return;
    this.report.rows++;
    const scan = this.scan;
    scan.rows++;
    const layout = this.layout!;
    if (scan.wanted !== null) {
      const event = eventCell(line, layout);
      if (event !== null && !scan.wanted.has(event)) return;
    }
    const cells = splitLine(line);
    if (cells === null) {
      scan.malformed(this.file.path, this.line, 'broken CSV quoting (an unclosed quote or text after a closing quote)');
      return;
    }
    const decoded = decodeRow(cells, layout, scan.schema, scan.classes);
    if (isProblem(decoded)) {
      if (scan.wanted !== null && !scan.wanted.has(cells[layout.fixed.event]!)) return;
      if (decoded.unknownLabel !== undefined) scan.unknownLabels[decoded.unknownLabel] = (scan.unknownLabels[decoded.unknownLabel] ?? 0) + 1;
      scan.malformed(this.file.path, this.line, decoded.problem);
      return;
    }
    if (scan.wanted !== null && !scan.wanted.has(decoded.event)) return;
    this.entries.push(decoded);
    this.lines.push(this.line);
  }
}

function stripCr(line: string): string {
  return line.length > 0 && line.charCodeAt(line.length - 1) === 13 ? line.slice(0, -1) : line;
}

/** The event cell without splitting the whole line, when it is the second, unquoted cell (always, for Driftgate's own files). */
function eventCell(line: string, layout: LogLayout): string | null {
  if (layout.fixed.event !== 1 || layout.fixed.ts !== 0) return null;
  const first = line.indexOf(',');
  if (first === -1) return null;
  const second = line.indexOf(',', first + 1);
  const cell = line.slice(first + 1, second === -1 ? line.length : second);
  return cell.indexOf('"') === -1 ? cell : null;
}

/** The bytes [start, end) of a file: read 1 MiB at a time (fewer trips to the thread pool), handed on in 64 KiB pieces. */
async function* readChunks(file: OpenLogFile, start: number, end: number): AsyncGenerator<Buffer> {
  let position = start;
  while (position < end) {
    const buffer = Buffer.allocUnsafe(Math.min(READ_BYTES, end - position));
    const { bytesRead } = await file.handle.read(buffer, 0, buffer.length, position);
    if (bytesRead === 0) return;
    position += bytesRead;
    for (let at = 0; at < bytesRead; at += CHUNK_BYTES) yield buffer.subarray(at, Math.min(bytesRead, at + CHUNK_BYTES));
  }
}

class Scan {
  rows = 0;
  malformedCount = 0;
  readonly malformedKept: MalformedRow[] = [];
  readonly unknownLabels: Record<string, number> = {};
  readonly unreadableFiles: { path: string; reason: string }[] = [];
  readonly classes: ReadonlyMap<string, string>;
  readonly wanted: ReadonlySet<string> | null;

  constructor(
    readonly schema: LogSchema,
    options: ScanOptions,
    readonly signal: AbortSignal | undefined,
  ) {
    this.classes = classLookup(schema);
    this.wanted = options.events ? new Set<string>(options.events) : null;
  }

  malformed(file: string, line: number, problem: string): void {
    this.malformedCount++;
    if (this.malformedKept.length < MALFORMED_KEPT) this.malformedKept.push({ file, line, problem });
  }

  unreadable(file: string, reason: string): void {
    this.unreadableFiles.push({ path: file, reason });
  }
}

/**
 * The request ids of the prediction, failure and shadow rows at the current time stamp (a request has a prediction or a failure, and may have a shadow row). A row written twice (a copy of
 * a file in the set, a retried write) has its original's time stamp, and the merge by time puts the
 * two side by side; ids are random, so a repeat at another time is not looked for.
 */
class SameTimeIds {
  private ts = Number.NaN;
  private ids: string[] = [];
  private at: LogPosition[] = [];

  /** Where the id was seen at this time stamp before, or null (and it is remembered). */
  check(id: string, ts: number, position: LogPosition): LogPosition | null {
    if (ts !== this.ts) {
      this.ts = ts;
      this.ids = [id];
      this.at = [position];
      return null;
    }
    const index = this.ids.indexOf(id);
    if (index !== -1) return this.at[index]!;
    this.ids.push(id);
    this.at.push(position);
    return null;
  }
}

/**
 * Read every file of the set, merged by time (ties keep file order, then line order), handing each
 * valid row to `onEntry`. A prediction or failure whose request id was already logged at the same
 * time stamp, or a shadow row whose request id already had a shadow row then, is the same row written
 * twice: it is malformed, not counted again.
 */
export async function scanLog(set: LogSet, schema: LogSchema, onEntry: EntryHandler, options: ScanOptions = {}): Promise<ScanReport> {
  const scan = new Scan(schema, options, options.signal);
  for (const skipped of set.skipped) scan.unreadable(skipped.path, skipped.reason);
  const cursors = set.files.map((file) => new FileCursor(file, scan));
  const recent = new SameTimeIds();
  const emit = (cursor: FileCursor): void => {
    const entry = cursor.entries[cursor.index]!;
    const at = { file: cursor.file.path, line: cursor.lines[cursor.index]! };
    cursor.index++;
    if (entry.event === 'prediction' || entry.event === 'failure' || entry.event === 'shadow') {
      // A shadow row shares its request id with the request's prod row, which may bear the same time stamp.
      const before = recent.check(entry.event === 'shadow' ? `shadow ${entry.requestId}` : entry.requestId, entry.ts, at);
      if (before !== null) {
        scan.malformed(at.file, at.line, `request_id ${JSON.stringify(entry.requestId)} was already logged (${before.file}:${before.line})`);
        return;
      }
    }
    onEntry(entry, at);
  };
  const live: FileCursor[] = [];
  for (const cursor of cursors) {
    try {
      await cursor.start(options.tailBytes);
      if (await cursor.fill()) live.push(cursor);
    } catch (error) {
      cursor.unreadable(`cannot read it (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
    }
  }
  const refill = async (cursor: FileCursor): Promise<boolean> => {
    try {
      return await cursor.fill();
    } catch (error) {
      options.signal?.throwIfAborted();
      cursor.unreadable(`cannot read it (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
      return false;
    }
  };
  if (live.length === 1) {
    const cursor = live[0]!;
    do {
      while (cursor.index < cursor.entries.length) emit(cursor);
    } while (await refill(cursor));
  } else {
    while (live.length > 0) {
      // The cursor whose next row is oldest; few files, so a scan beats a heap.
      let best = 0;
      let bestTs = live[0]!.entries[live[0]!.index]!.ts;
      for (let i = 1; i < live.length; i++) {
        const ts = live[i]!.entries[live[i]!.index]!.ts;
        if (ts < bestTs) {
          best = i;
          bestTs = ts;
        }
      }
      const cursor = live[best]!;
      emit(cursor);
      if (cursor.index >= cursor.entries.length && !(await refill(cursor))) live.splice(best, 1);
    }
  }
  return {
    files: cursors.map((c) => c.report),
    unreadable: scan.unreadableFiles,
    rows: scan.rows,
    malformedCount: scan.malformedCount,
    malformed: scan.malformedKept,
    unknownLabels: scan.unknownLabels,
  };
}
