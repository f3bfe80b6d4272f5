import path from 'node:path';
import { DEFAULT_DAGS_FOLDER, generateDags } from '../../airflow/index.js';
import { loadConfig } from '../../config/index.js';
import { stringOption, type Command } from '../command.js';

const command: Command = {
  summary: 'Write the Airflow DAGs (drift monitor and A/B evaluation) from the config',
  details: [
    'Writes <airflow.dag_id>.py and <airflow.ab_dag_id>.py into the DAG folder and deletes generated files',
    'there that this config wrote and no longer produces; files of other deployments (other config files)',
    'sharing the folder are never touched. The same config file gives the same bytes: the DAGs are',
    'built from the file alone, not from this shell\'s environment; deployment variables such as',
    'MLFLOW_TRACKING_URI or DRIFTGATE_LOG_PATH apply when the tasks run.',
  ].join('\n'),
  options: {
    out: { type: 'string', valueName: 'DIR', description: 'DAG folder (default dags/ in the project)' },
  },
  async run({ values, config, log }) {
    const outDir = path.resolve(stringOption(values, 'out') ?? DEFAULT_DAGS_FOLDER);
    const result = generateDags(loadConfig(config.source.file, {}), outDir, log);
    const lines = result.dags.map((d) => `${d.dag_id}: ${d.file}${result.unchanged.includes(d.file) ? ' (unchanged)' : ''}`);
    for (const file of result.removed) lines.push(`removed stale ${file}`);
    for (const file of result.legacy) lines.push(`left ${file} (generated before deployments were recorded; delete it by hand if it is stale)`);
    return { result, human: lines.join('\n') };
  },
};

export default command;
