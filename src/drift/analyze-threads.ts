/**
 * analyzeDrift on two cores: the numeric features are dealt between this thread and one worker thread,
 * each sorting its columns and measuring its features, and the decision (the correction across all
 * features included) is taken here once both are done, so the numbers are exactly analyzeDrift's. Small
 * inputs, and a machine with one core, stay in this thread: a worker costs tens of milliseconds to
 * start. The worker's columns are handed over (transferred, or copied when they share a buffer with
 * others), so they are gone from this thread: a bad value fails as it would here (the same InputError),
 * and a worker that dies is an error saying so.
 */

import { existsSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { runInWorker } from '../worker-thread.js';
import { analyzeDrift, decideFeatures, measureFeature, type AnalyzeSettings, type DriftAnalysis, type FeatureColumns, type MeasuredFeature } from './analyze.js';

/** Below this many numeric values (both sides, all features) one thread is as fast. */
export const ANALYZE_THREAD_MIN_VALUES = 1_000_000;

const WORKER_FILE = fileURLToPath(new URL('./analyze-worker.js', import.meta.url));

export interface AnalyzeJob {
  columns: FeatureColumns[];
  settings: AnalyzeSettings;
}

type NumericColumns = Extract<FeatureColumns, { type: 'numeric' }>;

/** A column the worker may own: the array itself when it is its buffer's only view, else a copy. */
function ownable(values: Float64Array): Float64Array {
  return values.byteOffset === 0 && values.byteLength === values.buffer.byteLength ? values : values.slice();
}

function measureInWorker(columns: NumericColumns[], settings: AnalyzeSettings): Promise<MeasuredFeature[]> {
  const handed = columns.map((c) => ({ ...c, reference: ownable(c.reference), current: ownable(c.current) }));
  const transfer = [...new Set(handed.flatMap((c) => [c.reference.buffer as ArrayBuffer, c.current.buffer as ArrayBuffer]))];
  return runInWorker<MeasuredFeature[]>(WORKER_FILE, { columns: handed, settings } satisfies AnalyzeJob, { transfer, what: 'the drift analysis thread' });
}

/** analyzeDrift's result, computed on two cores when the input is big enough to gain from it. */
export async function analyzeDriftInThreads(columns: readonly FeatureColumns[], settings: AnalyzeSettings): Promise<DriftAnalysis> {
  const numeric = columns.filter((c): c is NumericColumns => c.type === 'numeric');
  const values = numeric.reduce((sum, c) => sum + c.reference.length + c.current.length, 0);
  if (numeric.length < 2 || values < ANALYZE_THREAD_MIN_VALUES || os.availableParallelism() < 2 || !existsSync(WORKER_FILE)) return analyzeDrift(columns, settings);

  // Deal the biggest features first, each to the side with less so far; the worker takes its share.
  const bySize = [...numeric].sort((a, b) => b.reference.length + b.current.length - (a.reference.length + a.current.length));
  const load = [0, 0];
  const toWorker = new Set<NumericColumns>();
  for (const c of bySize) {
    const side = load[1]! < load[0]! ? 1 : 0;
    load[side]! += c.reference.length + c.current.length;
    if (side === 1) toWorker.add(c);
  }
  const handed = numeric.filter((c) => toWorker.has(c));
  // The worker's copy of a shared buffer must be taken before this thread sorts anything in place.
  const remote = measureInWorker(handed, settings);
  // Awaited below; should this thread's own measuring throw first, the worker's answer is simply dropped.
  remote.catch(() => undefined);
  const here = new Map<FeatureColumns, MeasuredFeature>();
  for (const c of columns) if (!toWorker.has(c as NumericColumns)) here.set(c, measureFeature(c, settings));
  const measuredThere = await remote;
  const there = new Map(handed.map((c, i) => [c as FeatureColumns, measuredThere[i]!]));
  return decideFeatures(
    columns.map((c) => here.get(c) ?? there.get(c)!),
    settings,
  );
}
