/**
 * Router benchmark (npm run bench:router): in one run on this machine, closed-loop load at a fixed
 * concurrency with single-row requests and the same model against
 *   1. driftgate serve: split 0.5 (two registered versions of the same pipeline), predictions log on,
 *      request logging on, `router.workers` Python workers; once with answers that wait for their log
 *      row (log_ack: written, the default) and once with the buffered log (log_ack: buffered);
 *   2. mlflow models serve of the prod version (--env-manager local, the same number of workers),
 *      with keep-alive connections and with a new connection per request (the better one counts);
 *   3. a bare Fastify route that answers a constant after parsing the JSON body (the ceiling);
 *   4. shadow mode: driftgate serve at split 0 (prod answers everything) with router.shadow_share 1.0
 *      (staging, the second version of the same pipeline, predicts every request on its own shadow
 *      worker and writes a shadow row) against the same router with shadow_share 0, and a second one
 *      with 0 (A/A: the machine's noise floor), measured in turns, saturated (the closed loop) and at
 *      fixed rates of a quarter and half the shadow-off capacity (open loop).
 * Each target gets a warm-up, then a measured window; reported: requests/s, p50, p99, errors, ratios,
 * and for 4. the p99 differences (target: shadow at share 1.0 adds at most 1 ms to p99), at each load.
 *
 * Options: --seconds N (measured window, default 15), --warmup N (default 3), --concurrency N
 * (default 64), --workers N (default 2), --rounds N (turns of the two log designs, default 2),
 * --shadow-rounds N (turns of shadow off and on, default 3; judged by the median of the paired
 * differences), --json (one JSON line last on stdout).
 * Internal: --ceiling PORT runs target 3 in this process (the benchmark spawns it).
 */
import http from 'node:http';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { execa, type ResultPromise } from 'execa';
import Fastify from 'fastify';
import { parse, stringify } from 'yaml';
import { loadConfig } from '../src/config/index.js';
import { UsageError } from '../src/errors.js';
import { start as startMlflow, stop as stopMlflow } from '../src/mlflow/server.js';
import { runChild } from '../src/process/run.js';
import { ENVIRONMENTS, ensurePythonEnv } from '../src/python/bootstrap.js';
import { CLI_BIN, NODE_BIN, PROJECT_ROOT } from '../src/project.js';
import { waitForReady } from '../src/router/wait-ready.js';

const FEATURES = ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'];
const ROWS: number[][] = readFileSync(path.join(PROJECT_ROOT, 'data', 'iris.csv'), 'utf8')
  .trim()
  .split('\n')
  .slice(1)
  .map((line) => line.split(',').slice(0, 4).map(Number));

interface Target {
  name: string;
  port: number;
  path: string;
  /** The body of request i. */
  body: (i: number) => Buffer;
}

interface Measurement {
  target: string;
  requests: number;
  errors: number;
  seconds: number;
  rps: number;
  p50_ms: number;
  p99_ms: number;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

async function waitFor(url: string, ok: (status: number) => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
      await response.arrayBuffer();
      if (ok(response.status)) return;
    } catch {
      // not up yet
    }
    await sleep(500);
  }
  throw new Error(`${what} did not come up within ${timeoutMs / 1000} s (${url})`);
}

const routerBody = (i: number): Buffer => {
  const row = ROWS[i % ROWS.length]!;
  return Buffer.from(JSON.stringify({ user_id: `user-${i % 10_000}`, features: Object.fromEntries(FEATURES.map((f, j) => [f, row[j]])) }));
};

const mlflowBody = (i: number): Buffer => Buffer.from(JSON.stringify({ dataframe_split: { columns: FEATURES, data: [ROWS[i % ROWS.length]] } }));

/** The open-loop loads of the shadow comparison, as shares of the shadow-off capacity. */
const SHADOW_LOADS = [0.25, 0.5] as const;

