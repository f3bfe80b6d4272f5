import { UsageError } from '../../errors.js';
import { ENVIRONMENTS, ensurePythonEnv } from '../../python/bootstrap.js';
import type { Command } from '../command.js';

const command: Command = {
  summary: 'Build the pinned Python environments (train: PyCaret + MLflow; airflow: Airflow 3)',
  usage: '[train|airflow]...',
  details: 'Each environment is rebuilt only when its pins (python/**/requirements.txt) change.',
  async run({ positionals, log }) {
    const names = positionals.length ? positionals : Object.keys(ENVIRONMENTS);
    const results = [];
    for (const name of names) {
      const spec = ENVIRONMENTS[name as keyof typeof ENVIRONMENTS];
      if (!spec) throw new UsageError(`setup: expected one of ${Object.keys(ENVIRONMENTS).join(', ')}, got ${JSON.stringify(name)}`);
      results.push(await ensurePythonEnv(spec, { log }));
    }
    return {
      result: { environments: results },
      human: results.map((r) => `${r.name}: ${r.rebuilt ? 'built' : 'up to date'} (${r.python})`).join('\n'),
    };
  },
};

export default command;
