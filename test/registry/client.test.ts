import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MlflowApiError, MlflowClient } from '../../src/registry/client.js';
import { stubModel } from '../helpers/ab-registry.js';
import { startMlflow, type MlflowFixture } from '../helpers/mlflow.js';

let mlflow: MlflowFixture;
let client: MlflowClient;

beforeAll(async () => {
  mlflow = await startMlflow();
  client = new MlflowClient(mlflow.uri);
});
afterAll(async () => {
  await mlflow?.stop();
});

describe('MlflowClient: registry additions', () => {
  it('a missing alias (MLflow: 400 INVALID_PARAMETER_VALUE) and a missing model are absence, not errors', async () => {
    const config = await stubModel(mlflow.config, 2);
    const name = config.mlflow.model_name;
    await client.setAlias(name, 'prod', '2');
    expect((await client.getVersionByAlias(name, 'prod'))?.version).toBe('2');
    expect(await client.getVersionByAlias(name, 'staging')).toBeNull();
    expect(await client.getVersionByAlias('no-such-model', 'prod')).toBeNull();
  });

  it('sets and deletes model tags and version tags; deleting what is not there is fine', async () => {
    const config = await stubModel(mlflow.config, 1);
    const name = config.mlflow.model_name;
    await client.setModelTag(name, 'driftgate.transition', '{"kind":"promote"}');
    expect((await client.getRegisteredModel(name))?.tags).toEqual([{ key: 'driftgate.transition', value: '{"kind":"promote"}' }]);
    await client.deleteModelTag(name, 'driftgate.transition');
    await client.deleteModelTag(name, 'driftgate.transition');
    expect((await client.getRegisteredModel(name))?.tags ?? []).toEqual([]);
    await client.setVersionTag(name, '1', 'k', 'v');
    await client.deleteVersionTag(name, '1', 'k');
    await client.deleteVersionTag(name, '1', 'k');
    expect((await client.getVersion(name, '1'))?.tags ?? []).toEqual([]);
  });
});

describe('MlflowClient: runs and artifacts', () => {
  it('creates an experiment once, a run in it, logs a batch beyond the per-request limits, and ends it', async () => {
    const id = await client.ensureExperiment('client-test');
    expect(await client.ensureExperiment('client-test')).toBe(id);
    const run = await client.createRun(id, 'ab-evaluate-x', { 'driftgate.kind': 'ab-evaluation' });
    expect(run.info.artifact_uri).toBe(`mlflow-artifacts:/${id}/${run.info.run_id}/artifacts`);
    const metrics = Array.from({ length: 1203 }, (_, step) => ({ key: 'path_p_better', value: 1 / (step + 1), step, timestamp: 1 }));
    const params = Object.fromEntries(Array.from({ length: 120 }, (_, i) => [`p${i}`, String(i)]));
    await client.logBatch(run.info.run_id, { metrics: [...metrics, { key: 'p_value', value: 0.01 }], params, tags: { 'driftgate.decision': 'promote' } });
    await client.updateRun(run.info.run_id, 'FINISHED');
    const stored = await client.getRun(run.info.run_id);
    expect(stored?.info.status).toBe('FINISHED');
    expect(stored?.data.params).toHaveLength(120);
    expect(stored?.data.metrics?.find((m) => m.key === 'path_p_better')?.value).toBe(1 / 1203);
    expect(stored?.data.metrics?.find((m) => m.key === 'p_value')?.value).toBe(0.01);
    expect(stored?.data.tags).toEqual(expect.arrayContaining([{ key: 'driftgate.decision', value: 'promote' }, { key: 'driftgate.kind', value: 'ab-evaluation' }]));
  });

  it('uploads artifacts through the server’s proxy and lists them', async () => {
    const id = await client.ensureExperiment('client-test');
    const run = await client.createRun(id, 'upload');
    await client.uploadArtifact(run, 'ab_report/report.json', '{"decision":"continue"}\n', 'application/json');
    await client.uploadArtifact(run, 'ab_report/a b.html', '<p>x</p>', 'text/html');
    expect((await client.listArtifacts(run.info.run_id, 'ab_report')).sort()).toEqual(['ab_report/a b.html', 'ab_report/report.json']);
    const text = await (await fetch(`${mlflow.uri}/get-artifact?path=ab_report/report.json&run_uuid=${run.info.run_id}`)).text();
    expect(text).toBe('{"decision":"continue"}\n');
    // And back through the client; a file the run does not have is null.
    expect(await client.downloadArtifact(run, 'ab_report/report.json')).toBe('{"decision":"continue"}\n');
    expect(await client.downloadArtifact(run, 'ab_report/a b.html')).toBe('<p>x</p>');
    expect(await client.downloadArtifact(run, 'calibration/holdout.json')).toBeNull();
  });

  it('refuses to upload to a run whose artifacts the server does not proxy', async () => {
    const id = await client.ensureExperiment('client-test');
    const run = await client.createRun(id, 'local');
    const local = { ...run, info: { ...run.info, artifact_uri: '/var/mlruns/1/abc/artifacts' } };
    await expect(client.uploadArtifact(local, 'x.json', '{}')).rejects.toThrow(
      `cannot upload x.json to run ${run.info.run_id}: expected an mlflow-artifacts:/ artifact URI (a server that proxies artifacts), got /var/mlruns/1/abc/artifacts`,
    );
    await expect(client.downloadArtifact(local, 'x.json')).rejects.toThrow(
      `cannot download x.json from run ${run.info.run_id}: expected an mlflow-artifacts:/ artifact URI (a server that proxies artifacts), got /var/mlruns/1/abc/artifacts`,
    );
    await expect(client.createRun('999999', 'nowhere')).rejects.toBeInstanceOf(MlflowApiError);
  });
});
