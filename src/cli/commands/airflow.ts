import path from 'node:path';
import { triggerDag } from '../../airflow/api-client.js';
import { celeryDown, celeryEnv, celeryStatus, celeryUp, type Role } from '../../airflow/celery.js';
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
  type TaskState,
} from '../../airflow/index.js';
import { loadConfig, type Config } from '../../config/index.js';
import { DriftgateError, UsageError } from '../../errors.js';
import { stringOption, type Command, type CommandContext } from '../command.js';

type Profile = 'local' | 'celery';

function profileOf(values: CommandContext['values']): Profile {
  const profile = stringOption(values, 'profile') ?? 'local';
  if (profile !== 'local' && profile !== 'celery') throw new UsageError(`--profile: expected local or celery, got ${JSON.stringify(profile)}`);
  return profile;
}

function roleOf(values: CommandContext['values']): Role {
  const role = stringOption(values, 'role') ?? 'all';
  if (role !== 'all' && role !== 'control' && role !== 'workers') throw new UsageError(`--role: expected all, control or workers, got ${JSON.stringify(role)}`);
  return role;
}

/** Each profile has a home of its own: the local one's SQLite DB and the celery one's airflow.cfg never mix. */
function paths(values: CommandContext['values'], profile: Profile = 'local'): AirflowPaths {
  return {
    home: path.resolve(stringOption(values, 'airflow-home') ?? (profile === 'celery' ? `${DEFAULT_AIRFLOW_HOME}-celery` : DEFAULT_AIRFLOW_HOME)),
    dagsFolder: path.resolve(stringOption(values, 'dags') ?? DEFAULT_DAGS_FOLDER),
  };
}

