/**
 * Shadow mode through app.inject() over the real model set, shadow runner and config watcher, with
 * stub pools (prod's and the shadow's own), registry and log: which requests are shadowed, the exact
 * rows, the version chosen (staging, or the replaced prod during a watch), and that nothing the
 * shadow does (hang, fail, fill its queue, lose its rows) changes a reply.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { WorkerPoolError } from '../../src/router/inference/index.js';
import { assignmentBucket, shadowChosen, SHADOW_SEED } from '../../src/router/assign.js';
import { shadowLatencyMs } from '../../src/router/shadow.js';
import { FIXED_NOW, IRIS_ROW, predictBody, requestIdNo, testRouter, type TestRouter } from './build.js';
import { stubPredict } from './stubs.js';

const CLASSES = ['setosa', 'versicolor', 'virginica'];

const JSON_TYPE = { 'content-type': 'application/json' };
const ROW = [5.1, 3.5, 1.4, 0.2];
const WATCH = (version: string, previous: string) => ({ 'driftgate.watch': JSON.stringify({ version, previous, started_at: '2026-05-06T07:00:00.000Z' }) });

function predict(router: TestRouter, userId: string, features: Record<string, unknown> = IRIS_ROW) {
  return router.app.inject({ method: 'POST', url: '/predict', payload: predictBody(userId, features), headers: JSON_TYPE });
}

/** The metric lines that start so. */
async function metrics(router: TestRouter, prefix: string): Promise<string[]> {
  const text = (await router.app.inject({ method: 'GET', url: '/metrics' })).body;
  return text.split('\n').filter((l) => l.startsWith(prefix));
}

/** Every shadow prediction taken so far has finished. */
async function settled(router: TestRouter): Promise<void> {
  expect(await router.shadow.whenIdle(5000)).toBe(true);
}

describe('the latency a shadow row carries', () => {
  it('is prod’s logged latency with prod’s worker round trip replaced by the shadow batch’s', () => {
    expect(shadowLatencyMs({ latencyMs: 10, inferenceMs: 3 }, 5)).toBe(12);
    // A round trip longer than the logged latency (clocks read at other points) leaves the shadow's own.
    expect(shadowLatencyMs({ latencyMs: 2, inferenceMs: 3 }, 5)).toBe(5);
  });
});

