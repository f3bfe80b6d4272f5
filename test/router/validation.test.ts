/**
 * Input validation through app.inject(): every bad input gets a 4xx with a stable code, the field
 * and an "expected X, got Y" message; nothing a client sends produces a 500.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seededRandom } from '../../src/random.js';
import { IRIS_ROW, predictBody, requestIdNo, testRouter, type TestRouter } from './build.js';

let router: TestRouter;
beforeAll(async () => {
  router = await testRouter({ patch: { router: { body_limit_bytes: 1024, ab_split_b: 0.5 } } });
});
afterAll(async () => {
  await router.app.close();
});

const FEATURES = 'sepal_length, sepal_width, petal_length, petal_width';
const JSON_TYPE = { 'content-type': 'application/json' };
/** Labels need the label token (router.labels: token, the default). */
const LABELLER = { ...JSON_TYPE, authorization: 'Bearer test-label-token' };

interface Case {
  name: string;
  payload: string;
  headers?: Record<string, string>;
  status: number;
  code: string;
  field?: string;
  message: string;
}

const withFeature = (name: string, value: unknown): Record<string, unknown> => ({ ...IRIS_ROW, [name]: value });
const { petal_width: _dropped, ...missingOne } = IRIS_ROW;

const predictCases: Case[] = [
  { name: 'missing user_id', payload: JSON.stringify({ features: IRIS_ROW }), status: 400, code: 'VALIDATION_FAILED', field: 'user_id', message: 'expected user_id, got nothing' },
  {
    name: 'empty user_id',
    payload: predictBody(''),
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'user_id',
    message: 'expected a non-empty string of at most 128 characters without control characters or lone surrogates, got an empty string',
  },
  {
    name: 'user_id of 129 characters',
    payload: predictBody('u'.repeat(129)),
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'user_id',
    message: 'expected a non-empty string of at most 128 characters without control characters or lone surrogates, got a string of 129 characters',
  },
  {
    name: 'user_id with a newline',
    payload: predictBody('user\n1'),
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'user_id',
    message: 'expected a non-empty string of at most 128 characters without control characters or lone surrogates, got a string with control characters',
  },
  {
    name: 'user_id with a lone surrogate (it cannot be written as UTF-8)',
    payload: '{"user_id": "user-\\ud800-1", "features": {"sepal_length": 5.1, "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 0.2}}',
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'user_id',
    message: 'expected a non-empty string of at most 128 characters without control characters or lone surrogates, got a string with a lone surrogate (not well-formed Unicode)',
  },
  { name: 'numeric user_id', payload: JSON.stringify({ user_id: 42, features: IRIS_ROW }), status: 400, code: 'VALIDATION_FAILED', field: 'user_id', message: 'expected a string, got number 42' },
  { name: 'missing features', payload: JSON.stringify({ user_id: 'u1' }), status: 400, code: 'VALIDATION_FAILED', field: 'features', message: 'expected features, got nothing' },
  { name: 'features as a list', payload: JSON.stringify({ user_id: 'u1', features: [5.1, 3.5, 1.4, 0.2] }), status: 400, code: 'VALIDATION_FAILED', field: 'features', message: 'expected a JSON object, got a list' },
  {
    name: 'a missing feature',
    payload: predictBody('u1', missingOne),
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'features.petal_width',
    message: `expected the feature "petal_width" (features must be exactly ${FEATURES}), got nothing`,
  },
  {
    name: 'an extra feature',
    payload: predictBody('u1', withFeature('petal_size', 1)),
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'features.petal_size',
    message: `expected only the features ${FEATURES}, got an unknown feature "petal_size"`,
  },
  { name: 'a numeric string', payload: predictBody('u1', withFeature('sepal_length', '5.1')), status: 400, code: 'VALIDATION_FAILED', field: 'features.sepal_length', message: 'expected a finite number, got "5.1"' },
  { name: 'the string "NaN"', payload: predictBody('u1', withFeature('sepal_width', 'NaN')), status: 400, code: 'VALIDATION_FAILED', field: 'features.sepal_width', message: 'expected a finite number, got "NaN"' },
  { name: 'the string "Infinity"', payload: predictBody('u1', withFeature('sepal_width', 'Infinity')), status: 400, code: 'VALIDATION_FAILED', field: 'features.sepal_width', message: 'expected a finite number, got "Infinity"' },
  { name: 'null', payload: predictBody('u1', withFeature('petal_length', null)), status: 400, code: 'VALIDATION_FAILED', field: 'features.petal_length', message: 'expected a finite number, got null' },
  { name: 'a boolean', payload: predictBody('u1', withFeature('petal_length', true)), status: 400, code: 'VALIDATION_FAILED', field: 'features.petal_length', message: 'expected a finite number, got boolean true' },
  {
    name: '1e999 (parses to Infinity)',
    payload: '{"user_id": "u1", "features": {"sepal_length": 1e999, "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 0.2}}',
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'features.sepal_length',
    message: 'expected a finite number, got number Infinity',
  },
  {
    name: '-1e999 (parses to -Infinity)',
    payload: '{"user_id": "u1", "features": {"sepal_length": -1e999, "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 0.2}}',
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'features.sepal_length',
    message: 'expected a finite number, got number -Infinity',
  },
  {
    name: '1e308 (finite, beyond the float32 range the models compute in)',
    payload: '{"user_id": "u1", "features": {"sepal_length": 5.1, "sepal_width": 3.5, "petal_length": 1e308, "petal_width": 0.2}}',
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'features.petal_length',
    message: 'expected a finite number within ±3.4028234663852886e+38 (the float32 range), got number 1e+308',
  },
  {
    name: '-1e308',
    payload: '{"user_id": "u1", "features": {"sepal_length": -1e308, "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 0.2}}',
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'features.sepal_length',
    message: 'expected a finite number within ±3.4028234663852886e+38 (the float32 range), got number -1e+308',
  },
  {
    name: 'a NaN token (not JSON)',
    payload: '{"user_id": "u1", "features": {"sepal_length": NaN, "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 0.2}}',
    status: 400,
    code: 'INVALID_JSON',
    message: 'expected a JSON body, got text that does not parse as JSON (NaN and Infinity are not JSON numbers; __proto__ and constructor keys are refused)',
  },
  {
    name: 'an Infinity token (not JSON)',
    payload: '{"user_id": "u1", "features": {"sepal_length": Infinity, "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 0.2}}',
    status: 400,
    code: 'INVALID_JSON',
    message: 'expected a JSON body, got text that does not parse as JSON (NaN and Infinity are not JSON numbers; __proto__ and constructor keys are refused)',
  },
  { name: 'an unknown label', payload: predictBody('u1', IRIS_ROW, { label: 'daisy' }), status: 400, code: 'VALIDATION_FAILED', field: 'label', message: 'expected one of the classes setosa, versicolor, virginica, got "daisy"' },
  { name: 'a numeric label', payload: predictBody('u1', IRIS_ROW, { label: 1 }), status: 400, code: 'VALIDATION_FAILED', field: 'label', message: 'expected a string, got number 1' },
  { name: 'an extra field', payload: predictBody('u1', IRIS_ROW, { variant: 'B' }), status: 400, code: 'VALIDATION_FAILED', field: 'variant', message: 'expected no field "variant", got one' },
  {
    name: 'broken JSON',
    payload: '{"user_id": "u1", "features": {',
    status: 400,
    code: 'INVALID_JSON',
    message: 'expected a JSON body, got text that does not parse as JSON (NaN and Infinity are not JSON numbers; __proto__ and constructor keys are refused)',
  },
  {
    name: 'a __proto__ key',
    payload: '{"user_id": "u1", "features": {"sepal_length": 5.1, "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 0.2}, "__proto__": {"admin": true}}',
    status: 400,
    code: 'INVALID_JSON',
    message: 'expected a JSON body, got text that does not parse as JSON (NaN and Infinity are not JSON numbers; __proto__ and constructor keys are refused)',
  },
  { name: 'an empty body', payload: '', status: 400, code: 'INVALID_JSON', message: 'expected a JSON body, got an empty body' },
  { name: 'a JSON list', payload: '[1, 2]', status: 400, code: 'VALIDATION_FAILED', message: 'expected a JSON object, got a list' },
  { name: 'JSON null', payload: 'null', status: 400, code: 'VALIDATION_FAILED', message: 'expected a JSON object, got null' },
  {
    name: 'a body over the limit',
    payload: predictBody('u1', IRIS_ROW, { padding: 'x'.repeat(2000) }),
    status: 413,
    code: 'BODY_TOO_LARGE',
    message: 'expected a body of at most 1024 bytes (router.body_limit_bytes), got more',
  },
  {
    name: 'text/plain',
    payload: predictBody('u1'),
    headers: { 'content-type': 'text/plain' },
    status: 400,
    code: 'UNSUPPORTED_MEDIA_TYPE',
    message: 'expected Content-Type: application/json, got "text/plain"',
  },
  {
    name: 'a form',
    payload: 'user_id=u1',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    status: 400,
    code: 'UNSUPPORTED_MEDIA_TYPE',
    message: 'expected Content-Type: application/json, got "application/x-www-form-urlencoded"',
  },
];