function celeryOnly(action: string, profile: Profile): void {
  if (profile !== 'celery') throw new UsageError(`airflow ${action} runs the celery profile (--profile celery); the local profile runs in the foreground with \`driftgate airflow standalone\``);
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

/** A finished DAG run (dags-test or trigger): the task states as text, or exit 1 naming the failed tasks and where their logs are. */
function runOutcome(dagId: string, run: { run_id: string; state: string; tasks: TaskState[] }, logs: string): string {
  if (run.state !== 'success') {
    const bad = run.tasks.filter((t) => t.state !== 'success' && t.state !== 'skipped').map((t) => `${t.task_id}=${t.state ?? 'none'}`);
    throw new DriftgateError('CHILD_FAILED', `DAG run ${run.run_id} of ${dagId} ended ${run.state} (${bad.join(', ') || 'no failed task'}); ${logs}`);
  }
  return [`${dagId} run ${run.run_id}: ${run.state}`, ...run.tasks.map((t) => `  ${t.task_id.padEnd(20)} ${t.state ?? '-'}${t.try_number > 1 ? ` (try ${t.try_number})` : ''}`)].join('\n');
}

const command: Command = {
  summary: "Run the generated DAGs in Driftgate's own Airflow 3 (check, dags-test, standalone; up, down, trigger on Celery)",
  usage: 'check|dags-test DAG_ID|standalone|env|up|down|status|trigger DAG_ID',
  details: [
    'Airflow runs from its pinned environment (.driftgate/venvs/airflow) with AIRFLOW_HOME under the state',
    'folder, SQLite and the LocalExecutor. Each action first regenerates the DAGs from --config.',
    '  check            import every file in the DAG folder (DagBag); exit 1 on any import error',
    '  dags-test ID     one full run with `airflow dags test` (ID may be "monitor" or "ab" for the',
    '                   configured ids); prints task states and XComs; exit 1 when the run fails',
    '  standalone       `airflow standalone` on --host:--port until Ctrl-C; prints the UI address and login',
    '  env              shell exports for running the airflow CLI by hand: eval "$(driftgate airflow env)"',
    'The celery profile (--profile celery; airflow.celery in the config: PostgreSQL, Redis, CeleryExecutor):',
    '  up               migrate the DB, start the scheduler, dag-processor, API server and the Celery workers',
    '                   (--role control|workers for one part), detached; returns once all are up',
    '  down             stop them (the scheduler first, the API server last)',
    '  status           which components run; exit 1 when one is down',
    '  trigger ID       a real DAG run through the scheduler (REST API); waits for it, prints states and XComs',
    '  env              with --profile celery: the same settings for `airflow` commands on other hosts',
  ].join('\n'),
  options: {
    dags: { type: 'string', valueName: 'DIR', description: 'DAG folder (default dags/ in the project)' },
    'airflow-home': { type: 'string', valueName: 'DIR', description: 'AIRFLOW_HOME (default .driftgate/airflow)' },
    'logical-date': { type: 'string', valueName: 'ISO', description: 'dags-test: the run\'s logical date (default now)' },
    timeout: { type: 'string', valueName: 'S', description: 'dags-test, trigger: give up after S seconds (default 3600); up: 300' },
    profile: { type: 'string', valueName: 'NAME', description: 'local (SQLite, LocalExecutor; default) or celery (airflow.celery)' },
    role: { type: 'string', valueName: 'ROLE', description: 'up, down, status: all (default), control or workers' },
    host: { type: 'string', valueName: 'HOST', description: 'standalone: UI/API address (default 127.0.0.1)' },
    port: { type: 'string', valueName: 'N', description: 'standalone: UI/API port (default 8080)' },
  },
  async run({ positionals, values, config, log, signal }) {
    const [action, ...rest] = positionals;
    // Flags are checked before anything is regenerated or started.
    const profile = profileOf(values);
    const role = roleOf(values);
    const where = paths(values, profile);
    const dagIdOf = (requested: string | undefined): string => {
      if (requested === undefined || rest.length > 1) throw new UsageError(`airflow ${action}: expected one DAG id (or "monitor" or "ab")`);
      return requested === 'monitor' ? config.airflow.dag_id : requested === 'ab' ? config.airflow.ab_dag_id : requested;
    };
    if (action === 'env') {
      const env = { ...(profile === 'celery' ? celeryEnv(config, where) : airflowEnv(where)), PATH: pathWithAirflow() };
      return { result: env, human: shellExports(env) };
    }
    if (action === 'up') {
      celeryOnly(action, profile);
      regenerate(config, where, log);
      const status = await celeryUp(config, where, { role, log, timeoutMs: integer(stringOption(values, 'timeout'), '--timeout', 300, 1, 86_400) * 1000 });
      const human = [
        `Airflow (celery profile) is up: ${status.url}`,
        `  log in as ${status.user} with password ${status.password ?? '(not written yet)'} (saved in ${status.password_file})`,
        ...status.components.map((c) => `  ${c.name.padEnd(14)} pid ${c.pid ?? '-'}  ${c.log_file}`),
        '  `driftgate airflow down --profile celery` stops it.',
      ];
      return { result: status, human: human.join('\n') };
    }
    if (action === 'down') {
      celeryOnly(action, profile);
      const result = await celeryDown(config, where, { role, log });
      return { result, human: result.stopped.length ? `stopped ${result.stopped.join(', ')}` : 'nothing was running' };
    }
    if (action === 'status') {
      celeryOnly(action, profile);
      const status = await celeryStatus(config, where, role);
      const human = status.components.map((c) => `${c.name.padEnd(14)} ${c.running ? `running (pid ${c.pid})` : `down${c.detail ? ` (${c.detail})` : ''}`}`).join('\n');
      const down = status.components.filter((c) => !c.running).map((c) => c.name);
      if (down.length) throw new DriftgateError('UNAVAILABLE', `${human}\nnot running: ${down.join(', ')}`);
      return { result: status, human };
    }
    if (action === 'trigger') {
      celeryOnly(action, profile);
      const dagId = dagIdOf(rest[0]);
      const status = await celeryStatus(config, where);
      const run = await triggerDag(dagId, {
        url: status.url,
        user: status.user,
        password: status.password,
        timeoutMs: integer(stringOption(values, 'timeout'), '--timeout', 3600, 1, 86_400) * 1000,
        log,
        signal,
      });
      return { result: run, human: runOutcome(dagId, run, `task logs under ${path.join(where.home, 'logs')}`) };
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
    if ((action === 'dags-test' || action === 'standalone') && profile !== 'local') {
      throw new UsageError(`airflow ${action} runs the local profile (SQLite, LocalExecutor); with --profile celery use \`airflow up\` and \`airflow trigger\``);
    }
    if (action === 'dags-test') {
      const dagId = dagIdOf(rest[0]);
      regenerate(config, where, log);
      const report = await dagsTest(where, dagId, {
        logicalDate: stringOption(values, 'logical-date'),
        timeoutMs: integer(stringOption(values, 'timeout'), '--timeout', 3600, 1, 86_400) * 1000,
        log,
        signal,
      });
      return { result: report, human: runOutcome(dagId, report, `full log: ${report.log_file}`) };
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
    throw new UsageError(`airflow: expected check, dags-test, standalone, env, up, down, status or trigger, got ${action === undefined ? 'nothing' : JSON.stringify(action)}`);
  },
};

export default command;