/** Closed loop: `concurrency` connections, each sends its next request when the last one is answered. */
async function measure(target: Target, options: { concurrency: number; warmupS: number; seconds: number; keepAlive?: boolean }): Promise<Measurement> {
  const agent = new http.Agent({ keepAlive: options.keepAlive ?? true, maxSockets: options.concurrency });
  let counter = 0;
  const one = (): Promise<{ ok: boolean; ms: number }> =>
    new Promise((resolve) => {
      const body = target.body(counter++);
      const started = process.hrtime.bigint();
      const request = http.request(
        { host: '127.0.0.1', port: target.port, path: target.path, method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': body.length } },
        (response) => {
          response.resume();
          response.on('end', () => resolve({ ok: response.statusCode === 200, ms: Number(process.hrtime.bigint() - started) / 1e6 }));
        },
      );
      request.on('error', () => resolve({ ok: false, ms: Number(process.hrtime.bigint() - started) / 1e6 }));
      request.end(body);
    });
  const run = async (seconds: number): Promise<{ latencies: number[]; errors: number; elapsed: number }> => {
    const latencies: number[] = [];
    let errors = 0;
    const began = Date.now();
    const until = began + seconds * 1000;
    await Promise.all(
      Array.from({ length: options.concurrency }, async () => {
        while (Date.now() < until) {
          const { ok, ms } = await one();
          if (ok) latencies.push(ms);
          else errors += 1;
        }
      }),
    );
    return { latencies, errors, elapsed: (Date.now() - began) / 1000 };
  };
  await run(options.warmupS);
  const { latencies, errors, elapsed } = await run(options.seconds);
  agent.destroy();
  return summarize(target.name, latencies, errors, elapsed);
}

/** One measurement from the answered requests' latencies (ms), the failed count and the seconds taken. */
function summarize(name: string, latencies: number[], errors: number, elapsed: number): Measurement {
  latencies.sort((a, b) => a - b);
  const at = (q: number): number => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? Number.NaN;
  const round = (x: number, digits = 2): number => Math.round(x * 10 ** digits) / 10 ** digits;
  return { target: name, requests: latencies.length, errors, seconds: round(elapsed, 1), rps: Math.round(latencies.length / elapsed), p50_ms: round(at(0.5)), p99_ms: round(at(0.99)) };
}

/**
 * Open loop: requests sent at a fixed `rate` whatever the answers do (a closed loop at saturation measures
 * capacity: its latency is concurrency / throughput). Latency counts from when a request was due, so a
 * stalled router is not hidden by requests that were never sent (coordinated omission).
 */
async function measureRate(target: Target, options: { rate: number; warmupS: number; seconds: number }): Promise<Measurement> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 512 });
  let counter = 0;
  const one = (due: number, done: (ok: boolean, ms: number) => void): void => {
    const body = target.body(counter++);
    const request = http.request(
      { host: '127.0.0.1', port: target.port, path: target.path, method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': body.length } },
      (response) => {
        response.resume();
        response.on('end', () => done(response.statusCode === 200, performance.now() - due));
      },
    );
    request.on('error', () => done(false, performance.now() - due));
    request.end(body);
  };
  const run = (seconds: number): Promise<{ latencies: number[]; errors: number; elapsed: number }> =>
    new Promise((resolve) => {
      const latencies: number[] = [];
      let errors = 0;
      let sent = 0;
      let answered = 0;
      const total = Math.round(options.rate * seconds);
      const began = performance.now();
      const finish = (): void => resolve({ latencies, errors, elapsed: (performance.now() - began) / 1000 });
      const done = (ok: boolean, ms: number): void => {
        if (ok) latencies.push(ms);
        else errors += 1;
        if (++answered === total) finish();
      };
      const tick = (): void => {
        const now = performance.now();
        // Every request due by now goes out now, timed from when it was due.
        while (sent < total && began + (sent * 1000) / options.rate <= now) {
          one(began + (sent * 1000) / options.rate, done);
          sent += 1;
        }
        if (sent < total) setTimeout(tick, 1);
      };
      tick();
    });
  await run(options.warmupS);
  const { latencies, errors, elapsed } = await run(options.seconds);
  agent.destroy();
  return summarize(target.name, latencies, errors, elapsed);
}