describe('POST /predict rejects bad input', () => {
  it.each(predictCases)('$name -> $status $code', async ({ payload, headers, status, code, field, message }) => {
    const response = await router.app.inject({ method: 'POST', url: '/predict', payload, headers: headers ?? JSON_TYPE });
    expect(response.statusCode).toBe(status);
    expect(response.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(response.json()).toEqual({ error: { code, message, ...(field === undefined ? {} : { field }) } });
  });

  it('a body without Content-Type -> 400 UNSUPPORTED_MEDIA_TYPE', async () => {
    const response = await router.app.inject({ method: 'POST', url: '/predict', payload: Buffer.from(predictBody('u1')) });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toEqual({ error: { code: 'UNSUPPORTED_MEDIA_TYPE', message: 'expected Content-Type: application/json, got no Content-Type' } });
  });

  it('accepts application/json with a charset, and a valid body answers 200', async () => {
    const response = await router.app.inject({ method: 'POST', url: '/predict', payload: predictBody('u1', IRIS_ROW, { label: 'setosa' }), headers: { 'content-type': 'application/json; charset=utf-8', authorization: 'Bearer test-label-token' } });
    expect(response.statusCode).toBe(200);
  });

  it('nothing was logged or predicted for any rejected request', () => {
    expect(router.sink.predictions.map((p) => p.userId)).toEqual(['u1']);
  });
});

describe('other routes reject bad input', () => {
  const cases: (Omit<Case, 'payload'> & { method: 'GET' | 'POST' | 'PUT' | 'DELETE'; url: string; payload?: string })[] = [
    { name: 'GET /predict', method: 'GET', url: '/predict', status: 404, code: 'NOT_FOUND', message: 'expected one of POST /predict, POST /feedback, GET /ab, PUT /ab, POST /admin/reload, GET /health, GET /ready, GET /metrics, GET /status, GET /status.json, GET /reports/<kind>/<id>/<file>; got GET /predict' },
    { name: 'an unknown route', method: 'DELETE', url: '/models/1?x=1', status: 404, code: 'NOT_FOUND', message: 'expected one of POST /predict, POST /feedback, GET /ab, PUT /ab, POST /admin/reload, GET /health, GET /ready, GET /metrics, GET /status, GET /status.json, GET /reports/<kind>/<id>/<file>; got DELETE /models/1' },
    {
      name: 'feedback for an unknown request_id',
      method: 'POST',
      url: '/feedback',
      payload: JSON.stringify({ request_id: 'nope', label: 'setosa' }),
      headers: LABELLER,
      status: 404,
      code: 'NOT_FOUND',
      field: 'request_id',
      message: 'expected the request_id of a prediction answered by a router of this deployment, got "nope"',
    },
    {
      name: 'feedback for a forged request_id (the right shape, a wrong signature)',
      method: 'POST',
      url: '/feedback',
      payload: JSON.stringify({ request_id: `${requestIdNo(1).slice(0, -22)}${'A'.repeat(22)}`, label: 'setosa' }),
      headers: LABELLER,
      status: 404,
      code: 'NOT_FOUND',
      field: 'request_id',
      message: `expected the request_id of a prediction answered by a router of this deployment, got ${JSON.stringify(`${requestIdNo(1).slice(0, -22)}${'A'.repeat(22)}`)}`,
    },
    { name: 'feedback without a label', method: 'POST', url: '/feedback', payload: JSON.stringify({ request_id: requestIdNo(1) }), headers: LABELLER, status: 400, code: 'VALIDATION_FAILED', field: 'label', message: 'expected label, got nothing' },
    {
      name: 'feedback with an unknown label',
      method: 'POST',
      url: '/feedback',
      payload: JSON.stringify({ request_id: requestIdNo(1), label: 'rose' }),
      headers: LABELLER,
      status: 400,
      code: 'VALIDATION_FAILED',
      field: 'label',
      message: 'expected one of the classes setosa, versicolor, virginica, got "rose"',
    },
    { name: 'PUT /ab without a token', method: 'PUT', url: '/ab', payload: '{"ab_split_b": 0.3}', status: 401, code: 'UNAUTHORIZED', message: 'expected Authorization: Bearer <admin token>, got no Authorization header' },
    {
      name: 'PUT /ab with a wrong token',
      method: 'PUT',
      url: '/ab',
      payload: '{"ab_split_b": 0.3}',
      headers: { ...JSON_TYPE, authorization: 'Bearer wrong' },
      status: 401,
      code: 'UNAUTHORIZED',
      message: 'expected Authorization: Bearer <admin token>, got a wrong token',
    },
    {
      name: 'PUT /ab with basic auth',
      method: 'PUT',
      url: '/ab',
      payload: '{"ab_split_b": 0.3}',
      headers: { ...JSON_TYPE, authorization: 'Basic dGVzdDp0ZXN0' },
      status: 401,
      code: 'UNAUTHORIZED',
      message: 'expected Authorization: Bearer <admin token>, got a header that is not a bearer token',
    },
    {
      name: 'PUT /ab with a split above 1',
      method: 'PUT',
      url: '/ab',
      payload: '{"ab_split_b": 1.5}',
      headers: { ...JSON_TYPE, authorization: 'Bearer test-admin-token' },
      status: 400,
      code: 'VALIDATION_FAILED',
      field: 'ab_split_b',
      message: 'expected a number from 0 to 1, got number 1.5',
    },
    {
      name: 'PUT /ab with a string split',
      method: 'PUT',
      url: '/ab',
      payload: '{"ab_split_b": "0.5"}',
      headers: { ...JSON_TYPE, authorization: 'Bearer test-admin-token' },
      status: 400,
      code: 'VALIDATION_FAILED',
      field: 'ab_split_b',
      message: 'expected a finite number, got "0.5"',
    },
    { name: 'POST /admin/reload without a token', method: 'POST', url: '/admin/reload', status: 401, code: 'UNAUTHORIZED', message: 'expected Authorization: Bearer <admin token>, got no Authorization header' },
  ];
  it.each(cases)('$name -> $status $code', async ({ method, url, payload, headers, status, code, field, message }) => {
    const response = await router.app.inject({ method, url, payload, headers: headers ?? (payload ? JSON_TYPE : {}) });
    expect(response.statusCode).toBe(status);
    expect(response.json()).toEqual({ error: { code, message, ...(field === undefined ? {} : { field }) } });
    if (status === 401) expect(response.headers['www-authenticate']).toBe('Bearer realm="driftgate"');
  });

  it('admin routes are off without DRIFTGATE_ADMIN_TOKEN: 401 ADMIN_DISABLED', async () => {
    const open = await testRouter({ env: {} });
    const response = await open.app.inject({ method: 'PUT', url: '/ab', payload: '{"ab_split_b": 0.3}', headers: { ...JSON_TYPE, authorization: 'Bearer anything' } });
    expect(response.statusCode).toBe(401);
    expect(response.json()).toEqual({
      error: { code: 'ADMIN_DISABLED', message: 'expected the router to be started with DRIFTGATE_ADMIN_TOKEN set for admin routes, got no token; admin routes are disabled' },
    });
    await open.app.close();
  });
});

describe('rate limiting', () => {
  it('answers 429 RATE_LIMITED past router.rate_limit, and never limits /health, /ready, /metrics', async () => {
    const limited = await testRouter({ patch: { router: { rate_limit: { max: 3, window_ms: 60_000 } } } });
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await limited.app.inject({ method: 'POST', url: '/predict', payload: predictBody(`u${i}`), headers: JSON_TYPE })).statusCode);
    expect(statuses).toEqual([200, 200, 200, 429]);
    const refused = await limited.app.inject({ method: 'POST', url: '/predict', payload: predictBody('u9'), headers: JSON_TYPE });
    expect(refused.json()).toEqual({
      error: { code: 'RATE_LIMITED', message: 'expected at most 3 requests per 60000 ms from one client (router.rate_limit), got more; retry in 1 minute' },
    });
    expect(refused.headers['retry-after']).toBe('60');
    for (const url of ['/health', '/ready', '/metrics']) expect((await limited.app.inject({ method: 'GET', url })).statusCode).toBe(200);
    await limited.app.close();
  });
});

