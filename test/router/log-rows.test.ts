/**
 * The rows the router writes besides predictions and feedback, through app.inject() over the real
 * model set and config watcher with a stub pool, registry and log: a failure row for a request that
 * failed after its variant was assigned, and a split row when the app starts serving and at each
 * change of the split.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FIXED_NOW, IRIS_ROW, predictBody, requestIdNo, testRouter, type TestRouter } from './build.js';

const JSON_TYPE = { 'content-type': 'application/json' };
const ADMIN = { ...JSON_TYPE, authorization: 'Bearer test-admin-token' };
const POISON = { ...IRIS_ROW, petal_length: -1 };

function predict(router: TestRouter, userId: string, features: Record<string, unknown> = IRIS_ROW) {
  return router.app.inject({ method: 'POST', url: '/predict', payload: predictBody(userId, features), headers: JSON_TYPE });
}

function putSplit(router: TestRouter, split: number) {
  return router.app.inject({ method: 'PUT', url: '/ab', payload: JSON.stringify({ ab_split_b: split }), headers: ADMIN });
}

/** The metric lines that start so. */
async function metrics(router: TestRouter, prefix: string): Promise<string[]> {
  const text = (await router.app.inject({ method: 'GET', url: '/metrics' })).body;
  return text.split('\n').filter((l) => l.startsWith(prefix));
}

describe('failure rows', () => {
  it('a row the model cannot predict (422 PREDICTION_FAILED) leaves exactly one failure row: the assigned variant, its alias and version, the features, the code', async () => {
    const router = await testRouter({ patch: { router: { ab_split_b: 1 } } });
    const response = await predict(router, 'u1', POISON);
    expect(response.statusCode).toBe(422);
    expect(response.json()).toEqual({
      error: {
        code: 'PREDICTION_FAILED',
        message: 'version 2 of driftgate-iris (staging) could not predict this row: the model returned probabilities that are not finite numbers for this row (setosa=nan)',
      },
    });
    expect(router.sink.failures).toEqual([
      {
        ts: FIXED_NOW,
        requestId: requestIdNo(1),
        userId: 'u1',
        variant: 'B',
        alias: 'staging',
        version: '2',
        features: [5.1, 3.5, -1, 0.2],
        errorCode: 'PREDICTION_FAILED',
        latencyMs: expect.any(Number),
      },
    ]);
    expect(router.sink.failures[0]!.latencyMs).toBeGreaterThanOrEqual(0);
    expect(router.sink.predictions).toEqual([]);
    expect(await metrics(router, 'driftgate_router_log_rows_total{event="failure"}')).toEqual(['driftgate_router_log_rows_total{event="failure"} 1']);
    await router.app.close();
  });

  it('a model not loaded (503 MODEL_UNAVAILABLE) leaves one with no version; bad input (400) and LOG_UNAVAILABLE leave none', async () => {
    const router = await testRouter({ load: false });
    const unavailable = await predict(router, 'u1');
    expect([unavailable.statusCode, unavailable.json().error.code]).toEqual([503, 'MODEL_UNAVAILABLE']);
    expect(router.sink.failures).toEqual([
      { ts: FIXED_NOW, requestId: requestIdNo(1), userId: 'u1', variant: 'A', alias: 'prod', version: null, features: [5.1, 3.5, 1.4, 0.2], errorCode: 'MODEL_UNAVAILABLE', latencyMs: expect.any(Number) },
    ]);
    await router.models.refresh();
    const invalid = await predict(router, 'u2', { sepal_length: 5.1 });
    expect(invalid.statusCode).toBe(400);
    router.sink.failing = 'ENOSPC';
    const unlogged = await predict(router, 'u3');
    expect([unlogged.statusCode, unlogged.json().error.code]).toEqual([503, 'LOG_UNAVAILABLE']);
    expect(router.sink.failures).toHaveLength(1);
    await router.app.close();
  });

  it('a deadline passed (503 DEADLINE_EXCEEDED) leaves one with the version that was too slow', async () => {
    const router = await testRouter({ patch: { router: { ab_split_b: 0, request_timeout_ms: 100 } } });
    let release = (): void => undefined;
    router.pool.predictGate = new Promise<void>((resolve) => (release = resolve));
    const response = await predict(router, 'u1');
    release();
    expect([response.statusCode, response.json().error.code]).toEqual([503, 'DEADLINE_EXCEEDED']);
    expect(router.sink.failures.map((f) => [f.variant, f.alias, f.version, f.errorCode])).toEqual([['A', 'prod', '1', 'DEADLINE_EXCEEDED']]);
    expect(router.sink.failures[0]!.latencyMs).toBeGreaterThanOrEqual(100);
    await router.app.close();
  });

  it('a failure row that cannot be written is counted, and the answer is still the original error', async () => {
    const router = await testRouter({ patch: { router: { ab_split_b: 0 } } });
    router.sink.failing = 'EIO';
    const response = await predict(router, 'u1', POISON);
    expect([response.statusCode, response.json().error.code]).toEqual([422, 'PREDICTION_FAILED']);
    expect(router.sink.failures).toEqual([]);
    expect(await metrics(router, 'driftgate_router_log_rows_failed_total{event="failure"}')).toEqual(['driftgate_router_log_rows_failed_total{event="failure"} 1']);
    expect(await metrics(router, 'driftgate_router_log_rows_total{event="failure"}')).toEqual([]);
    await router.app.close();
  });
});

