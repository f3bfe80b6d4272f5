/**
 * End to end through the built CLI: two real model versions (an old prod trained on plain Iris, a
 * staging retrained with drifted data) serve drifted traffic; the log holds their real predictions
 * and the labels. `ab evaluate --apply` promotes, the registry shows it, rollback restores, and a
 * worse candidate is rejected.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { MlflowClient } from '../../src/registry/client.js';
import { appendLog, simulatedRows, writeLog, type LogRow } from '../helpers/ab-log.js';
import type { AbEvaluation } from '../../src/ab/evaluation.js';
import { driftedTraffic, predictWithVersions, retrainingData, type Traffic } from '../helpers/ab-models.js';
import { snapshot } from '../helpers/ab-registry.js';
import { lastJson, runCli } from '../helpers/cli.js';
import { startMlflow, type MlflowFixture } from '../helpers/mlflow.js';
import { registerTestModels } from '../helpers/model.js';
import { freePort } from '../helpers/net.js';
import { sendTraffic, startRouter, waitFor, type Router } from '../helpers/ab-router.js';
import { writeConfig } from '../helpers/config.js';

let mlflow: MlflowFixture;
let traffic: Traffic;
let predictions: Record<string, string[]>;
const MODEL = 'driftgate-ab-e2e';
const T0 = Date.UTC(2025, 8, 17, 8);

/** Requests of one traffic batch, split by a seeded coin, each labelled inline or by feedback. */
function served(options: { A: string; B: string | null; split: number; start: number; prefix: string; seed: number }): LogRow[] {
  let state = options.seed;
  const random = (): number => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 4294967296;
  };
  const rows: LogRow[] = [];
  traffic.rows.forEach((row, i) => {
    const variant = options.B !== null && random() < options.split ? 'B' : 'A';
    const version = variant === 'A' ? options.A : options.B!;
    const id = `${options.prefix}-${i}`;
    const ts = options.start + i * 2000;
    const label = row.species!;
    const features = Object.fromEntries(['sepal_length', 'sepal_width', 'petal_length', 'petal_width'].map((f) => [f, row[f]!]));
    const inline = i % 3 === 0;
    rows.push({ ts, request_id: id, user_id: `user-${i}`, variant, model_version: version, features, prediction: predictions[version]![i]!, ...(inline ? { label } : {}), latency_ms: 4 + (i % 7) });
    if (!inline) rows.push({ event: 'feedback', ts: ts + 1500, request_id: id, label });
  });
  return rows;
}

async function cli(args: string[], configFile = mlflow.configFile): Promise<{ exitCode: number; json: Record<string, unknown>; stderr: string }> {
  const result = await runCli([...args, '--config', configFile, '--json']);
  let json: Record<string, unknown> = {};
  try {
    json = lastJson(result.stdout) as Record<string, unknown>;
  } catch {
    // no JSON line: the assertions on exitCode and stderr say why
  }
  return { exitCode: result.exitCode, json, stderr: result.stderr };
}

function split(configFile = mlflow.configFile): number {
  return loadConfig(configFile, {}).router.ab_split_b;
}

beforeAll(async () => {
  mlflow = await startMlflow({ mlflow: { model_name: MODEL, experiment: 'driftgate-ab-e2e' } });
  const config = mlflow.config;
  // v1: the old prod, trained on plain Iris; v2: a weak tree on plain Iris (the reject candidate);
  // v3: retrained on Iris plus drifted data (the candidate that should win).
  await registerTestModels(mlflow.uri, MODEL, ['lr:prod', 'tree']);
  await registerTestModels(mlflow.uri, MODEL, ['lr'], { data: await retrainingData(config, mlflow.dir, 7) });
  traffic = await driftedTraffic(config, path.join(mlflow.dir, 'traffic.csv'), 600, 11);
  predictions = await predictWithVersions(config, ['1', '2', '3'], traffic.file);
}, 600_000);

let router: Router | undefined;

afterAll(async () => {
  await router?.stop();
  await mlflow?.stop();
});

