/**
 * The router app through app.inject(), with the real model set, config watcher and metrics over a
 * stub worker pool and registry (the real ones are exercised in serve.test.ts).
 */
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { assignVariant } from '../../src/router/assign.js';
import { LiveConfig } from '../../src/router/live-config.js';
import { FIXED_NOW, IRIS_ROW, predictBody, requestIdNo, testRequestIds, testRouter, type TestRouter } from './build.js';
import { stubPredict } from './stubs.js';

const JSON_TYPE = { 'content-type': 'application/json' };
const ADMIN = { ...JSON_TYPE, authorization: 'Bearer test-admin-token' };
/** What a labelling client sends: the label token (router.labels: token, the default). */
const LABELLER = { ...JSON_TYPE, authorization: 'Bearer test-label-token' };

async function predict(router: TestRouter, userId: string, extra: Record<string, unknown> = {}) {
  return router.app.inject({ method: 'POST', url: '/predict', payload: predictBody(userId, IRIS_ROW, extra), headers: 'label' in extra ? LABELLER : JSON_TYPE });
}

function capture() {
  const lines: { level: string; fields: object; message: string }[] = [];
  const at = (level: string) => (fields: object, message: string) => void lines.push({ level, fields, message });
  return { lines, logger: { info: at('info'), warn: at('warn'), error: at('error') } };
}

