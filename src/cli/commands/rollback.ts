import { writeSplit } from '../../config/write-split.js';
import { MlflowClient } from '../../registry/client.js';
import { registryState, rollback } from '../../registry/promotion.js';
import { stringOption, type Command } from '../command.js';

const command: Command = {
  summary: 'Restore the previous prod version (the one the last promotion replaced)',
  details: [
    'prod moves back to previous_prod; the rolled-back version is tagged driftgate.decision=rolled-back.',
    "previous_prod then points at the restored version's own predecessor, so a second rollback goes one",
    'step further back. With --from N the command only rolls back prod version N, so a retry is harmless.',
  ].join('\n'),
  options: {
    from: { type: 'string', valueName: 'N', description: 'only roll back if prod is version N (idempotent retries)' },
    reason: { type: 'string', valueName: 'TEXT', description: 'why, recorded in the version tags' },
  },
  async run({ values, config, log }) {
    const client = new MlflowClient(config.mlflow.tracking_uri);
    await client.ping();
    const from = stringOption(values, 'from');
    const reason = stringOption(values, 'reason');
    const result = await rollback(
      { client, config, log, resetSplit: () => writeSplit(config.source.file, 0) },
      { ...(from === undefined ? {} : { from }), ...(reason === undefined ? {} : { reason }) },
    );
    for (const step of result.steps) log(`[rollback] ${step}`);
    const state = await registryState(client, config);
    return {
      result: {
        model_name: config.mlflow.model_name,
        prod: state.prod,
        rolled_back: result.transition?.replaced ?? null,
        previous_prod: state.previous,
        changed: result.transition !== null,
        message: result.message,
        steps: result.steps,
      },
      human: result.message,
    };
  },
};

export default command;