describe('which requests are shadowed', () => {
  it('at share 1, every request prod answers gets exactly one shadow row, after its prod row, with the exact cells; requests B answers get none', async () => {
    const router = await testRouter({ patch: { router: { ab_split_b: 0.5, shadow_share: 1 } } });
    const answers = [];
    for (let i = 0; i < 30; i++) answers.push((await predict(router, `user-${i}`)).json() as { request_id: string; variant: 'A' | 'B'; prediction: string });
    await settled(router);
    const a = answers.filter((x) => x.variant === 'A');
    const b = answers.filter((x) => x.variant === 'B');
    expect([a.length, b.length]).toEqual([11, 19]);
    expect(router.sink.shadows).toEqual(
      a.map((x) => ({
        ts: FIXED_NOW,
        requestId: x.request_id,
        userId: router.sink.predictions.find((p) => p.requestId === x.request_id)!.userId,
        alias: 'staging',
        version: '2',
        features: ROW,
        prediction: stubPredict('2', ROW).prediction,
        errorCode: null,
        // The shadow model's own probabilities, in dataset.classes order.
        probabilities: CLASSES.map((c) => stubPredict('2', ROW).probabilities[c]),
        latencyMs: expect.any(Number),
      })),
    );
    for (const s of router.sink.shadows) expect(s.latencyMs).toBeGreaterThanOrEqual(0);
    for (const x of a) expect(router.sink.order.indexOf(`prediction ${x.request_id}`)).toBeLessThan(router.sink.order.indexOf(`shadow ${x.request_id}`));
    expect(router.sink.order.filter((o) => b.some((x) => o === `shadow ${x.request_id}`))).toEqual([]);
    // The shadow's own pool predicted, prod's pool did not predict twice.
    expect(router.shadowPool.calls.reduce((n, c) => n + c.rows, 0)).toBe(11);
    expect(router.shadowPool.calls.every((c) => c.key === '2')).toBe(true);
    expect(router.pool.calls.reduce((n, c) => n + c.rows, 0)).toBe(30);
    expect(await metrics(router, 'driftgate_router_shadow_')).toEqual([
      'driftgate_router_shadow_predictions_total{alias="staging",model_version="2"} 11',
      'driftgate_router_shadow_agreement_total{agree="true"} 11',
      'driftgate_router_shadow_queue_length 0',
      'driftgate_router_shadow_share 1',
      'driftgate_router_shadow_worker_restarts_total 0',
    ]);
    expect(await metrics(router, 'driftgate_router_log_rows_total{event="shadow"}')).toEqual(['driftgate_router_log_rows_total{event="shadow"} 11']);
    await router.app.close();
  });

  it('at split 1 (everyone on B) nothing is shadowed, and nothing is counted as dropped', async () => {
    const router = await testRouter({ patch: { router: { ab_split_b: 1, shadow_share: 1 } } });
    for (let i = 0; i < 10; i++) expect((await predict(router, `user-${i}`)).json().variant).toBe('B');
    await settled(router);
    expect(router.sink.shadows).toEqual([]);
    expect(router.shadowPool.calls).toEqual([]);
    expect(await metrics(router, 'driftgate_router_shadow_dropped_total')).toEqual([]);
    await router.app.close();
  });

  it('at share 0.5, the requests whose id buckets below 0.5 (seed "shadow"), the same ones in every run', async () => {
    const run = async (): Promise<string[]> => {
      const router = await testRouter({ patch: { router: { ab_split_b: 0, shadow_share: 0.5 } } });
      for (let i = 0; i < 40; i++) await predict(router, `user-${i}`);
      await settled(router);
      await router.app.close();
      return router.sink.shadows.map((s) => s.requestId);
    };
    const ids = Array.from({ length: 40 }, (_, i) => requestIdNo(i + 1));
    const expected = ids.filter((id) => assignmentBucket(id, SHADOW_SEED) < 0.5);
    const first = await run();
    expect(first).toEqual(expected);
    expect(first).toHaveLength(23);
    expect(await run()).toEqual(first);
    expect(ids.filter((id) => shadowChosen(id, 0.5))).toEqual(expected);
    // Raising the share only adds requests.
    const more = ids.filter((id) => shadowChosen(id, 0.8));
    expect(expected.every((id) => more.includes(id))).toBe(true);
    expect([shadowChosen(ids[0]!, 0), shadowChosen(ids[0]!, 1)]).toEqual([false, true]);
  });

  it('shadow_share applies live from a file edit: the shadow loads only once the share asks for it, and no split row is written', async () => {
    const router = await testRouter({ patch: { router: { ab_split_b: 0, shadow_share: 0 } } });
    await predict(router, 'u1');
    expect(router.shadowPool.loaded.size).toBe(0);
    expect(router.shadow.status()).toMatchObject({ share: 0, state: 'off', version: null, wanted: '2' });
    const splits = router.sink.splits.length;
    writeFileSync(router.configFile, readFileSync(router.configFile, 'utf8').replace(/shadow_share: 0\b/, 'shadow_share: 0.25'));
    expect(await router.config.check()).toBe('applied');
    await router.shadow.sync();
    expect(router.config.current.router.shadow_share).toBe(0.25);
    expect([...router.shadowPool.loaded]).toEqual(['2']);
    expect(router.shadow.status()).toMatchObject({ share: 0.25, state: 'serving', kind: 'staging', alias: 'staging', version: '2' });
    for (let i = 0; i < 20; i++) await predict(router, `user-${i}`);
    await settled(router);
    const ids = Array.from({ length: 20 }, (_, i) => requestIdNo(i + 2));
    expect(router.sink.shadows.map((s) => s.requestId)).toEqual(ids.filter((id) => shadowChosen(id, 0.25)));
    expect(router.sink.splits.length).toBe(splits);
    expect(await metrics(router, 'driftgate_router_shadow_share')).toEqual(['driftgate_router_shadow_share 0.25']);
    await router.app.close();
  });
});

