/**
 * Who may send labels (router.labels, DRIFTGATE_LABEL_TOKEN) and who sees the assignment seed
 * (GET /ab), through app.inject() over the stub pool and registry.
 */
import { describe, expect, it } from 'vitest';
import { FIXED_NOW, IRIS_ROW, predictBody, requestIdNo, testRouter, type TestRouter } from './build.js';

const JSON_TYPE = { 'content-type': 'application/json' };
const bearer = (token: string) => ({ ...JSON_TYPE, authorization: `Bearer ${token}` });
const LABEL_TOKEN = 'test-label-token';
const ADMIN_TOKEN = 'test-admin-token';

const UNAUTHORIZED = (got: string) => ({
  error: { code: 'LABEL_UNAUTHORIZED', message: `expected Authorization: Bearer <label token> (DRIFTGATE_LABEL_TOKEN, or the admin token) to send a label, got ${got}` },
});
const DISABLED = {
  error: {
    code: 'LABELS_DISABLED',
    message: 'expected the router to be started with DRIFTGATE_LABEL_TOKEN set (or router.labels: open) to accept labels, got no label token; labels are refused',
  },
};

function feedback(router: TestRouter, requestId: string, label: string, headers: Record<string, string> = JSON_TYPE) {
  return router.app.inject({ method: 'POST', url: '/feedback', payload: JSON.stringify({ request_id: requestId, label }), headers });
}

function predict(router: TestRouter, userId: string, extra: Record<string, unknown>, headers: Record<string, string> = JSON_TYPE) {
  return router.app.inject({ method: 'POST', url: '/predict', payload: predictBody(userId, IRIS_ROW, extra), headers });
}

async function refusedCounts(router: TestRouter): Promise<Record<string, number>> {
  const metric = await router.metrics.registry.getSingleMetric('driftgate_router_labels_refused_total')!.get();
  return Object.fromEntries(metric.values.map((v) => [String(v.labels.reason), v.value]));
}

