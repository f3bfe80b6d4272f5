/**
 * `npm run bench:drift`: drift detection on 1,000,000 rows × 4 numeric features per side, timed on the
 * same data in one run, each in its own process so each peak memory is its own:
 *   1. Driftgate's math alone (bench/drift-math.ts): on two threads as the CLI runs it (analyzeDriftInThreads), and
 *      on one (analyzeDrift) for the per-feature breakdown;
 *   2. Driftgate's whole CLI, `driftgate drift --current cur.csv --json`: CSV parsing, math and the report;
 *   3. `driftgate drift profile` once, then 4. the same CLI run reading the reference's profile;
 *   5. scipy.stats.ks_2samp plus NumPy's PSI in the pinned Python environment (python/tools/bench_drift_scipy.py);
 *   6. Evidently 0.7.23 end to end (pandas read_csv, DataDriftPreset with KS and with PSI, the HTML report) in a
 *      throwaway environment of its own (python/bench/evidently-requirements.txt, under the temp folder).
 * It also times the CSV parse alone (fast path and csv-parse) and checks that all agree on D, p and PSI.
 * Targets: math / scipy ≤ 0.5; Evidently / CLI ≥ 25; peak memory of the math under 3× the raw float64 data.
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
/** Each Driftgate CLI measurement is the median of this many runs. */
const CLI_RUNS = 3;

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

interface EvidentlyChild {
  evidently: string;
  pandas: string;
  numpy: string;
  read_ms: number;
  run_ms: number;
  html_ms: number;
  total_ms: number;
  cpu_ms: number;
  baseline_rss: number;
  peak_rss: number;
  features: { name: string; ks_pvalue: number; psi: number }[];
}