describe('which version shadows prod', () => {
  it('staging while it serves; when it is removed the shadow retires and chosen requests count as no_model', async () => {
    const router = await testRouter({ patch: { router: { ab_split_b: 0, shadow_share: 1 } } });
    expect(router.shadow.status()).toMatchObject({ kind: 'staging', alias: 'staging', version: '2', state: 'serving' });
    router.registry.aliases = { prod: '1' };
    await router.models.refresh();
    await router.shadow.sync();
    expect(router.shadowPool.unloaded).toEqual(['2']);
    expect(router.shadow.status()).toMatchObject({ kind: null, version: null, wanted: null, state: 'absent' });
    for (let i = 0; i < 3; i++) expect((await predict(router, `u${i}`)).statusCode).toBe(200);
    expect(router.sink.shadows).toEqual([]);
    expect(await metrics(router, 'driftgate_router_shadow_dropped_total')).toEqual(['driftgate_router_shadow_dropped_total{reason="no_model"} 3']);
    await router.app.close();
  });

  it('without staging, the watched promotion’s previous version, as previous_<prod alias>, while prod is the watched version, at ab.watch.share', async () => {
    // As a promotion leaves it: router.shadow_share reset to 0; the watch has a share of its own.
    const router = await testRouter({ patch: { router: { ab_split_b: 0, shadow_share: 0 }, ab: { watch: { share: 1 } } }, aliases: { prod: '3' }, tags: WATCH('3', '2') });
    expect(router.shadow.status()).toMatchObject({ kind: 'watch', alias: 'previous_prod', version: '2', state: 'serving', share: 1 });
    const response = await predict(router, 'u1');
    expect(response.json()).toMatchObject({ variant: 'A', alias: 'prod', model_version: '3' });
    await settled(router);
    expect(router.sink.shadows).toEqual([
      { ts: FIXED_NOW, requestId: requestIdNo(1), userId: 'u1', alias: 'previous_prod', version: '2', features: ROW, prediction: 'setosa', errorCode: null, latencyMs: expect.any(Number), probabilities: CLASSES.map((c) => stubPredict('2', ROW).probabilities[c]) },
    ]);
    expect(await metrics(router, 'driftgate_router_shadow_share')).toEqual(['driftgate_router_shadow_share 1']);
    // ab.watch.share applies live, as router.shadow_share does: 0.5 shadows the requests whose id buckets below it.
    const text = readFileSync(router.configFile, 'utf8');
    expect(text.match(/^ {4}share: 1$/gm)).toEqual(['    share: 1']);
    writeFileSync(router.configFile, text.replace(/^ {4}share: 1$/m, '    share: 0.5'));
    expect(await router.config.check()).toBe('applied');
    expect(router.config.current.ab.watch.share).toBe(0.5);
    for (let i = 2; i <= 40; i += 1) await predict(router, `u${i}`);
    await settled(router);
    const answered = router.sink.predictions.slice(1).map((row) => row.requestId);
    expect(answered.length).toBe(39);
    const chosen = answered.filter((id) => shadowChosen(id, 0.5));
    expect(router.sink.shadows.slice(1).map((row) => row.requestId)).toEqual(chosen);
    expect(chosen.length).toBeGreaterThan(0);
    expect(chosen.length).toBeLessThan(39);
    expect(router.shadow.status()).toMatchObject({ kind: 'watch', share: 0.5 });
    // Another prod than the watched one: the watch is stale, nothing shadows.
    router.registry.aliases = { prod: '4' };
    await router.models.refresh();
    await router.shadow.sync();
    expect(router.shadow.status()).toMatchObject({ kind: null, version: null, state: 'absent' });
    await router.app.close();
  });

  it('staging wins over a watch; a watch tag that is not one is ignored; no staging and no watch: no shadow', async () => {
    const both = await testRouter({ patch: { router: { shadow_share: 1 } }, aliases: { prod: '3', staging: '4' }, tags: WATCH('3', '2') });
    expect(both.shadow.status()).toMatchObject({ kind: 'staging', alias: 'staging', version: '4' });
    await both.app.close();
    for (const text of ['{"version": "3"}', 'not json', '{"version": "3", "previous": "3", "started_at": "2026-05-06T07:00:00Z"}', '{"version": "3", "previous": "x", "started_at": "2026-05-06T07:00:00Z"}']) {
      const bad = await testRouter({ patch: { router: { shadow_share: 1 } }, aliases: { prod: '3' }, tags: { 'driftgate.watch': text } });
      expect(bad.shadow.status()).toMatchObject({ kind: null, wanted: null, state: 'absent' });
      await bad.app.close();
    }
    const none = await testRouter({ patch: { router: { shadow_share: 1 } }, aliases: { prod: '3' } });
    expect(none.shadow.status()).toMatchObject({ kind: null, state: 'absent' });
    expect(none.shadowPool.loaded.size).toBe(0);
    await none.app.close();
  });

  it('a shadow version that fails to load is reported on /ready, which stays ready: the shadow is never a reason', async () => {
    const router = await testRouter({ patch: { router: { ab_split_b: 0, shadow_share: 1 } }, load: false });
    router.shadowPool.broken.add('2');
    await router.models.refresh();
    await router.shadow.sync();
    const ready = await router.app.inject({ method: 'GET', url: '/ready' });
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toMatchObject({
      status: 'ready',
      reasons: [],
      shadow: {
        share: 1,
        kind: 'staging',
        version: null,
        wanted: '2',
        state: 'failed',
        error: 'version 2 of driftgate-iris (shadow, staging) could not be loaded: loading models:/driftgate-iris/2 failed: OSError: no such artifact',
        queue: { length: 0, limit: 256 },
      },
    });
    expect((await predict(router, 'u1')).statusCode).toBe(200);
    expect(await metrics(router, 'driftgate_router_shadow_dropped_total')).toEqual(['driftgate_router_shadow_dropped_total{reason="no_model"} 1']);
    await router.app.close();
  });
});

