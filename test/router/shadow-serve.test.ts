/**
 * Shadow mode in a real `driftgate serve`: the built CLI, two prod workers and one shadow worker on the
 * pinned environment, a real MLflow server. The staging version (the shadow) is a scikit-learn pipeline
 * whose every predict call sleeps 2 s (register_test_model.py's `slow` kind): prod's replies must not
 * notice it, its rows arrive later or are dropped and counted when its queue fills, and a shadow worker
 * that crashes or hangs is replaced without prod's workers or replies feeling it.
 *
 *   v1 lr (prod), v2 slow (staging, the shadow); split 0, so prod answers every request.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitForReady, type ReadyBody } from '../../src/router/wait-ready.js';
import { writeConfig } from '../helpers/config.js';
import { startMlflow, type MlflowFixture } from '../helpers/mlflow.js';
import { registerTestModels, type TestModel } from '../helpers/model.js';
import { freePort } from '../helpers/net.js';
import { answer, getJson, loadUntil, startRouter, statusCounts, type RouterProcess, type Sample } from '../helpers/serve-process.js';

const QUEUE = 8;
const USERS = Array.from({ length: 200 }, (_, i) => `user-${i}`);

let mlflow: MlflowFixture;
let versions: TestModel[];
let logPath: string;
let router: RouterProcess;

type LogRow = Record<string, string>;
function readLog(): LogRow[] {
  return parse(readFileSync(logPath, 'utf8'), { columns: true, strict: true } as never) as LogRow[];
}

/** One metric's value from /metrics (0 when absent). */
async function metric(line: string): Promise<number> {
  const text = await (await fetch(`${router.url}/metrics`)).text();
  const found = text.split('\n').find((l) => l.startsWith(`${line} `));
  return found ? Number(found.slice(line.length + 1)) : 0;
}

async function ready(): Promise<ReadyBody> {
  return (await getJson<ReadyBody>(`${router.url}/ready`)).body;
}

/** `count` requests, 4 at a time. */
async function burst(count: number): Promise<Sample[]> {
  let sent = 0;
  return loadUntil(router.url, { concurrency: 4, users: USERS, stop: () => sent++ >= count });
}

function p99(samples: readonly Sample[]): number {
  const ms = samples.map((s) => s.doneAt - s.sentAt).sort((a, b) => a - b);
  return ms[Math.min(ms.length - 1, Math.floor(0.99 * ms.length))]!;
}

/** Until the shadow has no prediction waiting or running. */
async function shadowIdle(timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await metric('driftgate_router_shadow_queue_length')) > 0) {
    if (Date.now() > deadline) throw new Error(`the shadow queue did not empty within ${timeoutMs} ms`);
    await sleep(200);
  }
}

const shadowServing = (body: ReadyBody): boolean =>
  body.workers.every((w) => w.models.length === 2) && body.shadow?.state === 'serving' && (body.shadow.workers ?? []).every((w) => w.state === 'ready' && w.models.includes('2'));

beforeAll(async () => {
  mlflow = await startMlflow();
  versions = await registerTestModels(mlflow.uri, mlflow.config.mlflow.model_name, ['lr:prod', 'slow:staging']);
  const port = await freePort();
  logPath = path.join(mlflow.dir, 'predictions.csv');
  const configFile = writeConfig(
    mlflow.dir,
    {
      mlflow: { tracking_uri: mlflow.uri },
      router: {
        port,
        ab_split_b: 0,
        shadow_share: 1,
        shadow_queue: QUEUE,
        shadow_workers: 1,
        log_path: logPath,
        registry_poll_s: 1,
        workers: 2,
        rate_limit: { max: 1_000_000, window_ms: 1000 },
      },
    },
    'router.yaml',
  );
  router = startRouter(configFile, port, { DRIFTGATE_ADMIN_TOKEN: 'shadow-test-token' });
  await waitForReady(router.url, { timeoutMs: 300_000, accept: shadowServing });
}, 600_000);

afterAll(async () => {
  router?.kill('SIGKILL');
  await mlflow?.stop();
});

