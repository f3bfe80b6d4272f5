/**
 * The status page as a person sees it: a real router listening on a free port, /status loaded in
 * headless Chromium (Debian's package, installed when missing), the rendered text checked, and the
 * page shown to fetch nothing but itself, to log no error and to refresh itself.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Chromium, ensureChromium } from '../helpers/chromium.js';
import { AB_ID, DRIFT_ID, seededRouter, SECRET_SEED, type SeededRouter } from './status-seed.js';

let browser: Chromium;
let router: SeededRouter;
let base: string;
/** Paths the router was asked for, in order. */
const served: string[] = [];

beforeAll(async () => {
  // Installing Chromium with apt-get can take minutes on a fresh machine.
  browser = await Chromium.launch(await ensureChromium());
  router = await seededRouter();
  await router.app.listen({ host: '127.0.0.1', port: 0 });
  router.app.server.on('request', (request: http.IncomingMessage) => void served.push(request.url ?? ''));
  base = `http://127.0.0.1:${(router.app.server.address() as AddressInfo).port}`;
}, 1_200_000);

afterAll(async () => {
  await browser?.close();
  await router?.close();
});

/** The text of every table row, cell by cell, as rendered. */
const ROWS = `[...document.querySelectorAll('tr')].map((tr) => [...tr.cells].map((cell) => cell.innerText.trim()))`;

/** GET `path` on the router exactly as written (no client-side normalisation of `..`). */
function rawGet(path: string): Promise<number> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const request = http.request({ host: hostname, port, path, method: 'GET' }, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    request.on('error', reject);
    request.end();
  });
}

describe('the status page in headless Chromium', () => {
  it('renders the seeded versions and numbers, fetches nothing else, logs no error and refreshes itself', async () => {
    const page = await browser.newPage();
    await page.goto(`${base}/status`);

    expect(await page.evaluate<string>('document.title')).toBe('Driftgate status · iris <status> & "co"');
    expect(await page.evaluate<string | null>(`document.querySelector('meta[http-equiv="refresh"]')?.getAttribute('content') ?? null`)).toBe('10');
    const text = await page.evaluate<string>('document.body.innerText');
    expect(text).toContain('Driftgate status · iris <status> & "co"');
    expect(text).toContain('Pending transition: promote of v2 (replacing v1), started 2026-05-06T07:05:00.000Z: B beats A <i>by 0.15</i>. The next transition command completes it.');
    expect(text).toContain("Split: 0.3 of users go to B (router.ab_split_b) · shadow share: 0 of prod's requests (router.shadow_share)");
    expect(text).toContain('REJECT');
    expect(text).toContain('the latency guardrail is breached: mean latency B 20.0 ms vs A 12.5 ms <b>(+60%)</b>, always-valid p = 0.00012 < alpha 0.05');
    expect(text).toContain('B − A: difference 0.15, interval [0.08, 0.22] (90%, always-valid)');
    expect(text).toContain('drift detected: 2 of 4 features drifted, share drifted 0.5');
    expect(text).not.toContain(SECRET_SEED);

    expect(await page.evaluate<string[][]>(ROWS)).toEqual([
      ['variant', 'alias', 'version', 'state', 'holdout accuracy', 'CV accuracy', 'best model', 'notes'],
      ['A', 'prod', 'v1', 'serving', '0.9667', '0.95', 'LogisticRegression', ''],
      ['B', 'staging', 'v2', 'serving', '0.9333', '0.9417', 'Random Forest <Classifier>', ''],
      ['variant', 'alias', 'predictions', 'failures', 'failures by code'],
      ['A', 'prod', '3', '1', 'PREDICTION_FAILED 1'],
      ['B', 'staging', '2', '1', 'PREDICTION_FAILED 1'],
      ['variant', 'version', 'requests', 'failed', 'labelled', 'accuracy', 'interval', 'latency p50', 'latency p99'],
      ['A', 'v1', '1180', '20 (1.67%)', '1100', '0.75', '[0.7, 0.8] (95%, always-valid)', '11 ms', '30 ms'],
      ['B', 'v2', '590', '10 (1.67%)', '550', '0.9', '[0.85, 0.94] (95%, always-valid)', '18 ms', '45 ms'],
      ['feature', 'PSI', 'KS statistic', 'KS p-value', 'drifted'],
      ['sepal_length', '0', '0', '1', 'no'],
      ['sepal_width', '0', '0', '1', 'no'],
      ['petal_length', '4.005', '0.4133', '7.44e-12', 'yes'],
      ['petal_width', '3.188', '0.34', '4.41e-8', 'yes'],
    ]);
    // The accuracy chart is drawn inline.
    expect(await page.evaluate<number>(`document.querySelectorAll('svg circle').length`)).toBe(2);

    expect(page.problems.consoleErrors).toEqual([]);
    expect(page.problems.failedRequests).toEqual([]);
    // Self-contained: the page itself is the only request (no stylesheet, script, font, image or favicon).
    expect(page.problems.requests).toEqual([`${base}/status`]);

    // The browser reloads it by itself after 10 s.
    const loads = page.loadCount;
    await page.nextLoad(15_000);
    expect(page.loadCount).toBe(loads + 1);
    expect(served.filter((url) => url === '/status')).toHaveLength(2);
    expect(page.problems.consoleErrors).toEqual([]);
    expect(page.problems.failedRequests).toEqual([]);
  }, 120_000);

  it('its report links open the reports, served read-only; a traversal on the wire is 404', async () => {
    const page = await browser.newPage();
    await page.goto(`${base}/status`);
    const hrefs = await page.evaluate<string[]>(`[...document.querySelectorAll('a')].map((a) => a.href)`);
    expect(hrefs).toEqual([
      `${base}/status.json`,
      `${base}/reports/ab/${AB_ID}/report.html`,
      `${base}/reports/ab/${AB_ID}/report.json`,
      `${base}/reports/drift/${DRIFT_ID}/report.html`,
      `${base}/reports/drift/${DRIFT_ID}/report.json`,
    ]);
    await page.evaluate(`document.querySelector('a[href="/reports/ab/${AB_ID}/report.html"]').click()`);
    await page.nextLoad(15_000);
    expect(await page.evaluate<string>('location.pathname')).toBe(`/reports/ab/${AB_ID}/report.html`);
    expect(await page.evaluate<string>('document.title')).toBe(`A/B report ${AB_ID}: reject`);
    await page.goto(`${base}/reports/drift/${DRIFT_ID}/report.html`);
    expect(await page.evaluate<string>(`document.querySelector('h1').innerText`)).toBe('Drift detected');
    await page.goto(`${base}/status.json`);
    expect(JSON.parse(await page.evaluate<string>('document.body.innerText')).ab.report.id).toBe(AB_ID);
    expect(page.problems.consoleErrors).toEqual([]);
    expect(page.problems.failedRequests).toEqual([]);

    for (const path of ['/reports/ab/../../driftgate.yaml', `/reports/ab/${AB_ID}/../../../driftgate.yaml`, '/reports/ab/..%2F..%2Fdriftgate.yaml/report.json', '/reports/drift/%2e%2e/report.json']) {
      expect({ path, status: await rawGet(path) }).toEqual({ path, status: 404 });
    }
  }, 120_000);
});