/** Several rounds of one target as one: requests and errors summed, rates and latencies averaged. */
function average(rounds: readonly Measurement[]): Measurement {
  const mean = (pick: (m: Measurement) => number): number => Math.round((rounds.reduce((sum, m) => sum + pick(m), 0) / rounds.length) * 100) / 100;
  return {
    target: `${rounds[0]!.target}, ${rounds.length} rounds`,
    requests: rounds.reduce((sum, m) => sum + m.requests, 0),
    errors: rounds.reduce((sum, m) => sum + m.errors, 0),
    seconds: Math.round(rounds.reduce((sum, m) => sum + m.seconds, 0) * 10) / 10,
    rps: Math.round(mean((m) => m.rps)),
    p50_ms: mean((m) => m.p50_ms),
    p99_ms: mean((m) => m.p99_ms),
  };
}

/** The shadow's counters from a router's /metrics: predictions, drops by reason, agreement. */
async function shadowMetrics(port: number): Promise<Record<string, number>> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const sum = (prefix: string): number =>
    text
      .split('\n')
      .filter((l) => l.startsWith(prefix))
      .reduce((n, l) => n + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
  return {
    predictions: sum('driftgate_router_shadow_predictions_total'),
    queue_full: sum('driftgate_router_shadow_dropped_total{reason="queue_full"}'),
    failed: sum('driftgate_router_shadow_dropped_total{reason="failed"}'),
    no_model: sum('driftgate_router_shadow_dropped_total{reason="no_model"}'),
    agree: sum('driftgate_router_shadow_agreement_total{agree="true"}'),
  };
}