describe('A/B evaluation and promotion, end to end', () => {
  it('answers clearly before any test exists', async () => {
    const status = await cli(['ab', 'status']);
    expect(status.exitCode).toBe(0);
    expect(status.json).toMatchObject({ prod: { version: '1' }, staging: null, previous_prod: null, ab_split_b: 0, running: false, pending_transition: null });
    const start = await cli(['ab', 'start']);
    expect(start.exitCode).toBe(0);
    expect(start.json).toMatchObject({ started: false, reason: 'no staging version; nothing to start' });
    const evaluation = await cli(['ab', 'evaluate', '--apply']);
    expect(evaluation.exitCode).toBe(0);
    expect(evaluation.json).toMatchObject({
      decision: 'continue',
      reason: "no staging version of driftgate-ab-e2e: no A/B test is running (train a candidate, then 'driftgate ab start')",
      mlflow_run_id: null,
      applied: { action: 'none' },
    });
  });

  it('promotes the retrained model on drifted traffic, and the registry shows it', async () => {
    const client = new MlflowClient(mlflow.uri);
    // Before the test: prod alone serves (these rows never count), then staging appears and the test starts.
    const before = served({ A: '1', B: null, split: 0, start: T0, prefix: 'before', seed: 1 }).slice(0, 150);
    writeLog(mlflow.config.router.log_path, before);
    await client.setAlias(MODEL, 'staging', '3');
    const start = await cli(['ab', 'start']);
    expect(start.json).toMatchObject({ started: true, ab_split_b: 0.5, previous_split: 0, prod: '1', staging: '3' });
    expect(split()).toBe(0.5);
    appendLog(mlflow.config.router.log_path, served({ A: '1', B: '3', split: 0.5, start: T0 + 3_600_000, prefix: 'ab1', seed: 2 }));

    const dry = await cli(['ab', 'evaluate']);
    expect(dry.exitCode).toBe(0);
    expect(dry.json).toMatchObject({ decision: 'promote', applied: null, variants: { A: { version: '1' }, B: { version: '3' } } });
    expect((await snapshot(mlflow.config)).aliases).toEqual({ prod: '1', staging: '3' });

    const applied = await cli(['ab', 'evaluate', '--apply']);
    expect(applied.exitCode).toBe(0);
    const result = applied.json as {
      decision: string;
      reason: string;
      p_value: number;
      srm_pvalue: number;
      variants: Record<'A' | 'B', { version: string; requests: number; labeled: number; accuracy: number; ci: { lower: number; upper: number } }>;
      report_dir: string;
      mlflow_run_id: string;
      applied: { action: string; steps: string[] };
      log: { excluded_predictions: number };
    };
    expect(result.decision).toBe('promote');
    expect(result.reason).toMatch(/^B beats A: accuracy 0\.\d{3} vs 0\.\d{3}, always-valid p = \S+ < alpha 0\.05, always-valid interval of B − A \[0\.\d{3}, 0\.\d{3}\]; guardrails hold$/);
    expect(result.p_value).toBeLessThan(0.05);
    expect(result.srm_pvalue).toBeGreaterThan(0.001);
    expect(result.variants.A.requests + result.variants.B.requests).toBe(600);
    expect(result.variants.A.labeled).toBe(result.variants.A.requests);
    expect(result.variants.B.accuracy).toBeGreaterThan(result.variants.A.accuracy + 0.1);
    expect(result.variants.B.ci.lower).toBeLessThan(result.variants.B.accuracy);
    expect(result.log.excluded_predictions).toBe(before.filter((r) => r.event !== 'feedback').length);
    expect(result.applied.action).toBe('promoted');

    // The registry: prod moved, the old prod is findable by alias and tag, staging is gone, the split is 0.
    const state = await snapshot(mlflow.config);
    expect(state.aliases).toEqual({ previous_prod: '1', prod: '3' });
    expect(state.tags['3']).toMatchObject({ 'driftgate.decision': 'promoted', 'driftgate.previous_prod': '1', 'driftgate.decision_run_id': result.mlflow_run_id });
    expect(state.tags['1']).toMatchObject({ 'driftgate.decision': 'replaced', 'driftgate.replaced_by': '3' });
    expect(split()).toBe(0);

    // The report, on disk and as the MLflow run's artifacts.
    const report = JSON.parse(readFileSync(path.join(result.report_dir, 'report.json'), 'utf8')) as { decision: string; path: unknown[] };
    expect(report.decision).toBe('promote');
    expect(report.path.length).toBeGreaterThan(2);
    const html = readFileSync(path.join(result.report_dir, 'report.html'), 'utf8');
    expect(html).toContain('<div class="kind">promote</div>');
    expect(html).toContain('aria-label="Always-valid p-value as labelled requests came in"');
    const run = await client.getRun(result.mlflow_run_id);
    expect(run?.info.status).toBe('FINISHED');
    expect(run?.data.tags).toEqual(expect.arrayContaining([{ key: 'driftgate.decision', value: 'promote' }, { key: 'driftgate.applied', value: 'promoted' }]));
    expect(run?.data.metrics?.find((m) => m.key === 'p_value')?.value).toBeCloseTo(result.p_value, 12);
    expect((await client.listArtifacts(result.mlflow_run_id, 'ab_report')).sort()).toEqual(['ab_report/report.html', 'ab_report/report.json']);

    // Applying again changes nothing.
    const again = await cli(['ab', 'evaluate', '--apply']);
    expect(again.json).toMatchObject({ decision: 'continue', applied: { action: 'none' } });
    expect((await snapshot(mlflow.config)).aliases).toEqual({ previous_prod: '1', prod: '3' });
  });

  it('rolls back to the replaced prod, and an operator can promote again', async () => {
    const rollback = await cli(['rollback', '--from', '3']);
    expect(rollback.exitCode).toBe(0);
    expect(rollback.json).toMatchObject({ prod: '1', rolled_back: '3', previous_prod: null, changed: true });
    const retry = await cli(['rollback', '--from', '3']);
    expect(retry.json).toMatchObject({ prod: '1', changed: false, message: 'version 3 was already rolled back to 1; nothing to do' });
    const nothing = await cli(['rollback']);
    expect(nothing.exitCode).toBe(2);
    expect(nothing.stderr).toBe(
      'driftgate: nothing to roll back to: prod version 1 has no previous prod (no alias previous_prod, no tag driftgate.previous_prod)\n',
    );
    expect((await snapshot(mlflow.config)).tags['3']).toMatchObject({ 'driftgate.decision': 'rolled-back', 'driftgate.rolled_back_to': '1' });

    const promote = await cli(['promote', '--version', '3']);
    expect(promote.exitCode).toBe(0);
    expect(promote.json).toMatchObject({ prod: '3', previous_prod: '1', changed: true });
    expect((await snapshot(mlflow.config)).tags['3']).toMatchObject({ 'driftgate.decision': 'manual-promote' });
    const missing = await cli(['promote', '--version', '42']);
    expect(missing.exitCode).toBe(2);
    expect(missing.stderr).toBe(`driftgate: version 42 of ${MODEL} does not exist in the registry\n`);
  });

  it('rejects a worse candidate: staging removed, version tagged, split reset', async () => {
    await new MlflowClient(mlflow.uri).setAlias(MODEL, 'staging', '2');
    expect((await cli(['ab', 'start', '--split', '0.5'])).json).toMatchObject({ started: true, ab_split_b: 0.5 });
    appendLog(mlflow.config.router.log_path, served({ A: '3', B: '2', split: 0.5, start: T0 + 7_200_000, prefix: 'ab2', seed: 3 }));
    const result = await cli(['ab', 'evaluate', '--apply']);
    expect(result.exitCode).toBe(0);
    expect(result.json).toMatchObject({ decision: 'reject', variants: { A: { version: '3' }, B: { version: '2' } }, applied: { action: 'rejected' } });
    expect(result.json.reason).toMatch(/^B is worse than A: /);
    // Rows of the first test (v1 vs v3) did not leak into this one.
    expect((result.json.variants as { A: { requests: number }; B: { requests: number } }).A.requests + (result.json.variants as { B: { requests: number } }).B.requests).toBe(600);
    const state = await snapshot(mlflow.config);
    expect(state.aliases).toEqual({ previous_prod: '1', prod: '3' });
    expect(state.tags['2']).toMatchObject({ 'driftgate.decision': 'rejected' });
    expect(split()).toBe(0);
    expect(existsSync(path.join(result.json.report_dir as string, 'report.html'))).toBe(true);
  });

  it('bad input: an explicit --log that matches nothing, and a misplaced option', async () => {
    const missing = path.join(mlflow.dir, 'nope-*.csv');
    const result = await cli(['ab', 'evaluate', '--log', missing]);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toBe(`driftgate: --log: no file matches ${missing}\n`);
    const misplaced = await cli(['ab', 'status', '--apply']);
    expect(misplaced.exitCode).toBe(2);
    expect(misplaced.stderr).toBe('driftgate: ab status: --apply does not apply here (ab evaluate only)\n');
  });
});

