/** What `promote` and `rollback` share: one registry transition, its steps on stderr, the state after it. */
import type { Config } from '../config/index.js';
import { resetShares } from '../config/write-split.js';
import { connectRegistry, previousAlias, registryState, type PromotionDeps, type TransitionResult } from '../registry/index.js';
import type { CommandOutcome } from './command.js';

export async function runTransition(name: string, config: Config, log: (line: string) => void, act: (deps: PromotionDeps) => Promise<TransitionResult>): Promise<CommandOutcome> {
  const client = await connectRegistry(config);
  const result = await act({ client, config, log, resetSplit: () => resetShares(config.source.file) });
  for (const step of result.steps) log(`[${name}] ${step}`);
  const state = await registryState(client, config);
  return {
    result: {
      model_name: config.mlflow.model_name,
      prod: state.prod,
      staging: state.staging,
      previous_prod: state.previous,
      previous_alias: previousAlias(config),
      // promote: the version it made prod; rollback: the version it undid.
      ...(name === 'rollback' ? { rolled_back: result.transition?.replaced ?? null } : {}),
      changed: result.transition !== null,
      message: result.message,
      steps: result.steps,
    },
    human: result.message,
  };
}
