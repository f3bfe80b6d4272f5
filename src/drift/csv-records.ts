/**
 * Streaming CSV records for the drift readers. csv-parse reads any RFC 4180 file; plain files (no
 * quote character, `\n` or `\r\n` line ends), which data sets and router logs almost always are,
 * take a fast path about 3-4× quicker on a million rows and hand the rest of the file to csv-parse
 * from the first line that holds a quote. Both paths deliver the same trimmed fields, skip the same
 * empty lines and number lines the same way (the header is line 1).
 */

import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { CsvError, parse } from 'csv-parse';
import { DriftgateError, InputError } from '../errors.js';

export interface CsvSink {
  /** The header's names, trimmed; returns, per header position, the slot its field goes to (-1: not needed). */
  header(names: string[]): readonly number[];
  /** One data record: `fields[slot]` for every wanted field, trimmed (the array is reused); `line` counts from the header's 1. */
  record(fields: string[], line: number): void;
}

/** 'auto': the fast path while the input allows it; 'csv-parse': csv-parse for the whole file (tests, benchmarks). */
export type CsvParser = 'auto' | 'csv-parse';

export interface ScanOptions {
  /** Stop at this byte offset (exclusive): a log still being appended to ends at its last complete line. */
  end?: number;
  parser?: CsvParser;
  signal?: AbortSignal;
}

export interface ScanResult {
  /** The header's names, or null for a file without a single non-empty line. */
  header: string[] | null;
  records: number;
  /** Data records read by the fast path and by csv-parse. */
  fastRecords: number;
  csvParseRecords: number;
}

// 64 KiB text chunks stay in V8's young generation and die young; 1 MiB ones land in large-object
// space and pile up until a full GC (about +75 MiB peak RSS on a million-row file).
const CHUNK_BYTES = 1 << 16;
const BOM = '\uFEFF';

