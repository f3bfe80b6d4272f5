/**
 * `driftgate serve` for real: the built CLI, two Python inference workers on the pinned
 * environment, and real MLflow models in a real MLflow server. The models are small scikit-learn
 * pipelines (test/helpers/model.ts) standing in for the PyCaret pipeline only to keep this fast.
 *
 * One MLflow server and one set of registered versions serve the whole file:
 *   v1 lr (prod), v2 tree (staging), v3 lr-strong (no alias; the alias-move target).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFileAtomic } from '../../src/fs-atomic.js';
import { assignVariant } from '../../src/router/assign.js';
import { logColumns } from '../../src/prediction-log/index.js';
import { writeConfig } from '../helpers/config.js';
import { mlflowApi, startMlflow, type MlflowFixture } from '../helpers/mlflow.js';
import { registerTestModels, type TestModel } from '../helpers/model.js';
import { waitForReady } from '../../src/router/wait-ready.js';
import { freePort } from '../helpers/net.js';
import {
  answer,
  getJson,
  loadUntil,
  predictOnce,
  isAlive,
  startRouter,
  statusCounts,
  type RouterProcess,
  type Sample,
} from '../helpers/serve-process.js';

const TOKEN = 'serve-test-token';
const LABEL_TOKEN = 'serve-test-label-token';
const SEED = 'driftgate';
const FLUSH_MS = 100;
const USERS = Array.from({ length: 1000 }, (_, i) => `user-${i}`);

let mlflow: MlflowFixture;
let versions: TestModel[];
let configFile: string;
let logPath: string;
let port: number;
let router: RouterProcess;
const routers: RouterProcess[] = [];

const admin = { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` };
/** Labels need the label token (router.labels: token, the default). */
const labeller = { 'content-type': 'application/json', authorization: `Bearer ${LABEL_TOKEN}` };

type LogRow = Record<string, string>;
function readLog(): LogRow[] {
  // strict: a torn or interleaved row (wrong column count, broken quoting) fails the parse.
  return parse(readFileSync(logPath, 'utf8'), { columns: true, strict: true, skip_empty_lines: false } as never) as LogRow[];
}

function expectedVariant(user: string, split: number): 'A' | 'B' {
  return assignVariant(user, { splitB: split, seed: SEED, stagingAvailable: true });
}

function launch(): RouterProcess {
  const started = startRouter(configFile, port, { DRIFTGATE_ADMIN_TOKEN: TOKEN, DRIFTGATE_LABEL_TOKEN: LABEL_TOKEN });
  routers.push(started);
  return started;
}

beforeAll(async () => {
  mlflow = await startMlflow();
  versions = await registerTestModels(mlflow.uri, mlflow.config.mlflow.model_name, ['lr:prod', 'tree:staging', 'lr-strong']);
  port = await freePort();
  logPath = path.join(mlflow.dir, 'predictions.csv');
  configFile = writeConfig(
    mlflow.dir,
    {
      mlflow: { tracking_uri: mlflow.uri },
      router: {
        port,
        ab_split_b: 0.5,
        log_path: logPath,
        flush_interval_ms: FLUSH_MS,
        registry_poll_s: 1,
        workers: 2,
        rate_limit: { max: 1_000_000, window_ms: 1000 },
      },
    },
    'router.yaml',
  );
  // A comment on the split's line: PUT /ab must keep it.
  writeFileAtomic(configFile, `# router test config\n${readFileSync(configFile, 'utf8').replace('ab_split_b: 0.5', 'ab_split_b: 0.5 # share of users on staging')}`);
  router = launch();
  await waitForReady(router.url, { timeoutMs: 240_000, accept: (body) => body.workers.every((w) => w.models.length === 2) });
}, 600_000);

afterAll(async () => {
  for (const r of routers) r.kill('SIGKILL');
  await mlflow?.stop();
});

