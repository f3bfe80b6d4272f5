/**
 * What a bad value, a hung model and an unreachable registry do to the router, through app.inject()
 * over the real model set and a stub pool and registry. The same faults against real workers and a
 * real MLflow server are in test/router/serve-faults.test.ts.
 */
import { describe, expect, it } from 'vitest';
import type { LastKnown } from '../../src/router/inference/index.js';
import type { AliasKey } from '../../src/router/registry-poller.js';
import { IRIS_ROW, predictBody, testRouter, type TestRouter } from './build.js';

const JSON_TYPE = { 'content-type': 'application/json' };

function predict(router: TestRouter, userId: string, features: Record<string, unknown> = IRIS_ROW) {
  return router.app.inject({ method: 'POST', url: '/predict', payload: predictBody(userId, features), headers: JSON_TYPE });
}

async function metric(router: TestRouter, line: string): Promise<string | undefined> {
  const text = (await router.app.inject({ method: 'GET', url: '/metrics' })).body;
  return text.split('\n').find((l) => l.startsWith(line));
}

class MemoryRecord {
  saves: Record<AliasKey, string | null>[] = [];
  constructor(private last: LastKnown | null) {}
  lastKnown(): LastKnown | null {
    return this.last;
  }
  saveLastKnown(versions: Record<AliasKey, string | null>): void {
    this.saves.push(versions);
    this.last = { saved_at: '2026-12-01T00:00:00.000Z', registry_uri: 'http://registry.test', model_name: 'driftgate-iris', versions };
  }
}

describe('a row the model cannot predict', () => {
  it('is answered 422 PREDICTION_FAILED while its batch-mates are answered; it is logged as a failure, not a prediction', async () => {
    const router = await testRouter({ patch: { router: { ab_split_b: 0, batch_max_wait_ms: 20 } } });
    const poison = { ...IRIS_ROW, petal_length: -1 };
    const responses = await Promise.all([predict(router, 'u1'), predict(router, 'u2', poison), predict(router, 'u3')]);
    // One batch of three went to the pool.
    expect(router.pool.calls).toEqual([{ key: '1', rows: 3 }]);
    expect(responses.map((r) => r.statusCode)).toEqual([200, 422, 200]);
    expect(responses[1]!.json()).toEqual({
      error: {
        code: 'PREDICTION_FAILED',
        message: 'version 1 of driftgate-iris (prod) could not predict this row: the model returned probabilities that are not finite numbers for this row (setosa=nan)',
      },
    });
    expect(router.sink.predictions.map((p) => p.userId)).toEqual(['u1', 'u3']);
    expect(router.sink.failures.map((f) => [f.userId, f.errorCode])).toEqual([['u2', 'PREDICTION_FAILED']]);
    expect(await metric(router, 'driftgate_router_prediction_errors_total{')).toBe('driftgate_router_prediction_errors_total{variant="A",code="PREDICTION_FAILED"} 1');
  });
});

describe('router.request_timeout_ms', () => {
  it('answers 503 DEADLINE_EXCEEDED when the model does not answer in time, and logs a failure, not the late prediction', async () => {
    const router = await testRouter({ patch: { router: { ab_split_b: 0, request_timeout_ms: 150 } } });
    let release = (): void => undefined;
    router.pool.predictGate = new Promise<void>((resolve) => (release = resolve));
    const started = Date.now();
    const response = await predict(router, 'u1');
    const took = Date.now() - started;
    expect(response.statusCode).toBe(503);
    expect(response.json()).toEqual({
      error: { code: 'DEADLINE_EXCEEDED', message: 'no prediction within 150 ms (router.request_timeout_ms); the inference workers are overloaded or hung; retry' },
    });
    expect(took).toBeGreaterThanOrEqual(150);
    expect(took).toBeLessThan(1000);
    // The late answer arrives after the reply: it is neither sent nor logged.
    release();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(router.sink.predictions).toEqual([]);
    expect(router.sink.failures.map((f) => f.errorCode)).toEqual(['DEADLINE_EXCEEDED']);
  });
});

