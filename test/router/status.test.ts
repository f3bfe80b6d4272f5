/**
 * GET /status, GET /status.json and the report files they link to, through app.inject() over the stub
 * models, a stand-in MLflow registry and reports written by the real writers.
 */
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { DriftReport } from '../../src/drift/index.js';
import { JOURNAL_TAG, type ModelVersion, type RegisteredModel } from '../../src/registry/index.js';
import { isReportId, reportJsonText, writeReportDir } from '../../src/report/index.js';
import { abView, redactUri, RegistryView, type StatusRegistry } from '../../src/router/status/index.js';
import { freePort } from '../helpers/net.js';
import { FIXED_NOW, TEST_REQUEST_KEY } from './build.js';
import { AB_ID, AB_REASON, DRIFT_ID, JOURNAL, MODEL_NAME, OLD_AB_ID, SECRET_SEED, seededRouter, SPLIT, VERSION_TAG_VALUES, type SeededRouter } from './status-seed.js';

const NOW = new Date(FIXED_NOW).toISOString();

const routers: SeededRouter[] = [];
async function seeded(options: Parameters<typeof seededRouter>[0] = {}): Promise<SeededRouter> {
  const router = await seededRouter(options);
  routers.push(router);
  return router;
}
afterEach(async () => {
  await Promise.all(routers.splice(0).map((r) => r.close()));
});

function driftReport(router: SeededRouter): DriftReport {
  return JSON.parse(readFileSync(path.join(router.config.current.drift.reports_dir, DRIFT_ID, 'report.json'), 'utf8')) as DriftReport;
}

