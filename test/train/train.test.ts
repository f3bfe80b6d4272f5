import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { loadConfig } from '../../src/config/index.js';
import { DriftgateError } from '../../src/errors.js';
import { ENVIRONMENTS, venvPython } from '../../src/python/bootstrap.js';
import { registryState } from '../../src/registry/aliases.js';
import { MlflowClient, type ModelVersion } from '../../src/registry/client.js';
import { estimateAccuracy, learnCalibration } from '../../src/stats/cbpe.js';
import { train, type TrainResult } from '../../src/train/train.js';
import { lastJson, runCli } from '../helpers/cli.js';
import { writeConfig } from '../helpers/config.js';
import { mlflowApi, startMlflow, type MlflowFixture } from '../helpers/mlflow.js';
import { freePort } from '../helpers/net.js';

// Real PyCaret against a real MLflow server; a two-model list and 3 folds keep each run to seconds.
const FAST = { training: { include: ['lr', 'dt'], folds: 3 } };

let mlflow: MlflowFixture;
let client: MlflowClient;
const MODEL = 'iris-train-test';

beforeAll(async () => {
  mlflow = await startMlflow({ mlflow: { model_name: MODEL, experiment: 'train-test' }, ...FAST });
  client = new MlflowClient(mlflow.uri);
}, 300_000);
afterAll(async () => mlflow?.stop());

function configWith(patch: Record<string, unknown>): string {
  return writeConfig(mlflow.dir, { mlflow: { tracking_uri: mlflow.uri, model_name: MODEL, experiment: 'train-test' }, ...FAST, ...patch }, `c-${Math.random().toString(36).slice(2)}.yaml`);
}

async function versions(): Promise<ModelVersion[]> {
  return client.searchVersions(MODEL);
}

type TrainJson = TrainResult;