describe('an unreachable registry', () => {
  it('keeps serving the loaded versions, says so in /ready, and /metrics has registry_up 0 and the last good poll', async () => {
    const router = await testRouter();
    router.registry.down = 'MLflow GET registered-models/alias failed (404 HTTP_404): <html>404 Not Found</html>';
    await router.models.refresh();
    const ready = await router.app.inject({ method: 'GET', url: '/ready' });
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toMatchObject({
      status: 'degraded',
      models: { prod: { version: '1', state: 'serving' }, staging: { version: '2', state: 'serving' } },
      registry: { ok: false, error: 'MLflow GET registered-models/alias failed (404 HTTP_404): <html>404 Not Found</html>' },
      reasons: ['the model registry is unreachable (MLflow GET registered-models/alias failed (404 HTTP_404): <html>404 Not Found</html>); the loaded models keep serving'],
    });
    expect((await predict(router, 'u1')).statusCode).toBe(200);
    expect(await metric(router, 'driftgate_router_registry_up ')).toBe('driftgate_router_registry_up 0');
    const lastSuccess = Date.parse((ready.json() as { registry: { last_success: string } }).registry.last_success) / 1000;
    expect(await metric(router, 'driftgate_router_registry_last_success_timestamp_seconds ')).toBe(`driftgate_router_registry_last_success_timestamp_seconds ${lastSuccess}`);
  });

  it('at start: serves the last known versions whose files are on disk, says so, and hands over when the registry answers', async () => {
    const record = new MemoryRecord({ saved_at: '2026-11-30T12:00:00.000Z', registry_uri: 'http://registry.test', model_name: 'driftgate-iris', versions: { prod: '1', staging: '2' } });
    const router = await testRouter({ served: record, registryDown: 'cannot reach the MLflow tracking server (ECONNREFUSED)', load: false });
    router.pool.onDisk.add('1').add('2');
    await router.models.refresh();
    const ready = await router.app.inject({ method: 'GET', url: '/ready' });
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toMatchObject({
      status: 'degraded',
      models: { prod: { version: '1', state: 'serving' }, staging: { version: '2', state: 'serving' } },
      reasons: [
        'serving the last known versions (prod version 1, staging version 2, recorded 2026-11-30T12:00:00.000Z): the model registry has not answered since the router started',
        'the model registry is unreachable (cannot reach the MLflow tracking server (ECONNREFUSED)); the loaded models keep serving',
      ],
    });
    expect((await predict(router, 'u1')).json()).toMatchObject({ model_version: '1' });
    // Nothing is recorded from the fallback itself.
    expect(record.saves).toEqual([]);
    // The registry answers, with a new staging: it takes over and is recorded.
    router.registry.down = null;
    router.registry.aliases = { prod: '1', staging: '3' };
    await router.models.refresh();
    expect((await router.app.inject({ method: 'GET', url: '/ready' })).json()).toMatchObject({ status: 'ready', reasons: [], models: { staging: { version: '3' } } });
    expect(record.saves).toEqual([{ prod: '1', staging: '3' }]);
  });

  it('at start without the files of the last prod on disk: serves nothing and says why', async () => {
    const record = new MemoryRecord({ saved_at: '2026-11-30T12:00:00.000Z', registry_uri: 'http://registry.test', model_name: 'driftgate-iris', versions: { prod: '1', staging: null } });
    const router = await testRouter({ served: record, registryDown: 'cannot reach the MLflow tracking server (ECONNREFUSED)', load: false });
    await router.models.refresh();
    const ready = await router.app.inject({ method: 'GET', url: '/ready' });
    expect(ready.statusCode).toBe(503);
    expect((ready.json() as { reasons: string[] }).reasons[0]).toBe(
      'no prod model is loaded: the model registry at http://registry.test has not answered yet (cannot reach the MLflow tracking server (ECONNREFUSED))',
    );
    expect(router.pool.loaded.size).toBe(0);
  });
});
