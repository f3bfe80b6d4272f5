import { UsageError } from '../../errors.js';
import { promote } from '../../registry/index.js';
import { stringOption, type Command } from '../command.js';
import { runTransition } from '../transition.js';

const command: Command = {
  summary: "Make a version prod by an operator's explicit choice (the old prod stays findable for rollback)",
  details: [
    'The same transition as an A/B promotion, tagged driftgate.decision=manual-promote: prod moves to',
    'the version, the replaced prod becomes previous_prod (alias and tag). When the version was staging,',
    'staging is removed and router.ab_split_b and router.shadow_share reset to 0. Re-running it is harmless.',
  ].join('\n'),
  options: {
    version: { type: 'string', valueName: 'N', description: 'the registered version to make prod (required)' },
    reason: { type: 'string', valueName: 'TEXT', description: 'why, recorded in the version tags' },
  },
  async run({ values, config, log }) {
    const version = stringOption(values, 'version');
    if (version === undefined) throw new UsageError('promote: expected --version N');
    const reason = stringOption(values, 'reason') ?? `operator promoted version ${version}`;
    return runTransition('promote', config, log, (deps) => promote(deps, { version, decision: 'manual-promote', reason }));
  },
};

export default command;
