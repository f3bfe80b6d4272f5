/**
 * Read the router's predictions log(s) for A/B analysis: csv-parse streams every file, each row is
 * validated against the log contract and the config, and a bad row is kept as a line-numbered
 * problem instead of stopping the read. Several router replicas write their own files, so the
 * configured path may be a glob; all matching files are read together.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { parse, type CsvError } from 'csv-parse';
import type { Config } from '../config/index.js';
import { InputError } from '../errors.js';
import { expandsAsGlob, globFiles } from '../fs-glob.js';

export type Variant = 'A' | 'B';

/** Columns the A/B analysis needs; features are validated when present. */
const REQUIRED_COLUMNS = ['ts', 'event', 'request_id', 'variant', 'model_version', 'prediction', 'label', 'latency_ms'] as const;

/** How many malformed rows are kept with their problem (all are counted). */
export const MALFORMED_KEPT = 50;

export interface LogPrediction {
  requestId: string;
  variant: Variant;
  version: string;
  prediction: string;
  /** The request's inline label, when the caller sent one with it. */
  label: string | null;
  latencyMs: number;
  /** Milliseconds since the epoch. */
  ts: number;
  /** Position in the read (file order, then line): breaks ties between equal timestamps. */
  order: number;
  file: string;
  line: number;
}

export interface LogFeedback {
  requestId: string;
  label: string;
  ts: number;
  order: number;
  file: string;
  line: number;
}

export interface MalformedRow {
  file: string;
  /** 1-based line in the file (the header is line 1). */
  line: number;
  problem: string;
}

export interface LogScan {
  files: string[];
  /** Data rows read (header lines excluded), malformed ones included. */
  rows: number;
  predictions: LogPrediction[];
  feedback: LogFeedback[];
  malformedCount: number;
  /** The first MALFORMED_KEPT malformed rows, in reading order. */
  malformed: MalformedRow[];
  /** Labels outside dataset.classes and how often each occurred. */
  unknownLabels: Record<string, number>;
}

/** What a row is checked against: the classes and the feature columns of the config. */
export interface LogSchema {
  classes: readonly string[];
  numericFeatures: readonly string[];
}

export function logSchema(config: Config): LogSchema {
  return {
    classes: config.dataset.classes,
    numericFeatures: config.dataset.features.filter((f) => f.type === 'numeric').map((f) => f.name),
  };
}

/** The files a log path or glob names, sorted so every read sees them in the same order. */
export async function resolveLogFiles(pattern: string): Promise<string[]> {
  if (await expandsAsGlob(pattern)) return globFiles(pattern);
  return (await stat(pattern).catch(() => null))?.isFile() ? [pattern] : [];
}

const ISO_TS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})$/;

function quote(value: string): string {
  return JSON.stringify(value.length > 40 ? `${value.slice(0, 37)}...` : value);
}

class RowProblem extends Error {}