describe('GET /status.json', () => {
  it('shows the seeded state exactly: versions and their metrics, split, traffic, the latest reports, the pending transition', async () => {
    const router = await seeded();
    const response = await router.app.inject({ method: 'GET', url: '/status.json' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(response.headers['cache-control']).toBe('no-store');
    const drift = driftReport(router);
    expect(drift.features.map((f) => [f.name, f.drifted])).toEqual([
      ['sepal_length', false],
      ['sepal_width', false],
      ['petal_length', true],
      ['petal_width', true],
    ]);
    expect(response.json()).toEqual({
      generated_at: NOW,
      model_name: MODEL_NAME,
      registry: {
        uri: router.config.current.mlflow.tracking_uri,
        reachable: true,
        unreachable_since: null,
        error: null,
        last_read: NOW,
        aliases_resolved_at: router.models.status().registry.last_success,
      },
      versions: {
        prod: {
          alias: 'prod',
          version: '1',
          resolved: '1',
          state: 'serving',
          error: null,
          metrics: { holdout_accuracy: 0.966667, cv_accuracy: 0.95, best_model: 'LogisticRegression' },
          metrics_note: null,
        },
        staging: {
          alias: 'staging',
          version: '2',
          resolved: '2',
          state: 'serving',
          error: null,
          metrics: { holdout_accuracy: 0.933333, cv_accuracy: 0.941667, best_model: 'Random Forest <Classifier>' },
          metrics_note: null,
        },
      },
      split: { ab_split_b: SPLIT, shadow_share: 0 },
      shadow: { kind: 'staging', alias: 'staging', version: null, wanted: '2', state: 'off', share: 0, error: null },
      traffic: {
        A: { alias: 'prod', predictions: 3, failures: 1, failures_by_code: { PREDICTION_FAILED: 1 } },
        B: { alias: 'staging', predictions: 2, failures: 1, failures_by_code: { PREDICTION_FAILED: 1 } },
      },
      ab: {
        state: 'ready',
        report: {
          id: AB_ID,
          evaluated_at: '2026-05-06T07:00:00.000Z',
          decision: 'reject',
          reason: AB_REASON,
          difference: 0.15,
          interval: { lower: 0.08, upper: 0.22, confidence: 0.9, kind: 'always-valid' },
          variants: {
            A: {
              version: '1',
              alias: 'prod',
              requests: 1180,
              failed: 20,
              failure_rate: 20 / 1200,
              labeled: 1100,
              accuracy: 0.75,
              ci: { lower: 0.7, upper: 0.8, confidence: 0.95, kind: 'always-valid' },
              latency_ms: { p50: 11, p99: 30 },
            },
            B: {
              version: '2',
              alias: 'staging',
              requests: 590,
              failed: 10,
              failure_rate: 10 / 600,
              labeled: 550,
              accuracy: 0.9,
              ci: { lower: 0.85, upper: 0.94, confidence: 0.95, kind: 'always-valid' },
              latency_ms: { p50: 18, p99: 45 },
            },
          },
        },
        links: { html: `/reports/ab/${AB_ID}/report.html`, json: `/reports/ab/${AB_ID}/report.json` },
      },
      drift: {
        state: 'ready',
        report: {
          id: DRIFT_ID,
          created_at: '2026-05-06T06:00:00.000Z',
          status: 'ok',
          reason: null,
          drift_detected: true,
          share_drifted: 0.5,
          n_drifted: 2,
          n_features: 4,
          features: drift.features.map((f) => ({ name: f.name, psi: f.psi, ks_statistic: f.ks_statistic, ks_pvalue: f.ks_pvalue, drifted: f.drifted })),
        },
        links: { html: `/reports/drift/${DRIFT_ID}/report.html`, json: `/reports/drift/${DRIFT_ID}/report.json` },
      },
      pending_transition: { state: 'pending', kind: 'promote', version: '2', replaced: '1', reason: JOURNAL.reason, at: '2026-05-06T07:05:00.000Z' },
    });
  });

  it('says plainly what is missing: no reports, no staging, no transition', async () => {
    const router = await seeded({ reports: false, aliases: { prod: '1' } });
    router.mlflow.modelTags = {};
    const status = (await router.app.inject({ method: 'GET', url: '/status.json' })).json();
    expect(status.versions.staging).toBeNull();
    expect(status.ab).toEqual({ state: 'none', message: 'no A/B evaluation yet' });
    expect(status.drift).toEqual({ state: 'none', message: 'no drift report yet' });
    expect(status.pending_transition).toEqual({ state: 'none' });
    const html = (await router.app.inject({ method: 'GET', url: '/status' })).body;
    expect(html).toContain('<p class="missing" id="ab-missing">No A/B evaluation yet.</p>');
    expect(html).toContain('<p class="missing" id="drift-missing">No drift report yet.</p>');
    expect(html).toContain('<p id="no-staging">No staging version: no A/B test is running.</p>');
    expect(html).toContain('<p id="transition" class="muted">No registry transition pending.</p>');
  });

  it('a newest report that cannot be read is named, with its links, and the page still answers', async () => {
    const router = await seeded();
    const broken = '20260506T080000Z-ffffff';
    writeReportDir(router.config.current.ab.reports_dir, broken, { 'report.json': '{"id": "x", "decision": 7}', 'report.html': '<p>broken</p>' });
    const status = (await router.app.inject({ method: 'GET', url: '/status.json' })).json();
    expect(status.ab).toEqual({
      state: 'unreadable',
      id: broken,
      message: `report ${broken}: report.json could not be read: decision: expected a string, got 7`,
      links: { html: `/reports/ab/${broken}/report.html`, json: `/reports/ab/${broken}/report.json` },
    });
    expect((await router.app.inject({ method: 'GET', url: '/status' })).statusCode).toBe(200);
  });

  it('a registry that is down does not fail the page: "registry unreachable since …", and nothing secret in the URI', async () => {
    const port = await freePort();
    const router = await seeded({ registryDown: true });
    const response = await router.app.inject({ method: 'GET', url: '/status.json' });
    expect(response.statusCode).toBe(200);
    const status = response.json();
    const uri = router.config.current.mlflow.tracking_uri;
    expect(status.registry).toEqual({
      uri,
      reachable: false,
      unreachable_since: NOW,
      error: `cannot reach the MLflow tracking server at ${uri} (ECONNREFUSED); start it with 'driftgate mlflow start' or set MLFLOW_TRACKING_URI`,
      last_read: null,
      aliases_resolved_at: router.models.status().registry.last_success,
    });
    // The models keep serving (the alias poll is another matter); what the page could not read says why.
    expect(status.versions.prod).toEqual({ alias: 'prod', version: '1', resolved: '1', state: 'serving', error: null, metrics: null, metrics_note: `registry unreachable since ${NOW}` });
    expect(status.pending_transition).toEqual({ state: 'unknown', message: 'the registry has not answered yet' });
    expect(status.ab.state).toBe('ready');
    const html = await router.app.inject({ method: 'GET', url: '/status' });
    expect(html.statusCode).toBe(200);
    expect(html.body).toContain(`<p id="registry" class="banner warn">Registry ${uri}: registry unreachable since ${NOW} (`);
    expect(html.body).toContain(`<td>metrics: registry unreachable since ${NOW}</td></tr>`);
    expect(html.body).toContain('<p id="transition" class="muted">Pending transition unknown: the registry has not answered yet.</p>');

    // Credentials in the tracking URI are never shown, in the URI or in an error naming it.
    const secretUri = `http://alice:s3cret-pass@127.0.0.1:${port}`;
    expect(redactUri(secretUri)).toBe(`http://127.0.0.1:${port}`);
    const withCredentials = await seededRouter({ trackingUri: secretUri });
    routers.push(withCredentials);
    const json = await withCredentials.app.inject({ method: 'GET', url: '/status.json' });
    expect(json.json().registry).toMatchObject({ uri: `http://127.0.0.1:${port}`, reachable: false, unreachable_since: NOW });
    expect(json.body).not.toContain('s3cret');
    expect(json.body).not.toContain('alice');
    expect((await withCredentials.app.inject({ method: 'GET', url: '/status' })).body).not.toContain('s3cret');
  });

  it('shows router.shadow_share when the config sets it, and the shadow serving at that share', async () => {
    const router = await seeded({ reports: false, patch: { router: { shadow_share: 0.25 } } });
    const status = (await router.app.inject({ method: 'GET', url: '/status.json' })).json();
    expect(status.split).toEqual({ ab_split_b: SPLIT, shadow_share: 0.25 });
    expect(status.shadow).toEqual({ kind: 'staging', alias: 'staging', version: '2', wanted: '2', state: 'serving', share: 0.25, error: null });
    expect((await router.app.inject({ method: 'GET', url: '/status' })).body).toContain(
      '<p id="shadow">Shadow: <b>v2</b> (staging), the candidate under test (router.shadow_share), predicts <b>0.25</b> of prod\'s requests · <span class="state serving">serving</span></p>',
    );
  });

  it('during a watch, the replaced prod in shadow at ab.watch.share, while router.shadow_share is 0', async () => {
    const watch = JSON.stringify({ version: '2', previous: '1', started_at: '2026-05-06T07:00:00.000Z' });
    const router = await seeded({ reports: false, aliases: { prod: '2' }, tags: { 'driftgate.watch': watch }, patch: { router: { shadow_share: 0 }, ab: { watch: { share: 0.5 } } } });
    const status = (await router.app.inject({ method: 'GET', url: '/status.json' })).json();
    expect(status.split).toEqual({ ab_split_b: SPLIT, shadow_share: 0 });
    expect(status.shadow).toEqual({ kind: 'watch', alias: 'previous_prod', version: '1', wanted: '1', state: 'serving', share: 0.5, error: null });
    expect((await router.app.inject({ method: 'GET', url: '/status' })).body).toContain(
      '<p id="shadow">Shadow: <b>v1</b> (previous_prod), the replaced prod, watching the new prod after a promotion (ab.watch.share), predicts <b>0.5</b> of prod\'s requests · <span class="state serving">serving</span></p>',
    );
  });

  it('reads each version and the journal once, not on every view', async () => {
    const router = await seeded();
    for (let i = 0; i < 4; i++) {
      expect((await router.app.inject({ method: 'GET', url: i % 2 ? '/status' : '/status.json' })).statusCode).toBe(200);
    }
    expect(router.mlflow.calls.sort()).toEqual(['model-versions/get', 'model-versions/get', 'registered-models/get']);
  });
});

describe('GET /status', () => {
  it('is one self-contained page that refreshes itself, every value escaped, open without a token', async () => {
    const router = await seeded();
    const response = await router.app.inject({ method: 'GET', url: '/status' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(response.headers['content-security-policy']).toBe("default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'");
    const html = response.body;
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).toContain('<meta http-equiv="refresh" content="10">');
    expect(html).not.toMatch(/<script|<iframe|<img|src=|href="(?!\/|data:|#)/);
    expect(html).toContain('<h1>Driftgate status · <span id="model-name">iris &lt;status&gt; &amp; &quot;co&quot;</span></h1>');
    expect(html).toContain(
      '<tr id="version-A"><td>A</td><td>prod</td><td class="num">v1</td><td><span class="state serving">serving</span></td><td class="num">0.9667</td><td class="num">0.95</td><td>LogisticRegression</td><td></td></tr>',
    );
    expect(html).toContain('<td>Random Forest &lt;Classifier&gt;</td>');
    expect(html).toContain('<p id="split">Split: <b>0.3</b> of users go to B (router.ab_split_b) · shadow share: <b>0</b> of prod\'s requests (router.shadow_share)</p>');
    expect(html).toContain('<p id="shadow">Shadow: <b>v2</b> (staging), the candidate under test (router.shadow_share), predicts <b>0</b> of prod\'s requests · <span class="state off">off</span></p>');
    expect(html).toContain('<tr id="traffic-B"><td>B</td><td>staging</td><td class="num">2</td><td class="num">1</td><td>PREDICTION_FAILED 1</td></tr>');
    expect(html).toContain(`<p id="ab-reason">${AB_REASON.replace('<b>', '&lt;b&gt;').replace('</b>', '&lt;/b&gt;').replace('< alpha', '&lt; alpha')}</p>`);
    expect(html).not.toContain('<b>(+60%)</b>');
    expect(html).toContain(
      '<tr id="ab-A"><td>A</td><td>v1</td><td class="num">1180</td><td class="num">20 (1.67%)</td><td class="num">1100</td><td class="num">0.75</td><td>[0.7, 0.8] (95%, always-valid)</td><td class="num">11 ms</td><td class="num">30 ms</td></tr>',
    );
    expect(html).toContain('<p id="ab-interval">B − A: difference 0.15, interval [0.08, 0.22] (90%, always-valid)</p>');
    expect(html).toContain(`<a href="/reports/ab/${AB_ID}/report.html">report.html</a>`);
    expect(html).toContain('<p id="drift-verdict" class="bad"><b>drift detected</b>: 2 of 4 features drifted, share drifted 0.5</p>');
    expect(html).toContain('Pending transition: promote of v2 (replacing v1), started 2026-05-06T07:05:00.000Z: B beats A &lt;i&gt;by 0.15&lt;/i&gt;.');
  });

  it('shows neither the assignment seed nor any token', async () => {
    const router = await seeded();
    for (const url of ['/status', '/status.json']) {
      const body = (await router.app.inject({ method: 'GET', url })).body;
      for (const secret of [SECRET_SEED, 'test-admin-token', 'test-label-token', TEST_REQUEST_KEY]) expect(body).not.toContain(secret);
    }
    // The seed is there to be hidden: GET /ab shows it to the admin.
    const ab = await router.app.inject({ method: 'GET', url: '/ab', headers: { authorization: 'Bearer test-admin-token' } });
    expect(ab.json().assignment.seed).toBe(SECRET_SEED);
  });
});

describe('GET /reports/<kind>/<id>/<file>', () => {
  it('serves the linked report files as written', async () => {
    const router = await seeded();
    const status = (await router.app.inject({ method: 'GET', url: '/status.json' })).json();
    for (const [kind, dir, id] of [
      ['ab', router.config.current.ab.reports_dir, AB_ID],
      ['drift', router.config.current.drift.reports_dir, DRIFT_ID],
    ] as const) {
      const links = status[kind].links as { html: string; json: string };
      const html = await router.app.inject({ method: 'GET', url: links.html });
      expect(html.statusCode).toBe(200);
      expect(html.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(html.body).toBe(readFileSync(path.join(dir, id, 'report.html'), 'utf8'));
      const json = await router.app.inject({ method: 'GET', url: links.json });
      expect(json.statusCode).toBe(200);
      expect(json.headers['content-type']).toBe('application/json; charset=utf-8');
      expect(json.body).toBe(readFileSync(path.join(dir, id, 'report.json'), 'utf8'));
    }
    // An older report stays reachable by its id.
    expect((await router.app.inject({ method: 'GET', url: `/reports/ab/${OLD_AB_ID}/report.json` })).json().reason).toBe('an older evaluation');
  });

  it('answers 404 for anything but a report file: bad ids, .., encoded slashes, other files, symlinks out of the folder', async () => {
    const router = await seeded();
    const abDir = router.config.current.ab.reports_dir;
    // A folder outside the reports with a report-looking file, reached by symlinks.
    const outside = path.join(router.dir, 'outside');
    mkdirSync(outside);
    writeFileSync(path.join(outside, 'report.json'), reportJsonText({ secret: 'outside' }));
    const linkedDir = '20990101T000000Z-aaaaaa';
    symlinkSync(outside, path.join(abDir, linkedDir));
    const linkedFile = '20990101T000000Z-bbbbbb';
    mkdirSync(path.join(abDir, linkedFile));
    symlinkSync(path.join(outside, 'report.json'), path.join(abDir, linkedFile, 'report.json'));
    symlinkSync(router.configFile, path.join(abDir, linkedFile, 'report.html'));
    expect(isReportId(linkedDir) && isReportId(linkedFile)).toBe(true);

    const urls = [
      `/reports/ab/${linkedDir}/report.json`,
      `/reports/ab/${linkedFile}/report.json`,
      `/reports/ab/${linkedFile}/report.html`,
      '/reports/ab/../../driftgate.yaml',
      '/reports/ab/..%2F..%2Fdriftgate.yaml/report.json',
      '/reports/ab/%2e%2e/report.json',
      `/reports/ab/${AB_ID}%2F..%2F${OLD_AB_ID}/report.json`,
      `/reports/ab/${AB_ID}/..%2F..%2F..%2Fdriftgate.yaml`,
      `/reports/ab/${AB_ID}/%2e%2e%2freport.json`,
      `/reports/ab/${AB_ID}/report.csv`,
      `/reports/ab/${AB_ID}/`,
      `/reports/ab/${AB_ID}`,
      `/reports/ab/.${AB_ID}.1.tmp/report.json`,
      `/reports/ab/${AB_ID.toUpperCase()}/report.json`,
      `/reports/drift/${AB_ID}/report.json`,
      `/reports/ab/${DRIFT_ID}/report.json`,
      `/reports/other/${AB_ID}/report.json`,
    ];
    for (const url of urls) {
      const response = await router.app.inject({ method: 'GET', url });
      expect({ url, status: response.statusCode, code: response.json().error.code }).toEqual({ url, status: 404, code: 'NOT_FOUND' });
      expect(response.body).not.toContain('outside');
      expect(response.body).not.toContain(SECRET_SEED);
    }
    // A symlinked folder is not taken for a report; a real one whose report.json is a symlink has none.
    const status = await router.app.inject({ method: 'GET', url: '/status.json' });
    expect(status.json().ab).toMatchObject({ state: 'unreadable', id: linkedFile, message: `report ${linkedFile} has no report.json` });
    expect(status.body).not.toContain('outside');
  });
});

describe('the status page parts', () => {
  it('RegistryView: a version with all its tags is read once; one missing a tag and the journal at most every TTL; a failure waits a TTL too', async () => {
    let now = 1_000_000;
    const calls: string[] = [];
    let down = false;
    let journal: string | null = null;
    const tags: Record<string, Record<string, string>> = { '1': VERSION_TAG_VALUES['1']!, '3': { 'driftgate.best_model': 'Extra Trees' } };
    const client: StatusRegistry = {
      async getVersion(name: string, version: string): Promise<ModelVersion | null> {
        calls.push(`version ${version}`);
        if (down) throw new Error('cannot reach the MLflow tracking server at http://u:p@h (ECONNREFUSED)');
        const t = tags[version];
        return t ? { name, version, tags: Object.entries(t).map(([key, value]) => ({ key, value })) } : null;
      },
      async getRegisteredModel(name: string): Promise<RegisteredModel | null> {
        calls.push('model');
        if (down) throw new Error('cannot reach the MLflow tracking server at http://u:p@h (ECONNREFUSED)');
        return { name, tags: journal ? [{ key: JOURNAL_TAG, value: journal }] : [] };
      },
    };
    const router = await seeded({ reports: false });
    const view = new RegistryView({ client, config: () => router.config.current, now: () => now, ttlMs: 5000, redact: (m) => m.replace('u:p@', '') });

    let read = await view.read(['1', '3', '9']);
    expect(calls.splice(0).sort()).toEqual(['model', 'version 1', 'version 3', 'version 9']);
    expect(Object.fromEntries(read.metrics)).toEqual({
      '1': { holdout_accuracy: 0.966667, cv_accuracy: 0.95, best_model: 'LogisticRegression' },
      '3': { holdout_accuracy: null, cv_accuracy: null, best_model: 'Extra Trees' },
      '9': null,
    });
    expect(read.journal).toBeNull();

    now += 4999;
    await view.read(['1', '3', '9']);
    expect(calls.splice(0)).toEqual([]);

    now += 1;
    journal = JSON.stringify(JOURNAL);
    tags['3'] = { ...tags['3']!, 'driftgate.holdout_accuracy': '0.9', 'driftgate.cv_accuracy': '0.88' };
    read = await view.read(['1', '3', '9']);
    expect(calls.splice(0).sort()).toEqual(['model', 'version 3', 'version 9']);
    expect(read.metrics.get('3')).toEqual({ holdout_accuracy: 0.9, cv_accuracy: 0.88, best_model: 'Extra Trees' });
    expect(read.journal).toEqual(JOURNAL);

    // Down: one attempt, then nothing for a TTL; the values read before stay.
    now += 5000;
    down = true;
    read = await view.read(['1', '3', '9']);
    expect(calls.splice(0).sort()).toEqual(['model', 'version 9']);
    const since = now;
    expect(read).toMatchObject({ reachable: false, unreachableSince: since, error: 'cannot reach the MLflow tracking server at http://h (ECONNREFUSED)', journal: JOURNAL });
    expect(read.metrics.get('1')).toEqual({ holdout_accuracy: 0.966667, cv_accuracy: 0.95, best_model: 'LogisticRegression' });
    now += 4999;
    await view.read(['1', '3', '9']);
    expect(calls.splice(0)).toEqual([]);
    now += 1;
    read = await view.read(['1', '3', '9']);
    expect(calls.splice(0).sort()).toEqual(['model', 'version 9']);
    expect(read.unreachableSince).toBe(since);

    now += 5000;
    down = false;
    read = await view.read(['1']);
    expect(calls.splice(0)).toEqual(['model']);
    expect(read).toMatchObject({ reachable: true, unreachableSince: null, error: null, lastSuccess: now });
    // Versions no longer shown are dropped from the cache.
    expect([...read.metrics.keys()]).toEqual(['1']);
  });

  it('reads a report from before intervals carried their kind, and names the first bad field of one that is not a report', () => {
    const old = {
      id: OLD_AB_ID,
      decision: 'continue',
      reason: 'not enough labels',
      variants: {
        A: { version: '1', requests: 10, labeled: 4, accuracy: 0.5, ci: { lower: 0.1, upper: 'Infinity', confidence: 0.95 }, latency_ms: { p50: 3, p99: 9 } },
        B: { version: null, requests: 0, labeled: 0, accuracy: null, ci: null },
      },
    };
    expect(abView(JSON.stringify(old))).toEqual({
      id: OLD_AB_ID,
      evaluated_at: null,
      decision: 'continue',
      reason: 'not enough labels',
      difference: null,
      interval: null,
      variants: {
        A: { version: '1', alias: null, requests: 10, failed: null, failure_rate: null, labeled: 4, accuracy: 0.5, ci: { lower: 0.1, upper: Infinity, confidence: 0.95, kind: null }, latency_ms: { p50: 3, p99: 9 } },
        B: { version: null, alias: null, requests: 0, failed: null, failure_rate: null, labeled: 0, accuracy: null, ci: null, latency_ms: { p50: null, p99: null } },
      },
    });
    expect(() => abView(JSON.stringify({ ...old, variants: { A: old.variants.A, B: { requests: '7' } } }))).toThrow('variants.B.requests: expected a number, got "7"');
    expect(() => abView('[]')).toThrow('report.json: expected an object, got a list');
  });
});
