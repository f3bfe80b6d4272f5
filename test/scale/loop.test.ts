/**
 * The whole loop scaled out, on the engines production uses, with nothing faked:
 * - Airflow on the CeleryExecutor (`driftgate airflow up --profile celery`): metadata and Celery results
 *   on the machine's PostgreSQL, Redis as the broker, a scheduler, a dag-processor, an API server and
 *   two Celery workers, all from the pinned Airflow environment;
 * - MLflow on PostgreSQL, with the artifacts proxied by the server (mlflow-artifacts:/);
 * - three `driftgate serve` replicas, each with its own log file, sharing one config file, behind
 *   HAProxy from Debian's package (installed here when missing).
 * The config is config/production.yaml with only hosts, ports, databases and folders replaced. A real
 * DAG run through the scheduler (not `dags test`) finds the drift sent through the load balancer and
 * retrains on a Celery worker; labelled traffic through the load balancer makes the A/B DAG promote;
 * every replica then serves the new prod, and no request sent during the promotion is lost. The times
 * are printed. Everything it creates (databases, the Redis database, processes) is removed after.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TriggeredRun } from '../../src/airflow/api-client.js';
import type { CeleryStatus } from '../../src/airflow/celery.js';
import { loadConfig, type Config } from '../../src/config/index.js';
import { writeSplit } from '../../src/config/write-split.js';
import { IRIS_DRIFT, makeBatch } from '../../src/data/drifted.js';
import { readCsv } from '../../src/data/table.js';
import { isEmbedded, probe } from '../../src/mlflow/server.js';
import { PROJECT_ROOT } from '../../src/project.js';
import { ENVIRONMENTS, venvPython } from '../../src/python/bootstrap.js';
import { registryState, type RegistryState } from '../../src/registry/aliases.js';
import { MlflowClient } from '../../src/registry/client.js';
import type { AliasState } from '../../src/router/model-set.js';
import { waitForReady } from '../../src/router/wait-ready.js';
import { sendTraffic } from '../../src/simulate/traffic.js';
import { lastJson, runCli } from '../helpers/cli.js';
import { tempDir, writeConfig } from '../helpers/config.js';
import { ensureDebianProgram } from '../helpers/debian.js';
import { mlflowApi } from '../helpers/mlflow.js';
import { freePort } from '../helpers/net.js';
import { createDatabase, emptyRedisDb, type TestDatabase, type TestRedis } from '../helpers/postgres.js';
import { getJson, loadUntil, startRouter, statusCounts, type RouterProcess } from '../helpers/serve-process.js';

const MINUTES = 60_000;
const PRODUCTION_CONFIG = path.join(PROJECT_ROOT, 'config', 'production.yaml');
const REPLICAS = 3;

const root = tempDir('driftgate-scale-');
const logs = path.join(root, 'logs');
const dags = path.join(root, 'dags');
const home = path.join(root, 'airflow-home');
const labelToken = randomBytes(24).toString('base64url');
const requestKey = randomBytes(24).toString('base64url');

let airflowDb: TestDatabase | undefined;
let mlflowDb: TestDatabase | undefined;
let redis: TestRedis | undefined;
let mlflowServer: ChildProcess | undefined;
let haproxy: ChildProcess | undefined;
const routers: RouterProcess[] = [];
let configFile: string;
let config: Config;
let client: MlflowClient;
let lb: string;
let airflowUp = false;

/** Two consecutive free ports, for the workers' log servers (worker i serves on base + i). */
async function freePortPair(): Promise<number> {
  const free = (port: number) =>
    new Promise<boolean>((resolve) => {
      const server = net.createServer();
      server.once('error', () => resolve(false));
      server.listen(port, '0.0.0.0', () => server.close(() => resolve(true)));
    });
  for (;;) {
    const base = 20_000 + Math.floor(Math.random() * 20_000);
    if ((await free(base)) && (await free(base + 1))) return base;
  }
}

