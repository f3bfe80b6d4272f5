import path from 'node:path';
import {
  airflowEnv,
  checkImports,
  dagsTest,
  DEFAULT_AIRFLOW_HOME,
  DEFAULT_DAGS_FOLDER,
  generateDags,
  pathWithAirflow,
  runStandalone,
  shellExports,
  type AirflowPaths,
} from '../../airflow/index.js';
import { loadConfig, type Config } from '../../config/index.js';
import { DriftgateError, UsageError } from '../../errors.js';
import { stringOption, type Command, type CommandContext } from '../command.js';

function paths(values: CommandContext['values']): AirflowPaths {
  return {
    home: path.resolve(stringOption(values, 'airflow-home') ?? DEFAULT_AIRFLOW_HOME),
    dagsFolder: path.resolve(stringOption(values, 'dags') ?? DEFAULT_DAGS_FOLDER),
  };
}

/** What runs is what this config generates: regenerate first (deterministic, so usually a no-op). */
function regenerate(config: Config, where: AirflowPaths, log: (line: string) => void): void {
  generateDags(loadConfig(config.source.file, {}), where.dagsFolder, log);
}

function integer(text: string | undefined, flag: string, fallback: number, min: number, max: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < min || value > max) throw new UsageError(`${flag}: expected an integer from ${min} to ${max}, got ${JSON.stringify(text)}`);
  return value;
}

const command: Command = {
  summary: "Run the generated DAGs in Driftgate's own Airflow 3 (check, dags-test, standalone, env)",
  usage: 'check|dags-test DAG_ID|standalone|env',
  details: [
    'Airflow runs from its pinned environment (.driftgate/venvs/airflow) with AIRFLOW_HOME under the state',
    'folder, SQLite and the LocalExecutor. Each action first regenerates the DAGs from --config.',
    '  check            import every file in the DAG folder (DagBag); exit 1 on any import error',
    '  dags-test ID     one full run with `airflow dags test` (ID may be "monitor" or "ab" for the',
    '                   configured ids); prints task states and XComs; exit 1 when the run fails',
    '  standalone       `airflow standalone` on --host:--port until Ctrl-C; prints the UI address and login',
    '  env              shell exports for running the airflow CLI by hand: eval "$(driftgate airflow env)"',
  ].join('\n'),
  options: {
    dags: { type: 'string', valueName: 'DIR', description: 'DAG folder (default dags/ in the project)' },
    'airflow-home': { type: 'string', valueName: 'DIR', description: 'AIRFLOW_HOME (default .driftgate/airflow)' },
    'logical-date': { type: 'string', valueName: 'ISO', description: 'dags-test: the run\'s logical date (default now)' },
    timeout: { type: 'string', valueName: 'S', description: 'dags-test: give up after S seconds (default 3600)' },
    host: { type: 'string', valueName: 'HOST', description: 'standalone: UI/API address (default 127.0.0.1)' },
    port: { type: 'string', valueName: 'N', description: 'standalone: UI/API port (default 8080)' },
  },
  async run({ positionals, values, config, log, signal }) {
    const [action, ...rest] = positionals;
    const where = paths(values);
    if (action === 'env') {
      const env = { ...airflowEnv(where), PATH: pathWithAirflow() };
      return { result: env, human: shellExports(env) };
    }
    if (action === 'check') {
      regenerate(config, where, log);
      const result = await checkImports(where, log);
      if (result.import_errors.length) {
        const list = result.import_errors.map((e) => `${e.file}:\n${e.error.trimEnd()}`).join('\n');
        throw new DriftgateError('INPUT_INVALID', `${result.import_errors.length} DAG file(s) in ${where.dagsFolder} fail to import:\n${list}`);
      }
      return { result, human: `${where.dagsFolder}: ${result.dag_ids.length} DAG(s) import cleanly: ${result.dag_ids.join(', ')}` };
    }
    if (action === 'dags-test') {
      const [requested] = rest;
      if (requested === undefined || rest.length > 1) throw new UsageError('airflow dags-test: expected one DAG id (or "monitor" or "ab")');
      const dagId = requested === 'monitor' ? config.airflow.dag_id : requested === 'ab' ? config.airflow.ab_dag_id : requested;
      regenerate(config, where, log);
      const report = await dagsTest(where, dagId, {
        logicalDate: stringOption(values, 'logical-date'),
        timeoutMs: integer(stringOption(values, 'timeout'), '--timeout', 3600, 1, 86_400) * 1000,
        log,
        signal,
      });
      if (report.state !== 'success') {
        const bad = report.tasks.filter((t) => t.state !== 'success' && t.state !== 'skipped').map((t) => `${t.task_id}=${t.state ?? 'none'}`);
        throw new DriftgateError('CHILD_FAILED', `DAG run ${report.run_id} of ${dagId} ended ${report.state} (${bad.join(', ') || 'no failed task'}); full log: ${report.log_file}`);
      }
      const human = [`${dagId} run ${report.run_id}: ${report.state}`, ...report.tasks.map((t) => `  ${t.task_id.padEnd(20)} ${t.state ?? '-'}${t.try_number > 1 ? ` (try ${t.try_number})` : ''}`)];
      return { result: report, human: human.join('\n') };
    }
    if (action === 'standalone') {
      const host = stringOption(values, 'host') ?? '127.0.0.1';
      const port = integer(stringOption(values, 'port'), '--port', 8080, 1, 65_535);
      regenerate(config, where, log);
      const info = await runStandalone(where, {
        host,
        port,
        log,
        signal,
        onReady: (ready) =>
          log(
            [
              '',
              `Airflow is ready: ${ready.url}`,
              `  log in as ${ready.user} with password ${ready.password ?? '(not found)'} (saved in ${ready.password_file})`,
              `  DAGs from ${ready.dags_folder}: ${config.airflow.dag_id}, ${config.airflow.ab_dag_id} (new DAGs start paused; unpause or trigger them in the UI)`,
              '  Ctrl-C stops Airflow.',
              '',
            ].join('\n'),
          ),
      });
      return { result: info, human: `Airflow at ${info.url} stopped.` };
    }
    throw new UsageError(`airflow: expected check, dags-test, standalone or env, got ${action === undefined ? 'nothing' : JSON.stringify(action)}`);
  },
};

export default command;
