/**
 * What the registry says about the aliases, and the alias move after a training. The registry is the
 * only truth about which version is prod and which is staging.
 */
import type { Config } from '../config/index.js';
import { modelTag, type MlflowClient } from './client.js';
import { JOURNAL_TAG, previousAlias } from './vocabulary.js';
import type { Transition } from './promotion.js';
import { readWatch, type Watch } from './watch.js';

export interface RegistryState {
  prod: string | null;
  staging: string | null;
  previous: string | null;
  /** A transition an interrupted command started (the journal tag), or null. */
  journal: Transition | null;
  /** The watch after the last promotion, while prod is still the version it watches; else null. */
  watch: Watch | null;
}

export async function registryState(client: Pick<MlflowClient, 'getRegisteredModel'>, config: Config): Promise<RegistryState> {
  const model = await client.getRegisteredModel(config.mlflow.model_name);
  const alias = (name: string): string | null => model?.aliases?.find((a) => a.alias === name)?.version ?? null;
  const text = modelTag(model, JOURNAL_TAG);
  let journal: Transition | null = null;
  if (text) {
    try {
      journal = JSON.parse(text) as Transition;
    } catch {
      journal = null;
    }
  }
  const prod = alias(config.mlflow.prod_alias);
  const watch = readWatch(model)?.watch ?? null;
  return { prod, staging: alias(config.mlflow.staging_alias), previous: alias(previousAlias(config)), journal, watch: watch !== null && watch.version === prod ? watch : null };
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
  const state = await registryState(client, config);
  if (state.prod === null) {
    await client.setAlias(config.mlflow.model_name, config.mlflow.prod_alias, version);
    return config.mlflow.prod_alias;
  }
  if (state.prod === version) return config.mlflow.prod_alias;
  await client.setAlias(config.mlflow.model_name, config.mlflow.staging_alias, version);
  return config.mlflow.staging_alias;
}