describe('split rows', () => {
  it('one when the app starts serving, one per change (PUT /ab, a file edit), none when the value did not change', async () => {
    const router = await testRouter({ patch: { router: { ab_split_b: 0.5 } } });
    expect(router.sink.splits).toEqual([{ ts: FIXED_NOW, splitB: 0.5 }]);

    const first = await putSplit(router, 0.2);
    expect([first.statusCode, first.json().ab_split_b]).toEqual([200, 0.2]);
    expect(router.sink.splits).toEqual([
      { ts: FIXED_NOW, splitB: 0.5 },
      { ts: FIXED_NOW, splitB: 0.2 },
    ]);
    const same = await putSplit(router, 0.2);
    expect([same.statusCode, same.json().ab_split_b]).toEqual([200, 0.2]);
    expect(router.sink.splits).toHaveLength(2);

    // A hand edit of the file, picked up by the watcher (checked here by hand).
    expect(await router.config.check()).toBe('unchanged');
    writeFileSync(router.configFile, readFileSync(router.configFile, 'utf8').replace('ab_split_b: 0.2', 'ab_split_b: 0.35'));
    expect(await router.config.check()).toBe('applied');
    expect(router.sink.splits.at(-1)).toEqual({ ts: FIXED_NOW, splitB: 0.35 });
    // An edit of something else writes none.
    writeFileSync(router.configFile, `${readFileSync(router.configFile, 'utf8')}\n# a comment\n`);
    expect(await router.config.check()).toBe('applied');
    expect(router.sink.splits.map((s) => s.splitB)).toEqual([0.5, 0.2, 0.35]);
    expect(await metrics(router, 'driftgate_router_log_rows_total{event="split"}')).toEqual(['driftgate_router_log_rows_total{event="split"} 3']);
    await router.app.close();
  });

  it('a split row that cannot be written is counted; the split applies anyway', async () => {
    const router = await testRouter({ patch: { router: { ab_split_b: 0.5 } } });
    router.sink.failing = 'ENOSPC';
    const response = await putSplit(router, 0.7);
    expect([response.statusCode, response.json().ab_split_b]).toEqual([200, 0.7]);
    expect(router.sink.splits).toEqual([{ ts: FIXED_NOW, splitB: 0.5 }]);
    expect(await metrics(router, 'driftgate_router_log_rows_failed_total{event="split"}')).toEqual(['driftgate_router_log_rows_failed_total{event="split"} 1']);
    await router.app.close();
  });
});