function airflowCli(action: string[], timeoutMs = 10 * MINUTES) {
  return runCli(['airflow', ...action, '--profile', 'celery', '--config', configFile, '--dags', dags, '--airflow-home', home, '--json'], { timeoutMs });
}

function logFile(i: number): string {
  return path.join(logs, `predictions-r${i + 1}.csv`);
}

/** The rows of one replica's log, as cells (a test-side reading; every cell here is plain). */
function logRows(i: number): string[][] {
  const lines = readFileSync(logFile(i), 'utf8').trim().split('\n').slice(1);
  return lines.map((line) => line.split(','));
}

async function waitUntil<T>(what: string, probeFn: () => Promise<T | null | undefined | false>, timeoutMs: number, intervalMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probeFn();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`gave up after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}

/** Polls the registry (every 250 ms) from now on, and resolves with the time `holds` first held. */
function firstTime(what: string, holds: (state: RegistryState) => boolean): Promise<number> {
  return waitUntil(what, async () => (holds(await registryState(client, config)) ? Date.now() : null), 20 * MINUTES, 250);
}

interface AbView {
  ab_split_b: number;
  prod: { version: string | null; state: AliasState };
  staging: { version: string | null; state: AliasState } | null;
}

function abOf(router: RouterProcess): Promise<AbView> {
  return getJson<AbView>(`${router.url}/ab`).then((r) => r.body);
}

/** Celery's "Task execute_workload[…] succeeded" lines per worker, after the given offsets. */
function celerySucceeded(status: CeleryStatus, from: Record<string, number> = {}): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const c of status.components.filter((c) => c.name.startsWith('worker-'))) {
    const text = readFileSync(c.log_file, 'utf8').slice(from[c.name] ?? 0);
    counts[c.name] = (text.match(/Task execute_workload\[[0-9a-f-]+\] succeeded/g) ?? []).length;
  }
  return counts;
}

function workerLogSizes(status: CeleryStatus): Record<string, number> {
  return Object.fromEntries(status.components.filter((c) => c.name.startsWith('worker-')).map((c) => [c.name, readFileSync(c.log_file, 'utf8').length]));
}

let celery: CeleryStatus;

beforeAll(async () => {
  const haproxyBin = await ensureDebianProgram('haproxy', ['haproxy'], 'the scale-out test (the load balancer in front of the router replicas)');
  airflowDb = await createDatabase(`driftgate_scale_airflow_${process.pid}`);
  mlflowDb = await createDatabase(`driftgate_scale_mlflow_${process.pid}`);
  redis = await emptyRedisDb();
  mkdirSync(logs, { recursive: true });

  // MLflow on PostgreSQL with proxied artifacts, on 127.0.0.2: loopback, but not an address driftgate
  // would start a server on, so it is external to every driftgate process as in production.
  const mlflowPort = await freePort('127.0.0.2');
  const mlflowUri = `http://127.0.0.2:${mlflowPort}`;
  const mlflowLog = openSync(path.join(root, 'mlflow.log'), 'a');
  mlflowServer = spawn(
    path.join(path.dirname(venvPython(ENVIRONMENTS.train.venvDir)), 'mlflow'),
    ['server', '--host', '127.0.0.2', '--port', String(mlflowPort), '--backend-store-uri', mlflowDb.url, '--artifacts-destination', path.join(root, 'artifacts'), '--serve-artifacts', '--workers', '1', '--allowed-hosts', `127.0.0.2:${mlflowPort}`],
    { stdio: ['ignore', mlflowLog, mlflowLog], detached: true, env: { ...process.env, MLFLOW_SERVER_ENABLE_JOB_EXECUTION: 'false', MLFLOW_DISABLE_TELEMETRY: 'true' } },
  );
  closeSync(mlflowLog);
  await waitUntil('MLflow on PostgreSQL', async () => (await probe(mlflowUri)) === 'mlflow', 4 * MINUTES, 500);
  client = new MlflowClient(mlflowUri);

  const apiPort = await freePort();
  configFile = writeConfig(
    root,
    {
      dataset: { reference: path.join(PROJECT_ROOT, 'data', 'iris.csv'), current: path.join(root, 'iris-drifted.csv') },
      drift: { reports_dir: path.join(root, 'reports', 'drift') },
      // A two-model list and 3 folds keep each PyCaret run to seconds.
      training: { include: ['lr', 'dt'], folds: 3 },
      mlflow: { tracking_uri: mlflowUri, model_name: 'scale-e2e', experiment: 'scale-e2e', state_dir: path.join(root, 'mlflow-state') },
      // The replicas bind loopback here; each gets its port and its log file from the environment.
      router: { host: '127.0.0.1', log_path: path.join(logs, 'predictions-*.csv'), registry_poll_s: 2 },
      // B answers from a model the workers load while the test runs, as in the demo (README, Quickstart).
      ab: { reports_dir: path.join(root, 'reports', 'ab'), guardrails: { latency_margin: 3 } },
      airflow: {
        // Runs only when the test triggers them.
        schedule: 'none',
        ab_schedule: 'none',
        retry_delay_s: 5,
        celery: {
          database_url: `postgresql+psycopg2://postgres@127.0.0.1:5432/${airflowDb.name}`,
          broker_url: redis.url,
          api_host: '127.0.0.1',
          api_port: apiPort,
          base_url: null,
          log_server_port: await freePortPair(),
        },
      },
    },
    'driftgate.yaml',
    PRODUCTION_CONFIG,
  );
  config = loadConfig(configFile, {});

  const baseline = await runCli(['train', '--trigger', 'manual', '--config', configFile, '--json'], { timeoutMs: 15 * MINUTES });
  expect(baseline.exitCode, baseline.stderr).toBe(0);
  expect(lastJson(baseline.stdout)).toMatchObject({ version: '1', alias: 'prod' });

  for (let i = 0; i < REPLICAS; i++) {
    const port = await freePort();
    routers.push(startRouter(configFile, port, { DRIFTGATE_ROUTER_PORT: String(port), DRIFTGATE_LOG_PATH: logFile(i), DRIFTGATE_LABEL_TOKEN: labelToken, DRIFTGATE_REQUEST_KEY: requestKey }));
  }
  await Promise.all(routers.map((r) => waitForReady(r.url, { timeoutMs: 3 * MINUTES })));

  // HAProxy in front: round robin, each replica health-checked on GET /ready every 500 ms.
  const lbPort = await freePort();
  lb = `http://127.0.0.1:${lbPort}`;
  const haproxyConfig = path.join(root, 'haproxy.cfg');
  writeFileSync(
    haproxyConfig,
    [
      'global',
      '  maxconn 2048',
      'defaults',
      '  mode http',
      '  timeout connect 2s',
      '  timeout client 60s',
      '  timeout server 60s',
      '  retries 3',
      // A draining replica answers 503 SHUTTING_DOWN before it does anything: safe to send elsewhere.
      '  retry-on conn-failure 503',
      '  option redispatch 1',
      'frontend routers_in',
      `  bind 127.0.0.1:${lbPort}`,
      '  default_backend routers',
      'backend routers',
      '  balance roundrobin',
      '  option httpchk GET /ready',
      '  http-check expect status 200',
      ...routers.map((r, i) => `  server r${i + 1} ${new URL(r.url).host} check inter 500ms fall 2 rise 1`),
      '',
    ].join('\n'),
  );
  const haproxyLog = openSync(path.join(root, 'haproxy.log'), 'a');
  haproxy = spawn(haproxyBin, ['-f', haproxyConfig, '-db'], { stdio: ['ignore', haproxyLog, haproxyLog] });
  closeSync(haproxyLog);
  await waitReadyThroughLb();

  const up = await airflowCli(['up']);
  expect(up.exitCode, up.stderr).toBe(0);
  airflowUp = true;
  celery = lastJson(up.stdout) as CeleryStatus;
}, 30 * MINUTES);