describe('POST /predict and POST /feedback', () => {
  it('answers with the contract fields, logs one exact row, and accepts feedback for it', async () => {
    const router = await testRouter({ patch: { router: { ab_split_b: 0 } } });
    const sent = performance.now();
    const response = await predict(router, 'alice', { label: 'setosa' });
    const wall = performance.now() - sent;
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({
      request_id: requestIdNo(1),
      variant: 'A',
      alias: 'prod',
      model_version: '1',
      prediction: 'setosa',
      probabilities: stubPredict('1', [5.1, 3.5, 1.4, 0.2]).probabilities,
    });
    expect(router.sink.predictions).toEqual([
      {
        ts: FIXED_NOW,
        requestId: requestIdNo(1),
        userId: 'alice',
        variant: 'A',
        alias: 'prod',
        version: '1',
        features: [5.1, 3.5, 1.4, 0.2],
        prediction: 'setosa',
        label: 'setosa',
        latencyMs: expect.any(Number),
        // The reply's probabilities, in dataset.classes order (setosa, versicolor, virginica).
        probabilities: ['setosa', 'versicolor', 'virginica'].map((c) => stubPredict('1', [5.1, 3.5, 1.4, 0.2]).probabilities[c]),
      },
    ]);
    // The logged latency is Fastify's time for this request: inside the wall time the test saw, and the
    // very number the latency histogram observed.
    const { latencyMs } = router.sink.predictions[0]!;
    expect(latencyMs).toBeGreaterThan(0);
    expect(latencyMs).toBeLessThanOrEqual(wall);
    const histogram = (await router.metrics.registry.getSingleMetric('driftgate_router_prediction_latency_seconds')!.get()).values as { metricName?: string }[];
    expect(histogram.find((v) => v.metricName === 'driftgate_router_prediction_latency_seconds_sum')).toEqual({
      metricName: 'driftgate_router_prediction_latency_seconds_sum',
      labels: { variant: 'A' },
      value: latencyMs / 1000,
    });
    const sendFeedback = async (requestId: string, label: string) =>
      router.app.inject({ method: 'POST', url: '/feedback', payload: JSON.stringify({ request_id: requestId, label }), headers: LABELLER });
    // The first label counts: the inline one. Feedback for it is a duplicate and writes nothing.
    const duplicate = await sendFeedback(requestIdNo(1), 'versicolor');
    expect([duplicate.statusCode, duplicate.json()]).toEqual([202, { request_id: requestIdNo(1), label: 'setosa', status: 'duplicate' }]);
    // Every request gets an id (the feedback above took the second).
    expect((await predict(router, 'bob')).json().request_id).toBe(requestIdNo(3));
    const accepted = await sendFeedback(requestIdNo(3), 'versicolor');
    expect([accepted.statusCode, accepted.json()]).toEqual([202, { request_id: requestIdNo(3), label: 'versicolor', status: 'accepted' }]);
    const again = await sendFeedback(requestIdNo(3), 'virginica');
    expect([again.statusCode, again.json()]).toEqual([202, { request_id: requestIdNo(3), label: 'versicolor', status: 'duplicate' }]);
    expect(router.sink.feedback).toEqual([{ ts: FIXED_NOW, requestId: requestIdNo(3), label: 'versicolor' }]);
    expect(await router.metrics.registry.getSingleMetricAsString('driftgate_router_feedback_duplicates_total')).toContain('driftgate_router_feedback_duplicates_total 2');
    await router.app.close();
  });

  it('refuses feedback for a request id older than router.feedback_max_age_s (404), and accepts one from another replica', async () => {
    const router = await testRouter({ patch: { router: { feedback_max_age_s: 3600 } } });
    const old = testRequestIds(() => FIXED_NOW - 3600_001).issue();
    const otherReplica = testRequestIds(() => FIXED_NOW - 60_000).issue();
    const expired = await router.app.inject({ method: 'POST', url: '/feedback', payload: JSON.stringify({ request_id: old, label: 'setosa' }), headers: LABELLER });
    expect([expired.statusCode, expired.json()]).toEqual([
      404,
      { error: { code: 'NOT_FOUND', field: 'request_id', message: `expected the request_id of a prediction from the last 1 hour (router.feedback_max_age_s), got one from ${new Date(FIXED_NOW - 3600_001).toISOString()}` } },
    ]);
    const accepted = await router.app.inject({ method: 'POST', url: '/feedback', payload: JSON.stringify({ request_id: otherReplica, label: 'setosa' }), headers: LABELLER });
    expect([accepted.statusCode, accepted.json().status]).toEqual([202, 'accepted']);
    expect(router.sink.feedback).toEqual([{ ts: FIXED_NOW, requestId: otherReplica, label: 'setosa' }]);
    await router.app.close();
  });

  it('while the log cannot be written: refuses predictions (503 LOG_UNAVAILABLE, Retry-After) by default, serves them unlogged with log_failure: serve; feedback is refused either way', async () => {
    for (const policy of ['refuse', 'serve'] as const) {
      const router = await testRouter({ patch: { router: { ab_split_b: 0, log_failure: policy } } });
      router.sink.failing = 'ENOSPC';
      const response = await predict(router, 'alice');
      const feedback = await router.app.inject({ method: 'POST', url: '/feedback', payload: JSON.stringify({ request_id: requestIdNo(1), label: 'setosa' }), headers: LABELLER });
      const unavailable = { error: { code: 'LOG_UNAVAILABLE', message: 'the predictions log cannot be written (ENOSPC), so the request was not answered; retry (another instance)' } };
      expect([feedback.statusCode, feedback.json(), feedback.headers['retry-after']]).toEqual([503, unavailable, '1']);
      if (policy === 'refuse') {
        expect([response.statusCode, response.json(), response.headers['retry-after']]).toEqual([503, unavailable, '1']);
      } else {
        expect([response.statusCode, response.json().request_id]).toEqual([200, requestIdNo(1)]);
      }
      // /ready tells a load balancer: not ready while refusing, degraded while serving unlogged.
      const ready = await router.app.inject({ method: 'GET', url: '/ready' });
      expect([ready.statusCode, ready.json().reasons]).toEqual([policy === 'refuse' ? 503 : 200, ['the predictions log cannot be written (ENOSPC)']]);
      if (policy === 'serve') expect(ready.json().status).toBe('degraded');
      const metrics = await router.metrics.registry.metrics();
      expect(metrics).toContain('driftgate_router_log_rows_failed_total{event="prediction"} 1\n');
      expect(metrics).toContain('driftgate_router_log_rows_failed_total{event="feedback"} 1\n');
      await router.app.close();
    }
  });

  it('assigns by the versioned hash: each user always gets the same variant, and B gets its share', async () => {
    const router = await testRouter({ patch: { router: { ab_split_b: 0.3 } } });
    const seed = router.config.current.router.assignment_seed;
    const users = Array.from({ length: 300 }, (_, i) => `user-${i}`);
    const first = await Promise.all(users.map((u) => predict(router, u)));
    const second = await Promise.all(users.map((u) => predict(router, u)));
    const variants = first.map((r) => r.json().variant as string);
    expect(second.map((r) => r.json().variant)).toEqual(variants);
    expect(variants).toEqual(users.map((u) => assignVariant(u, { splitB: 0.3, seed, stagingAvailable: true })));
    for (const r of first) {
      const body = r.json();
      expect([body.alias, body.model_version]).toEqual(body.variant === 'A' ? ['prod', '1'] : ['staging', '2']);
    }
    const b = variants.filter((v) => v === 'B').length;
    expect(b).toBe(users.filter((u) => assignVariant(u, { splitB: 0.3, seed, stagingAvailable: true }) === 'B').length);
    // The admin token sees the seed (see test/router/labels.test.ts for GET /ab without it).
    const ab = (await router.app.inject({ method: 'GET', url: '/ab', headers: { authorization: 'Bearer test-admin-token' } })).json();
    expect(ab).toEqual({
      ab_split_b: 0.3,
      prod: { version: '1', state: 'serving' },
      staging: { version: '2', state: 'serving' },
      counts: { A: 600 - 2 * b, B: 2 * b },
      assignment: { hash_version: 1, seed, staging_available: true },
      labels: 'token',
    });
    await router.app.close();
  });

  it('coalesces concurrent requests into batches of at most batch_max_size', async () => {
    const router = await testRouter({ patch: { router: { ab_split_b: 0, batch_max_size: 16, batch_max_wait_ms: 20 } } });
    const responses = await Promise.all(Array.from({ length: 64 }, (_, i) => predict(router, `u${i}`)));
    expect(responses.every((r) => r.statusCode === 200)).toBe(true);
    expect(router.pool.calls.reduce((n, c) => n + c.rows, 0)).toBe(64);
    expect(router.pool.calls.every((c) => c.rows <= 16)).toBe(true);
    expect(router.pool.calls.length).toBeLessThanOrEqual(8);
    await router.app.close();
  });

  it('sends everyone to A at split 0 and without a staging alias, and everyone to B at split 1', async () => {
    const users = Array.from({ length: 40 }, (_, i) => `user-${i}`);
    const variantsOf = async (router: TestRouter) => new Set((await Promise.all(users.map((u) => predict(router, u)))).map((r) => r.json().variant));
    const zero = await testRouter({ patch: { router: { ab_split_b: 0 } } });
    expect(await variantsOf(zero)).toEqual(new Set(['A']));
    const noStaging = await testRouter({ patch: { router: { ab_split_b: 1 } }, aliases: { prod: '1' } });
    expect(await variantsOf(noStaging)).toEqual(new Set(['A']));
    expect((await noStaging.app.inject({ method: 'GET', url: '/ab' })).json().staging).toBeNull();
    const one = await testRouter({ patch: { router: { ab_split_b: 1 } } });
    expect(await variantsOf(one)).toEqual(new Set(['B']));
    for (const r of [zero, noStaging, one]) await r.app.close();
  });

  it('answers 503 MODEL_UNAVAILABLE with the reason when no prod model is loaded', async () => {
    const router = await testRouter({ aliases: {} });
    const response = await predict(router, 'alice');
    expect(response.statusCode).toBe(503);
    expect(response.json()).toEqual({ error: { code: 'MODEL_UNAVAILABLE', message: 'no prod model is loaded: no version of driftgate-iris has the alias prod' } });
    expect(router.sink.predictions).toEqual([]);
    await router.app.close();
  });

  it('answers 503 SHUTTING_DOWN while draining', async () => {
    const router = await testRouter();
    router.lifecycle.draining = true;
    const response = await predict(router, 'alice');
    expect(response.statusCode).toBe(503);
    expect(response.headers.connection).toBe('close');
    expect(response.json()).toEqual({ error: { code: 'SHUTTING_DOWN', message: 'the router is shutting down; retry on another instance' } });
    await router.app.close();
  });
});