describe('driftgate train (real PyCaret, real MLflow)', () => {
  let first: TrainJson;

  it('a fresh install: the first model becomes prod, with everything logged to one run', async () => {
    const { exitCode, stdout, stderr } = await runCli(['train', '--config', configWith({}), '--json']);
    expect(stderr).toContain('[train] compare_models done in');
    expect(exitCode).toBe(0);
    first = lastJson(stdout) as TrainJson;
    expect(first.model_name).toBe(MODEL);
    expect(first.version).toBe('1');
    expect(first.alias).toBe('prod');
    expect(first.gate).toBe('passed');
    expect(['LogisticRegression', 'DecisionTreeClassifier']).toContain(first.best_model);
    expect(Object.keys(first.metrics.cv).sort()).toEqual(['AUC', 'Accuracy', 'F1', 'Kappa', 'MCC', 'Precision', 'Recall']);
    expect(first.metrics.holdout.Accuracy).toBeGreaterThan(0.85);
    expect(await registryState(client, loadConfig(configWith({}), {}))).toEqual({ prod: '1', staging: null, previous: null, journal: null, watch: null });

    const { run } = await mlflowApi<{ run: { info: { status: string; artifact_uri: string }; data: { params: { key: string; value: string }[]; metrics: { key: string; value: number }[]; tags: { key: string; value: string }[] }; inputs: { dataset_inputs: { dataset: { name: string } }[] } } }>(
      mlflow.uri,
      'GET',
      'runs/get',
      { run_id: first.run_id },
    );
    expect(run.info.status).toBe('FINISHED');
    const params = Object.fromEntries(run.data.params.map((p) => [p.key, p.value]));
    expect(params['setup.target']).toBe('species');
    expect(params['setup.fold']).toBe('3');
    expect(params['setup.session_id']).toBe('42');
    expect(params.rows).toBe('150');
    expect(params.features).toBe('4');
    expect(params.best_model).toBe(first.best_model);
    expect(params.data_digest).toMatch(/^[0-9a-f]{64}$/);
    expect(Object.keys(params).some((k) => k.startsWith('model.'))).toBe(true);
    expect(run.data.metrics.map((m) => m.key).sort()).toEqual(
      ['AUC', 'Accuracy', 'F1', 'Kappa', 'MCC', 'Precision', 'Recall'].flatMap((m) => [`cv_${m}`, `holdout_${m}`]).sort(),
    );
    expect(run.data.tags.find((t) => t.key === 'driftgate.trigger')?.value).toBe('manual');
    expect(run.inputs.dataset_inputs.map((d) => d.dataset.name)).toEqual(['iris']);

    const listed = async (p: string) =>
      (await mlflowApi<{ files: { path: string }[] }>(mlflow.uri, 'GET', 'artifacts/list', { run_id: first.run_id, path: p })).files.map((f) => f.path).sort();
    expect(await listed('compare_models')).toEqual(['compare_models/leaderboard.csv', 'compare_models/leaderboard.html']);
    expect(await listed('plots')).toEqual(['plots/Confusion Matrix.png', 'plots/Feature Importance.png']);
    // The held-out predictions with every class's probability: what `driftgate performance` calibrates on.
    expect(await listed('calibration')).toEqual(['calibration/holdout.json']);
    const root = /^mlflow-artifacts:\/+(.*)$/.exec(run.info.artifact_uri)![1];
    const calibration = (await (await fetch(new URL(`/api/2.0/mlflow-artifacts/artifacts/${root}/calibration/holdout.json`, mlflow.uri))).json()) as {
      format: string;
      model: string;
      classes: string[];
      rows: { label: string; prediction: string; probabilities: number[] }[];
    };
    expect({ format: calibration.format, model: calibration.model, classes: calibration.classes }).toEqual({ format: 'driftgate.calibration/1', model: first.best_model, classes: ['setosa', 'versicolor', 'virginica'] });
    // train_size 0.7 of 150 rows: 45 held out.
    expect(calibration.rows).toHaveLength(45);
    for (const row of calibration.rows) {
      expect(calibration.classes).toContain(row.label);
      expect(row.probabilities).toHaveLength(3);
      expect(row.probabilities.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 4);
      // The predicted class is the most probable one.
      expect(row.probabilities[calibration.classes.indexOf(row.prediction)]).toBe(Math.max(...row.probabilities));
    }
    const heldOutAccuracy = calibration.rows.filter((r) => r.label === r.prediction).length / 45;
    expect(heldOutAccuracy).toBeCloseTo(first.metrics.holdout.Accuracy!, 4);

    const version = (await client.getVersion(MODEL, '1'))!;
    const tags = Object.fromEntries((version.tags ?? []).map((t) => [t.key, t.value]));
    expect(tags['driftgate.trigger']).toBe('manual');
    expect(tags['driftgate.data_digest']).toBe(params.data_digest);
    expect(tags['driftgate.gate']).toBe('passed');
    expect(version.run_id).toBe(first.run_id);
  }, 240_000);

  it('driftgate performance estimates version 1 from its calibration artifact, beside the realised accuracy', async () => {
    // Three logged predictions of version 1 with the predicted class's probability 1.0, 0.6 and 0.2, two labelled.
    const header = 'ts,event,request_id,user_id,variant,model_alias,model_version,sepal_length,sepal_width,petal_length,petal_width,prediction,label,latency_ms,error_code,ab_split_b,probabilities';
    const rows = [
      '2026-12-02T10:00:01.000Z,prediction,r1,u1,A,prod,1,5.1,3.5,1.4,0.2,setosa,setosa,2,,,1;0;0',
      '2026-12-02T10:00:02.000Z,prediction,r2,u2,A,prod,1,6.0,2.9,4.5,1.5,versicolor,,2,,,0.1;0.6;0.3',
      '2026-12-02T10:00:03.000Z,prediction,r3,u3,A,prod,1,6.3,2.8,5.1,1.5,virginica,,2,,,0.4;0.4;0.2',
      '2026-12-02T10:00:04.000Z,feedback,r2,,,,,,,,,,virginica,,,,',
    ];
    const log = path.join(mlflow.dir, 'performance-log.csv');
    writeFileSync(log, `${[header, ...rows].join('\n')}\n`);
    const { exitCode, stdout, stderr } = await runCli(['performance', '--config', configWith({}), '--log', log, '--json']);
    expect(stderr).toBe('');
    expect(exitCode).toBe(0);
    const result = lastJson(stdout) as { calibration: Record<string, { rows: number; holdout_accuracy: number }>; verdict: Record<string, unknown>; windows: Record<string, unknown>[] };

    // The same estimate from the artifact itself, learned here.
    const { run } = await mlflowApi<{ run: { info: { artifact_uri: string } } }>(mlflow.uri, 'GET', 'runs/get', { run_id: (await client.getVersion(MODEL, '1'))!.run_id });
    const root = /^mlflow-artifacts:\/+(.*)$/.exec(run.info.artifact_uri)![1];
    const file = (await (await fetch(new URL(`/api/2.0/mlflow-artifacts/artifacts/${root}/calibration/holdout.json`, mlflow.uri))).json()) as { classes: string[]; rows: { label: string; prediction: string; probabilities: number[] }[] };
    const calibration = learnCalibration(file.rows.map((r) => ({ confidence: r.probabilities[file.classes.indexOf(r.prediction)]!, correct: r.label === r.prediction })));
    const expected = estimateAccuracy(calibration, [1, 0.6, 0.2]);
    expect(result.calibration).toEqual({ '1': { rows: 45, holdout_accuracy: calibration.accuracy } });
    expect(result.windows).toEqual([
      {
        source: 'A', alias: 'prod', version: '1', start: '2026-12-02T00:00:00.000Z', end: '2026-12-03T00:00:00.000Z', n: 3, scored: 3,
        estimated_accuracy: expected.estimate, standard_error: expected.standardError, labelled: 2, realised_accuracy: 0.5,
      },
    ]);
    // performance.max_drop is off in the bundled config: the verdict reports, never decides.
    expect(result.verdict).toEqual({
      version: '1', window_start: '2026-12-02T00:00:00.000Z', estimated_accuracy: expected.estimate, holdout_accuracy: calibration.accuracy,
      drop: calibration.accuracy - expected.estimate, max_drop: null, drop_detected: false,
    });
  }, 120_000);

  it('the registered model loads in the pinned environment and predicts Iris classes', async () => {
    const script = [
      'import mlflow, pandas as pd',
      `m = mlflow.sklearn.load_model("models:/${MODEL}/1")`,
      'X = pd.DataFrame([[5.1,3.5,1.4,0.2],[6.0,2.9,4.5,1.5],[7.7,3.0,6.1,2.3]], columns=["sepal_length","sepal_width","petal_length","petal_width"])',
      'print(",".join(m.predict(X)))',
    ].join('\n');
    const { stdout } = await execa(venvPython(ENVIRONMENTS.train.venvDir), ['-c', script], { env: { MLFLOW_TRACKING_URI: mlflow.uri } });
    expect(stdout.trim().split('\n').at(-1)).toBe('setosa,versicolor,virginica');
  }, 120_000);

  it('with a prod in place, a new version becomes staging and prod stays', async () => {
    const drifted = path.join(mlflow.dir, 'drifted.csv');
    const made = await runCli(['data', 'drifted', '--config', configWith({}), '--out', drifted, '--rows', '150']);
    expect(made.exitCode).toBe(0);
    const { exitCode, stdout } = await runCli(['train', '--trigger', 'drift', '--config', configWith({ dataset: { current: drifted } }), '--json']);
    expect(exitCode).toBe(0);
    const second = lastJson(stdout) as TrainJson;
    expect(second.version).toBe('2');
    expect(second.alias).toBe('staging');
    expect(await registryState(client, loadConfig(configWith({}), {}))).toEqual({ prod: '1', staging: '2', previous: null, journal: null, watch: null });
    const run = await client.getRun(second.run_id);
    expect(run?.data.params?.find((p) => p.key === 'rows')?.value).toBe('300');
  }, 240_000);

  it('a candidate below the quality floor is registered, tagged rejected, and gets no alias', async () => {
    const { exitCode, stdout, stderr } = await runCli(['train', '--config', configWith({ training: { min_holdout_accuracy: 1 } }), '--json']);
    expect(exitCode).toBe(0);
    const result = lastJson(stdout) as TrainJson;
    expect(result.version).toBe('3');
    expect(result.alias).toBeNull();
    expect(result.gate).toBe('rejected');
    expect(stderr).toContain(`[train] version 3 failed the quality gate (holdout accuracy ${result.metrics.holdout.Accuracy} < 1)`);
    const version = (await client.getVersion(MODEL, '3'))!;
    expect(version.tags?.find((t) => t.key === 'driftgate.gate')?.value).toBe('rejected');
    expect(await registryState(client, loadConfig(configWith({}), {}))).toEqual({ prod: '1', staging: '2', previous: null, journal: null, watch: null });
  }, 240_000);

  it('a retry of the same orchestrator run creates no second version', async () => {
    const config = configWith({});
    const once = await runCli(['train', '--trigger', 'schedule', '--run-id', 'scheduled__2026-11-28T00:00:00+00:00', '--config', config, '--json']);
    expect(once.exitCode).toBe(0);
    const before = (await versions()).length;
    const again = await runCli(['train', '--trigger', 'schedule', '--run-id', 'scheduled__2026-11-28T00:00:00+00:00', '--config', config, '--json']);
    expect(again.exitCode).toBe(0);
    expect(again.stderr).toContain('was already registered for this orchestrator run; not training again');
    expect((lastJson(again.stdout) as TrainJson).version).toBe((lastJson(once.stdout) as TrainJson).version);
    expect((await versions()).length).toBe(before);
  }, 240_000);

  describe('failures leave prod and staging exactly as they were', () => {
    const expectAliasesUnchanged = async () => {
      const state = await registryState(client, loadConfig(configWith({}), {}));
      expect(state.prod).toBe('1');
      expect(state.staging).not.toBeNull();
      return state;
    };

    it('MLflow unreachable is detected before any training starts', async () => {
      const dead = `http://127.0.0.1:${await freePort()}`;
      const config = configWith({ mlflow: { tracking_uri: dead, model_name: MODEL } });
      const started = Date.now();
      const { exitCode, stderr } = await runCli(['train', '--config', config]);
      expect(exitCode).toBe(1);
      expect(stderr).toBe(
        `driftgate: cannot reach the MLflow tracking server at ${dead} (ECONNREFUSED); start it with 'driftgate mlflow start' or set MLFLOW_TRACKING_URI\n`,
      );
      expect(Date.now() - started).toBeLessThan(5000);
    });

    it('a Python crash marks the run FAILED, moves no alias and shows the stderr tail', async () => {
      const before = await expectAliasesUnchanged();
      const count = (await versions()).length;
      const { exitCode, stderr } = await runCli(['train', '--config', configWith({ training: { include: ['no_such_model'] } })]);
      expect(exitCode).toBe(1);
      expect(stderr).toMatch(/driftgate: training failed: python\/train.py exited with status 1; last stderr lines:\n/);
      expect(stderr).toContain('ValueError: Estimator no_such_model Not Available. Please see docstring for list of available estimators.');
      expect(stderr).toMatch(/No alias was moved\.\n$/);
      expect(await registryState(client, loadConfig(configWith({}), {}))).toEqual(before);
      expect((await versions()).length).toBe(count);
      const experiment = (await client.getExperimentByName('train-test'))!;
      const [latest] = await client.searchRuns(experiment.experiment_id, '');
      expect(latest?.info.status).toBe('FAILED');
    }, 120_000);

    it('a timeout kills Python and moves no alias', async () => {
      const before = await expectAliasesUnchanged();
      const { exitCode, stderr } = await runCli(['train', '--config', configWith({ training: { timeout_s: 1 } })]);
      expect(exitCode).toBe(1);
      expect(stderr).toMatch(/\ndriftgate: training failed: python\/train.py timed out \(after 1000 ms\)\nNo alias was moved\.\n$/);
      expect(await registryState(client, loadConfig(configWith({}), {}))).toEqual(before);
    }, 60_000);

    it('a cancelled run (SIGTERM once the MLflow run exists) is marked FAILED and registers nothing', async () => {
      const before = await expectAliasesUnchanged();
      const count = (await versions()).length;
      const controller = new AbortController();
      let runLine = '';
      const error = await train(loadConfig(configWith({}), {}), {
        trigger: 'manual',
        signal: controller.signal,
        log: (line) => {
          if (line.startsWith('[train] MLflow run ')) {
            runLine = line;
            controller.abort();
          }
        },
      }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DriftgateError);
      expect((error as Error).message).toMatch(/^training failed: python\/train.py was killed by SIGTERM \(cancelled\)|^training failed: python\/train.py exited with status 143 \(cancelled\)/);
      const runId = /MLflow run (\w+)/.exec(runLine)![1]!;
      expect((await client.getRun(runId))?.info.status).toBe('FAILED');
      expect((await versions()).length).toBe(count);
      expect(await registryState(client, loadConfig(configWith({}), {}))).toEqual(before);
    }, 120_000);

    it('a class not in the config exits 2 naming the file and line', async () => {
      const bad = path.join(mlflow.dir, 'bad-class.csv');
      writeFileSync(bad, 'sepal_length,sepal_width,petal_length,petal_width,species\n5.1,3.5,1.4,0.2,setosa\n6.0,2.9,4.5,1.5,tulip\n');
      const { exitCode, stderr } = await runCli(['train', '--config', configWith({ dataset: { current: bad } })]);
      expect(exitCode).toBe(2);
      expect(stderr).toBe(`driftgate: ${bad}: line 3, column "species": expected one of setosa, versicolor, virginica, got "tulip"\n`);
    });

    it('a missing target exits 2 naming the file and line', async () => {
      const bad = path.join(mlflow.dir, 'no-target.csv');
      writeFileSync(bad, 'sepal_length,sepal_width,petal_length,petal_width,species\n5.1,3.5,1.4,0.2,\n');
      const { exitCode, stderr } = await runCli(['train', '--config', configWith({ dataset: { current: bad } })]);
      expect(exitCode).toBe(2);
      expect(stderr).toBe(`driftgate: ${bad}: line 2: missing target "species"\n`);
      const noColumn = path.join(mlflow.dir, 'no-target-column.csv');
      writeFileSync(noColumn, 'sepal_length,sepal_width,petal_length,petal_width\n5.1,3.5,1.4,0.2\n');
      const missing = await runCli(['train', '--config', configWith({ dataset: { current: noColumn } })]);
      expect(missing.exitCode).toBe(2);
      expect(missing.stderr).toBe(`driftgate: ${noColumn}: missing column "species" (found sepal_length, sepal_width, petal_length, petal_width)\n`);
    });
  });
});
