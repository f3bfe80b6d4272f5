import { writeSplit } from '../../config/write-split.js';
import { UsageError } from '../../errors.js';
import { MlflowClient } from '../../registry/client.js';
import { previousAlias, promote, registryState } from '../../registry/promotion.js';
import { stringOption, type Command } from '../command.js';

const command: Command = {
  summary: "Make a version prod by an operator's explicit choice (the old prod stays findable for rollback)",
  details: [
    'The same transition as an A/B promotion, tagged driftgate.decision=manual-promote: prod moves to',
    'the version, the replaced prod becomes previous_prod (alias and tag). When the version was staging,',
    'staging is removed and router.ab_split_b reset to 0. Re-running it is harmless.',
  ].join('\n'),
  options: {
    version: { type: 'string', valueName: 'N', description: 'the registered version to make prod (required)' },
    reason: { type: 'string', valueName: 'TEXT', description: 'why, recorded in the version tags' },
  },
  async run({ values, config, log }) {
    const version = stringOption(values, 'version');
    if (version === undefined) throw new UsageError('promote: expected --version N');
    const client = new MlflowClient(config.mlflow.tracking_uri);
    await client.ping();
    const result = await promote(
      { client, config, log, resetSplit: () => writeSplit(config.source.file, 0) },
      { version, decision: 'manual-promote', reason: stringOption(values, 'reason') ?? `operator promoted version ${version}` },
    );
    for (const step of result.steps) log(`[promote] ${step}`);
    const state = await registryState(client, config);
    return {
      result: {
        model_name: config.mlflow.model_name,
        prod: state.prod,
        staging: state.staging,
        previous_prod: state.previous,
        previous_alias: previousAlias(config),
        changed: result.transition !== null,
        message: result.message,
        steps: result.steps,
      },
      human: result.message,
    };
  },
};

export default command;
