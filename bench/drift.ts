/**
 * `npm run bench:drift`: drift detection on 1,000,000 rows × 4 numeric features per side, timed three
 * ways on the same data in one run, each in its own process so each peak memory is its own:
 *   1. Driftgate's math alone (bench/drift-math.ts: analyzeDrift on the parsed columns);
 *   2. Driftgate's whole CLI, `driftgate drift --reference ref.csv --current cur.csv --json`: CSV parsing,
 *      math and the report included;
 *   3. scipy.stats.ks_2samp plus NumPy's PSI in the pinned Python environment
 *      (python/tools/bench_drift_scipy.py).
 * It also times the CSV parse alone (fast path and csv-parse) and checks that the three agree on D, p and PSI.
 * Targets: math / scipy ≤ 1.0; peak memory of the math under 3× the raw float64 data.
 *
 * Options: --rows N (default 1000000), --keep (keep the temporary folder and print it).
 */

import { createWriteStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { execa } from 'execa';

import type { Feature } from '../src/config/index.js';
import { readDataColumns } from '../src/drift/read-columns.js';
import type { DriftResult } from '../src/drift/report-json.js';
import { CLI_BIN, PROJECT_ROOT } from '../src/project.js';
import { ENVIRONMENTS, ensurePythonEnv } from '../src/python/bootstrap.js';
import { BENCH_SEED, BENCH_SHIFTS, benchColumns, mulberry32, type DriftMathTimings } from './drift-math.js';

const MB = 1024 * 1024;
const TIMEOUT_MS = 15 * 60_000;

interface MathChild extends DriftMathTimings {
  rawBytes: number;
  baselineRss: number;
  dataRss: number;
  peakRss: number;
}

interface ScipyChild {
  numpy: string;
  scipy: string;
  features: { name: string; ks_ms: number; unique_ms: number; psi_ms: number; statistic: number; pvalue: number; psi: number }[];
  total_ms: number;
  cpu_ms: number;
  unique_ms: number;
  baseline_rss: number;
  data_rss: number;
  peak_rss: number;
}

interface Usage {
  maxRSS: number;
  userCPUTime: number;
  systemCPUTime: number;
}

// Loaded into the CLI's process with --import: reports its own peak memory and CPU time at exit.
const USAGE_HOOK =
  'data:text/javascript,process.on("exit",()=>{const u=process.resourceUsage();' +
  'process.stderr.write("BENCH_USAGE "+JSON.stringify({maxRSS:u.maxRSS,userCPUTime:u.userCPUTime,systemCPUTime:u.systemCPUTime})+"\\n")})';

/** Writes the columns as CSV (shortest round-trip decimals, so parsing gives back the same doubles). */
async function writeCsv(file: string, columns: readonly Float64Array[]): Promise<void> {
  const out = createWriteStream(file);
  const rows = columns[0]!.length;
  let text = `${columns.map((_, k) => `f${k + 1}`).join(',')}\n`;
  for (let i = 0; i < rows; i++) {
    text += `${columns[0]![i]},${columns[1]![i]},${columns[2]![i]},${columns[3]![i]}\n`;
    if (text.length > 1 << 20) {
      if (!out.write(text)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
      text = '';
    }
  }
  await new Promise<void>((resolve, reject) => out.end(text, () => resolve()).once('error', reject));
}

/** Column after column, float64, native (little-endian) byte order. */
function writeF64(file: string, columns: readonly Float64Array[]): void {
  const rows = columns[0]!.length;
  const all = new Float64Array(rows * columns.length);
  columns.forEach((column, k) => all.set(column, k * rows));
  writeFileSync(file, new Uint8Array(all.buffer));
}

function benchConfig(dir: string): string {
  const file = path.join(dir, 'driftgate.yaml');
  const features = BENCH_SHIFTS.map((_, k) => `f${k + 1}`);
  writeFileSync(
    file,
    [
      'dataset:',
      '  reference: reference.csv',
      '  target: label',
      `  features: [${features.join(', ')}]`,
      '  classes: [a, b]',
      'drift:',
      '  reports_dir: reports',
      '',
    ].join('\n'),
  );
  return file;
}

function relativeGap(a: number, b: number): number {
  if (a === b) return 0;
  return Math.abs(a - b) / Math.max(Math.abs(a), Math.abs(b));
}

function mib(bytes: number): string {
  return `${(bytes / MB).toFixed(1)} MiB`;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { rows: { type: 'string' }, keep: { type: 'boolean' } } });
  const rows = Number(values.rows ?? 1_000_000);
  const nFeatures = BENCH_SHIFTS.length;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'driftgate-bench-drift-'));
  const log = (line: string): void => void process.stderr.write(`${line}\n`);
  try {
    const python = (await ensurePythonEnv(ENVIRONMENTS.train, { log })).python;

    log(`[bench] generating ${rows} rows × ${nFeatures} features per side in ${dir}`);
    const columns = benchColumns(rows, BENCH_SHIFTS, mulberry32(BENCH_SEED));
    const referenceColumns = columns.map((c) => c.reference);
    const currentColumns = columns.map((c) => c.current);
    writeF64(path.join(dir, 'reference.f64'), referenceColumns);
    writeF64(path.join(dir, 'current.f64'), currentColumns);
    await writeCsv(path.join(dir, 'reference.csv'), referenceColumns);
    await writeCsv(path.join(dir, 'current.csv'), currentColumns);
    const configFile = benchConfig(dir);
    const rawBytes = nFeatures * 2 * rows * 8;

    log('[bench] 1/4 Driftgate math alone');
    const mathRun = await execa(process.execPath, [path.join(PROJECT_ROOT, 'dist', 'bench', 'drift-math.js'), '--data', dir, '--rows', String(rows), '--features', String(nFeatures), '--json'], { timeout: TIMEOUT_MS });
    const math = JSON.parse(mathRun.stdout.trim().split('\n').pop()!) as MathChild;

    log('[bench] 2/4 Driftgate CLI (CSV parse + math + report)');
    const cliStart = performance.now();
    const cliRun = await execa(process.execPath, ['--import', USAGE_HOOK, CLI_BIN, 'drift', '--config', configFile, '--current', path.join(dir, 'current.csv'), '--json'], {
      timeout: TIMEOUT_MS,
      cwd: dir,
      env: { DRIFTGATE_CONFIG: undefined },
    });
    const cliWallMs = performance.now() - cliStart;
    const cli = JSON.parse(cliRun.stdout.trim().split('\n').pop()!) as DriftResult;
    const usageLine = cliRun.stderr.split('\n').find((l) => l.startsWith('BENCH_USAGE '));
    const cliUsage = JSON.parse(usageLine!.slice('BENCH_USAGE '.length)) as Usage;

    log('[bench] 3/4 scipy ks_2samp + NumPy PSI');
    const scipyRun = await execa(python, [path.join(PROJECT_ROOT, 'python', 'tools', 'bench_drift_scipy.py'), dir, String(rows), String(nFeatures)], { timeout: TIMEOUT_MS });
    const sci = JSON.parse(scipyRun.stdout.trim().split('\n').pop()!) as ScipyChild;

    log('[bench] 4/4 CSV parse alone, fast path and csv-parse');
    const features: Feature[] = BENCH_SHIFTS.map((_, k) => ({ name: `f${k + 1}`, type: 'numeric' }));
    const parseMs = async (parser: 'auto' | 'csv-parse'): Promise<number> => {
      const t0 = performance.now();
      const read = await readDataColumns([path.join(dir, 'reference.csv')], { features, target: null }, { parser });
      if (read.rows !== rows) throw new Error(`expected ${rows} rows, got ${read.rows}`);
      return performance.now() - t0;
    };
    const fastParseMs = await parseMs('auto');
    const csvParseMs = await parseMs('csv-parse');

    // Agreement: the three must report the same numbers.
    let maxD = 0;
    let maxP = 0;
    let maxPsi = 0;
    math.features.forEach((f, k) => {
      const s = sci.features[k]!;
      const c = cli.features[k]!;
      maxD = Math.max(maxD, Math.abs(f.ksStatistic - s.statistic), Math.abs(c.statistic - s.statistic));
      maxP = Math.max(maxP, relativeGap(f.ksPvalue, s.pvalue), relativeGap(c.pvalue, s.pvalue));
      maxPsi = Math.max(maxPsi, Math.abs(f.psi - s.psi), Math.abs(c.psi - s.psi));
    });

    const cliCpuMs = (cliUsage.userCPUTime + cliUsage.systemCPUTime) / 1000;
    const cliPeak = cliUsage.maxRSS * 1024;
    const timings = cli.timings_ms;
    const lines = [
      '',
      `drift benchmark: ${rows.toLocaleString('en-US')} rows × ${nFeatures} numeric features × 2 sides (shifts ${BENCH_SHIFTS.join(', ')}), raw float64 ${mib(rawBytes)}; Node ${process.versions.node}, numpy ${sci.numpy}, scipy ${sci.scipy}, ${os.cpus().length} CPUs, load ${os.loadavg()[0]!.toFixed(2)}`,
      '',
      `${''.padEnd(44)}${'wall ms'.padStart(9)}${'cpu ms'.padStart(9)}${'peak RSS'.padStart(12)}${'× raw'.padStart(8)}`,
      `${'Driftgate math (sort, KS, PSI, summaries)'.padEnd(44)}${math.totalMs.toFixed(0).padStart(9)}${math.cpuMs.toFixed(0).padStart(9)}${mib(math.peakRss).padStart(12)}${(math.peakRss / rawBytes).toFixed(2).padStart(8)}`,
      `${'Driftgate CLI (CSV parse + math + report)'.padEnd(44)}${cliWallMs.toFixed(0).padStart(9)}${cliCpuMs.toFixed(0).padStart(9)}${mib(cliPeak).padStart(12)}${(cliPeak / rawBytes).toFixed(2).padStart(8)}`,
      `${'scipy ks_2samp + NumPy PSI'.padEnd(44)}${sci.total_ms.toFixed(0).padStart(9)}${sci.cpu_ms.toFixed(0).padStart(9)}${mib(sci.peak_rss).padStart(12)}${(sci.peak_rss / rawBytes).toFixed(2).padStart(8)}`,
      '',
      `ratio math / scipy:  ${(math.totalMs / sci.total_ms).toFixed(2)} wall, ${(math.cpuMs / sci.cpu_ms).toFixed(2)} cpu  (target ≤ 1.0; with Evidently's np.unique check scipy takes ${(sci.total_ms + sci.unique_ms).toFixed(0)} ms: ${(math.totalMs / (sci.total_ms + sci.unique_ms)).toFixed(2)})`,
      `ratio CLI / scipy:   ${(cliWallMs / sci.total_ms).toFixed(2)} wall, ${(cliCpuMs / sci.cpu_ms).toFixed(2)} cpu  (the CLI also parses 2 CSV files and writes the report)`,
      `peak memory: math ${(math.peakRss / rawBytes).toFixed(2)}× raw (target < 3×; baseline ${mib(math.baselineRss)}, with data ${mib(math.dataRss)}), CLI ${(cliPeak / rawBytes).toFixed(2)}× raw, scipy ${(sci.peak_rss / rawBytes).toFixed(2)}× raw (baseline ${mib(sci.baseline_rss)})`,
      '',
      `CLI breakdown (ms): read reference ${timings.read_reference}, read current ${timings.read_current}, analyze ${timings.analyze}, report ${timings.report}; process total ${cliWallMs.toFixed(0)}`,
      `CSV parse, one file of ${rows.toLocaleString('en-US')} rows × ${nFeatures}: fast path ${fastParseMs.toFixed(0)} ms, csv-parse ${csvParseMs.toFixed(0)} ms (${(csvParseMs / fastParseMs).toFixed(1)}× slower); both files with the fast path ≈ ${((timings.read_reference ?? 0) + (timings.read_current ?? 0)).toFixed(0)} ms of the CLI's ${timings.total} ms`,
      '',
      'per feature (Driftgate math | scipy):',
      ...math.features.map((f, k) => {
        const s = sci.features[k]!;
        return `  ${f.name}: sort ${f.sortMs.toFixed(0)} + ks ${f.ksMs.toFixed(0)} + psi ${f.psiMs.toFixed(0)} + summary ${f.summaryMs.toFixed(0)} ms | ks_2samp ${s.ks_ms.toFixed(0)} + psi ${s.psi_ms.toFixed(0)} ms (np.unique ${s.unique_ms.toFixed(0)}) · D=${f.ksStatistic.toPrecision(6)} p=${f.ksPvalue.toPrecision(6)} psi=${f.psi.toPrecision(6)}`;
      }),
      `agreement with scipy (math and CLI): max |ΔD| ${maxD.toExponential(1)}, max relative Δp ${maxP.toExponential(1)}, max |ΔPSI| ${maxPsi.toExponential(1)}`,
      '',
    ];
    process.stdout.write(lines.join('\n'));
    if (values.keep) log(`[bench] kept ${dir}`);
  } finally {
    if (!values.keep) rmSync(dir, { recursive: true, force: true });
  }
}

await main();
