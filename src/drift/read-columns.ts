/**
 * Read a data set (one or more CSV files) into the columns drift needs: numeric features as
 * Float64Arrays, categorical features and the target as counts. Every cell is checked as it streams
 * past; the first bad one stops the read with its file, line and column.
 */

import type { Feature } from '../config/index.js';
import { InputError } from '../errors.js';
import { parseFeatureNumber } from '../stats/number.js';
import { categoryError, columnIndices, numberError, slotsFor } from '../data/cells.js';
import { estimateRecords, scanCsv, type CsvParser } from './csv-records.js';
import { FloatColumnBuilder } from './float-column.js';

/** Counts per distinct value, in first-seen order. */
export type ValueCounts = Map<string, number>;

export interface ColumnsRequest {
  features: readonly Feature[];
  /** Counted where a file has it; never required, never a feature. */
  target: string | null;
}

export interface ReadOptions {
  parser?: CsvParser;
  signal?: AbortSignal;
}

export interface DataColumns {
  rows: number;
  numeric: Map<string, Float64Array>;
  categorical: Map<string, ValueCounts>;
  /** Target value counts (empty cells skipped), or null when no file has the column. */
  target: ValueCounts | null;
  /** Data rows read by the fast path and by csv-parse. */
  fastRows: number;
  csvParseRows: number;
}

export function addCount(counts: ValueCounts, value: string): void {
  counts.set(value, (counts.get(value) ?? 0) + 1);
}

/** All rows of `files`, in order, as one data set. */
export async function readDataColumns(files: readonly string[], request: ColumnsRequest, options: ReadOptions = {}): Promise<DataColumns> {
  const { features, target } = request;
  const numericBuilders = features.map((f) => (f.type === 'numeric' ? new FloatColumnBuilder() : null));
  const categoryCounts = features.map((f) => (f.type === 'categorical' ? new Map<string, number>() : null));
  const targetCounts: ValueCounts = new Map();
  let targetSeen = false;
  let fastRows = 0;
  let csvParseRows = 0;
  const names = features.map((f) => f.name);

  for (const file of files) {
    const expected = await estimateRecords(file);
    for (const builder of numericBuilders) builder?.reserve(builder.length + expected);
    let targetSlot = -1;
    const scan = await scanCsv(
      file,
      {
        header(header) {
          const indices: (number | null)[] = columnIndices(file, header, names);
          const targetIndex = target === null ? -1 : header.indexOf(target);
          if (targetIndex !== -1) {
            targetSeen = true;
            targetSlot = indices.length;
            indices.push(targetIndex);
          }
          return slotsFor(header.length, indices);
        },
        record(fields, line) {
          for (let k = 0; k < names.length; k++) {
            const text = fields[k]!;
            const builder = numericBuilders[k];
            if (builder) {
              const value = parseFeatureNumber(text);
              if (value !== value) throw numberError(file, line, names[k]!, text);
              builder.push(value);
            } else {
              if (text === '') throw categoryError(file, line, names[k]!);
              addCount(categoryCounts[k]!, text);
            }
          }
          if (targetSlot !== -1) {
            const label = fields[targetSlot]!;
            if (label !== '') addCount(targetCounts, label);
          }
        },
      },
      options,
    );
    if (scan.header === null) throw new InputError(`${file}: expected a header row, got an empty file`);
    fastRows += scan.fastRecords;
    csvParseRows += scan.csvParseRecords;
  }

  const numeric = new Map<string, Float64Array>();
  const categorical = new Map<string, ValueCounts>();
  features.forEach((feature, k) => {
    const builder = numericBuilders[k];
    if (builder) numeric.set(feature.name, builder.finish());
    else categorical.set(feature.name, categoryCounts[k]!);
  });
  return { rows: fastRows + csvParseRows, numeric, categorical, target: targetSeen ? targetCounts : null, fastRows, csvParseRows };
}