describe('driftgate serve with real workers and MLflow models', () => {
  it('registered three real versions', () => {
    expect(versions.map((v) => [v.kind, v.version, v.alias])).toEqual([
      ['lr', '1', 'prod'],
      ['tree', '2', 'staging'],
      ['lr-strong', '3', null],
    ]);
  });

  it('keeps every user on one variant, with B within binomial bounds of the split', async () => {
    const first: Sample[] = [];
    const second: Sample[] = [];
    for (const round of [first, second]) {
      let i = 0;
      round.push(...(await loadUntil(router.url, { concurrency: 32, users: USERS, stop: () => i++ >= USERS.length })));
    }
    expect(statusCounts([...first, ...second])).toEqual({ '200': 2000 });
    const byUser = new Map<string, string>();
    for (const s of first) byUser.set(s.user, answer(s).variant);
    for (const s of second) expect(answer(s).variant).toBe(byUser.get(s.user));
    for (const s of first) {
      const a = answer(s);
      expect(a.variant).toBe(expectedVariant(s.user, 0.5));
      expect([a.alias, a.model_version]).toEqual(a.variant === 'A' ? ['prod', '1'] : ['staging', '2']);
      expect(['setosa', 'versicolor', 'virginica']).toContain(a.prediction);
      expect(Object.values(a.probabilities).reduce((x, y) => x + y, 0)).toBeCloseTo(1, 9);
    }
    // Binomial(1000, 0.5): 3.29 standard deviations is the two-sided 99.9% band.
    const b = [...byUser.values()].filter((v) => v === 'B').length;
    expect(Math.abs(b - 500)).toBeLessThan(3.29 * Math.sqrt(1000 * 0.25));
  }, 120_000);

  it('answers 2,000 concurrent requests with exactly 2,000 whole prediction rows', async () => {
    const before = readLog().length;
    const samples = await Promise.all(USERS.concat(USERS).map((user, i) => predictOnce(router.url, `${user}-burst`, i)));
    expect(statusCounts(samples)).toEqual({ '200': 2000 });
    await sleep(FLUSH_MS * 3);
    const rows = readLog().slice(before);
    expect(rows).toHaveLength(2000);
    expect(Object.keys(rows[0]!)).toEqual(logColumns(mlflow.config));
    const answers = new Map(samples.map((s) => [answer(s).request_id, s]));
    for (const row of rows) {
      const sample = answers.get(row.request_id!)!;
      const a = answer(sample);
      expect([row.event, row.user_id, row.variant, row.model_alias, row.model_version, row.prediction]).toEqual(['prediction', sample.user, a.variant, a.alias, a.model_version, a.prediction]);
      // The reply's class probabilities, in dataset.classes order, to 6 decimals.
      expect(row.probabilities).toBe(mlflow.config.dataset.classes.map((c) => String(Math.round(a.probabilities[c]! * 1e6) / 1e6)).join(';'));
    }
    expect(new Set(rows.map((r) => r.request_id)).size).toBe(2000);
  }, 120_000);

  it('follows a YAML edit of the split within 2 s under load, with zero failures; an invalid edit is rejected', async () => {
    let stop = false;
    const load = loadUntil(router.url, { concurrency: 16, users: USERS, stop: () => stop });
    await sleep(500);
    const text = readFileSync(configFile, 'utf8');
    const edited = Date.now();
    writeFileAtomic(configFile, text.replace('ab_split_b: 0.5', 'ab_split_b: 0.2'));
    let applied = 0;
    while (!applied) {
      if ((await getJson<{ ab_split_b: number }>(`${router.url}/ab`)).body.ab_split_b === 0.2) applied = Date.now();
      else await sleep(50);
    }
    expect(applied - edited).toBeLessThan(2000);
    await sleep(1000);
    writeFileAtomic(configFile, text.replace('ab_split_b: 0.5', 'ab_split_b: 7'));
    const rejection = `${configFile}: router.ab_split_b: expected a number >= 0 and <= 1, got number 7`;
    while (!router.stderr.some((line) => line.includes(rejection))) await sleep(50);
    await sleep(500);
    stop = true;
    const samples = await load;
    expect(statusCounts(samples)).toEqual({ '200': samples.length });
    expect(router.stderr.find((line) => line.includes(rejection))).toContain('config edit rejected, the last good config stays in force');
    expect((await getJson<{ ab_split_b: number }>(`${router.url}/ab`)).body.ab_split_b).toBe(0.2);
    for (const s of samples.filter((x) => x.sentAt > applied)) expect(answer(s).variant).toBe(expectedVariant(s.user, 0.2));
    writeFileAtomic(configFile, text.replace('ab_split_b: 0.5', 'ab_split_b: 0.2'));
  }, 120_000);

  it('applies PUT /ab at once under load, rewriting the YAML with its comments, with zero failures', async () => {
    let stop = false;
    const load = loadUntil(router.url, { concurrency: 16, users: USERS, stop: () => stop });
    await sleep(500);
    const before = readFileSync(configFile, 'utf8');
    const put = await getJson<{ ab_split_b: number }>(`${router.url}/ab`, { method: 'PUT', headers: admin, body: JSON.stringify({ ab_split_b: 0.7 }) });
    const applied = Date.now();
    expect(put).toMatchObject({ status: 200, body: { ab_split_b: 0.7 } });
    expect(readFileSync(configFile, 'utf8')).toBe(before.replace('ab_split_b: 0.2 # share of users on staging', 'ab_split_b: 0.7 # share of users on staging'));
    await sleep(1000);
    stop = true;
    const samples = await load;
    expect(statusCounts(samples)).toEqual({ '200': samples.length });
    for (const s of samples.filter((x) => x.sentAt > applied)) expect(answer(s).variant).toBe(expectedVariant(s.user, 0.7));
  }, 120_000);

  it('follows an alias move under load (admin reload, then the poll): the new version loads before the old retires, zero failures', async () => {
    let stop = false;
    const load = loadUntil(router.url, { concurrency: 16, users: USERS, stop: () => stop });
    await sleep(500);
    await mlflowApi(mlflow.uri, 'POST', 'registered-models/alias', { name: mlflow.config.mlflow.model_name, alias: 'prod', version: '3' });
    const reload = await getJson<{ prod: { version: string; state: string } }>(`${router.url}/admin/reload`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } });
    const movedAt = Date.now();
    expect(reload.status).toBe(200);
    expect(reload.body.prod).toMatchObject({ version: '3', state: 'serving' });
    await sleep(1000);
    // Back to v1 without a reload: the 1 s registry poll picks it up.
    await mlflowApi(mlflow.uri, 'POST', 'registered-models/alias', { name: mlflow.config.mlflow.model_name, alias: 'prod', version: '1' });
    const movedBack = Date.now();
    let seenBack = 0;
    while (!seenBack) {
      const probe = await predictOnce(router.url, USERS.find((u) => expectedVariant(u, 0.7) === 'A')!, 0);
      if (answer(probe).model_version === '1') seenBack = Date.now();
      else await sleep(100);
    }
    expect(seenBack - movedBack).toBeLessThan(5000);
    await sleep(500);
    stop = true;
    const samples = await load;
    expect(statusCounts(samples)).toEqual({ '200': samples.length });
    const prodVersions = samples.filter((s) => answer(s).variant === 'A').map((s) => [s, answer(s).model_version] as const);
    for (const [s, version] of prodVersions) {
      if (s.doneAt < movedAt - 50) expect(['1', '3']).toContain(version);
      if (s.sentAt > movedAt && s.doneAt < movedBack) expect(version).toBe('3');
    }
    expect(new Set(prodVersions.map(([, v]) => v))).toEqual(new Set(['1', '3']));
    // Every row in the log names the version that answered its request.
    await sleep(FLUSH_MS * 3);
    const logged = new Map(readLog().map((r) => [r.request_id, r.model_version]));
    for (const s of samples) expect(logged.get(answer(s).request_id)).toBe(answer(s).model_version);
    // v3 retires once its in-flight batches are done.
    const ready = await waitForReady(router.url, { timeoutMs: 10_000, accept: (body) => body.workers.every((w) => !w.models.includes('3')) });
    expect(ready.models.prod).toMatchObject({ version: '1', state: 'serving' });
  }, 120_000);

  it('takes feedback for a prediction and logs it as a feedback row', async () => {
    const made = answer(await predictOnce(router.url, 'feedback-user', 7));
    const accepted = await getJson(`${router.url}/feedback`, { method: 'POST', headers: labeller, body: JSON.stringify({ request_id: made.request_id, label: 'virginica' }) });
    expect(accepted).toEqual({ status: 202, body: { request_id: made.request_id, label: 'virginica', status: 'accepted' } });
    await sleep(FLUSH_MS * 3);
    const rows = readLog().filter((r) => r.request_id === made.request_id);
    expect(rows.map((r) => [r.event, r.label, r.user_id, r.model_version])).toEqual([
      ['prediction', '', 'feedback-user', made.model_version],
      ['feedback', 'virginica', '', ''],
    ]);
  });

  it('restarts a worker killed under load; its requests are retried and none hangs', async () => {
    const ready = await waitForReady(router.url, { timeoutMs: 10_000 });
    const victim = ready.workers[0]!;
    let stop = false;
    const load = loadUntil(router.url, { concurrency: 32, users: USERS, stop: () => stop, timeoutMs: 40_000 });
    await sleep(700);
    process.kill(victim.pid!, 'SIGKILL');
    await sleep(1500);
    stop = true;
    const samples = await load;
    const counts = statusCounts(samples);
    // Every request settled (no client timeouts); a failure could only be a 503 after a failed retry.
    expect(Object.keys(counts).filter((k) => k !== '200' && k !== '503:WORKER_FAILED')).toEqual([]);
    expect(counts['200']).toBeGreaterThan(0);
    expect(counts['503:WORKER_FAILED'] ?? 0).toBe(0);
    const after = await waitForReady(router.url, { timeoutMs: 120_000, accept: (body) => body.workers[0]!.pid !== victim.pid && body.workers[0]!.models.length === 2 });
    expect(after.workers[0]!.state).toBe('ready');
    const metrics = await (await fetch(`${router.url}/metrics`)).text();
    expect(metrics).toContain('driftgate_router_worker_restarts_total 1\n');
  }, 180_000);

  it('stops on SIGTERM mid-load without losing an answered prediction, and exits 0', async () => {
    const workerPids = (await waitForReady(router.url, { timeoutMs: 10_000 })).workers.map((w) => w.pid!);
    let exited = false;
    const exit = router.exited.then((result) => {
      exited = true;
      return result;
    });
    const load = loadUntil(router.url, { concurrency: 32, users: USERS, stop: () => exited, timeoutMs: 40_000 });
    await sleep(1000);
    router.kill('SIGTERM');
    const result = await exit;
    const samples = await load;
    expect(result.exitCode).toBe(0);
    const summary = JSON.parse(result.stdout.trim().split('\n').pop()!) as { stopped: boolean; predictions: number; log_rows_written: number };
    expect(summary.stopped).toBe(true);
    // Answered before the stop, refused while draining, or refused by a closed port: nothing else.
    const counts = statusCounts(samples);
    expect(Object.keys(counts).filter((k) => !['200', '503:SHUTTING_DOWN', 'error:ECONNREFUSED', 'error:ECONNRESET', 'error:UND_ERR_SOCKET'].includes(k))).toEqual([]);
    const rows = readLog();
    const predictionRows = rows.filter((r) => r.event === 'prediction');
    expect(predictionRows).toHaveLength(summary.predictions);
    const logged = new Set(predictionRows.map((r) => r.request_id));
    const answered = samples.filter((s) => s.status === 200).map((s) => answer(s).request_id);
    expect(answered.length).toBeGreaterThan(0);
    expect(answered.filter((id) => !logged.has(id))).toEqual([]);
    // The workers went with it.
    await sleep(500);
    expect(workerPids.filter(isAlive)).toEqual([]);
  }, 120_000);

  it('after a restart: takes feedback for predictions made before it, and keeps serving with MLflow down (/ready degraded)', async () => {
    const lastPrediction = readLog().filter((r) => r.event === 'prediction').pop()!;
    router = launch();
    await waitForReady(router.url, { timeoutMs: 240_000, accept: (body) => body.workers.every((w) => w.models.length === 2) });
    const feedback = await getJson(`${router.url}/feedback`, { method: 'POST', headers: labeller, body: JSON.stringify({ request_id: lastPrediction.request_id, label: 'setosa' }) });
    expect(feedback.status).toBe(202);

    await mlflow.stop();
    const degraded = await waitForReady(router.url, { timeoutMs: 15_000, accept: (body) => body.status === 'degraded' });
    expect(degraded.reasons[0]).toMatch(/^the model registry is unreachable \(cannot reach the MLflow tracking server at http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\); .*\); the loaded models keep serving$/);
    expect(degraded.models).toMatchObject({ prod: { version: '1', state: 'serving' }, staging: { version: '2', state: 'serving' } });
    let i = 0;
    const samples = await loadUntil(router.url, { concurrency: 16, users: USERS, stop: () => i++ >= 400 });
    expect(statusCounts(samples)).toEqual({ '200': samples.length });
  }, 300_000);

  it('after kill -9 mid-load the log holds every answered row, whole', async () => {
    const workerPids = (await waitForReady(router.url, { timeoutMs: 10_000 })).workers.map((w) => w.pid!);
    let killedAt = 0;
    const load = loadUntil(router.url, { concurrency: 32, users: USERS, stop: () => killedAt > 0 });
    await sleep(1500);
    killedAt = Date.now();
    router.kill('SIGKILL');
    const result = await router.exited;
    const samples = await load;
    expect(result.signal).toBe('SIGKILL');
    const rows = readLog();
    expect(rows.every((r) => Object.keys(r).length === logColumns(mlflow.config).length)).toBe(true);
    const logged = new Set(rows.map((r) => r.request_id));
    const answered = samples.filter((s) => s.status === 200);
    expect(answered.length).toBeGreaterThan(500);
    // An answer leaves only once its row is in the file (router.log_ack: written): none is missing.
    expect(answered.filter((s) => !logged.has(answer(s).request_id)).map((s) => answer(s).request_id)).toEqual([]);
    // The workers died with it (parent-death signal).
    await sleep(1000);
    expect(workerPids.filter(isAlive)).toEqual([]);
  }, 120_000);
});
