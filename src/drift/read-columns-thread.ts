/**
 * readDataColumns in a worker thread, so the reference and the current set are parsed (and the
 * reference sorted) at the same time on two cores. Used only for big inputs: a thread costs tens of
 * milliseconds to start. The columns come back transferred, not copied. A bad cell fails exactly as
 * it does inline (the same InputError: file, line, column); a thread that dies is an error naming the
 * files; an aborted run terminates the thread.
 */

import { existsSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { runInWorker } from '../worker-thread.js';
import { sortFloat64 } from '../stats/radix-sort.js';
import { readDataColumns, type ColumnsRequest, type DataColumns, type ReadOptions } from './read-columns.js';

/** Inputs of at least this many bytes are read in a thread. */
export const THREAD_MIN_BYTES = 16 * 1024 * 1024;

export interface ThreadRequest {
  files: string[];
  request: ColumnsRequest;
  parser: ReadOptions['parser'];
  /** Sort the numeric columns (ascending, in place) before handing them back. */
  sort: boolean;
}

/** The compiled worker; absent when this module runs from the TypeScript sources (tests), where reads stay inline. */
const WORKER_FILE = fileURLToPath(new URL('./read-columns-worker.js', import.meta.url));

/** What the worker does, also the inline path: read, then sort if asked. */
export async function readAndSort(files: readonly string[], request: ColumnsRequest, options: ReadOptions & { sort: boolean }): Promise<DataColumns> {
  const data = await readDataColumns(files, request, options);
  if (options.sort) for (const column of data.numeric.values()) sortFloat64(column);
  return data;
}

export function threadsAvailable(): boolean {
  return existsSync(WORKER_FILE);
}

/** readAndSort in a worker thread. */
export function readInThread(files: readonly string[], request: ColumnsRequest, options: ReadOptions & { sort: boolean }): Promise<DataColumns> {
  const job: ThreadRequest = { files: [...files], request, parser: options.parser, sort: options.sort };
  return runInWorker<DataColumns>(WORKER_FILE, job, { what: `reading ${files.join(', ')}`, signal: options.signal });
}

/** The files' total size; a file that cannot be stat'ed counts 0, and the read then names its problem. */
async function totalBytes(files: readonly string[]): Promise<number> {
  const sizes = await Promise.all(files.map(async (f) => (await stat(f).catch(() => null))?.size ?? 0));
  return sizes.reduce((a, b) => a + b, 0);
}

/**
 * The columns of `files`: read and sorted in a thread when they hold at least THREAD_MIN_BYTES (so the
 * caller can read something else meanwhile), else read inline and left unsorted. `sorted` says which.
 */
export async function readColumnsBig(files: readonly string[], request: ColumnsRequest, options: ReadOptions): Promise<{ data: DataColumns; sorted: boolean }> {
  if (threadsAvailable() && (await totalBytes(files)) >= THREAD_MIN_BYTES) return { data: await readInThread(files, request, { ...options, sort: true }), sorted: true };
  return { data: await readDataColumns(files, request, options), sorted: false };
}