describe('the split follows the YAML', () => {
  it('PUT /ab rewrites the file atomically, keeping comments, and applies at once', async () => {
    const router = await testRouter({ patch: { router: { ab_split_b: 0.5 } } });
    const original = readFileSync(router.configFile, 'utf8').replace('ab_split_b: 0.5', 'ab_split_b: 0.5 # share of users sent to staging');
    writeFileSync(router.configFile, `# Driftgate test config\n${original}`);
    const response = await router.app.inject({ method: 'PUT', url: '/ab', payload: '{"ab_split_b": 0.2}', headers: ADMIN });
    expect(response.statusCode).toBe(200);
    expect(response.json().ab_split_b).toBe(0.2);
    expect(readFileSync(router.configFile, 'utf8')).toBe(`# Driftgate test config\n${original.replace('ab_split_b: 0.5 #', 'ab_split_b: 0.2 #')}`);
    expect(router.config.current.router.ab_split_b).toBe(0.2);
    expect(await router.config.check()).toBe('unchanged');
    const metrics = (await router.app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toContain('driftgate_router_ab_split_b 0.2\n');
    await router.app.close();
  });

  it('PUT /ab refuses to write into a config file that is invalid right now', async () => {
    const router = await testRouter();
    appendFileSync(router.configFile, '\nbogus_section: 1\n');
    const response = await router.app.inject({ method: 'PUT', url: '/ab', payload: '{"ab_split_b": 0.2}', headers: ADMIN });
    expect(response.statusCode).toBe(503);
    expect(response.json()).toEqual({
      error: {
        code: 'CONFIG_INVALID',
        message: `the split was not written because the config file is invalid: ${router.configFile}: bogus_section: unknown key "bogus_section"; expected one of dataset, drift, training, mlflow, router, ab, performance, airflow`,
      },
    });
    expect(router.config.current.router.ab_split_b).toBe(0);
    await router.app.close();
  });

  it('a hand edit applies; an invalid edit is logged once and the last good config stays; restart-only keys are reported', async () => {
    const router = await testRouter({ patch: { router: { ab_split_b: 0.5 } } });
    const { lines, logger } = capture();
    const live = new LiveConfig(router.config.current, { DRIFTGATE_ADMIN_TOKEN: 'test-admin-token', DRIFTGATE_LABEL_TOKEN: 'test-label-token' });
    live.start(logger);
    live.stop();
    await live.check();
    const text = readFileSync(router.configFile, 'utf8');
    writeFileSync(router.configFile, text.replace('ab_split_b: 0.5', 'ab_split_b: 0.1'));
    expect(await live.check()).toBe('applied');
    expect(live.current.router.ab_split_b).toBe(0.1);
    writeFileSync(router.configFile, text.replace('ab_split_b: 0.5', 'ab_split_b: 3'));
    expect(await live.check()).toBe('rejected');
    expect(await live.check()).toBe('unchanged');
    expect(live.current.router.ab_split_b).toBe(0.1);
    writeFileSync(router.configFile, text.replace('ab_split_b: 0.5', 'ab_split_b: 0.4').replace(/^  workers: \d+$/m, '  workers: 7'));
    expect(await live.check()).toBe('applied');
    expect(live.current.router.ab_split_b).toBe(0.4);
    expect(live.current.router.workers).toBe(router.config.current.router.workers);
    expect(lines.map((l) => [l.level, l.message])).toEqual([
      ['info', 'ab_split_b is now 0.1 (was 0.5)'],
      ['warn', `config edit rejected, the last good config stays in force: ${router.configFile}: router.ab_split_b: expected a number >= 0 and <= 1, got number 3`],
      ['warn', 'config keys changed that apply only after a restart: router.workers'],
      ['info', 'ab_split_b is now 0.4 (was 0.1)'],
    ]);
    await router.app.close();
  });
});

describe('models follow the aliases', () => {
  it('loads a new version before the old one retires; every answer names the version that made it', async () => {
    const router = await testRouter({ patch: { router: { ab_split_b: 0 } } });
    let open!: () => void;
    router.pool.gate = new Promise<void>((resolve) => (open = resolve));
    router.registry.aliases.prod = '3';
    const reload = router.app.inject({ method: 'POST', url: '/admin/reload', headers: { authorization: 'Bearer test-admin-token' } });
    await new Promise((resolve) => setTimeout(resolve, 20));
    const during = await Promise.all(Array.from({ length: 20 }, (_, i) => predict(router, `u${i}`)));
    expect(during.map((r) => [r.statusCode, r.json().model_version])).toEqual(Array.from({ length: 20 }, () => [200, '1']));
    expect((await router.app.inject({ method: 'GET', url: '/ab' })).json().prod).toEqual({ version: '1', state: 'loading' });
    open();
    const reloaded = await reload;
    expect(reloaded.statusCode).toBe(200);
    expect(reloaded.json().prod).toEqual({ alias: 'prod', version: '3', resolved: '3', state: 'serving', error: null });
    const after = await predict(router, 'u1');
    expect(after.json().model_version).toBe('3');
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(router.pool.unloaded).toEqual(['1']);
    expect(router.sink.predictions.map((p) => p.version)).toEqual([...Array.from({ length: 20 }, () => '1'), '3']);
    await router.app.close();
  });

  it('keeps the old version when a new one fails to load, and reports it on /ready', async () => {
    const router = await testRouter({ patch: { router: { ab_split_b: 0 } } });
    router.pool.broken.add('4');
    router.registry.aliases.prod = '4';
    await router.models.reload();
    expect((await predict(router, 'u1')).json().model_version).toBe('1');
    const ready = await router.app.inject({ method: 'GET', url: '/ready' });
    expect(ready.statusCode).toBe(200);
    expect(ready.json().status).toBe('degraded');
    expect(ready.json().reasons).toEqual([
      'version 4 of driftgate-iris (alias prod) could not be loaded: loading models:/driftgate-iris/4 failed: OSError: no such artifact',
    ]);
    await router.app.close();
  });

  it('refuses a model whose classes are not the configured ones', async () => {
    const router = await testRouter({ load: false });
    router.pool.classes = ['0', '1', '2'];
    await router.models.refresh();
    const response = await predict(router, 'u1');
    expect(response.statusCode).toBe(503);
    expect(response.json().error.message).toBe(
      'no prod model is loaded: version 1 of driftgate-iris (alias prod) could not be loaded: expected class labels among setosa, versicolor, virginica (dataset.classes), got 0, 1, 2 from version 1',
    );
    await router.app.close();
  });

  it('sends B users to prod when the staging alias is removed, and says so', async () => {
    const router = await testRouter({ patch: { router: { ab_split_b: 1 } } });
    expect((await predict(router, 'u1')).json().variant).toBe('B');
    delete router.registry.aliases.staging;
    await router.models.reload();
    const response = (await predict(router, 'u1')).json();
    expect([response.variant, response.alias, response.model_version]).toEqual(['A', 'prod', '1']);
    expect((await router.app.inject({ method: 'GET', url: '/ab' })).json().staging).toBeNull();
    await router.app.close();
  });
});

describe('GET /health, /ready, /metrics', () => {
  it('/ready is 503 with the reasons until the models are loaded, then 200', async () => {
    const router = await testRouter({ load: false });
    expect((await router.app.inject({ method: 'GET', url: '/health' })).json()).toEqual({ status: 'ok', uptime_s: 0 });
    const before = await router.app.inject({ method: 'GET', url: '/ready' });
    expect(before.statusCode).toBe(503);
    expect(before.json().error).toEqual({ code: 'NOT_READY', message: 'no prod model is loaded: the model registry at http://registry.test has not answered yet' });
    await router.models.refresh();
    const after = await router.app.inject({ method: 'GET', url: '/ready' });
    expect(after.statusCode).toBe(200);
    expect(after.json()).toMatchObject({ status: 'ready', reasons: [], models: { prod: { version: '1', state: 'serving' }, staging: { version: '2', state: 'serving' } } });
    await router.app.close();
  });

  it('the registry going down changes nothing for the loaded models; /ready says degraded', async () => {
    const router = await testRouter({ patch: { router: { ab_split_b: 0.5 } } });
    router.registry.down = 'cannot reach the MLflow tracking server at http://registry.test (ECONNREFUSED)';
    await router.models.refresh();
    const answers = await Promise.all(Array.from({ length: 30 }, (_, i) => predict(router, `u${i}`)));
    expect(answers.every((r) => r.statusCode === 200)).toBe(true);
    const ready = await router.app.inject({ method: 'GET', url: '/ready' });
    expect(ready.statusCode).toBe(200);
    expect(ready.json().status).toBe('degraded');
    expect(ready.json().reasons).toEqual([
      'the model registry is unreachable (cannot reach the MLflow tracking server at http://registry.test (ECONNREFUSED)); the loaded models keep serving',
    ]);
    await router.app.close();
  });

  it('/metrics exposes requests, errors, latency per variant, batch sizes, restarts and the split', async () => {
    const router = await testRouter({ patch: { router: { ab_split_b: 1 } } });
    await predict(router, 'u1');
    await router.app.inject({ method: 'POST', url: '/predict', payload: '{', headers: JSON_TYPE });
    const response = await router.app.inject({ method: 'GET', url: '/metrics' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    const text = response.body;
    for (const line of [
      'driftgate_router_predictions_total{variant="B",alias="staging",model_version="2"} 1',
      'driftgate_router_prediction_latency_seconds_count{variant="B"} 1',
      'driftgate_router_rejected_requests_total{code="INVALID_JSON"} 1',
      'driftgate_router_http_requests_total{route="/predict",method="POST",status="200"} 1',
      'driftgate_router_http_requests_total{route="/predict",method="POST",status="400"} 1',
      'driftgate_router_batch_size_count{alias="staging"} 1',
      'driftgate_router_worker_restarts_total 0',
      'driftgate_router_ab_split_b 1',
      'driftgate_router_assignment_hash_version 1',
    ]) {
      expect(text).toContain(`${line}\n`);
    }
    await router.app.close();
  });
});