async function waitReadyThroughLb(): Promise<void> {
  await waitUntil('the load balancer to pass /ready', async () => {
    try {
      return (await fetch(`${lb}/ready`, { signal: AbortSignal.timeout(2000) })).status === 200;
    } catch {
      return false;
    }
  }, MINUTES);
}

afterAll(async () => {
  if (airflowUp) {
    const down = await airflowCli(['down']);
    expect(down.exitCode, down.stderr).toBe(0);
  }
  haproxy?.kill('SIGKILL');
  for (const router of routers) router.kill('SIGTERM');
  await Promise.all(routers.map((r) => r.exited));
  if (mlflowServer?.pid !== undefined) {
    try {
      process.kill(-mlflowServer.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  await airflowDb?.drop();
  await mlflowDb?.drop();
  await redis?.flush();
}, 5 * MINUTES);

describe('scaled out: Airflow on Celery + Redis + PostgreSQL, MLflow on PostgreSQL, three router replicas behind HAProxy', () => {
  it('config/production.yaml is a valid config of this layout', () => {
    const production = loadConfig(PRODUCTION_CONFIG, {});
    expect(isEmbedded(production.mlflow.tracking_uri)).toBe(false);
    expect(production.router.log_path).toBe('/srv/driftgate/logs/predictions-*.csv');
    expect(production.airflow.celery).toEqual({
      database_url: 'postgresql+psycopg2://airflow@db.internal:5432/airflow',
      broker_url: 'redis://redis.internal:6379/0',
      result_backend: null,
      workers: 2,
      worker_concurrency: 1,
      api_host: '0.0.0.0',
      api_port: 8080,
      base_url: 'http://airflow-api.internal:8080',
      log_server_port: 8793,
    });
    // What the test runs is that file, with its own hosts, ports and folders.
    expect(config.airflow.celery.workers).toBe(production.airflow.celery.workers);
    expect(config.router.workers).toBe(production.router.workers);
    expect(config.ab.design).toBe(production.ab.design);
  });

  it('airflow up started every component of the celery profile, each its own process', async () => {
    expect(celery.components.map((c) => c.name)).toEqual(['scheduler', 'dag-processor', 'api-server', 'worker-1', 'worker-2']);
    expect(celery.components.every((c) => c.running && c.pid !== null)).toBe(true);
    expect(new Set(celery.components.map((c) => c.pid)).size).toBe(5);
    const status = await airflowCli(['status']);
    expect(status.exitCode, status.stderr).toBe(0);
    expect((lastJson(status.stdout) as CeleryStatus).components.map((c) => `${c.name}:${c.running}`)).toEqual(['scheduler:true', 'dag-processor:true', 'api-server:true', 'worker-1:true', 'worker-2:true']);
    const health = await getJson<Record<string, { status: string }>>(`${celery.url}/api/v2/monitor/health`);
    expect(health.body.metadatabase?.status).toBe('healthy');
    expect(health.body.scheduler?.status).toBe('healthy');
  });

  it('the replicas: round robin through HAProxy, a log file each, /feedback at any replica, a split edit on every replica within 2 s', async () => {
    const before = routers.map((_, i) => logRows(i).filter((r) => r[1] === 'prediction').length);
    const answers: { request_id: string }[] = [];
    for (let i = 0; i < 30; i++) {
      const reply = await getJson<{ request_id: string }>(`${lb}/predict`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ user_id: `lb-user-${i}`, features: { sepal_length: 5.1, sepal_width: 3.5, petal_length: 1.4, petal_width: 0.2 } }),
      });
      expect(reply.status).toBe(200);
      answers.push(reply.body);
    }
    // Each replica logged its share (round robin: 10 each), and only its own.
    const perReplica = await waitUntil(
      'the 30 prediction rows',
      async () => {
        const counts = routers.map((_, i) => logRows(i).filter((r) => r[1] === 'prediction').length - before[i]!);
        return counts.reduce((a, b) => a + b, 0) === 30 ? counts : null;
      },
      10_000,
    );
    expect(perReplica).toEqual([10, 10, 10]);

    // A label for a request answered by replica 1, sent to replica 2 and to replica 3.
    const byReplica = answers.map((a) => routers.findIndex((_, i) => logRows(i).some((r) => r[2] === a.request_id)));
    const fromFirst = answers.filter((_, k) => byReplica[k] === 0);
    expect(fromFirst).toHaveLength(10);
    for (const [target, answer] of [[1, fromFirst[0]!], [2, fromFirst[1]!]] as const) {
      const fed = await getJson<{ status: string }>(`${routers[target]!.url}/feedback`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${labelToken}` },
        body: JSON.stringify({ request_id: answer.request_id, label: 'setosa' }),
      });
      expect(fed).toEqual({ status: 202, body: { request_id: answer.request_id, label: 'setosa', status: 'accepted' } });
      await waitUntil(`the feedback row in replica ${target + 1}'s log`, async () => logRows(target).some((r) => r[1] === 'feedback' && r[2] === answer.request_id), 10_000);
    }

    // One edit of the shared config file; every replica follows it.
    const started = Date.now();
    writeSplit(configFile, 0.2);
    const seen = await waitUntil('every replica to serve ab_split_b 0.2', async () => ((await Promise.all(routers.map(abOf))).every((ab) => ab.ab_split_b === 0.2) ? Date.now() - started : null), 10_000, 50);
    console.log(`[scale] an ab_split_b edit reached all ${REPLICAS} replicas in ${seen} ms`);
    expect(seen).toBeLessThanOrEqual(2000);
    writeSplit(configFile, 0);
    await waitUntil('every replica back at ab_split_b 0', async () => (await Promise.all(routers.map(abOf))).every((ab) => ab.ab_split_b === 0), 10_000, 50);
  });

  it('the loop: drift through the load balancer, a scheduled DAG run on the Celery workers, staging in the PostgreSQL registry, a promotion by the A/B DAG, every replica on the new prod, no request lost', async () => {
    // Drifted, labelled traffic through HAProxy; labels as /feedback, which may reach any replica.
    const drifted = await runCli(['data', 'drifted', '--config', configFile]);
    expect(drifted.exitCode, drifted.stderr).toBe(0);
    const driftedRows = (await readCsv(config.dataset.current!)).rows;
    const first = await sendTraffic(config, { baseUrl: lb, requests: 400, users: 400, concurrency: 16, rows: driftedRows, labels: 'feedback', labelToken, seed: 2 });
    // Every prediction answered and every label accepted (a refused label would be counted as `feedback <status>`).
    expect(first.statuses).toEqual({ '200': 400 });
    await sleep(1000);

    // A real DAG run: created through the API, scheduled by the scheduler, run by the Celery workers.
    const offsets = workerLogSizes(celery);
    const triggered = Date.now();
    const staged = firstTime('version 2 as staging', (state) => state.staging === '2');
    const monitor = await airflowCli(['trigger', 'monitor'], 20 * MINUTES);
    expect(monitor.exitCode, monitor.stderr).toBe(0);
    const stagingAt = await staged;
    const run = lastJson(monitor.stdout) as TriggeredRun;
    expect(run.run_id).toMatch(/^manual__/);
    expect(Object.fromEntries(run.tasks.map((t) => [t.task_id, t.state]))).toEqual({ branch_on_drift: 'success', check_drift: 'success', no_drift: 'skipped', retrain: 'success', start_ab: 'success' });
    expect(run.xcom.check_drift).toMatchObject({ drift_detected: true });
    expect(run.xcom.retrain).toMatchObject({ model_name: 'scale-e2e', version: '2', alias: 'staging' });
    // Every task that ran, ran on a Celery worker: one "succeeded" line per attempt. The worker logs it
    // once the task's process has reported to Airflow, so the last one may follow the run's end by a moment.
    const ran = run.tasks.filter((t) => t.state === 'success').reduce((n, t) => n + t.try_number, 0);
    const total = (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0);
    await waitUntil(`${ran} succeeded tasks in the workers' logs`, async () => total(celerySucceeded(celery, offsets)) >= ran, 30_000, 250);
    const perWorker = celerySucceeded(celery, offsets);
    expect(total(perWorker)).toBe(ran);
    console.log(`[scale] monitor run ${run.run_id}: tasks per Celery worker ${JSON.stringify(perWorker)}`);

    // The registry on PostgreSQL holds the new version as staging; its artifacts went through the server.
    expect(await registryState(client, config)).toMatchObject({ prod: '1', staging: '2' });
    const version = await client.getVersion('scale-e2e', '2');
    const runInfo = await mlflowApi<{ run: { info: { artifact_uri: string } } }>(client.uri, 'GET', 'runs/get', { run_id: version!.run_id });
    expect(runInfo.run.info.artifact_uri).toMatch(/^mlflow-artifacts:\//);
    expect(readdirSync(path.join(root, 'artifacts')).length).toBeGreaterThan(0);

    // start_ab opened the test in the shared file; every replica serves staging to its share.
    await waitUntil('every replica to serve staging 2 at ab_split_b 0.5', async () => (await Promise.all(routers.map(abOf))).every((ab) => ab.ab_split_b === 0.5 && ab.staging?.version === '2' && ab.staging.state === 'serving'), 2 * MINUTES, 250);

    // Labelled A/B traffic through HAProxy, on fresh drifted rows (the retrained model has seen the first batch).
    const reference = await readCsv(config.dataset.reference);
    const unseen = makeBatch(config, reference, { rows: 1200, seed: 1234, shifts: IRIS_DRIFT, noise: 0.05 });
    const feedbackSince = routers.map((_, i) => logRows(i).filter((r) => r[1] === 'feedback').length);
    const abTraffic = await sendTraffic(config, { baseUrl: lb, requests: 1200, users: 400, concurrency: 16, rows: unseen, labels: 'feedback', labelToken, seed: 3 });
    expect(abTraffic.statuses).toEqual({ '200': 1200 });
    const labelled = Date.now();

    // Steady traffic through HAProxy while the A/B DAG promotes and every replica switches.
    let stop = false;
    const users = Array.from({ length: 200 }, (_, i) => `steady-${i}`);
    const steady = loadUntil(lb, { concurrency: 4, users, stop: () => stop });
    const promoted = firstTime('version 2 as prod', (state) => state.prod === '2');
    const ab = await airflowCli(['trigger', 'ab'], 20 * MINUTES);
    expect(ab.exitCode, ab.stderr).toBe(0);
    const promotedAt = await promoted;
    const abRun = lastJson(ab.stdout) as TriggeredRun;
    expect(Object.fromEntries(abRun.tasks.map((t) => [t.task_id, t.state]))).toEqual({ ab_evaluate: 'success', branch_on_decision: 'success', promoted: 'success', rejected: 'skipped', rolled_back: 'skipped', wait_for_data: 'skipped' });
    expect(abRun.xcom.ab_evaluate).toMatchObject({ decision: 'promote' });
    // One evaluation over the glob: every label of the test, whichever replica logged it, counted once.
    const evaluation = abRun.xcom.ab_evaluate as {
      variants: Record<'A' | 'B', { labeled: number; version: string }>;
      log: { files: string[]; orphan_feedback: number; excluded_feedback: number };
    };
    expect([evaluation.variants.A.version, evaluation.variants.B.version]).toEqual(['1', '2']);
    // Every label in the three files is counted exactly once: in the test, or outside it (the earlier traffic,
    // and those of the test's first requests that prod answered before B's first one opened it).
    const earlier = feedbackSince.reduce((a, b) => a + b, 0);
    expect(evaluation.log.files.sort()).toEqual(routers.map((_, i) => logFile(i)).sort());
    expect(evaluation.log.orphan_feedback).toBe(0);
    expect(evaluation.variants.A.labeled + evaluation.variants.B.labeled + evaluation.log.excluded_feedback).toBe(earlier + 1200);
    expect(evaluation.log.excluded_feedback - earlier).toBeLessThan(20);
    const feedbackRows = feedbackSince.map((before, i) => logRows(i).filter((r) => r[1] === 'feedback').length - before);
    expect(feedbackRows.reduce((a, b) => a + b, 0)).toBe(1200);
    expect(feedbackRows.every((n) => n > 0)).toBe(true);
    expect(await registryState(client, config)).toMatchObject({ prod: '2', staging: null, previous: '1' });

    // Every replica serves the new prod to everyone (the promotion reset the split).
    const switched = await waitUntil('every replica to serve prod 2 at ab_split_b 0', async () => ((await Promise.all(routers.map(abOf))).every((v) => v.ab_split_b === 0 && v.prod.version === '2' && v.prod.state === 'serving') ? Date.now() : null), 2 * MINUTES, 250);
    for (const router of routers) {
      const reply = await getJson<{ model_version: string; variant: string }>(`${router.url}/predict`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ user_id: 'after-promotion', features: { sepal_length: 6.3, sepal_width: 3.3, petal_length: 6.0, petal_width: 2.5 } }),
      });
      expect(reply.status).toBe(200);
      expect(reply.body).toMatchObject({ model_version: '2', variant: 'A' });
    }
    await sleep(2000);
    stop = true;
    const samples = await steady;
    const counts = statusCounts(samples);
    const lost = samples.length - (counts['200'] ?? 0);
    console.log(
      [
        `[scale] trigger -> staging: ${((stagingAt - triggered) / 1000).toFixed(1)} s (the monitor run ended after ${((Date.now() - triggered) / 1000).toFixed(0)} s overall)`,
        `[scale] enough labels -> promotion: ${((promotedAt - labelled) / 1000).toFixed(1)} s; -> every replica on the new prod: ${((switched - labelled) / 1000).toFixed(1)} s`,
        `[scale] requests during the promotion: ${samples.length}, lost ${lost} (${JSON.stringify(counts)})`,
      ].join('\n'),
    );
    expect(counts).toEqual({ '200': samples.length });
    expect(samples.length).toBeGreaterThan(100);
  }, 45 * MINUTES);

  it('a Celery worker killed with kill -9: status names it, and up starts that one again and leaves the rest running', async () => {
    const victim = celery.components.find((c) => c.name === 'worker-2')!;
    process.kill(-victim.pid!, 'SIGKILL');
    await waitUntil('worker-2 to be gone', async () => {
      const status = await airflowCli(['status']);
      return status.exitCode === 1 && status.stderr.includes('\nnot running: worker-2\n');
    }, 60_000, 500);
    const up = await airflowCli(['up']);
    expect(up.exitCode, up.stderr).toBe(0);
    for (const name of ['scheduler', 'dag-processor', 'api-server', 'worker-1']) {
      const pid = celery.components.find((c) => c.name === name)!.pid;
      expect(up.stderr).toContain(`[airflow] ${name} is already running (pid ${pid})\n`);
    }
    const after = lastJson(up.stdout) as CeleryStatus;
    expect(after.components.map((c) => c.running)).toEqual([true, true, true, true, true]);
    const restarted = after.components.find((c) => c.name === 'worker-2')!;
    expect(restarted.pid).not.toBe(victim.pid);
    expect(up.stderr).toContain(`[airflow] started worker-2 (pid ${restarted.pid})`);
  }, 10 * MINUTES);
});