describe('nothing a client sends is a 500', () => {
  it('600 random bodies, content types and paths answer only contract statuses', async () => {
    const random = seededRandom(20260506);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
    const values = (): unknown => pick([null, true, 0, -1, 1e308, 'x', '', '\u0000', 'é'.repeat(200), [], {}, [1, 'a'], { a: { b: [] } }, 5.1, 'NaN']);
    const bodies = (): string => {
      switch (Math.floor(random() * 6)) {
        case 0:
          return JSON.stringify({ user_id: values(), features: values(), label: values() });
        case 1:
          return JSON.stringify({ user_id: 'u', features: Object.fromEntries(['sepal_length', 'sepal_width', 'petal_length', 'petal_width', 'x'].map((k) => [k, values()])) });
        case 2:
          return Array.from({ length: Math.floor(random() * 64) }, () => String.fromCharCode(Math.floor(random() * 256))).join('');
        case 3:
          return JSON.stringify(values());
        case 4:
          return `{"user_id": "u", "features": ${'['.repeat(400)}`;
        default:
          return JSON.stringify({ request_id: values(), label: values(), ab_split_b: values() });
      }
    };
    const seen = new Set<number>();
    for (let i = 0; i < 600; i++) {
      const response = await router.app.inject({
        method: pick(['POST', 'PUT', 'GET', 'PATCH'] as const),
        url: pick(['/predict', '/feedback', '/ab', '/admin/reload', '/nope', '/predict?x=%zz']),
        payload: bodies(),
        headers: { 'content-type': pick(['application/json', 'application/json; charset=latin1', 'text/plain', 'application/octet-stream']), authorization: pick(['', 'Bearer test-admin-token', 'Bearer x']) },
      });
      seen.add(response.statusCode);
      expect([200, 202, 400, 401, 404, 413, 429, 503]).toContain(response.statusCode);
      if (response.statusCode >= 400) expect(Object.keys(response.json().error).sort()).toEqual(expect.arrayContaining(['code', 'message']));
    }
    expect(seen.has(400)).toBe(true);
  });
});
