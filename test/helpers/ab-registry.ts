/** Registered models with stub versions (no model files) for registry-transition tests. */
import type { Config } from '../../src/config/index.js';
import { MlflowClient } from '../../src/registry/client.js';
import { mlflowApi } from './mlflow.js';

let counter = 0;

/** A fresh registered model with `count` versions ("1".."count"); returns a config naming it. */
export async function stubModel(config: Config, count: number, prefix = 'stub'): Promise<Config> {
  const uri = config.mlflow.tracking_uri;
  const name = `${prefix}-${process.pid}-${++counter}`;
  const client = new MlflowClient(uri);
  const experimentId = await client.ensureExperiment('driftgate-registry-tests');
  const run = await client.createRun(experimentId, name);
  await mlflowApi(uri, 'POST', 'registered-models/create', { name });
  for (let i = 0; i < count; i++) {
    await mlflowApi(uri, 'POST', 'model-versions/create', {
      name,
      source: `${run.info.artifact_uri}/model`,
      run_id: run.info.run_id,
    });
  }
  return { ...config, mlflow: { ...config.mlflow, model_name: name } };
}

export interface Snapshot {
  aliases: Record<string, string>;
  journal: string | null;
  /** driftgate.* tags per version, decided_at left out. */
  tags: Record<string, Record<string, string>>;
}

export async function snapshot(config: Config): Promise<Snapshot> {
  const client = new MlflowClient(config.mlflow.tracking_uri);
  const model = await client.getRegisteredModel(config.mlflow.model_name);
  const versions = await client.searchVersions(config.mlflow.model_name);
  const tags: Record<string, Record<string, string>> = {};
  for (const v of versions) {
    const own = (v.tags ?? []).filter((t) => t.key.startsWith('driftgate.') && t.key !== 'driftgate.decided_at');
    if (own.length) tags[v.version] = Object.fromEntries(own.map((t) => [t.key, t.value]).sort(([a], [b]) => a!.localeCompare(b!)));
  }
  return {
    aliases: Object.fromEntries((model?.aliases ?? []).map((a) => [a.alias, a.version]).sort(([a], [b]) => a!.localeCompare(b!))),
    journal: model?.tags?.find((t) => t.key === 'driftgate.transition')?.value ?? null,
    tags,
  };
}
