import { DriftgateError, UsageError } from '../../errors.js';
import { start, status, stop } from '../../mlflow/server.js';
import type { Command } from '../command.js';

const command: Command = {
  summary: 'Start, stop or check the MLflow tracking server (embedded: SQLite + local artifacts on loopback)',
  usage: 'start|stop|status',
  details:
    'A tracking URI (mlflow.tracking_uri or MLFLOW_TRACKING_URI) on a loopback host is the embedded server,\n' +
    'run from the pinned environment with its state under mlflow.state_dir. Any other host is external:\n' +
    'nothing is started or stopped, and status checks that server. status exits 1 when the server is down.',
  async run({ positionals, config, log }) {
    const action = positionals[0];
    let result;
    if (action === 'start') result = await start(config, log);
    else if (action === 'stop') result = await stop(config, log);
    else if (action === 'status') {
      result = await status(config);
      if (!result.running) throw new DriftgateError('MLFLOW_NOT_RUNNING', result.message);
    } else throw new UsageError(`mlflow: expected start, stop or status, got ${action === undefined ? 'nothing' : JSON.stringify(action)}`);
    return { result, human: result.message };
  },
};

export default command;
