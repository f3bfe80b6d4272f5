/**
 * Log reader benchmark (npm run bench:log): the readers stream, so their memory must stay flat as
 * the log grows. One run writes A/B logs of increasing size (default 1,000,000 and 10,000,000 rows:
 * users split 50/50 between prod v1 and staging v2, latencies to the microsecond, a share of the
 * requests labelled by a later feedback row), then runs, each in a fresh process, `driftgate drift
 * --current log` (the monitor's read) and the A/B evaluation of `ab evaluate` (the log part; the
 * registry answers are given), and prints wall time and peak RSS for each.
 *
 * Options: --rows N[,N...] (default 1000000,10000000), --labels SHARE (default 0.1), --keep (leave
 * the files), --json. Internal: --child drift|ab --config FILE runs one reader.
 */
import { spawnSync } from 'node:child_process';
import { createWriteStream, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { once } from 'node:events';
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import { evaluateLog } from '../src/ab/evaluate.js';
import { loadConfig } from '../src/config/index.js';
import { runDrift } from '../src/drift/index.js';
import { UsageError } from '../src/errors.js';
import { PROJECT_ROOT } from '../src/project.js';
import { seededRandom } from '../src/random.js';

const IRIS = path.join(PROJECT_ROOT, 'data', 'iris.csv');
const HEADER = 'ts,event,request_id,user_id,variant,model_alias,model_version,sepal_length,sepal_width,petal_length,petal_width,prediction,label,latency_ms\n';
const CLASSES = ['setosa', 'versicolor', 'virginica'];

/** Write `rows` log rows (predictions, plus feedback rows for `labels` of them) in time order. */
async function writeLog(file: string, rows: number, labels: number): Promise<void> {
  const out = createWriteStream(file, { highWaterMark: 1 << 20 });
  const random = seededRandom(rows);
  const start = Date.UTC(2026, 10, 1);
  let chunk = HEADER;
  let written = 0;
  const pending: string[] = [];
  for (let i = 0; written < rows; i++) {
    const ts = start + i * 2;
    const iso = new Date(ts).toISOString();
    const variant = random() < 0.5 ? 'A' : 'B';
    const truth = CLASSES[Math.floor(random() * 3)]!;
    const right = random() < (variant === 'A' ? 0.8 : 0.9);
    const prediction = right ? truth : CLASSES[(CLASSES.indexOf(truth) + 1) % 3]!;
    // Request ids as long as the router's signed ones.
    const id = `1.${i.toString(36).padStart(22, '0')}.${'s'.repeat(22)}`;
    const f = (mean: number): string => (mean + (random() - 0.5) * 2).toFixed(1);
    const latency = (2 + random() * 40).toFixed(3);
    chunk += `${iso},prediction,${id},user-${Math.floor(random() * 100_000)},${variant},${variant === 'A' ? 'prod' : 'staging'},${variant === 'A' ? 1 : 2},${f(5.8)},${f(3)},${f(3.7)},${f(1.2)},${prediction},,${latency}\n`;
    written++;
    if (random() < labels) pending.push(`${new Date(ts + 1).toISOString()},feedback,${id},,,,,,,,,,${truth},\n`);
    // Feedback a little later than its prediction, interleaved with later traffic.
    if (pending.length > 50 && written < rows) {
      chunk += pending.shift()!;
      written++;
    }
    if (chunk.length > 1 << 20) {
      if (!out.write(chunk)) await once(out, 'drain');
      chunk = '';
    }
  }
  out.write(chunk);
  out.end();
  await once(out, 'finish');
}

function configFor(dir: string, log: string): string {
  const file = path.join(dir, `${path.basename(log, '.csv')}.yaml`);
  writeFileSync(
    file,
    stringify({
      dataset: { reference: IRIS, target: 'species', features: ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'], classes: CLASSES },
      drift: { reports_dir: path.join(dir, 'reports', 'drift') },
      ab: { reports_dir: path.join(dir, 'reports', 'ab') },
      mlflow: { state_dir: path.join(dir, 'mlflow') },
      router: { log_path: log, ab_split_b: 0.5 },
    }),
  );
  return file;
}

/** One reader in this process; prints its result's headline as JSON. */
async function child(kind: string, configFile: string): Promise<void> {
  const config = loadConfig(configFile, {});
  if (kind === 'drift') {
    const result = await runDrift(config, { current: 'log' });
    process.stdout.write(`${JSON.stringify({ n_current: result.n_current, drift_detected: result.drift_detected, rows_read: result.current.quality?.rows_read })}\n`);
    return;
  }
  const now = new Date();
  const evaluation = await evaluateLog({ config, prod: '1', staging: '2', split: 0.5, shadowShare: 0, watch: null, logPattern: config.router.log_path, explicitLog: false, now, id: 'bench', reportDir: os.tmpdir(), log: () => undefined });
  process.stdout.write(`${JSON.stringify({ decision: evaluation.decision, rows: evaluation.log.rows, A: evaluation.variants.A.labeled, B: evaluation.variants.B.labeled })}\n`);
}

interface Measured {
  seconds: number;
  peakMiB: number;
  result: unknown;
}

/** A reader in a fresh Node process under GNU time: wall seconds, peak RSS and its result. */
function run(kind: 'drift' | 'ab', configFile: string): Measured {
  const child = spawnSync('/usr/bin/time', ['-f', 'DRIFTGATE_TIME %e %M', process.execPath, import.meta.filename, '--child', kind, '--config', configFile], { encoding: 'utf8' });
  const time = /DRIFTGATE_TIME ([\d.]+) (\d+)/.exec(child.stderr);
  if (child.status !== 0 || !time) throw new Error(`the ${kind} reader failed (status ${child.status}): ${child.stderr.trim()}`);
  return { seconds: Number(time[1]), peakMiB: Number(time[2]) / 1024, result: JSON.parse(child.stdout.trim().split('\n').at(-1)!) };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      rows: { type: 'string', default: '1000000,10000000' },
      labels: { type: 'string', default: '0.1' },
      keep: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      child: { type: 'string' },
      config: { type: 'string' },
    },
  });
  if (values.child) return child(values.child, values.config!);
  const sizes = values.rows.split(',').map(Number);
  if (sizes.some((n) => !Number.isInteger(n) || n < 1000)) throw new UsageError(`--rows: expected whole numbers >= 1000, got ${JSON.stringify(values.rows)}`);
  const labels = Number(values.labels);
  if (!(labels >= 0 && labels <= 1)) throw new UsageError(`--labels: expected a share from 0 to 1, got ${JSON.stringify(values.labels)}`);
  const dir = path.join(os.tmpdir(), `driftgate-bench-log-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  const log = (line: string): void => void process.stderr.write(`[bench] ${line}\n`);
  const table: { rows: number; mib: number; drift: Measured; ab: Measured }[] = [];
  try {
    for (const rows of sizes) {
      const file = path.join(dir, `predictions-${rows}.csv`);
      log(`writing ${rows.toLocaleString('en-US')} rows (${labels * 100}% labelled) to ${file}`);
      await writeLog(file, rows, labels);
      const configFile = configFor(dir, file);
      const mib = statSync(file).size / 2 ** 20;
      log(`drift --current log on ${mib.toFixed(0)} MiB`);
      const drift = run('drift', configFile);
      log(`ab evaluate on ${mib.toFixed(0)} MiB`);
      const ab = run('ab', configFile);
      table.push({ rows, mib, drift, ab });
      if (!values.keep) rmSync(file);
    }
  } finally {
    if (!values.keep) rmSync(dir, { recursive: true, force: true });
  }
  const lines = [
    `${os.cpus().length} CPUs, load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}; ${labels * 100}% of requests labelled by feedback`,
    '',
    '| log rows | file MiB | drift --current log: s | peak RSS MiB | ab evaluate (log part): s | peak RSS MiB |',
    '| ---: | ---: | ---: | ---: | ---: | ---: |',
    ...table.map((t) => `| ${t.rows.toLocaleString('en-US')} | ${t.mib.toFixed(0)} | ${t.drift.seconds.toFixed(1)} | ${t.drift.peakMiB.toFixed(0)} | ${t.ab.seconds.toFixed(1)} | ${t.ab.peakMiB.toFixed(0)} |`),
    '',
    ...table.map((t) => `${t.rows.toLocaleString('en-US')} rows: drift ${JSON.stringify(t.drift.result)}; ab ${JSON.stringify(t.ab.result)}`),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  if (values.json) process.stdout.write(`${JSON.stringify({ labels, table })}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`bench:log: ${(error as Error).message}\n`);
  process.exitCode = error instanceof UsageError ? 2 : 1;
});
