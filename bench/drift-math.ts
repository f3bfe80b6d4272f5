/**
 * The drift math alone, timed: exactly what `driftgate drift` runs once the columns are parsed
 * (analyzeDrift: sort in place, KS, PSI, summaries, decision). The math part of `npm run bench:drift`,
 * which runs it in its own process on the benchmark's data so its peak memory is its own:
 *
 *   node dist/bench/drift-math.js --data DIR --rows N --features K --json   (reads DIR/{reference,current}.f64)
 *   node dist/bench/drift-math.js [--rows N]                                (generates seeded data itself)
 * With --threads it runs analyzeDriftInThreads, as the CLI does (features on two cores; no per-step timings).
 */

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

import { analyzeDrift, type AnalyzeSettings, type FeatureColumns } from '../src/drift/analyze.js';
import { analyzeDriftInThreads } from '../src/drift/analyze-threads.js';

export interface BenchColumn {
  name: string;
  reference: Float64Array;
  current: Float64Array;
}

export interface FeatureTiming {
  name: string;
  /** Per step of one thread's analysis; null on two threads. */
  sortMs: number | null;
  ksMs: number | null;
  psiMs: number | null;
  summaryMs: number | null;
  ksStatistic: number;
  ksPvalue: number;
  ksMethod: string | null;
  psi: number;
}

export interface DriftMathTimings {
  features: FeatureTiming[];
  totalMs: number;
  cpuMs: number;
}

/** Evidently's defaults, as the CLI's config has them. */
export const BENCH_SETTINGS: AnalyzeSettings = { psiThreshold: 0.2, ksAlpha: 0.05, rule: 'any', share: 0.5, binning: 'sturges', quantileBins: 10, psiRule: 'threshold', ksMinStatistic: 0, correction: 'none' };

/**
 * analyzeDrift over the columns (sorted in place, as the CLI does) with per-step timings, or with
 * `threads` analyzeDriftInThreads, what the CLI runs, timed as a whole.
 */
export async function runDriftMath(columns: readonly BenchColumn[], options: { threads?: boolean; now?: () => number } = {}): Promise<DriftMathTimings> {
  const now = options.now ?? (() => performance.now());
  const input: FeatureColumns[] = columns.map((c) => ({ name: c.name, type: 'numeric' as const, reference: c.reference, current: c.current }));
  const cpu = process.cpuUsage();
  const start = now();
  const analysis = options.threads ? await analyzeDriftInThreads(input, BENCH_SETTINGS) : analyzeDrift(input, BENCH_SETTINGS, now);
  const totalMs = now() - start;
  const used = process.cpuUsage(cpu);
  return {
    features: analysis.features.map((f) => ({
      name: f.name,
      sortMs: f.timingsMs?.sort ?? null,
      ksMs: f.timingsMs?.test ?? null,
      psiMs: f.timingsMs?.psi ?? null,
      summaryMs: f.timingsMs?.summary ?? null,
      ksStatistic: f.statistic,
      ksPvalue: f.pvalue,
      ksMethod: f.ksMethod,
      psi: f.psi,
    })),
    totalMs,
    // The process's CPU time, the worker thread's included.
    cpuMs: (used.user + used.system) / 1000,
  };
}

/** Mulberry32: a small seeded PRNG, uniform on [0, 1). */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `rows` standard-normal draws (Box–Muller) plus `shift`, written straight into a Float64Array. */
export function normalColumn(rows: number, random: () => number, shift = 0): Float64Array {
  const out = new Float64Array(rows);
  for (let i = 0; i < rows; i += 2) {
    // 1 - u keeps the log argument in (0, 1].
    const radius = Math.sqrt(-2 * Math.log(1 - random()));
    const angle = 2 * Math.PI * random();
    out[i] = radius * Math.cos(angle) + shift;
    if (i + 1 < rows) out[i + 1] = radius * Math.sin(angle) + shift;
  }
  return out;
}