/** Reads `file` record by record into `sink`; an unreadable or malformed file is an InputError naming it. */
export async function scanCsv(file: string, sink: CsvSink, options: ScanOptions = {}): Promise<ScanResult> {
  const reader = new RecordReader(file, sink);
  if (options.end === 0) return reader.result();
  const stream = createReadStream(file, {
    encoding: 'utf8',
    highWaterMark: CHUNK_BYTES,
    ...(options.end === undefined ? {} : { start: 0, end: options.end - 1 }),
  });
  const chunks = stream[Symbol.asyncIterator]() as AsyncIterator<string>;
  try {
    if (options.parser === 'csv-parse') await reader.csvParse(chunks, '', options.signal);
    else await reader.fast(chunks, options.signal);
  } catch (error) {
    if (error instanceof DriftgateError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new InputError(`${file}: file not found`, { code: 'INPUT_NOT_FOUND', cause: error });
    if (code === 'EISDIR') throw new InputError(`${file}: expected a CSV file, got a directory`, { cause: error });
    if (error instanceof CsvError) {
      throw new InputError(`${file}: not a valid CSV file (${(error as Error).message})`, { cause: error });
    }
    throw error;
  } finally {
    stream.destroy();
  }
  return reader.result();
}

class RecordReader {
  private header: string[] | null = null;
  private slots: readonly number[] = [];
  private fields: string[] = [];
  private fastRecords = 0;
  private csvParseRecords = 0;
  /** Lines consumed so far (the fast path counts them; csv-parse continues from here). */
  private lines = 0;
  /** The file's line end, fixed by its first line as csv-parse fixes its record delimiter. */
  private lineEnd: '\n' | '\r\n' | null = null;

  constructor(
    private readonly file: string,
    private readonly sink: CsvSink,
  ) {}

  result(): ScanResult {
    return { header: this.header, records: this.fastRecords + this.csvParseRecords, fastRecords: this.fastRecords, csvParseRecords: this.csvParseRecords };
  }

  private takeHeader(names: string[]): void {
    this.header = names;
    this.slots = this.sink.header(names);
    let count = 0;
    for (const slot of this.slots) if (slot + 1 > count) count = slot + 1;
    this.fields = new Array<string>(count).fill('');
  }

  private fieldCountError(got: number, line: number): InputError {
    return new InputError(`${this.file}: line ${line}: expected ${this.header!.length} fields as in the header, got ${got}`);
  }

  /** The fast path over plain text; hands over to csv-parse at the first line holding a quote. */
  async fast(chunks: AsyncIterator<string>, signal: AbortSignal | undefined): Promise<void> {
    let rest = '';
    let first = true;
    for (;;) {
      const next = await chunks.next();
      if (next.done) break;
      signal?.throwIfAborted();
      let text = rest.length > 0 ? rest + next.value : next.value;
      if (first) {
        first = false;
        if (text.startsWith(BOM)) text = text.slice(1);
        // Old Mac line ends (a lone \r) are csv-parse's business.
        if (hasBareCarriageReturn(text)) return this.csvParse(chunks, text, signal);
      }
      const quote = text.indexOf('"');
      const limit = quote === -1 ? text.length : text.lastIndexOf('\n', quote) + 1;
      let start = 0;
      let newline: number;
      let handOver = quote !== -1;
      while ((newline = text.indexOf('\n', start)) !== -1 && newline < limit) {
        if (!this.fastLine(text.slice(start, newline))) {
          handOver = true;
          break;
        }
        start = newline + 1;
      }
      if (handOver) return this.csvParse(chunks, text.slice(start), signal);
      rest = text.slice(start);
    }
    // A last line without a line end.
    if (rest.length > 0) this.fastLine(rest, true);
  }

  /** One line without its \n; false (nothing consumed) when csv-parse must read it. */
  private fastLine(raw: string, last = false): boolean {
    const cr = raw.length > 0 && raw.charCodeAt(raw.length - 1) === 13;
    if (this.lineEnd === null) this.lineEnd = cr ? '\r\n' : '\n';
    // In a \r\n file a bare \n is data to csv-parse, not a line end.
    else if (this.lineEnd === '\r\n' && !cr && !last) return false;
    this.lines++;
    const line = cr ? raw.slice(0, -1) : raw;
    if (line.length === 0) return true;
    if (this.header === null) {
      const names = line.split(',').map((name) => name.trim());
      if (names.length === 1 && names[0] === '') return true;
      this.takeHeader(names);
      return true;
    }
    const slots = this.slots;
    const fields = this.fields;
    const width = this.header.length;
    const wanted = slots.length;
    let position = 0;
    let index = 0;
    for (;;) {
      let comma = line.indexOf(',', position);
      const last = comma === -1;
      if (last) comma = line.length;
      if (index < wanted) {
        const slot = slots[index]!;
        if (slot >= 0) fields[slot] = line.slice(position, comma).trim();
      }
      index++;
      if (last) break;
      position = comma + 1;
    }
    // csv-parse (trim, skip_empty_lines) skips a line of blanks; so does the fast path.
    if (index === 1 && line.trim() === '') return true;
    if (index !== width) throw this.fieldCountError(index, this.lines);
    this.fastRecords++;
    this.sink.record(fields, this.lines);
    return true;
  }

  /** csv-parse from `head` on, then the rest of `chunks`; line numbers continue the fast path's. */
  async csvParse(chunks: AsyncIterator<string>, head: string, signal: AbortSignal | undefined): Promise<void> {
    const offset = this.lines;
    const parser = parse({
      ...(this.lineEnd === null ? {} : { record_delimiter: this.lineEnd }),
      bom: true,
      trim: true,
      skip_empty_lines: true,
      relax_column_count: true,
      on_record: (record: string[], context: { lines: number }) => {
        const line = offset + context.lines;
        if (this.header === null) {
          this.takeHeader(record);
          return null;
        }
        if (record.length !== this.header.length) throw this.fieldCountError(record.length, line);
        const slots = this.slots;
        const fields = this.fields;
        for (let i = 0; i < slots.length && i < record.length; i++) {
          const slot = slots[i]!;
          if (slot >= 0) fields[slot] = record[i]!;
        }
        this.csvParseRecords++;
        this.sink.record(fields, line);
        return null;
      },
    });
    async function* rest(): AsyncGenerator<string> {
      if (head.length > 0) yield head;
      for (;;) {
        const next = await chunks.next();
        if (next.done) return;
        yield next.value;
      }
    }
    try {
      await pipeline(Readable.from(rest()), parser, signal ? { signal } : {});
    } catch (error) {
      const { lines } = error as { lines?: unknown };
      if (error instanceof CsvError && typeof lines === 'number') {
        // csv-parse counts lines from where it took over; say the file's line instead.
        const detail = error.message.replace(/ (at|on) line \d+/, '');
        throw new InputError(`${this.file}: line ${offset + lines}: not valid CSV (${detail})`, { cause: error });
      }
      throw error;
    }
  }
}

/** A \r not followed by \n; a \r closing the text may be the first half of a \r\n split across chunks. */
function hasBareCarriageReturn(text: string): boolean {
  let at = text.indexOf('\r');
  while (at !== -1 && at < text.length - 1) {
    if (text.charCodeAt(at + 1) !== 10) return true;
    at = text.indexOf('\r', at + 1);
  }
  return false;
}

class HeaderRead extends Error {}

/** The header's names (trimmed), or null for a file without one; reads no further than the first record. */
export async function readHeader(file: string, options: Pick<ScanOptions, 'parser'> = {}): Promise<string[] | null> {
  let names: string[] | null = null;
  try {
    await scanCsv(
      file,
      {
        header(header) {
          names = header;
          return [];
        },
        record() {
          throw new HeaderRead();
        },
      },
      options,
    );
  } catch (error) {
    if (!(error instanceof HeaderRead)) throw error;
  }
  return names;
}

/**
 * How many records a file probably holds, from its size and the line lengths of its first 64 KiB,
 * with 3% to spare; 0 when it cannot tell (the scan itself reports unreadable files).
 */
export async function estimateRecords(file: string): Promise<number> {
  let handle;
  try {
    handle = await open(file, 'r');
  } catch {
    return 0;
  }
  try {
    const { size } = await handle.stat();
    const sample = Buffer.alloc(Math.min(size, CHUNK_BYTES));
    const { bytesRead } = await handle.read(sample, 0, sample.length, 0);
    let lines = 0;
    for (let at = sample.indexOf(10); at !== -1 && at < bytesRead; at = sample.indexOf(10, at + 1)) lines++;
    if (bytesRead >= size) return lines + 1;
    return Math.ceil((size / bytesRead) * lines * 1.03) + 1;
  } finally {
    await handle.close();
  }
}