/** A/B validity on logs the CLI evaluates: users as the unit, split changes, guardrails. Versions: A = prod 3, B = staging 1. */
describe('A/B validity through the CLI', () => {
  const T = Date.UTC(2025, 8, 18, 8);
  const rows = (options: Partial<Parameters<typeof simulatedRows>[0]> & { n: number }) =>
    simulatedRows({ splitB: 0.5, accuracyA: 0.75, accuracyB: 0.95, versionA: '3', versionB: '1', start: T, ...options });
  const logOf = (name: string, content: LogRow[]): string => {
    const file = path.join(mlflow.dir, name);
    writeLog(file, content);
    return file;
  };
  const evaluate = async (file: string) => (await cli(['ab', 'evaluate', '--log', file])).json as unknown as AbEvaluation;

  beforeAll(async () => {
    const client = new MlflowClient(mlflow.uri);
    await client.setAlias(MODEL, 'prod', '3');
    await client.setAlias(MODEL, 'staging', '1');
    expect((await cli(['ab', 'start', '--split', '0.5'])).json).toMatchObject({ started: true, ab_split_b: 0.5 });
  });

  afterAll(async () => {
    await new MlflowClient(mlflow.uri).deleteAlias(MODEL, 'staging');
    await cli(['ab', 'start', '--split', '0']).catch(() => undefined);
  });

  it('repeat users: heavy users skew the request counts, not the users; the winner is promoted', async () => {
    const content = rows({ n: 1500, users: 150, seed: 5 });
    const e = await evaluate(logOf('repeat-users.csv', content));
    const users = new Set(content.flatMap((r) => (r.event === 'feedback' ? [] : [r.user_id])));
    expect(e.variants.A.users + e.variants.B.users).toBe(users.size);
    expect(e.decision).toBe('promote');
    expect(e.guardrails.srm.passed).toBe(true);
    // The rule that counted requests would have held the winner back.
    expect(e.request_level.decision).toBe('continue');
    expect(e.request_level.reason).toMatch(/^request sample ratio mismatch: \d+ vs \d+ requests \(chi-square p = \S+\)$/);
    expect(e.request_level.srm.p_value!).toBeLessThan(0.001);
  });

  it('a split changed mid-test: the expected shares follow the split rows', async () => {
    const early = rows({ n: 600, seed: 6, prefix: 'early' });
    const late = rows({ n: 900, splitB: 0.2, seed: 7, prefix: 'late', start: T + 3_600_000 });
    const content: LogRow[] = [{ event: 'split', ts: T - 1000, ab_split_b: 0.5 }, ...early, { event: 'split', ts: T + 3_599_000, ab_split_b: 0.2 }, ...late];
    const file = logOf('split-change.csv', content);
    expect((await cli(['ab', 'start', '--split', '0.2'])).json).toMatchObject({ ab_split_b: 0.2 });
    const e = await evaluate(file).finally(() => cli(['ab', 'start', '--split', '0.5']));
    const count = (part: typeof early, variant: 'A' | 'B') => part.filter((r) => r.event !== 'feedback' && r.variant === variant).length;
    // The experiment starts with B's first request: A's requests before it are not part of it.
    const tested = early.slice(early.findIndex((r) => r.event !== 'feedback' && r.variant === 'B'));
    expect(e.guardrails.srm.periods).toEqual([
      { ab_split_b: 0.5, users_A: count(tested, 'A'), users_B: count(tested, 'B') },
      { ab_split_b: 0.2, users_A: count(late, 'A'), users_B: count(late, 'B') },
    ]);
    expect(e.guardrails.srm.passed).toBe(true);
    // The first split row is from before the test began (it sets the split in force at its start).
    expect(e.log.split_changes).toEqual([{ ts: new Date(T + 3_599_000).toISOString(), ab_split_b: 0.2 }]);
    expect(e.decision).toBe('promote');
    // Counting every request against today's 0.2 calls the first half's 50/50 a mismatch.
    expect(e.request_level.srm.p_value!).toBeLessThan(1e-6);
  });

  it('a slow B is rejected by the latency guardrail, with both arms’ numbers', async () => {
    const e = await evaluate(logOf('slow-b.csv', rows({ n: 1200, seed: 8, latencyMs: { A: 3, B: 12 } })));
    expect(e.decision).toBe('reject');
    expect(e.reason).toMatch(/^the latency guardrail is breached: mean latency B 12\.\d ms vs A 3\.\d ms \(\+2\d\d%, margin \+25%; p99 B 12\.9 ms vs A 3\.9 ms\), always-valid p = \S+ < alpha 0\.05$/);
    expect(e.guardrails.latency).toMatchObject({ state: 'breached', margin: 0.25 });
    expect(e.request_level.decision).toBe('promote');
  });

  it('failures in B are logged per variant and rejected by the failure guardrail', async () => {
    const content = rows({ n: 1200, seed: 9 });
    // B's own users fail some of their requests (new users would also shift the sample ratio).
    const usersB = content.flatMap((r) => (r.event !== 'feedback' && r.variant === 'B' ? [`u-${r.request_id}`] : []));
    const failures: LogRow[] = Array.from({ length: 60 }, (_, i) => ({
      event: 'failure',
      ts: T + i * 20_000 + 1,
      request_id: `f${i}`,
      user_id: usersB[i]!,
      variant: 'B',
      model_version: '1',
      error_code: 'PREDICTION_FAILED',
      latency_ms: 2,
    }));
    const e = await evaluate(logOf('failing-b.csv', [...content, ...failures].sort((a, b) => Number(a.ts) - Number(b.ts))));
    expect(e.variants.B.failed).toBe(60);
    expect(e.variants.A.failed).toBe(0);
    expect(e.variants.B.failure_rate).toBe(60 / (e.variants.B.requests + 60));
    expect(e.decision).toBe('reject');
    expect(e.reason).toMatch(/^the failures guardrail is breached: failure rate B \d+(\.\d+)?% \(60 of \d+\) vs A 0% \(0 of \d+\), margin \+2%, always-valid p = \S+ < alpha 0\.05$/);
  });
});