/** Evidently's throwaway environment: never one of the pinned ones, rebuilt only when its pins change. */
const EVIDENTLY_ENV = {
  name: 'bench-evidently',
  requirements: path.join(PROJECT_ROOT, 'python', 'bench', 'evidently-requirements.txt'),
  venvDir: path.join(os.tmpdir(), 'driftgate-bench-evidently'),
};

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

    log('[bench] 1/6 Driftgate math alone');
    const mathChild = async (extra: string[]): Promise<MathChild> => {
      const run = await execa(process.execPath, [path.join(PROJECT_ROOT, 'dist', 'bench', 'drift-math.js'), '--data', dir, '--rows', String(rows), '--features', String(nFeatures), '--json', ...extra], { timeout: TIMEOUT_MS });
      return JSON.parse(run.stdout.trim().split('\n').pop()!) as MathChild;
    };
    const math = await mathChild(['--threads']);
    const mathOne = await mathChild([]);

    /** One CLI run in its own process: its last JSON line, wall time, CPU time and peak memory. */
    const runCli = async <T>(args: string[]): Promise<{ result: T; wallMs: number; cpuMs: number; peak: number }> => {
      const started = performance.now();
      const run = await execa(process.execPath, ['--import', USAGE_HOOK, CLI_BIN, ...args, '--config', configFile, '--json'], { timeout: TIMEOUT_MS, cwd: dir, env: { DRIFTGATE_CONFIG: undefined } });
      const wallMs = performance.now() - started;
      const usageLine = run.stderr.split('\n').find((l) => l.startsWith('BENCH_USAGE '));
      const usage = JSON.parse(usageLine!.slice('BENCH_USAGE '.length)) as Usage;
      return { result: JSON.parse(run.stdout.trim().split('\n').pop()!) as T, wallMs, cpuMs: (usage.userCPUTime + usage.systemCPUTime) / 1000, peak: usage.maxRSS * 1024 };
    };
    const driftArgs = ['drift', '--current', path.join(dir, 'current.csv')];

    /** The run of median wall time of CLI_RUNS: one run on a shared machine moves by a third. */
    const medianRun = async <T>(args: string[]): Promise<Awaited<ReturnType<typeof runCli<T>>>> => {
      const runs = [];
      for (let i = 0; i < CLI_RUNS; i++) runs.push(await runCli<T>(args));
      return runs.sort((a, b) => a.wallMs - b.wallMs)[Math.floor(CLI_RUNS / 2)]!;
    };

    log(`[bench] 2/6 Driftgate CLI (CSV parse + math + report), ${CLI_RUNS} runs`);
    const cliRun = await medianRun<DriftResult>(driftArgs);
    const cli = cliRun.result;
    const cliWallMs = cliRun.wallMs;
    if (cli.reference.profile !== null) throw new Error(`expected no reference profile yet, found ${cli.reference.profile.path}`);

    log('[bench] 3/6 driftgate drift profile, then the CLI again with it');
    const profileRun = await runCli<{ profile: string; bytes: number }>(['drift', 'profile']);
    const withProfile = await medianRun<DriftResult>(driftArgs);
    if (!withProfile.result.reference.profile?.used) throw new Error(`expected the CLI to read the profile, got ${JSON.stringify(withProfile.result.reference.profile)}`);

    log('[bench] 4/6 scipy ks_2samp + NumPy PSI');
    const scipyRun = await execa(python, [path.join(PROJECT_ROOT, 'python', 'tools', 'bench_drift_scipy.py'), dir, String(rows), String(nFeatures)], { timeout: TIMEOUT_MS });
    const sci = JSON.parse(scipyRun.stdout.trim().split('\n').pop()!) as ScipyChild;

    log('[bench] 5/6 Evidently end to end (its own throwaway environment)');
    const evidentlyPython = (await ensurePythonEnv(EVIDENTLY_ENV, { log })).python;
    const evidentlyRun = await execa(
      evidentlyPython,
      [path.join(PROJECT_ROOT, 'python', 'tools', 'bench_drift_evidently.py'), path.join(dir, 'reference.csv'), path.join(dir, 'current.csv'), path.join(dir, 'evidently.html')],
      { timeout: TIMEOUT_MS },
    );
    const ev = JSON.parse(evidentlyRun.stdout.trim().split('\n').pop()!) as EvidentlyChild;

    log('[bench] 6/6 CSV parse alone, fast path and csv-parse');
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
    let maxEvP = 0;
    let maxEvPsi = 0;
    math.features.forEach((f, k) => {
      const s = sci.features[k]!;
      const c = cli.features[k]!;
      const p = withProfile.result.features[k]!;
      const e = ev.features[k]!;
      maxD = Math.max(maxD, Math.abs(f.ksStatistic - s.statistic), Math.abs(c.statistic - s.statistic), Math.abs(p.statistic - s.statistic));
      maxP = Math.max(maxP, relativeGap(f.ksPvalue, s.pvalue), relativeGap(c.pvalue, s.pvalue), relativeGap(p.pvalue, s.pvalue));
      maxPsi = Math.max(maxPsi, Math.abs(f.psi - s.psi), Math.abs(c.psi - s.psi), Math.abs(p.psi - s.psi));
      maxEvP = Math.max(maxEvP, relativeGap(c.pvalue, e.ks_pvalue));
      maxEvPsi = Math.max(maxEvPsi, Math.abs(c.psi - e.psi));
    });

    const cliCpuMs = cliRun.cpuMs;
    const cliPeak = cliRun.peak;
    const row = (label: string, wall: number, cpu: number, peak: number): string =>
      `${label.padEnd(44)}${wall.toFixed(0).padStart(9)}${cpu.toFixed(0).padStart(9)}${mib(peak).padStart(12)}${(peak / rawBytes).toFixed(2).padStart(8)}`;
    const timings = cli.timings_ms;
    const lines = [
      '',
      `drift benchmark: ${rows.toLocaleString('en-US')} rows × ${nFeatures} numeric features × 2 sides (shifts ${BENCH_SHIFTS.join(', ')}), raw float64 ${mib(rawBytes)}; Node ${process.versions.node}, numpy ${sci.numpy}, scipy ${sci.scipy}, ${os.cpus().length} CPUs, load ${os.loadavg()[0]!.toFixed(2)}`,
      '',
      `(Driftgate CLI rows: the median of ${CLI_RUNS} runs; the others one run each)`,
      `${''.padEnd(44)}${'wall ms'.padStart(9)}${'cpu ms'.padStart(9)}${'peak RSS'.padStart(12)}${'× raw'.padStart(8)}`,
      row('Driftgate math on 2 threads (as the CLI)', math.totalMs, math.cpuMs, math.peakRss),
      row('Driftgate math on 1 thread', mathOne.totalMs, mathOne.cpuMs, mathOne.peakRss),
      row('Driftgate CLI (CSV parse + math + report)', cliWallMs, cliCpuMs, cliPeak),
      row('driftgate drift profile (once)', profileRun.wallMs, profileRun.cpuMs, profileRun.peak),
      row('Driftgate CLI with the reference profile', withProfile.wallMs, withProfile.cpuMs, withProfile.peak),
      row('scipy ks_2samp + NumPy PSI', sci.total_ms, sci.cpu_ms, sci.peak_rss),
      row(`Evidently ${ev.evidently} (read_csv + 2 presets + HTML)`, ev.total_ms, ev.cpu_ms, ev.peak_rss),
      '',
      `ratio math / scipy:  ${(math.totalMs / sci.total_ms).toFixed(2)} wall on 2 threads (${(mathOne.totalMs / sci.total_ms).toFixed(2)} on 1), ${(math.cpuMs / sci.cpu_ms).toFixed(2)} cpu  (target ≤ 0.5; with Evidently's np.unique check scipy takes ${(sci.total_ms + sci.unique_ms).toFixed(0)} ms: ${(math.totalMs / (sci.total_ms + sci.unique_ms)).toFixed(2)})`,
      `ratio CLI / scipy:   ${(cliWallMs / sci.total_ms).toFixed(2)} wall, ${(cliCpuMs / sci.cpu_ms).toFixed(2)} cpu  (the CLI also parses 2 CSV files and writes the report)`,
      `ratio Evidently / CLI: ${(ev.total_ms / cliWallMs).toFixed(1)}× wall, ${(ev.cpu_ms / cliCpuMs).toFixed(1)}× cpu, ${(ev.peak_rss / cliPeak).toFixed(1)}× memory; with the profile ${(ev.total_ms / withProfile.wallMs).toFixed(1)}× wall, ${(ev.cpu_ms / withProfile.cpuMs).toFixed(1)}× cpu  (target ≥ 25×)`,
      `Evidently breakdown (ms): read_csv ${ev.read_ms.toFixed(0)}, presets ${ev.run_ms.toFixed(0)}, HTML ${ev.html_ms.toFixed(0)} (pandas ${ev.pandas}, numpy ${ev.numpy})`,
      `peak memory: math ${(math.peakRss / rawBytes).toFixed(2)}× raw (target < 3×; baseline ${mib(math.baselineRss)}, with data ${mib(math.dataRss)}), CLI ${(cliPeak / rawBytes).toFixed(2)}× raw, scipy ${(sci.peak_rss / rawBytes).toFixed(2)}× raw (baseline ${mib(sci.baseline_rss)})`,
      '',
      `CLI breakdown (ms; the two reads overlap): read reference ${timings.read_reference}, read current ${timings.read_current}, analyze ${timings.analyze}, report ${timings.report}; process total ${cliWallMs.toFixed(0)}`,
      `with the profile (${mib(profileRun.result.bytes)}): read reference ${withProfile.result.timings_ms.read_reference}, read current ${withProfile.result.timings_ms.read_current}, analyze ${withProfile.result.timings_ms.analyze}, report ${withProfile.result.timings_ms.report}; process total ${withProfile.wallMs.toFixed(0)}`,
      `CSV parse, one file of ${rows.toLocaleString('en-US')} rows × ${nFeatures}: fast path ${fastParseMs.toFixed(0)} ms, csv-parse ${csvParseMs.toFixed(0)} ms (${(csvParseMs / fastParseMs).toFixed(1)}× slower); both files with the fast path ≈ ${((timings.read_reference ?? 0) + (timings.read_current ?? 0)).toFixed(0)} ms of the CLI's ${timings.total} ms`,
      '',
      'per feature (Driftgate math | scipy):',
      ...mathOne.features.map((f, k) => {
        const s = sci.features[k]!;
        return `  ${f.name}: sort ${f.sortMs!.toFixed(0)} + ks ${f.ksMs!.toFixed(0)} + psi ${f.psiMs!.toFixed(0)} + summary ${f.summaryMs!.toFixed(0)} ms | ks_2samp ${s.ks_ms.toFixed(0)} + psi ${s.psi_ms.toFixed(0)} ms (np.unique ${s.unique_ms.toFixed(0)}) · D=${f.ksStatistic.toPrecision(6)} p=${f.ksPvalue.toPrecision(6)} psi=${f.psi.toPrecision(6)}`;
      }),
      `agreement with scipy (math, CLI, CLI with profile): max |ΔD| ${maxD.toExponential(1)}, max relative Δp ${maxP.toExponential(1)}, max |ΔPSI| ${maxPsi.toExponential(1)}`,
      `agreement with Evidently (CLI): max relative Δp ${maxEvP.toExponential(1)}, max |ΔPSI| ${maxEvPsi.toExponential(1)}`,
      '',
    ];
    process.stdout.write(lines.join('\n'));
    if (values.keep) log(`[bench] kept ${dir}`);
  } finally {
    if (!values.keep) rmSync(dir, { recursive: true, force: true });
  }
}

await main();
