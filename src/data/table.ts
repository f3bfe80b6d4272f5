/** Read a labelled CSV data set into columns, validating every value against the config. */
import { createReadStream } from 'node:fs';
import { access } from 'node:fs/promises';
import { parse } from 'csv-parse';
import { InputError } from '../errors.js';
import { parseFeatureNumber } from '../stats/number.js';
import { columnIndices, numberError } from './cells.js';

export interface Table {
  file: string;
  columns: string[];
  rows: Record<string, string>[];
}

/** Whole-file read for small data sets (training data, demo batches); drift streams instead. */
export async function readCsv(file: string): Promise<Table> {
  try {
    await access(file);
  } catch {
    throw new InputError(`${file}: file not found`, { code: 'INPUT_NOT_FOUND' });
  }
  const rows: Record<string, string>[] = [];
  let columns: string[] = [];
  const parser = createReadStream(file).pipe(
    parse({
      columns: (header: string[]) => (columns = header.map((h) => h.trim())),
      skip_empty_lines: true,
      trim: true,
    }),
  );
  try {
    for await (const record of parser) rows.push(record as Record<string, string>);
  } catch (error) {
    throw new InputError(`${file}: not a valid CSV file (${(error as Error).message})`, { cause: error });
  }
  return { file, columns, rows };
}

export function requireColumns(table: Table, names: string[]): void {
  columnIndices(table.file, table.columns, names);
}

/** A feature cell by the one number rule (src/stats/number.ts); row numbers in messages are file lines: the header is line 1. */
export function numberAt(table: Table, index: number, column: string): number {
  const text = table.rows[index]?.[column] ?? '';
  const value = parseFeatureNumber(text);
  if (value !== value) throw numberError(table.file, index + 2, column, text);
  return value;
}
