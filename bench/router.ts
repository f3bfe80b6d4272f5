/**
 * Router benchmark (npm run bench:router): in one run on this machine, closed-loop load at a fixed
 * concurrency with single-row requests and the same model against
 *   1. driftgate serve: split 0.5 (two registered versions of the same pipeline), predictions log on,
 *      request logging on, `router.workers` Python workers; once with answers that wait for their log
 *      row (log_ack: written, the default) and once with the buffered log (log_ack: buffered);
 *   2. mlflow models serve of the prod version (--env-manager local, the same number of workers),
 *      with keep-alive connections and with a new connection per request (the better one counts);
 *   3. a bare Fastify route that answers a constant after parsing the JSON body (the ceiling).
 * Each target gets a warm-up, then a measured window; reported: requests/s, p50, p99, errors, ratios.
 *
 * Options: --seconds N (measured window, default 15), --warmup N (default 3), --concurrency N
 * (default 64), --workers N (default 2), --rounds N (turns of the two router designs, default 2),
 * --json (one JSON line last on stdout).
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
  latencies.sort((a, b) => a - b);
  const at = (q: number): number => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? Number.NaN;
  const round = (x: number, digits = 2): number => Math.round(x * 10 ** digits) / 10 ** digits;
  return {
    target: target.name,
    requests: latencies.length,
    errors,
    seconds: round(elapsed, 1),
    rps: Math.round(latencies.length / elapsed),
    p50_ms: round(at(0.5)),
    p99_ms: round(at(0.99)),
  };
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
      json: { type: 'boolean', default: false },
      ceiling: { type: 'string' },
    },
  });
  if (values.ceiling) return serveCeiling(Number(values.ceiling));
  const int = (name: 'seconds' | 'warmup' | 'concurrency' | 'workers' | 'rounds'): number => {
    const n = Number(values[name]);
    if (!Number.isInteger(n) || n < 1) throw new UsageError(`--${name}: expected a positive integer, got ${JSON.stringify(values[name])}`);
    return n;
  };
  const options = { seconds: int('seconds'), warmupS: int('warmup'), concurrency: int('concurrency') };
  const workers = int('workers');
  const roundsCount = int('rounds');
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
        log(`1/3 driftgate serve, log_ack ${ack}, round ${round} of ${roundsCount} (${workers} workers, split 0.5, predictions log on)`);
        rounds[ack]!.push(await measure({ name: `driftgate serve (log_ack ${ack})`, port, path: '/predict', body: routerBody }, options));
        log(JSON.stringify(rounds[ack]!.at(-1)));
      }
    }
    for (const { ack, router } of routers) {
      results.push(average(rounds[ack]!));
      router.kill('SIGTERM');
      await router;
    }

    log(`2/3 mlflow models serve (models:/bench-iris/1, --env-manager local, ${workers} workers)`);
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

    log('3/3 bare Fastify constant route (the ceiling)');
    const ceiling = execa(NODE_BIN, [import.meta.filename, '--ceiling', String(ceilingPort)], { reject: false, stdout: 'ignore', stderr: 'ignore' });
    children.push(ceiling);
    await waitFor(`http://127.0.0.1:${ceilingPort}/predict`, (s) => s === 404, 60_000, 'the ceiling server');
    results.push(await measure({ name: 'bare Fastify (constant)', port: ceilingPort, path: '/predict', body: routerBody }, options));
    ceiling.kill('SIGTERM');
    await ceiling;
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
  const verdict = ratios.router_vs_mlflow_rps >= 3 && router.p99_ms < mlflowServe.p99_ms ? 'met' : 'missed';
  const logVerdict = ratios.written_vs_buffered_rps >= 0.9 ? 'met' : 'missed';
  const lines = [
    `concurrency ${options.concurrency}, ${options.seconds} s measured after ${options.warmupS} s warm-up, ${workers} workers, ${os.cpus().length} CPUs, load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`,
    '',
    '| target | requests/s | p50 ms | p99 ms | errors |',
    '| --- | ---: | ---: | ---: | ---: |',
    ...results.map((r) => `| ${r.target} | ${r.rps} | ${r.p50_ms} | ${r.p99_ms} | ${r.errors} |`),
    '',
    `router / ${mlflowServe.target}: ${ratios.router_vs_mlflow_rps}x throughput, p99 ${ratios.router_vs_mlflow_p99}x; router / ceiling: ${ratios.router_vs_ceiling_rps}x throughput`,
    `target (>= 3x throughput and a lower p99 than mlflow models serve): ${verdict}`,
    `answers that wait for their row / buffered log: ${ratios.written_vs_buffered_rps}x throughput, p99 ${ratios.written_vs_buffered_p99}x; target (throughput within 10%): ${logVerdict}`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  if (values.json) process.stdout.write(`${JSON.stringify({ results, compared_with: mlflowServe.target, ratios, target: verdict, log_target: logVerdict, concurrency: options.concurrency, workers })}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`bench:router: ${(error as Error).message}\n`);
  process.exitCode = error instanceof UsageError ? 2 : 1;
});