/** Target 3, run in a child process so it has its own event loop, as the other two do. */
async function serveCeiling(port: number): Promise<void> {
  const app = Fastify({ logger: false });
  const answer = { request_id: 'constant', variant: 'A', alias: 'prod', model_version: '1', prediction: 'setosa', probabilities: { setosa: 1, versicolor: 0, virginica: 0 } };
  app.post('/predict', async () => answer);
  await app.listen({ host: '127.0.0.1', port });
  process.stderr.write(`ceiling listening on ${port}\n`);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      seconds: { type: 'string', default: '15' },
      warmup: { type: 'string', default: '3' },
      concurrency: { type: 'string', default: '64' },
      workers: { type: 'string', default: '2' },
      rounds: { type: 'string', default: '2' },
      'shadow-rounds': { type: 'string', default: '3' },
      json: { type: 'boolean', default: false },
      ceiling: { type: 'string' },
    },
  });
  if (values.ceiling) return serveCeiling(Number(values.ceiling));
  const int = (name: 'seconds' | 'warmup' | 'concurrency' | 'workers' | 'rounds' | 'shadow-rounds'): number => {
    const n = Number(values[name]);
    if (!Number.isInteger(n) || n < 1) throw new UsageError(`--${name}: expected a positive integer, got ${JSON.stringify(values[name])}`);
    return n;
  };
  const options = { seconds: int('seconds'), warmupS: int('warmup'), concurrency: int('concurrency') };
  const workers = int('workers');
  const roundsCount = int('rounds');
  const shadowRoundsCount = int('shadow-rounds');
  const log = (line: string): void => void process.stderr.write(`[bench] ${line}\n`);

  const dir = path.join(os.tmpdir(), `driftgate-bench-router-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  const children: ResultPromise[] = [];
  const [mlflowPort, servePort, ceilingPort] = await Promise.all([freePort(), freePort(), freePort()]);
  const trackingUri = `http://127.0.0.1:${mlflowPort}`;
  const base = parse(readFileSync(path.join(PROJECT_ROOT, 'config', 'driftgate.yaml'), 'utf8')) as Record<string, Record<string, unknown>>;
  const configFile = path.join(dir, 'driftgate.yaml');
  const configTree = {
    ...base,
    dataset: { ...base.dataset, reference: path.join(PROJECT_ROOT, 'data', 'iris.csv'), current: null },
    mlflow: { ...base.mlflow, tracking_uri: trackingUri, state_dir: path.join(dir, 'mlflow'), model_name: 'bench-iris' },
    router: {
      ...base.router,
      ab_split_b: 0.5,
      workers,
      log_path: path.join(dir, 'predictions.csv'),
      // The limiter stays on; its budget is set above the load so it never refuses a request.
      rate_limit: { max: 10_000_000, window_ms: 1000 },
    },
  };
  writeFileSync(configFile, stringify(configTree));
  const config = loadConfig(configFile, {});
  const results: Measurement[] = [];
  const shadowResults: Measurement[] = [];
  /** Each open-loop load: its share of the shadow-off capacity, the rate, the three routers' averages and the paired p99 differences. */
  const shadowLoads: { load: number; rate: number; results: Measurement[]; deltas: number[]; aaDeltas: number[] }[] = [];
  let shadowDeltas: Record<'saturated' | 'saturated_aa', number[]> = { saturated: [], saturated_aa: [] };
  let shadowCounts: Record<string, number> = {};
  try {
    const { python } = await ensurePythonEnv(ENVIRONMENTS.train, { log });
    log(`starting MLflow at ${trackingUri}`);
    await startMlflow(config, log);
    log('registering the model twice (prod v1, staging v2: the same pipeline)');
    await runChild(
      python,
      [
        path.join(PROJECT_ROOT, 'python', 'tools', 'register_test_model.py'),
        '--tracking-uri', trackingUri, '--name', 'bench-iris', '--data', config.dataset.reference,
        '--features', FEATURES.join(','), '--target', 'species', '--model', 'lr:prod', '--model', 'lr:staging',
      ],
      { timeoutMs: 300_000, label: 'register_test_model.py' },
    );

    // The same router twice, running side by side: answers that wait for their row (the default) and
    // the buffered design. They are measured in turns (written, buffered, written, ...), so that the
    // machine's other load falls on both alike; the rounds are averaged.
    const routers = await Promise.all(
      (['written', 'buffered'] as const).map(async (ack) => {
        const port = await freePort();
        const file = path.join(dir, `driftgate-${ack}.yaml`);
        writeFileSync(file, stringify({ ...configTree, router: { ...configTree.router, port, log_ack: ack, log_path: path.join(dir, `predictions-${ack}.csv`) } }));
        const router = execa(NODE_BIN, [CLI_BIN, 'serve', '--config', file], {
          reject: false,
          stdout: 'ignore',
          stderr: { file: path.join(dir, `router-${ack}.log`) },
          // A line per request goes to the file: with buffering, execa would stop the router at maxBuffer (100 MB).
          buffer: false,
          env: { MLFLOW_TRACKING_URI: undefined, DRIFTGATE_LOG_PATH: undefined, DRIFTGATE_ROUTER_PORT: undefined },
        });
        children.push(router);
        return { ack, port, router };
      }),
    );
    // Both workers hold both versions before the clock starts.
    for (const { port } of routers) await waitForReady(`http://127.0.0.1:${port}`, { timeoutMs: 300_000, accept: (ready) => ready.workers.every((w) => w.models.length === 2) });
    const rounds: Record<string, Measurement[]> = { written: [], buffered: [] };
    for (let round = 1; round <= roundsCount; round++) {
      for (const { ack, port } of routers) {
        log(`1/4 driftgate serve, log_ack ${ack}, round ${round} of ${roundsCount} (${workers} workers, split 0.5, predictions log on)`);
        rounds[ack]!.push(await measure({ name: `driftgate serve (log_ack ${ack})`, port, path: '/predict', body: routerBody }, options));
        log(JSON.stringify(rounds[ack]!.at(-1)));
      }
    }
    for (const { ack, router } of routers) {
      results.push(average(rounds[ack]!));
      router.kill('SIGTERM');
      await router;
    }

    log(`2/4 mlflow models serve (models:/bench-iris/1, --env-manager local, ${workers} workers)`);
    const serve = execa(path.join(path.dirname(python), 'mlflow'), ['models', 'serve', '-m', 'models:/bench-iris/1', '--env-manager', 'local', '-h', '127.0.0.1', '-p', String(servePort), '-w', String(workers)], {
      reject: false,
      stdout: { file: path.join(dir, 'mlflow-serve.log') },
      stderr: { file: path.join(dir, 'mlflow-serve.err.log') },
      // mlflow starts uvicorn through a shell, so the environment's bin folder must be on PATH.
      env: { PATH: `${path.dirname(python)}${path.delimiter}${process.env.PATH ?? ''}`, MLFLOW_TRACKING_URI: trackingUri, MLFLOW_ALLOW_PICKLE_DESERIALIZATION: 'true', MLFLOW_DISABLE_TELEMETRY: 'true', OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1', MKL_NUM_THREADS: '1' },
      detached: true,
    });
    children.push(serve);
    await waitFor(`http://127.0.0.1:${servePort}/ping`, (s) => s === 200, 300_000, 'mlflow models serve');
    results.push(await measure({ name: 'mlflow models serve', port: servePort, path: '/invocations', body: mlflowBody }, options));
    log(JSON.stringify(results.at(-1)));
    // uvicorn answers keep-alive clients in two TCP segments, which Nagle and delayed ACKs can
    // slow down; measure a new connection per request too and compare with the better of the two.
    results.push(await measure({ name: 'mlflow models serve (no keep-alive)', port: servePort, path: '/invocations', body: mlflowBody }, { ...options, keepAlive: false }));
    log(JSON.stringify(results.at(-1)));
    // uvicorn's workers live in the group it leads.
    process.kill(-serve.pid!, 'SIGTERM');
    await serve;

    log('3/4 bare Fastify constant route (the ceiling)');
    const ceiling = execa(NODE_BIN, [import.meta.filename, '--ceiling', String(ceilingPort)], { reject: false, stdout: 'ignore', stderr: 'ignore' });
    children.push(ceiling);
    await waitFor(`http://127.0.0.1:${ceilingPort}/predict`, (s) => s === 404, 60_000, 'the ceiling server');
    results.push(await measure({ name: 'bare Fastify (constant)', port: ceilingPort, path: '/predict', body: routerBody }, options));
    ceiling.kill('SIGTERM');
    await ceiling;

    // Shadow off and on, side by side, in turns: split 0, so every request is prod's and, with the
    // shadow on, every one is also predicted by staging (v2) on the shadow's own worker and logged. A
    // second shadow-off router measured the same way (A/A) shows how far this machine's other load
    // moves a p99 between two identical routers: the noise floor of the comparison.
    const shadowModes = ['off', 'on', 'again'] as const;
    type ShadowMode = (typeof shadowModes)[number];
    const label = (mode: ShadowMode): string => (mode === 'on' ? 'driftgate serve, shadow on (share 1.0)' : mode === 'off' ? 'driftgate serve, shadow off' : 'driftgate serve, shadow off again (A/A)');
    const trio = await Promise.all(
      shadowModes.map(async (mode) => {
        const port = await freePort();
        const file = path.join(dir, `driftgate-shadow-${mode}.yaml`);
        const router = { ...configTree.router, port, ab_split_b: 0, shadow_share: mode === 'on' ? 1 : 0, shadow_workers: 1, log_path: path.join(dir, `predictions-shadow-${mode}.csv`) };
        writeFileSync(file, stringify({ ...configTree, router }));
        const child = execa(NODE_BIN, [CLI_BIN, 'serve', '--config', file], {
          reject: false,
          stdout: 'ignore',
          stderr: { file: path.join(dir, `router-shadow-${mode}.log`) },
          buffer: false,
          env: { MLFLOW_TRACKING_URI: undefined, DRIFTGATE_LOG_PATH: undefined, DRIFTGATE_ROUTER_PORT: undefined },
        });
        children.push(child);
        return { mode, port, router: child };
      }),
    );
    for (const { mode, port } of trio) {
      await waitForReady(`http://127.0.0.1:${port}`, {
        timeoutMs: 300_000,
        accept: (ready) => ready.workers.every((w) => w.models.length === 2) && (mode !== 'on' || (ready.shadow?.state === 'serving' && ready.shadow.workers.every((w) => w.models.includes('2')))),
      });
    }
    // Saturated (the closed loop: capacity), then at fixed rates of a quarter and half the shadow-off
    // capacity measured just before (latency under loads the machine can carry).
    const closed: Record<ShadowMode, Measurement[]> = { off: [], on: [], again: [] };
    for (let round = 1; round <= shadowRoundsCount; round++) {
      for (const { mode, port } of trio) {
        log(`4/4 ${label(mode)}, closed loop, round ${round} of ${shadowRoundsCount} (split 0, ${workers} workers${mode === 'on' ? ', 1 shadow worker' : ''})`);
        closed[mode].push(await measure({ name: label(mode), port, path: '/predict', body: routerBody }, options));
        log(JSON.stringify(closed[mode].at(-1)));
      }
    }
    // Judged by the rounds' paired differences against the first shadow-off router.
    const paired = (runs: Record<ShadowMode, Measurement[]>, other: ShadowMode): number[] => runs.off.map((m, i) => Math.round((runs[other][i]!.p99_ms - m.p99_ms) * 100) / 100);
    const capacity = average(closed.off).rps;
    for (const load of SHADOW_LOADS) {
      const rate = Math.round(capacity * load);
      const fixed: Record<ShadowMode, Measurement[]> = { off: [], on: [], again: [] };
      for (let round = 1; round <= shadowRoundsCount; round++) {
        for (const { mode, port } of trio) {
          log(`4/4 ${label(mode)}, ${rate} requests/s (open loop, ${load} of capacity), round ${round} of ${shadowRoundsCount}`);
          fixed[mode].push(await measureRate({ name: `${label(mode)} at ${rate}/s`, port, path: '/predict', body: routerBody }, { rate, warmupS: options.warmupS, seconds: options.seconds }));
          log(JSON.stringify(fixed[mode].at(-1)));
        }
      }
      shadowLoads.push({ load, rate, results: shadowModes.map((mode) => average(fixed[mode])), deltas: paired(fixed, 'on'), aaDeltas: paired(fixed, 'again') });
    }
    shadowDeltas = { saturated: paired(closed, 'on'), saturated_aa: paired(closed, 'again') };
    for (const { mode, port, router } of trio) {
      shadowResults.push(average(closed[mode]));
      if (mode === 'on') shadowCounts = await shadowMetrics(port);
      router.kill('SIGTERM');
      await router;
    }
  } finally {
    for (const child of children) child.kill('SIGKILL');
    await stopMlflow(config, () => undefined);
    rmSync(dir, { recursive: true, force: true });
  }

  const [router, buffered, keepAlive, fresh, ceiling] = results as [Measurement, Measurement, Measurement, Measurement, Measurement];
  const mlflowServe = fresh.rps > keepAlive.rps ? fresh : keepAlive;
  const ratio = (a: number, b: number): number => Math.round((a / b) * 100) / 100;
  const ratios = {
    router_vs_mlflow_rps: ratio(router.rps, mlflowServe.rps),
    router_vs_mlflow_p99: ratio(router.p99_ms, mlflowServe.p99_ms),
    router_vs_ceiling_rps: ratio(router.rps, ceiling.rps),
    written_vs_buffered_rps: ratio(router.rps, buffered.rps),
    written_vs_buffered_p99: ratio(router.p99_ms, buffered.p99_ms),
  };
  const [shadowOff, shadowOn] = shadowResults as [Measurement, Measurement, Measurement];
  const median = (xs: readonly number[]): number => {
    const sorted = [...xs].sort((a, b) => a - b);
    const mid = Math.floor(sorted.length / 2);
    return sorted.length % 2 ? sorted[mid]! : Math.round(((sorted[mid - 1]! + sorted[mid]!) / 2) * 100) / 100;
  };
  const shadowP99Delta = median(shadowDeltas.saturated);
  const signed = (d: number): string => `${d >= 0 ? '+' : ''}${d}`;
  const listed = (ds: readonly number[]): string => ds.map((d) => `${signed(d)} ms`).join(', ');
  const loads = shadowLoads.map(({ load, rate, results: [off, on], deltas, aaDeltas }) => ({ load, rate, off: off!, on: on!, p99DeltaMs: median(deltas), deltas, aaDeltas }));
  const shadowVerdict = (delta: number): string => (delta <= 1 ? 'met' : 'missed');
  const verdict = ratios.router_vs_mlflow_rps >= 3 && router.p99_ms < mlflowServe.p99_ms ? 'met' : 'missed';
  const logVerdict = ratios.written_vs_buffered_rps >= 0.9 ? 'met' : 'missed';
  const lines = [
    `concurrency ${options.concurrency}, ${options.seconds} s measured after ${options.warmupS} s warm-up, ${workers} workers, ${os.cpus().length} CPUs, load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`,
    '',
    '| target | requests/s | p50 ms | p99 ms | errors |',
    '| --- | ---: | ---: | ---: | ---: |',
    ...[...results, ...shadowResults, ...shadowLoads.flatMap((l) => l.results)].map((r) => `| ${r.target} | ${r.rps} | ${r.p50_ms} | ${r.p99_ms} | ${r.errors} |`),
    '',
    `router / ${mlflowServe.target}: ${ratios.router_vs_mlflow_rps}x throughput, p99 ${ratios.router_vs_mlflow_p99}x; router / ceiling: ${ratios.router_vs_ceiling_rps}x throughput`,
    `target (>= 3x throughput and a lower p99 than mlflow models serve): ${verdict}`,
    `answers that wait for their row / buffered log: ${ratios.written_vs_buffered_rps}x throughput, p99 ${ratios.written_vs_buffered_p99}x; target (throughput within 10%): ${logVerdict}`,
    ...loads.map(
      (l) =>
        `shadow on (share 1.0) / off at ${l.rate} requests/s (${l.load} of the capacity): p50 ${l.on.p50_ms} against ${l.off.p50_ms} ms, p99 ${l.on.p99_ms} against ${l.off.p99_ms} ms; paired rounds ${listed(l.deltas)}, median ${signed(l.p99DeltaMs)} ms (A/A, off against off: ${listed(l.aaDeltas)}); target (at most +1 ms p99): ${shadowVerdict(l.p99DeltaMs)}`,
    ),
    `shadow on (share 1.0) / off, saturated (closed loop): ${ratio(shadowOn.rps, shadowOff.rps)}x throughput, p50 ${shadowOn.p50_ms} against ${shadowOff.p50_ms} ms, p99 ${shadowOn.p99_ms} against ${shadowOff.p99_ms} ms; paired rounds ${listed(shadowDeltas.saturated)}, median ${signed(shadowP99Delta)} ms (A/A: ${listed(shadowDeltas.saturated_aa)}); target (at most +1 ms p99): ${shadowVerdict(shadowP99Delta)}`,
    `  the shadow made ${shadowCounts.predictions ?? 0} predictions, dropped ${shadowCounts.queue_full ?? 0} (queue full), ${shadowCounts.failed ?? 0} (failed), ${shadowCounts.no_model ?? 0} (no model); ${shadowCounts.agree ?? 0} agreed with prod`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  if (values.json) {
    const shadow = {
      saturated: { off: shadowOff, on: shadowOn, aa: shadowResults[2], p99_delta_ms: shadowP99Delta, p99_deltas_ms: shadowDeltas.saturated, aa_p99_deltas_ms: shadowDeltas.saturated_aa, rps_ratio: ratio(shadowOn.rps, shadowOff.rps), target: shadowVerdict(shadowP99Delta) },
      fixed_rates: loads.map((l) => ({ load: l.load, rate: l.rate, off: l.off, on: l.on, p99_delta_ms: l.p99DeltaMs, p99_deltas_ms: l.deltas, aa_p99_deltas_ms: l.aaDeltas, target: shadowVerdict(l.p99DeltaMs) })),
      counts: shadowCounts,
    };
    process.stdout.write(`${JSON.stringify({ results, shadow, compared_with: mlflowServe.target, ratios, target: verdict, log_target: logVerdict, concurrency: options.concurrency, workers })}\n`);
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench:router: ${(error as Error).message}\n`);
  process.exitCode = error instanceof UsageError ? 2 : 1;
});