interface AbView {
  ab_split_b: number;
  prod: { version: string | null; state: string };
  staging: { version: string | null; state: string } | null;
}

describe('through the router: it serves the test, and follows the decision', () => {
  const TOKEN = 'ab-e2e-token';
  const LABEL_TOKEN = 'ab-e2e-label-token';
  let configFile: string;

  it('serves drifted traffic to prod and staging; evaluate --apply promotes; the router follows the new prod', async () => {
    const client = new MlflowClient(mlflow.uri);
    // Back to the starting line: v1 prod, v3 (retrained) staging, nothing older.
    await client.setAlias(MODEL, 'prod', '1');
    await client.deleteAlias(MODEL, 'previous_prod');
    await client.setAlias(MODEL, 'staging', '3');
    const port = await freePort();
    configFile = writeConfig(
      mlflow.dir,
      {
        mlflow: { tracking_uri: mlflow.uri, model_name: MODEL, experiment: 'driftgate-ab-e2e' },
        router: { port, ab_split_b: 0, log_path: path.join(mlflow.dir, 'router-predictions.csv'), flush_interval_ms: 100, registry_poll_s: 1, workers: 1 },
        // Latency is judged by its own tests above (a slow B); on this shared machine two versions of
        // one pipeline differ in latency by noise alone, which a 25% margin may not show to hold in 600 requests.
        ab: { reports_dir: path.join(mlflow.dir, 'reports', 'ab-router'), guardrails: { latency_margin: 1 } },
      },
      'router.yaml',
    );
    router = startRouter(configFile, port, { DRIFTGATE_ADMIN_TOKEN: TOKEN, DRIFTGATE_LABEL_TOKEN: LABEL_TOKEN });
    const url = router.url;
    await waitFor<AbView>(`${url}/ab`, (ab) => ab.prod.version === '1' && ab.staging?.version === '3' && ab.staging.state === 'serving', 300_000).catch((error: Error) => {
      throw new Error(`${error.message}\nrouter output:\n${router?.stderr()}`);
    });
    expect((await cli(['ab', 'start'], configFile)).json).toMatchObject({ started: true, ab_split_b: 0.5 });
    await waitFor<AbView>(`${url}/ab`, (ab) => ab.ab_split_b === 0.5, 30_000);

    const features = mlflow.config.dataset.features.map((f) => f.name);
    const answers = await sendTraffic(url, traffic.rows, { features, target: 'species', users: 'ab1', labelToken: LABEL_TOKEN });
    const byVariant = { A: answers.filter((a) => a.variant === 'A'), B: answers.filter((a) => a.variant === 'B') };
    expect(byVariant.A.every((a) => a.model_version === '1' && a.alias === 'prod')).toBe(true);
    expect(byVariant.B.every((a) => a.model_version === '3' && a.alias === 'staging')).toBe(true);
    expect(byVariant.B.length).toBeGreaterThan(200);
    // The router's predictions are the models' own.
    answers.forEach((a, i) => expect(a.prediction).toBe(predictions[a.model_version]![i]));
    // Give the log writer one flush interval (and some) before reading it.
    await new Promise((resolve) => setTimeout(resolve, 1000));

    const result = await cli(['ab', 'evaluate', '--apply'], configFile);
    expect(result.exitCode).toBe(0);
    expect(result.json).toMatchObject({
      decision: 'promote',
      variants: { A: { version: '1' }, B: { version: '3', requests: byVariant.B.length, labeled: byVariant.B.length } },
      log: { malformed_rows: 0, orphan_feedback: 0 },
      applied: { action: 'promoted' },
    });
    // The experiment starts with B's first logged request: the A requests logged before it are left out.
    const logged = (parse(readFileSync(path.join(mlflow.dir, 'router-predictions.csv'), 'utf8'), { columns: true }) as { event: string; variant: string }[]).filter(
      (row) => row.event === 'prediction',
    );
    const beforeB = logged.findIndex((row) => row.variant === 'B');
    expect(logged.length).toBe(answers.length);
    const A = (result.json.variants as { A: { requests: number; labeled: number } }).A;
    expect(A.requests).toBe(byVariant.A.length - beforeB);
    expect(A.labeled).toBe(A.requests);
    expect((result.json.log as { excluded_predictions: number }).excluded_predictions).toBe(beforeB);
    expect(split(configFile)).toBe(0);

    // The router follows the registry (polled every second) and the YAML split (watched).
    await waitFor<AbView>(`${url}/ab`, (ab) => ab.prod.version === '3' && ab.prod.state === 'serving' && ab.staging === null && ab.ab_split_b === 0, 60_000);
    const after = await sendTraffic(url, traffic.rows.slice(0, 20), { features, target: 'species', users: 'after', labelToken: LABEL_TOKEN });
    expect(after.every((a) => a.variant === 'A' && a.model_version === '3')).toBe(true);
  }, 600_000);

  it('rollback: the router goes back to the previous prod', async () => {
    expect((await cli(['rollback', '--from', '3'], configFile)).json).toMatchObject({ prod: '1', changed: true });
    await waitFor<AbView>(`${router!.url}/ab`, (ab) => ab.prod.version === '1' && ab.prod.state === 'serving', 60_000);
    expect((await cli(['promote', '--version', '3'], configFile)).json).toMatchObject({ prod: '3', previous_prod: '1' });
    await waitFor<AbView>(`${router!.url}/ab`, (ab) => ab.prod.version === '3' && ab.prod.state === 'serving', 60_000);
  }, 300_000);

  it('reject: a worse candidate served by the router is rejected, and the router drops it', async () => {
    await new MlflowClient(mlflow.uri).setAlias(MODEL, 'staging', '2');
    expect((await cli(['ab', 'start'], configFile)).json).toMatchObject({ started: true, staging: '2' });
    const url = router!.url;
    await waitFor<AbView>(`${url}/ab`, (ab) => ab.staging?.version === '2' && ab.staging.state === 'serving' && ab.ab_split_b === 0.5, 120_000);
    const features = mlflow.config.dataset.features.map((f) => f.name);
    // A client without the label token tries to rig the test: it labels B's answers right and A's wrong.
    const classes = mlflow.config.dataset.classes;
    const refused: number[] = [];
    for (const [i, row] of traffic.rows.slice(0, 40).entries()) {
      const body = JSON.stringify({ user_id: `rig-${i}`, features: Object.fromEntries(features.map((f) => [f, Number(row[f])])) });
      const answer = (await (await fetch(`${url}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body })).json()) as { request_id: string; variant: string; prediction: string };
      const label = answer.variant === 'B' ? answer.prediction : classes.find((c) => c !== answer.prediction)!;
      const feedback = await fetch(`${url}/feedback`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ request_id: answer.request_id, label }) });
      refused.push(feedback.status);
    }
    expect(refused).toEqual(new Array(40).fill(401));
    await sendTraffic(url, traffic.rows, { features, target: 'species', users: 'ab2', labelToken: LABEL_TOKEN });
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const result = await cli(['ab', 'evaluate', '--apply'], configFile);
    expect(result.json).toMatchObject({ decision: 'reject', variants: { A: { version: '3' }, B: { version: '2' } }, applied: { action: 'rejected' } });
    // Only the labels sent with the token count: one per honest request, none of the rig's.
    const variants = result.json.variants as Record<'A' | 'B', { labeled: number }>;
    expect(variants.A.labeled + variants.B.labeled).toBe(traffic.rows.length);
    await waitFor<AbView>(`${url}/ab`, (ab) => ab.prod.version === '3' && ab.staging === null && ab.ab_split_b === 0, 60_000);
  }, 600_000);

  it('shadow design: staging predicts beside prod, one label labels both rows, and ab evaluate pairs them and promotes', async () => {
    // Back to v1 prod (the rollback ends the watch v3's promotion began) and v3 staging; the test opens as ab.design shadow.
    expect((await cli(['rollback', '--from', '3'], configFile)).json).toMatchObject({ prod: '1', changed: true });
    await new MlflowClient(mlflow.uri).setAlias(MODEL, 'staging', '3');
    const text = readFileSync(configFile, 'utf8');
    expect(text.match(/^ {2}design: split$/gm)).toEqual(['  design: split']);
    writeFileSync(configFile, text.replace(/^ {2}design: split$/m, '  design: shadow'));
    expect((await cli(['ab', 'start'], configFile)).json).toMatchObject({ started: true, design: 'shadow', ab_split_b: 0, shadow_share: 1, staging: '3', prod: '1' });
    const url = router!.url;
    await waitFor<{ shadow: { kind: string; version: string | null; state: string; share: number } }>(
      `${url}/status.json`,
      (s) => s.shadow.kind === 'staging' && s.shadow.version === '3' && s.shadow.state === 'serving' && s.shadow.share === 1,
      300_000,
    );
    /** A counter's total over its labels. */
    const metric = async (name: string): Promise<number> =>
      (await (await fetch(`${url}/metrics`)).text())
        .split('\n')
        .filter((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`))
        .reduce((sum, l) => sum + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
    const logFile = path.join(mlflow.dir, 'router-predictions.csv');
    const rowsBefore = (parse(readFileSync(logFile, 'utf8'), { columns: true }) as unknown[]).length;
    const droppedBefore = await metric('driftgate_router_shadow_dropped_total');
    const features = mlflow.config.dataset.features.map((f) => f.name);
    const answers = await sendTraffic(url, traffic.rows, { features, target: 'species', users: 'shadow', labelToken: LABEL_TOKEN, concurrency: 4 });
    // Prod answers every request: the user never sees the shadow.
    expect(answers.every((a) => a.variant === 'A' && a.model_version === '1')).toBe(true);
    answers.forEach((a, i) => expect(a.prediction).toBe(predictions['1']![i]));
    const deadline = Date.now() + 60_000;
    while ((await metric('driftgate_router_shadow_queue_length')) > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    await new Promise((resolve) => setTimeout(resolve, 1000));

    type Row = { event: string; request_id: string; variant: string; model_version: string; model_alias: string; prediction: string; label: string };
    const rows = (parse(readFileSync(logFile, 'utf8'), { columns: true }) as Row[]).slice(rowsBefore);
    const index = new Map(answers.map((a, i) => [a.request_id, i]));
    const shadows = rows.filter((r) => r.event === 'shadow');
    const dropped = (await metric('driftgate_router_shadow_dropped_total')) - droppedBefore;
    expect(shadows.length + dropped).toBe(answers.length);
    expect(shadows.length).toBeGreaterThan(answers.length / 2);
    // Each shadow row is v3's own prediction for a request prod answered, joined by its request id, with no label of its own.
    for (const row of shadows) {
      const i = index.get(row.request_id)!;
      expect(row).toMatchObject({ variant: '', model_version: '3', model_alias: 'staging', prediction: predictions['3']![i], label: '' });
    }
    // The one label per request (inline on the prediction row, or a feedback row) labels both predictions.
    const labels = rows.filter((r) => r.event === 'feedback' || (r.event === 'prediction' && r.label !== '')).length;
    expect(labels).toBe(answers.length);
    const expected = { b: 0, c: 0, both_right: 0, both_wrong: 0 };
    for (const row of shadows) {
      const i = index.get(row.request_id)!;
      const label = traffic.rows[i]!.species!;
      const a = predictions['1']![i] === label;
      const b = predictions['3']![i] === label;
      if (a && b) expected.both_right += 1;
      else if (b) expected.b += 1;
      else if (a) expected.c += 1;
      else expected.both_wrong += 1;
    }
    expect(expected.b).toBeGreaterThan(expected.c);

    const result = await cli(['ab', 'evaluate', '--apply'], configFile);
    expect(result.exitCode).toBe(0);
    expect(result.json).toMatchObject({
      design: 'shadow',
      decision: 'promote',
      paired: { labeled_pairs: shadows.length, labeled_users: shadows.length, compared: shadows.length, ...expected, decision: 'promote' },
      applied: { action: 'promoted' },
    });
    const n = shadows.length;
    const accuracy = (right: number): string => (right / n).toFixed(3);
    expect(result.json.reason as string).toContain(
      `B beats A in the paired (shadow) test: accuracy ${accuracy(expected.both_right + expected.b)} vs ${accuracy(expected.both_right + expected.c)} ` +
        `on ${n} labelled pairs (B right and A wrong ${expected.b}, the reverse ${expected.c}), always-valid p = `,
    );
    expect(loadConfig(configFile, {}).router.shadow_share).toBe(0);
    // The promotion starts the watch: the replaced prod, v1, now predicts in shadow beside v3.
    await waitFor<{ shadow: { kind: string; alias: string; version: string | null; state: string } }>(
      `${url}/status.json`,
      (s) => s.shadow.kind === 'watch' && s.shadow.alias === 'previous_prod' && s.shadow.version === '1' && s.shadow.state === 'serving',
      120_000,
    );
  }, 600_000);
});