/** Reads one file into `scan`; a header without the needed columns is bad input for the whole run. */
async function readFile(file: string, schema: LogSchema, scan: LogScan, seen: Map<string, string>): Promise<void> {
  const classes = new Set(schema.classes);
  const classList = schema.classes.join(', ');
  let header: string[] | null = null;
  let index: Record<string, number> = {};
  let parsedLine = 0;
  const malformed = (line: number, problem: string): void => {
    scan.malformedCount++;
    if (scan.malformed.length < MALFORMED_KEPT) scan.malformed.push({ file, line, problem });
  };
  const parser = createReadStream(file).pipe(
    parse({
      relax_column_count: true,
      // A stray quote inside a field is kept as text, so the row fails validation on its own line.
      relax_quotes: true,
      skip_empty_lines: true,
      skip_records_with_error: true,
      info: true,
      bom: true,
      // The parser runs ahead of this loop, so where the last good record ended is tracked here.
      on_record: (record: string[], context: { lines: number }) => {
        parsedLine = context.lines;
        return record;
      },
      on_skip: (error: CsvError | undefined) => {
        if (!error) return;
        // An unclosed quote swallows the rest of the file: each line from it on counts as malformed.
        const line = parsedLine + 1;
        const end = typeof error.lines === 'number' ? error.lines : line;
        scan.rows += Math.max(1, end - line + 1);
        scan.malformedCount += Math.max(0, end - line);
        malformed(line, `${error.message.split(':')[0]?.toLowerCase() ?? 'unreadable CSV'}; lines ${line} to ${end} could not be read`);
        parsedLine = end;
      },
    }),
  );
  const field = (record: string[], name: string): string => {
    const at = index[name];
    return at === undefined ? '' : (record[at] ?? '').trim();
  };
  const label = (value: string, what: string): string => {
    if (!classes.has(value)) {
      scan.unknownLabels[value] = (scan.unknownLabels[value] ?? 0) + 1;
      throw new RowProblem(`${what} ${quote(value)} is not one of the classes ${classList}`);
    }
    return value;
  };
  const time = (record: string[]): number => {
    const ts = field(record, 'ts');
    const ms = ISO_TS.test(ts) ? Date.parse(ts) : Number.NaN;
    if (!Number.isFinite(ms)) throw new RowProblem(`ts: expected an ISO-8601 UTC time, got ${ts === '' ? 'an empty value' : quote(ts)}`);
    return ms;
  };
  for await (const { record, info } of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
    const line = info.lines;
    if (header === null) {
      header = record.map((h) => h.trim());
      index = Object.fromEntries(header.map((name, i) => [name, i]));
      const missing = REQUIRED_COLUMNS.filter((c) => !(c in index));
      if (missing.length) {
        throw new InputError(
          `${file}: line ${line}: expected the predictions log header (ts,event,request_id,user_id,variant,model_alias,model_version,<features>,prediction,label,latency_ms), ` +
            `got one without ${missing.map((m) => JSON.stringify(m)).join(', ')}`,
        );
      }
      continue;
    }
    scan.rows++;
    try {
      if (record.length !== header.length) throw new RowProblem(`expected ${header.length} fields, got ${record.length}`);
      const event = field(record, 'event');
      const requestId = field(record, 'request_id');
      if (requestId === '') throw new RowProblem('request_id: expected an id, got an empty value');
      if (event === 'feedback') {
        const ts = time(record);
        const value = field(record, 'label');
        if (value === '') throw new RowProblem('label: a feedback row needs a label, got an empty value');
        scan.feedback.push({ requestId, label: label(value, 'label'), ts, order: scan.rows, file, line });
        continue;
      }
      if (event !== 'prediction') throw new RowProblem(`event: expected "prediction" or "feedback", got ${event === '' ? 'an empty value' : quote(event)}`);
      const ts = time(record);
      const variant = field(record, 'variant');
      if (variant !== 'A' && variant !== 'B') throw new RowProblem(`variant: expected "A" or "B", got ${variant === '' ? 'an empty value' : quote(variant)}`);
      const version = field(record, 'model_version');
      if (!/^\d+$/.test(version)) throw new RowProblem(`model_version: expected a registry version number, got ${version === '' ? 'an empty value' : quote(version)}`);
      const prediction = label(field(record, 'prediction'), 'prediction');
      const inline = field(record, 'label');
      const latencyText = field(record, 'latency_ms');
      const latencyMs = latencyText === '' ? Number.NaN : Number(latencyText);
      if (!(latencyMs >= 0) || !Number.isFinite(latencyMs)) {
        throw new RowProblem(`latency_ms: expected a number >= 0, got ${latencyText === '' ? 'an empty value' : quote(latencyText)}`);
      }
      for (const name of schema.numericFeatures) {
        if (!(name in index)) continue;
        const text = field(record, name);
        if (text === '' || !Number.isFinite(Number(text))) throw new RowProblem(`${name}: expected a number, got ${text === '' ? 'an empty value' : quote(text)}`);
      }
      const first = seen.get(requestId);
      if (first !== undefined) throw new RowProblem(`request_id ${quote(requestId)} was already logged (${first})`);
      const row: LogPrediction = {
        requestId,
        variant,
        version,
        prediction,
        label: inline === '' ? null : label(inline, 'label'),
        latencyMs,
        ts,
        order: scan.rows,
        file,
        line,
      };
      seen.set(requestId, `${file}:${line}`);
      scan.predictions.push(row);
    } catch (error) {
      if (!(error instanceof RowProblem)) throw error;
      malformed(line, error.message);
    }
  }
}

/** Reads every file in order; the result says which rows were malformed and why. */
export async function readPredictionLog(files: readonly string[], schema: LogSchema): Promise<LogScan> {
  const scan: LogScan = { files: [...files], rows: 0, predictions: [], feedback: [], malformedCount: 0, malformed: [], unknownLabels: {} };
  const seen = new Map<string, string>();
  for (const file of files) {
    try {
      await readFile(file, schema, scan, seen);
    } catch (error) {
      if (error instanceof InputError) throw error;
      const code = (error as NodeJS.ErrnoException).code;
      if (code) throw new InputError(`${file}: cannot read the predictions log (${code})`, { cause: error });
      throw new InputError(`${file}: not a readable CSV file (${(error as Error).message})`, { cause: error });
    }
  }
  return scan;
}