/** One column per shift: reference N(0, 1), current N(shift, 1). */
export function benchColumns(rows: number, shifts: readonly number[], random: () => number): BenchColumn[] {
  return shifts.map((shift, i) => ({
    name: `f${i + 1}`,
    reference: normalColumn(rows, random),
    current: normalColumn(rows, random, shift),
  }));
}

/** The benchmark's shifts: none, tiny, small, large. */
export const BENCH_SHIFTS = [0, 0.01, 0.1, 1] as const;
export const BENCH_SEED = 20240601;

/**
 * Column-major float64 (feature after feature) as bench/drift.ts writes it; each column in a buffer of
 * its own, as the CLI's readers give them, so the analysis thread takes them without a copy.
 */
export function readColumnsF64(file: string, rows: number, features: number): Float64Array[] {
  const bytes = readFileSync(file);
  if (bytes.byteLength !== rows * features * 8) throw new Error(`${file}: expected ${rows * features * 8} bytes, got ${bytes.byteLength}`);
  // A Float64Array view needs 8-byte alignment; large reads get their own buffer at offset 0.
  const all = bytes.byteOffset % 8 === 0 ? new Float64Array(bytes.buffer, bytes.byteOffset, rows * features) : new Float64Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  return Array.from({ length: features }, (_, k) => all.slice(k * rows, (k + 1) * rows));
}

const MB = 1024 * 1024;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { data: { type: 'string' }, rows: { type: 'string' }, features: { type: 'string' }, json: { type: 'boolean' }, threads: { type: 'boolean' } },
  });
  const rows = Number(values.rows ?? 1_000_000);
  const baselineRss = process.memoryUsage().rss;
  let columns: BenchColumn[];
  if (values.data) {
    const features = Number(values.features ?? BENCH_SHIFTS.length);
    const reference = readColumnsF64(path.join(values.data, 'reference.f64'), rows, features);
    const current = readColumnsF64(path.join(values.data, 'current.f64'), rows, features);
    columns = reference.map((ref, k) => ({ name: `f${k + 1}`, reference: ref, current: current[k]! }));
  } else {
    columns = benchColumns(rows, BENCH_SHIFTS, mulberry32(BENCH_SEED));
  }
  const dataRss = process.memoryUsage().rss;
  const rawBytes = columns.length * 2 * rows * 8;
  const timings = await runDriftMath(columns, { threads: values.threads === true });
  // maxRSS is the process high-water mark in KiB, so it catches peaks between samples.
  const peakRss = process.resourceUsage().maxRSS * 1024;
  if (values.json) {
    process.stdout.write(`${JSON.stringify({ rows, rawBytes, baselineRss, dataRss, peakRss, ...timings })}\n`);
    return;
  }
  for (const f of timings.features) {
    console.log(
      `${f.name}: sort ${f.sortMs?.toFixed(1)} ms, ks ${f.ksMs?.toFixed(1)} ms, psi ${f.psiMs?.toFixed(1)} ms, summary ${f.summaryMs?.toFixed(1)} ms` +
        ` | D=${f.ksStatistic.toPrecision(6)} p=${f.ksPvalue.toPrecision(6)} (${f.ksMethod}) psi=${f.psi.toPrecision(6)}`,
    );
  }
  console.log(`rows ${rows} × ${columns.length} features × 2 sides: drift math ${timings.totalMs.toFixed(1)} ms (cpu ${timings.cpuMs.toFixed(1)} ms)`);
  console.log(
    `raw data ${(rawBytes / MB).toFixed(1)} MiB; rss baseline ${(baselineRss / MB).toFixed(1)} MiB, ` +
      `with data ${(dataRss / MB).toFixed(1)} MiB, peak ${(peakRss / MB).toFixed(1)} MiB (${(peakRss / rawBytes).toFixed(2)}× raw)`,
  );
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
