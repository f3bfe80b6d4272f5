import { rollback } from '../../registry/index.js';
import { stringOption, type Command } from '../command.js';
import { runTransition } from '../transition.js';

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
    const from = stringOption(values, 'from');
    const reason = stringOption(values, 'reason');
    return runTransition('rollback', config, log, (deps) => rollback(deps, { ...(from === undefined ? {} : { from }), ...(reason === undefined ? {} : { reason }) }));
  },
};

export default command;
