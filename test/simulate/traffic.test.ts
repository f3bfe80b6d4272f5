/** driftgate simulate's client against a real listening router app (stub models): labels carry the label token. */
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sendTraffic } from '../../src/simulate/traffic.js';
import { testRouter, type TestRouter } from '../router/build.js';

const ROWS = [
  { sepal_length: '5.1', sepal_width: '3.5', petal_length: '1.4', petal_width: '0.2', species: 'setosa' },
  { sepal_length: '6.3', sepal_width: '3.3', petal_length: '6.0', petal_width: '2.5', species: 'virginica' },
];

let router: TestRouter;
let baseUrl: string;
beforeAll(async () => {
  router = await testRouter({ patch: { router: { ab_split_b: 0 } } });
  await router.app.listen({ host: '127.0.0.1', port: 0 });
  baseUrl = `http://127.0.0.1:${(router.app.server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await router.app.close();
});

const send = (labels: 'inline' | 'feedback' | 'none', labelToken: string | null) =>
  sendTraffic(router.config.current, { baseUrl, requests: 6, users: 3, concurrency: 2, rows: ROWS, labels, labelToken, seed: 1 });

describe('sendTraffic', () => {
  it('sends labels (inline and as feedback) with the label token, and the router takes every one', async () => {
    const inline = await send('inline', 'test-label-token');
    expect([inline.ok, inline.failed, inline.statuses]).toEqual([6, 0, { '200': 6 }]);
    const feedback = await send('feedback', 'test-label-token');
    expect([feedback.ok, feedback.failed, feedback.statuses]).toEqual([6, 0, { '200': 6 }]);
    expect(router.sink.predictions.slice(0, 6).every((p) => p.label !== null)).toBe(true);
    expect(router.sink.feedback).toHaveLength(6);
  });

  it('without a token its labels are refused (401), and plain traffic needs none', async () => {
    const inline = await send('inline', null);
    expect([inline.ok, inline.failed, inline.statuses]).toEqual([0, 6, { '401': 6 }]);
    const feedback = await send('feedback', null);
    expect([feedback.ok, feedback.failed, feedback.statuses]).toEqual([6, 0, { '200': 6, 'feedback 401': 6 }]);
    const plain = await send('none', null);
    expect([plain.ok, plain.failed, plain.statuses]).toEqual([6, 0, { '200': 6 }]);
  });
});
