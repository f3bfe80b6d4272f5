import { ENVIRONMENTS, ensurePythonEnv } from '../../python/bootstrap.js';
import { start, stop } from '../../mlflow/server.js';
import { runChild } from '../../process/run.js';
import { CLI_BIN, NODE_BIN } from '../../project.js';
import type { Command } from '../command.js';

const command: Command = {
  summary: 'Run the whole loop on embedded defaults and print a summary',
  details: 'Builds the Python environment, starts the embedded MLflow server, writes the drifted demo batch,\nand stops what it started. Safe to run again.',
  options: {
    'keep-running': { type: 'boolean', description: 'leave the MLflow server it started running' },
  },
  async run({ config, log, values }) {
    const started = Date.now();
    const step = (text: string): void => log(`\n== ${text}`);
    step('1/3 Python environment');
    await ensurePythonEnv(ENVIRONMENTS.train, { log });
    step('2/3 MLflow tracking server');
    const before = await start(config, log);
    const startedHere = before.message.startsWith('MLflow started');
    try {
      step('3/3 drifted demo batch');
      await runChild(NODE_BIN, [CLI_BIN, 'data', 'drifted', '--config', config.source.file], { onStderrLine: log, label: 'driftgate data drifted' });
    } finally {
      if (startedHere && !values['keep-running']) await stop(config, log);
    }
    const seconds = Math.round((Date.now() - started) / 1000);
    const summary = {
      mlflow: config.mlflow.tracking_uri,
      drifted_batch: config.dataset.current,
      seconds,
    };
    return {
      result: summary,
      human: [`Driftgate demo finished in ${seconds} s.`, `  MLflow:        ${summary.mlflow}`, `  drifted batch: ${summary.drifted_batch}`].join('\n'),
    };
  },
};

export default command;
