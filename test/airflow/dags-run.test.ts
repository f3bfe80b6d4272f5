/**
 * The generated DAGs run end to end in real Airflow 3 (`airflow dags test`, through `driftgate airflow
 * dags-test`), with the real CLI, real PyCaret training and a real MLflow server. The config lives in a
 * folder whose name carries quotes, `{{ }}`, `$(…)`, `;`, a newline and non-ASCII text, so every path a
 * task hands the CLI must arrive unchanged for these runs to succeed.
 *
 * Each `dags test` costs 20-45 s on two cores, so four runs cover it all: drift (with a retrain that
 * fails once after registering), plain data, an A/B test that B wins, and the watch after that
 * promotion rolling a worse new prod back.
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import type { DagRunReport } from '../../src/airflow/index.js';
import { loadConfig } from '../../src/config/index.js';
import { PROJECT_ROOT } from '../../src/project.js';
import { registryState } from '../../src/registry/aliases.js';
import { MlflowClient, versionTag } from '../../src/registry/client.js';
import { logColumns, predictionLine } from '../../src/prediction-log/index.js';
import { simulatedRows, withShadow, writeLog } from '../helpers/ab-log.js';
import { lastJson, runCli } from '../helpers/cli.js';
import { tempDir, writeConfig } from '../helpers/config.js';
import { startMlflow, type MlflowFixture } from '../helpers/mlflow.js';

const FIXTURES = path.join(PROJECT_ROOT, 'test', 'airflow', 'fixtures');
const MODEL = 'airflow-e2e';
const MINUTES = 60_000;

let mlflow: MlflowFixture;
let client: MlflowClient;
const root = tempDir('driftgate-airflow-');
const dir = path.join(root, `run it's "q" {{ run_id }} $(touch pwned-marker) ; \`touch pwned-marker\` ü\nline two`);
// ab evaluate reads router.log_path as a glob, so the log's folder avoids * ? [ ] { }.
const logPath = path.join(root, `live it's "q" $(touch pwned-marker) ; ü`, 'predictions.csv');
let configFile: string;
const dags = path.join(root, 'dags');
const home = path.join(root, 'airflow-home');

async function dagsTest(which: 'monitor' | 'ab', env: Record<string, string | undefined> = {}): Promise<DagRunReport> {
  const { exitCode, stdout, stderr } = await runCli(['airflow', 'dags-test', which, '--config', configFile, '--dags', dags, '--airflow-home', home, '--json'], {
    env,
    timeoutMs: 20 * MINUTES,
  });
  if (exitCode !== 0) throw new Error(`driftgate airflow dags-test ${which} exited ${exitCode}:\n${stderr.slice(-4000)}`);
  return lastJson(stdout) as DagRunReport;
}

function states(report: DagRunReport): Record<string, string | null> {
  return Object.fromEntries(report.tasks.map((t) => [t.task_id, t.state]));
}

function tries(report: DagRunReport, taskId: string): number | undefined {
  return report.tasks.find((t) => t.task_id === taskId)?.try_number;
}

async function versions(): Promise<string[]> {
  return (await client.searchVersions(MODEL)).map((v) => v.version).sort();
}

beforeAll(async () => {
  mlflow = await startMlflow();
  client = new MlflowClient(mlflow.uri);
  mkdirSync(dir, { recursive: true });
  mkdirSync(path.dirname(logPath), { recursive: true });
  copyFileSync(path.join(PROJECT_ROOT, 'data', 'iris.csv'), path.join(dir, 'iris "reference".csv'));
  configFile = writeConfig(
    dir,
    {
      dataset: { reference: 'iris "reference".csv', current: 'current $(touch pwned-marker).csv' },
      mlflow: { tracking_uri: mlflow.uri, model_name: MODEL, experiment: MODEL },
      // A two-model list and 3 folds keep each PyCaret run to seconds.
      training: { include: ['lr', 'dt'], folds: 3 },
      router: { log_path: logPath },
      airflow: { retries: 1, retry_delay_s: 1 },
    },
    'driftgate "e2e".yaml',
  );
  // The model in prod before the loop starts.
  const baseline = await runCli(['train', '--trigger', 'manual', '--config', configFile, '--json'], { timeoutMs: 15 * MINUTES });
  expect(baseline.exitCode, baseline.stderr).toBe(0);
  expect(lastJson(baseline.stdout)).toMatchObject({ version: '1', alias: 'prod' });
}, 20 * MINUTES);

afterAll(async () => mlflow?.stop());

describe('generated DAGs under airflow dags test', () => {
  it('monitor, drifted data: retrains once although the first retrain attempt dies after registering, then opens the A/B test', async () => {
    const drifted = await runCli(['data', 'drifted', '--config', configFile]);
    expect(drifted.exitCode, drifted.stderr).toBe(0);

    const report = await dagsTest('monitor', { NODE_OPTIONS: `--import=${pathToFileURL(path.join(FIXTURES, 'fail-first-retrain.mjs')).href}` });
    expect(report.state).toBe('success');
    expect(states(report)).toEqual({ branch_on_drift: 'success', check_drift: 'success', no_drift: 'skipped', retrain: 'success', start_ab: 'success' });
    expect(tries(report, 'retrain')).toBe(2);

    const drift = report.xcom.check_drift as { drift_detected: boolean; report_dir: string };
    expect(drift.drift_detected).toBe(true);
    expect(path.dirname(drift.report_dir)).toBe(path.join(dir, 'reports', 'drift'));
    // The second attempt found the version the first one registered for this Airflow run.
    expect(report.xcom.retrain).toMatchObject({ model_name: MODEL, version: '2', alias: 'staging', reused: true });
    expect(report.xcom.start_ab).toMatchObject({ started: true, ab_split_b: 0.5 });

    expect(await versions()).toEqual(['1', '2']);
    expect(await registryState(client, loadConfig(configFile, {}))).toEqual({ prod: '1', staging: '2', previous: null, journal: null, watch: null });
    const version = await client.getVersion(MODEL, '2');
    expect(version && versionTag(version, 'driftgate.orchestrator_run_id')).toBe(report.run_id);
    expect(version && versionTag(version, 'driftgate.trigger')).toBe('drift');
    expect(loadConfig(configFile, {}).router.ab_split_b).toBe(0.5);
  }, 30 * MINUTES);

  it('monitor, plain data: no drift, training skipped, no new version', async () => {
    const plain = await runCli(['data', 'plain', '--config', configFile, '--out', loadConfig(configFile, {}).dataset.current ?? '']);
    expect(plain.exitCode, plain.stderr).toBe(0);

    const report = await dagsTest('monitor');
    expect(report.state).toBe('success');
    expect(states(report)).toEqual({ branch_on_drift: 'success', check_drift: 'success', no_drift: 'success', retrain: 'skipped', start_ab: 'skipped' });
    expect(report.xcom.check_drift).toMatchObject({ drift_detected: false });
    expect(report.xcom.retrain).toBeUndefined();
    expect(await versions()).toEqual(['1', '2']);
    expect(await registryState(client, loadConfig(configFile, {}))).toEqual({ prod: '1', staging: '2', previous: null, journal: null, watch: null });
  }, 30 * MINUTES);

  it('A/B, a log where B is clearly better: promotes staging to prod', async () => {
    writeLog(logPath, simulatedRows({ n: 1200, splitB: 0.5, accuracyA: 0.75, accuracyB: 0.95, versionA: '1', versionB: '2', seed: 7, start: Date.now() }));

    const report = await dagsTest('ab');
    expect(report.state).toBe('success');
    expect(states(report)).toEqual({ ab_evaluate: 'success', branch_on_decision: 'success', promoted: 'success', rejected: 'skipped', rolled_back: 'skipped', wait_for_data: 'skipped' });
    expect(report.xcom.ab_evaluate).toMatchObject({ decision: 'promote' });
    // The promotion starts the watch (ab.watch: 1000 labelled pairs or 24 hours by default).
    expect(await registryState(client, loadConfig(configFile, {}))).toEqual({
      prod: '2',
      staging: null,
      previous: '1',
      journal: null,
      watch: { version: '2', previous: '1', started_at: expect.any(String), labels: 1000, hours: 24 },
    });
    expect(loadConfig(configFile, {}).router.ab_split_b).toBe(0);
  }, 30 * MINUTES);

  it('A/B after the promotion: the watch finds the new prod worse than the one it replaced, and the DAG rolls it back', async () => {
    // The new prod (2) answers, the replaced prod (1) predicts in shadow beside it, and is right far more often.
    const answered = simulatedRows({ n: 600, splitB: 0, accuracyA: 0.7, accuracyB: 0.7, versionA: '2', versionB: '9', seed: 8, start: Date.now() });
    writeLog(logPath, withShadow(answered, { version: '1', alias: 'previous_prod', accuracy: 0.95, seed: 9 }));

    const report = await dagsTest('ab');
    expect(report.state).toBe('success');
    expect(states(report)).toEqual({ ab_evaluate: 'success', branch_on_decision: 'success', promoted: 'skipped', rejected: 'skipped', rolled_back: 'success', wait_for_data: 'skipped' });
    const result = report.xcom.ab_evaluate as { decision: string; design: string; reason: string; applied: { action: string } };
    expect(result).toMatchObject({ decision: 'rollback', design: 'watch', applied: { action: 'rolled-back' } });
    expect(result.reason).toMatch(/^the new prod version 2 is worse than previous_prod version 1, which it replaced, in the paired \(shadow\) watch: /);
    // The same journalled transition as `driftgate rollback`: prod is back on 1, the watch is over.
    expect(await registryState(client, loadConfig(configFile, {}))).toEqual({ prod: '1', staging: null, previous: null, journal: null, watch: null });
    const undone = await client.getVersion(MODEL, '2');
    expect(undone && versionTag(undone, 'driftgate.decision')).toBe('rolled-back');
  }, 30 * MINUTES);

  it('monitor with performance.max_drop, no drift but prod\'s estimated accuracy far below its held-out one: retrains with --trigger performance', async () => {
    // performance.max_drop on: the DAG gains check_performance.
    const text = readFileSync(configFile, 'utf8');
    const yaml = parse(text) as { performance: { max_drop: number | null } };
    yaml.performance.max_drop = 0.1;
    writeFileSync(configFile, stringify(yaml));
    // Plain Iris through prod (version 1), every prediction made with probability 0.5: below every held-out
    // confidence of version 1's calibration, where its held-out predictions were wrong.
    const config = loadConfig(configFile, {});
    const iris = readFileSync(path.join(PROJECT_ROOT, 'data', 'iris.csv'), 'utf8').trim().split('\n').slice(1);
    const t0 = Date.now() - 60_000;
    const lines = iris.map((line, i) => {
      const cells = line.split(',');
      const species = cells[4]!;
      return predictionLine({
        ts: t0 + i, requestId: `p${i}`, userId: `u${i}`, variant: 'A', alias: 'prod', version: '1', features: cells.slice(0, 4).map(Number),
        prediction: species, label: null, latencyMs: 2, probabilities: config.dataset.classes.map((c) => (c === species ? 0.5 : 0.25)),
      });
    });
    writeFileSync(logPath, `${logColumns(config).join(',')}\n${lines.join('')}`);

    const report = await dagsTest('monitor');
    expect(report.state).toBe('success');
    expect(states(report)).toEqual({ branch_on_drift: 'success', check_drift: 'success', check_performance: 'success', no_drift: 'skipped', retrain: 'success', start_ab: 'success' });
    expect(report.xcom.check_drift).toMatchObject({ drift_detected: false, n_current: 150 });
    const performance = report.xcom.check_performance as { verdict: { version: string; estimated_accuracy: number; holdout_accuracy: number; drop: number; max_drop: number; drop_detected: boolean } };
    expect(performance.verdict).toMatchObject({ version: '1', max_drop: 0.1, drop_detected: true });
    expect(performance.verdict.drop).toBeCloseTo(performance.verdict.holdout_accuracy - performance.verdict.estimated_accuracy, 12);
    expect(performance.verdict.drop).toBeGreaterThan(0.1);
    expect(report.xcom.retrain).toMatchObject({ model_name: MODEL, version: '3', alias: 'staging' });
    const version = await client.getVersion(MODEL, '3');
    expect(version && versionTag(version, 'driftgate.trigger')).toBe('performance');
  }, 30 * MINUTES);

  it('ran none of the shell text in the folder names', () => {
    for (const where of [PROJECT_ROOT, root, dir, path.dirname(logPath)]) expect(existsSync(path.join(where, 'pwned-marker'))).toBe(false);
  });
});
