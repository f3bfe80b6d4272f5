/** Alias moves. The registry is the only truth about which version is prod and which is staging. */
import type { Config } from '../config/index.js';
import type { MlflowClient } from './client.js';

export const TAGS = {
  gate: 'driftgate.gate',
  orchestratorRunId: 'driftgate.orchestrator_run_id',
  trigger: 'driftgate.trigger',
  dataDigest: 'driftgate.data_digest',
  driftReport: 'driftgate.drift_report',
  holdoutAccuracy: 'driftgate.holdout_accuracy',
  decision: 'driftgate.decision',
  previousProd: 'driftgate.previous_prod',
} as const;

export interface AliasState {
  prod: string | null;
  staging: string | null;
}

export async function aliasState(client: MlflowClient, config: Config): Promise<AliasState> {
  const model = await client.getRegisteredModel(config.mlflow.model_name);
  const find = (alias: string): string | null => model?.aliases?.find((a) => a.alias === alias)?.version ?? null;
  return { prod: find(config.mlflow.prod_alias), staging: find(config.mlflow.staging_alias) };
}

/**
 * Point the right alias at a freshly trained version: `prod` on a fresh install (there is nothing to
 * A/B against), else `staging`. A version that failed the quality gate gets neither.
 */
export async function assignNewVersion(
  client: MlflowClient,
  config: Config,
  version: string,
  gate: string,
): Promise<string | null> {
  if (gate !== 'passed') return null;
  const state = await aliasState(client, config);
  if (state.prod === null) {
    await client.setAlias(config.mlflow.model_name, config.mlflow.prod_alias, version);
    return config.mlflow.prod_alias;
  }
  if (state.prod === version) return config.mlflow.prod_alias;
  await client.setAlias(config.mlflow.model_name, config.mlflow.staging_alias, version);
  return config.mlflow.staging_alias;
}