describe('nothing the shadow does reaches a reply', () => {
  /** The same requests against a router without a shadow: the replies to match. */
  async function baseline(count: number): Promise<{ statusCode: number; body: string }[]> {
    const plain = await testRouter({ patch: { router: { ab_split_b: 0, shadow_share: 0 } } });
    const out = [];
    for (let i = 0; i < count; i++) {
      const r = await predict(plain, `user-${i}`);
      out.push({ statusCode: r.statusCode, body: r.body });
    }
    await plain.app.close();
    return out;
  }

  it('a hung shadow fills its queue (router.shadow_queue): the rest are dropped and counted, every reply is as without a shadow', async () => {
    const expected = await baseline(10);
    const router = await testRouter({ patch: { router: { ab_split_b: 0, shadow_share: 1, shadow_queue: 4 } } });
    let release: () => void = () => undefined;
    router.shadowPool.predictGate = new Promise<void>((resolve) => (release = resolve));
    const replies = [];
    for (let i = 0; i < 10; i++) {
      const r = await predict(router, `user-${i}`);
      replies.push({ statusCode: r.statusCode, body: r.body });
    }
    expect(replies).toEqual(expected);
    expect(router.shadow.status().queue).toEqual({ length: 4, limit: 4 });
    expect(await metrics(router, 'driftgate_router_shadow_dropped_total')).toEqual(['driftgate_router_shadow_dropped_total{reason="queue_full"} 6']);
    expect(await metrics(router, 'driftgate_router_shadow_queue_length')).toEqual(['driftgate_router_shadow_queue_length 4']);
    release();
    await settled(router);
    expect(router.sink.shadows.map((s) => s.requestId)).toEqual([1, 2, 3, 4].map(requestIdNo));
    expect(await metrics(router, 'driftgate_router_shadow_queue_length')).toEqual(['driftgate_router_shadow_queue_length 0']);
    await router.app.close();
  });

  it('a failing shadow (its worker dies, or it cannot predict a row) changes no reply; each failure is counted and logged with its code, none answered', async () => {
    const expected = await baseline(6);
    const router = await testRouter({ patch: { router: { ab_split_b: 0, shadow_share: 1 } } });
    router.shadowPool.failWith = new WorkerPoolError('worker-died', 'inference worker 0 (pid 1000) was killed by SIGKILL; no other worker could take the retry');
    const replies = [];
    for (let i = 0; i < 3; i++) {
      const r = await predict(router, `user-${i}`);
      replies.push({ statusCode: r.statusCode, body: r.body });
    }
    await settled(router);
    router.shadowPool.failWith = null;
    router.shadowPool.predictionFor = () => ({ error: { type: 'ValueError', message: 'the model raised ValueError for this row' } });
    for (let i = 3; i < 6; i++) {
      const r = await predict(router, `user-${i}`);
      replies.push({ statusCode: r.statusCode, body: r.body });
    }
    await settled(router);
    expect(replies).toEqual(expected);
    // Each failed shadow prediction is a shadow row with its error code and no prediction, for the paired failure guardrail.
    expect(router.sink.shadows.map((row) => [row.requestId, row.prediction, row.errorCode])).toEqual(
      router.sink.predictions.map((row, i) => [row.requestId, null, i < 3 ? 'WORKER_FAILED' : 'PREDICTION_FAILED']),
    );
    expect(router.sink.predictions).toHaveLength(6);
    expect(await metrics(router, 'driftgate_router_shadow_dropped_total')).toEqual(['driftgate_router_shadow_dropped_total{reason="failed"} 6']);
    expect(await metrics(router, 'driftgate_router_shadow_predictions_total')).toEqual([]);
    await router.app.close();
  });

  it('shadow rows the log cannot take are counted; the prod replies and rows are untouched', async () => {
    const expected = await baseline(4);
    const router = await testRouter({ patch: { router: { ab_split_b: 0, shadow_share: 1 } } });
    router.sink.failingShadow = 'ENOSPC';
    const replies = [];
    for (let i = 0; i < 4; i++) {
      const r = await predict(router, `user-${i}`);
      replies.push({ statusCode: r.statusCode, body: r.body });
    }
    await settled(router);
    await new Promise((resolve) => setImmediate(resolve));
    expect(replies).toEqual(expected);
    expect(router.sink.predictions).toHaveLength(4);
    expect(await metrics(router, 'driftgate_router_log_rows_failed_total')).toEqual(['driftgate_router_log_rows_failed_total{event="shadow"} 4']);
    expect(await metrics(router, 'driftgate_router_shadow_predictions_total')).toEqual(['driftgate_router_shadow_predictions_total{alias="staging",model_version="2"} 4']);
    await router.app.close();
  });

  it('counts agreement with prod’s answer', async () => {
    const router = await testRouter({ patch: { router: { ab_split_b: 0, shadow_share: 1 } } });
    // The shadow says virginica for every row whose sepal is wider than 3.2.
    router.shadowPool.predictionFor = (key, row) => (Number(row[1]) > 3.2 ? { prediction: 'virginica', probabilities: { setosa: 0.1, versicolor: 0.1, virginica: 0.8 } } : stubPredict(key, row));
    for (const [i, width] of [3.5, 3.0, 3.4, 2.9, 3.1].entries()) await predict(router, `user-${i}`, { ...IRIS_ROW, sepal_width: width });
    await settled(router);
    expect(router.sink.shadows.map((s) => s.prediction)).toEqual(['virginica', 'setosa', 'virginica', 'setosa', 'setosa']);
    expect(await metrics(router, 'driftgate_router_shadow_agreement_total')).toEqual(['driftgate_router_shadow_agreement_total{agree="true"} 3', 'driftgate_router_shadow_agreement_total{agree="false"} 2']);
    await router.app.close();
  });

  it('a prod reply refused for its own row (LOG_UNAVAILABLE) is not shadowed', async () => {
    const router = await testRouter({ patch: { router: { ab_split_b: 0, shadow_share: 1 } } });
    router.sink.failing = 'EIO';
    expect((await predict(router, 'u1')).statusCode).toBe(503);
    await settled(router);
    expect(router.shadowPool.calls).toEqual([]);
    await router.app.close();
  });
});