describe('driftgate serve with a shadow that sleeps 2 s per batch', () => {
  it('registered prod and the slow staging', () => {
    expect(versions.map((v) => [v.kind, v.version, v.alias])).toEqual([
      ['lr', '1', 'prod'],
      ['slow', '2', 'staging'],
    ]);
  });

  it('runs the shadow on its own worker, at the lowest priority (nice 19), prod’s at 0', async () => {
    const body = await ready();
    const niceOf = (pid: number): number => {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      // Fields after the command's closing parenthesis; nice is field 19 of the whole line.
      return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
    };
    const shadowPids = body.shadow!.workers.map((w) => w.pid!);
    expect(shadowPids).toHaveLength(1);
    expect(body.workers.map((w) => w.pid)).not.toContain(shadowPids[0]);
    expect(shadowPids.map(niceOf)).toEqual([19]);
    expect(body.workers.map((w) => niceOf(w.pid!))).toEqual([0, 0]);
    expect(body.shadow).toMatchObject({ share: 1, kind: 'staging', alias: 'staging', version: '2', state: 'serving', queue: { length: 0, limit: QUEUE } });
  });

  it('answers 40 requests with prod well under 2 s each (p99 < 500 ms); the shadow rows come later, the rest are dropped as queue_full, all counted', async () => {
    const samples = await burst(40);
    expect(statusCounts(samples)).toEqual({ '200': 40 });
    for (const s of samples) expect(answer(s)).toMatchObject({ variant: 'A', alias: 'prod', model_version: '1' });
    expect(p99(samples)).toBeLessThan(500);
    const ids = new Set(samples.map((s) => answer(s).request_id));
    await shadowIdle(30_000);
    const rows = readLog();
    const shadows = rows.filter((r) => r.event === 'shadow' && ids.has(r.request_id ?? ''));
    const dropped = await metric('driftgate_router_shadow_dropped_total{reason="queue_full"}');
    // The first row's batch sleeps 2 s while 39 more arrive: QUEUE of them are taken (waiting or running), the rest dropped.
    expect(shadows.length + dropped).toBe(40);
    expect(shadows.length).toBeGreaterThanOrEqual(QUEUE);
    expect(dropped).toBeGreaterThan(0);
    expect(await metric('driftgate_router_shadow_predictions_total{alias="staging",model_version="2"}')).toBe(shadows.length);
    expect(await metric('driftgate_router_log_rows_total{event="shadow"}')).toBe(shadows.length);
    for (const shadow of shadows) {
      const at = rows.indexOf(shadow);
      const prod = rows.findIndex((r) => r.event === 'prediction' && r.request_id === shadow.request_id);
      // After its prod row, with that row's user and features, no variant and no label, the shadow's own (slow) time.
      expect(prod).toBeGreaterThanOrEqual(0);
      expect(prod).toBeLessThan(at);
      const { sepal_length, sepal_width, petal_length, petal_width, user_id } = rows[prod]!;
      expect(shadow).toMatchObject({ variant: '', model_alias: 'staging', model_version: '2', label: '', error_code: '', ab_split_b: '', user_id, sepal_length, sepal_width, petal_length, petal_width });
      expect(Number(shadow.latency_ms)).toBeGreaterThanOrEqual(2000);
      expect(Number(rows[prod]!.latency_ms)).toBeLessThan(500);
    }
  }, 120_000);

  it('a shadow worker killed (kill -9) or hung (SIGSTOP) is replaced; prod answers throughout, its workers never restart', async () => {
    const before = await ready();
    const prodPids = before.workers.map((w) => w.pid);
    for (const signal of ['SIGKILL', 'SIGSTOP'] as const) {
      const pid = (await ready()).shadow!.workers[0]!.pid!;
      process.kill(pid, signal);
      // Traffic through the fault: the hung one is found when a shadow batch gets no answer within 5 s (half the request deadline).
      const samples: Sample[] = [];
      const until = Date.now() + 8000;
      while (Date.now() < until) {
        samples.push(...(await burst(8)));
        await sleep(250);
      }
      expect(statusCounts(samples)).toEqual({ '200': samples.length });
      expect(p99(samples)).toBeLessThan(500);
      const back = await waitForReady(router.url, { timeoutMs: 120_000, accept: (body) => shadowServing(body) && body.shadow!.workers[0]!.pid !== pid });
      expect(back.workers.map((w) => w.pid)).toEqual(prodPids);
    }
    expect(await metric('driftgate_router_shadow_worker_restarts_total')).toBe(2);
    expect(await metric('driftgate_router_worker_restarts_total')).toBe(0);
    expect(await metric('driftgate_router_shadow_dropped_total{reason="failed"}')).toBeGreaterThan(0);
    // And the shadow predicts again.
    await shadowIdle(30_000);
    const shadowsBefore = await metric('driftgate_router_shadow_predictions_total{alias="staging",model_version="2"}');
    expect(statusCounts(await burst(4))).toEqual({ '200': 4 });
    await shadowIdle(30_000);
    expect(await metric('driftgate_router_shadow_predictions_total{alias="staging",model_version="2"}')).toBeGreaterThan(shadowsBefore);
  }, 240_000);
});