describe('labels need the label token (router.labels: token, the default)', () => {
  it('POST /feedback without the token: 401 LABEL_UNAUTHORIZED before the body is read, and no row', async () => {
    const router = await testRouter({ patch: { router: { ab_split_b: 0 } } });
    expect((await predict(router, 'alice', {})).statusCode).toBe(200);
    const cases: [Record<string, string>, string][] = [
      [JSON_TYPE, 'no Authorization header'],
      [bearer('wrong'), 'a wrong token'],
      [{ ...JSON_TYPE, authorization: 'Basic dGVzdDp0ZXN0' }, 'a header that is not a bearer token'],
    ];
    for (const [headers, got] of cases) {
      const response = await feedback(router, requestIdNo(1), 'setosa', headers);
      expect([response.statusCode, response.json(), response.headers['www-authenticate']]).toEqual([401, UNAUTHORIZED(got), 'Bearer realm="driftgate"']);
    }
    // A body that does not parse is never parsed without the token: 401, not 400 INVALID_JSON.
    const unparsed = await router.app.inject({ method: 'POST', url: '/feedback', payload: '{', headers: JSON_TYPE });
    expect([unparsed.statusCode, unparsed.json()]).toEqual([401, UNAUTHORIZED('no Authorization header')]);
    expect(router.sink.feedback).toEqual([]);
    expect(await refusedCounts(router)).toEqual({ no_header: 2, wrong_token: 1, not_bearer: 1 });
    const metrics = (await router.app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toContain('driftgate_router_labels_refused_total{reason="no_header"} 2\n');
    expect(metrics).toContain('driftgate_router_rejected_requests_total{code="LABEL_UNAUTHORIZED"} 4\n');
    await router.app.close();
  });

  it('POST /feedback with the label token, or with the admin token: 202 and one row each', async () => {
    const router = await testRouter({ patch: { router: { ab_split_b: 0 } } });
    await predict(router, 'alice', {});
    await predict(router, 'bob', {});
    const withLabelToken = await feedback(router, requestIdNo(1), 'setosa', bearer(LABEL_TOKEN));
    expect([withLabelToken.statusCode, withLabelToken.json()]).toEqual([202, { request_id: requestIdNo(1), label: 'setosa', status: 'accepted' }]);
    const withAdminToken = await feedback(router, requestIdNo(2), 'virginica', bearer(ADMIN_TOKEN));
    expect([withAdminToken.statusCode, withAdminToken.json()]).toEqual([202, { request_id: requestIdNo(2), label: 'virginica', status: 'accepted' }]);
    expect(router.sink.feedback).toEqual([
      { ts: FIXED_NOW, requestId: requestIdNo(1), label: 'setosa' },
      { ts: FIXED_NOW, requestId: requestIdNo(2), label: 'virginica' },
    ]);
    expect(await refusedCounts(router)).toEqual({});
    await router.app.close();
  });

  it('POST /predict with a label and no token: 401, nothing predicted or logged; without a label no token is needed', async () => {
    const router = await testRouter({ patch: { router: { ab_split_b: 0 } } });
    const refused = await predict(router, 'mallory', { label: 'setosa' });
    expect([refused.statusCode, refused.json()]).toEqual([401, UNAUTHORIZED('no Authorization header')]);
    const wrong = await predict(router, 'mallory', { label: 'setosa' }, bearer('guess'));
    expect([wrong.statusCode, wrong.json()]).toEqual([401, UNAUTHORIZED('a wrong token')]);
    expect(router.sink.predictions).toEqual([]);
    expect(router.pool.calls).toEqual([]);
    expect(router.config.current.router.labels).toBe('token');
    // No label: no token asked for, and a wrong one is ignored.
    const plain = await predict(router, 'alice', {}, bearer('guess'));
    expect([plain.statusCode, plain.json().request_id]).toEqual([200, requestIdNo(3)]);
    const labelled = await predict(router, 'bob', { label: 'versicolor' }, bearer(LABEL_TOKEN));
    expect([labelled.statusCode, labelled.json().request_id]).toEqual([200, requestIdNo(4)]);
    expect(router.sink.predictions.map((p) => [p.userId, p.label])).toEqual([
      ['alice', null],
      ['bob', 'versicolor'],
    ]);
    expect(await refusedCounts(router)).toEqual({ no_header: 1, wrong_token: 1 });
    await router.app.close();
  });

  it('without DRIFTGATE_LABEL_TOKEN every label is refused, 401 LABELS_DISABLED, even with the admin token', async () => {
    const router = await testRouter({ patch: { router: { ab_split_b: 0 } }, env: { DRIFTGATE_ADMIN_TOKEN: ADMIN_TOKEN } });
    expect((await predict(router, 'alice', {})).statusCode).toBe(200);
    for (const headers of [JSON_TYPE, bearer(ADMIN_TOKEN)]) {
      const response = await feedback(router, requestIdNo(1), 'setosa', headers);
      expect([response.statusCode, response.json(), response.headers['www-authenticate']]).toEqual([401, DISABLED, 'Bearer realm="driftgate"']);
    }
    const inline = await predict(router, 'bob', { label: 'setosa' }, bearer(ADMIN_TOKEN));
    expect([inline.statusCode, inline.json()]).toEqual([401, DISABLED]);
    expect(router.sink.feedback).toEqual([]);
    expect(router.sink.predictions.map((p) => p.userId)).toEqual(['alice']);
    expect(await refusedCounts(router)).toEqual({ disabled: 3 });
    await router.app.close();
  });
});

describe('router.labels: open', () => {
  it('takes labels from anyone, as before, and GET /ab says so', async () => {
    const router = await testRouter({ patch: { router: { ab_split_b: 0, labels: 'open' } }, env: {} });
    const inline = await predict(router, 'alice', { label: 'setosa' });
    expect([inline.statusCode, inline.json().request_id]).toEqual([200, requestIdNo(1)]);
    await predict(router, 'bob', {});
    const accepted = await feedback(router, requestIdNo(2), 'virginica');
    expect([accepted.statusCode, accepted.json()]).toEqual([202, { request_id: requestIdNo(2), label: 'virginica', status: 'accepted' }]);
    expect(router.sink.predictions.map((p) => [p.userId, p.label])).toEqual([
      ['alice', 'setosa'],
      ['bob', null],
    ]);
    expect(router.sink.feedback).toEqual([{ ts: FIXED_NOW, requestId: requestIdNo(2), label: 'virginica' }]);
    expect((await router.app.inject({ method: 'GET', url: '/ab' })).json().labels).toBe('open');
    await router.app.close();
  });
});

describe('GET /ab shows the assignment seed to the admin token only', () => {
  it('omits assignment.seed without the admin token (none, a wrong one, the label token), includes it with it; PUT /ab answers with it', async () => {
    const router = await testRouter({ patch: { router: { ab_split_b: 0.25, assignment_seed: 'a-private-seed' } } });
    const publicView = {
      ab_split_b: 0.25,
      prod: { version: '1', state: 'serving' },
      staging: { version: '2', state: 'serving' },
      counts: { A: 0, B: 0 },
      assignment: { hash_version: 1, staging_available: true },
      labels: 'token',
    };
    for (const headers of [{}, { authorization: 'Bearer wrong' }, { authorization: `Bearer ${LABEL_TOKEN}` }, { authorization: 'Basic dGVzdDp0ZXN0' }]) {
      const response = await router.app.inject({ method: 'GET', url: '/ab', headers });
      expect([response.statusCode, response.json()]).toEqual([200, publicView]);
    }
    const admin = await router.app.inject({ method: 'GET', url: '/ab', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect([admin.statusCode, admin.json()]).toEqual([200, { ...publicView, assignment: { hash_version: 1, seed: 'a-private-seed', staging_available: true } }]);
    const put = await router.app.inject({ method: 'PUT', url: '/ab', payload: '{"ab_split_b": 0.5}', headers: bearer(ADMIN_TOKEN) });
    expect([put.statusCode, put.json()]).toEqual([200, { ...publicView, ab_split_b: 0.5, assignment: { hash_version: 1, seed: 'a-private-seed', staging_available: true } }]);
    await router.app.close();
  });

  it('never shows the seed when no admin token is configured', async () => {
    const router = await testRouter({ env: { DRIFTGATE_LABEL_TOKEN: LABEL_TOKEN } });
    const response = await router.app.inject({ method: 'GET', url: '/ab', headers: { authorization: 'Bearer anything' } });
    expect(response.json().assignment).toEqual({ hash_version: 1, staging_available: true });
    await router.app.close();
  });
});

describe('guessing a token is rate-limited like any request', () => {
  it('refused labels and refused admin calls count against router.rate_limit', async () => {
    const router = await testRouter({ patch: { router: { ab_split_b: 0, rate_limit: { max: 3, window_ms: 60_000 } } } });
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) statuses.push((await feedback(router, requestIdNo(1), 'setosa', bearer('guess'))).statusCode);
    for (let i = 0; i < 2; i++) {
      statuses.push((await feedback(router, requestIdNo(1), 'setosa', bearer('guess'))).statusCode);
      statuses.push((await router.app.inject({ method: 'PUT', url: '/ab', payload: '{"ab_split_b":0.5}', headers: bearer('guess') })).statusCode);
    }
    expect(statuses).toEqual([401, 401, 401, 429, 429, 429, 429]);
    expect(await refusedCounts(router)).toEqual({ wrong_token: 3 });
    await router.app.close();
  });
});
