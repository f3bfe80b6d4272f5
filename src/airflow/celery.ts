/**
 * The celery profile (`driftgate airflow up|down|status --profile celery`): Airflow with the
 * CeleryExecutor, its metadata and Celery's results on PostgreSQL and Redis as the broker. `up`
 * migrates the DB and starts a scheduler, a dag-processor, an API server and `airflow.celery.workers`
 * Celery workers, each detached in its own process group with a verified pid file and a log file of
 * its own, and returns once the API server, the scheduler, the dag-processor and every worker are up.
 * Nothing needs a triggerer: driftgate's DAGs defer nothing.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, statSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Config } from '../config/index.js';
import { DriftgateError, tail } from '../errors.js';
import { childEnv, type Env } from '../process/child-env.js';
import { checkPid, pidRecord, readPidFile, removePidFile, writePidFile, type PidCheck, type PidOwner } from '../process/pid-file.js';
import { runChild } from '../process/run.js';
import { PROJECT_ROOT } from '../project.js';
import { airflowBin, pathWithAirflow, type AirflowPaths } from './airflow-env.js';
import { ensureAirflow } from './run-airflow.js';
import { apiHealth, passwordFile, readPassword } from './standalone.js';

type Log = (line: string) => void;

/** The variables that, set in the environment, win over `airflow.celery` (so passwords stay out of the YAML). */
export const CELERY_OVERRIDES = {
  database_url: 'AIRFLOW__DATABASE__SQL_ALCHEMY_CONN',
  broker_url: 'AIRFLOW__CELERY__BROKER_URL',
  result_backend: 'AIRFLOW__CELERY__RESULT_BACKEND',
} as const;

export interface Component {
  /** scheduler, dag-processor, api-server, worker-1, ... */
  name: string;
  args: string[];
  /** Set for this component only. */
  env: Record<string, string>;
}

export interface ComponentStatus {
  name: string;
  running: boolean;
  pid: number | null;
  log_file: string;
  /** Why it is not running, when it is not. */
  detail?: string;
}

export interface CeleryStatus {
  profile: 'celery';
  url: string;
  airflow_home: string;
  dags_folder: string;
  user: string;
  password: string | null;
  password_file: string;
  components: ComponentStatus[];
}

export type Role = 'all' | 'control' | 'workers';

export function apiUrl(config: Config): string {
  const { api_host: host, api_port: port } = config.airflow.celery;
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/**
 * What every component (and `driftgate airflow env --profile celery`) gets: the executor, the DB, the
 * broker and the result store, the DAG folder and where workers reach the Execution API. A value set in
 * the caller's environment under a name of CELERY_OVERRIDES is left to be inherited instead.
 */
export function celeryEnv(config: Config, paths: AirflowPaths, env: Env = process.env): Record<string, string> {
  const celery = config.airflow.celery;
  const values: Record<string, string> = {
    AIRFLOW_HOME: paths.home,
    AIRFLOW__CORE__DAGS_FOLDER: paths.dagsFolder,
    AIRFLOW__CORE__LOAD_EXAMPLES: 'False',
    AIRFLOW__CORE__EXECUTOR: 'CeleryExecutor',
    AIRFLOW__API__HOST: celery.api_host,
    AIRFLOW__API__PORT: String(celery.api_port),
    AIRFLOW__API__BASE_URL: celery.base_url ?? apiUrl(config),
    AIRFLOW__CELERY__WORKER_CONCURRENCY: String(celery.worker_concurrency),
    // Pick up regenerated DAG files within 30 s instead of the default 5 minutes.
    AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL: '30',
  };
  const configured: Record<keyof typeof CELERY_OVERRIDES, string> = {
    database_url: celery.database_url,
    broker_url: celery.broker_url,
    result_backend: celery.result_backend ?? `db+${env[CELERY_OVERRIDES.database_url] ?? celery.database_url}`,
  };
  for (const [key, name] of Object.entries(CELERY_OVERRIDES) as [keyof typeof CELERY_OVERRIDES, string][]) {
    if (env[name] === undefined) values[name] = configured[key];
  }
  return values;
}

/** The components this host runs for a role, in start order. */
export function components(config: Config, role: Role = 'all'): Component[] {
  const celery = config.airflow.celery;
  const control: Component[] = [
    { name: 'scheduler', args: ['scheduler'], env: {} },
    { name: 'dag-processor', args: ['dag-processor'], env: {} },
    { name: 'api-server', args: ['api-server', '--host', celery.api_host, '--port', String(celery.api_port)], env: {} },
  ];
  const workers: Component[] = Array.from({ length: celery.workers }, (_, i) => ({
    name: `worker-${i + 1}`,
    // A node name of its own, so each worker is one Celery node and its lines name it.
    args: ['celery', 'worker', '--celery-hostname', `worker-${i + 1}@%h`],
    // Each worker serves its task logs on a port of its own; on one host they would collide on one.
    env: { AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT: String(celery.log_server_port + i) },
  }));
  return role === 'control' ? control : role === 'workers' ? workers : [...control, ...workers];
}

function runDir(paths: AirflowPaths): string {
  return path.join(paths.home, 'run');
}

function pidFileOf(paths: AirflowPaths, name: string): string {
  return path.join(runDir(paths), `${name}.pid`);
}

export function logFileOf(paths: AirflowPaths, name: string): string {
  return path.join(paths.home, 'logs', 'driftgate', `${name}.log`);
}

const OWNER: PidOwner = { code: 'CHILD_FAILED', name: 'the Airflow component pid file', fix: 'fix the permissions of AIRFLOW_HOME/run' };

/** The process a component's pid file names, when it is still that component. */
function ownComponent(paths: AirflowPaths, component: Component): PidCheck | null {
  const file = readPidFile(pidFileOf(paths, component.name), OWNER);
  if (file.kind === 'missing' || file.kind === 'invalid') return null;
  // Airflow and Celery retitle their processes ("airflow api_server -- host:…", "[celeryd: worker-1@…]"), so
  // the command line proves nothing; the boot and the start time recorded at spawn tell a reused pid apart.
  return checkPid(file, { program: null, marker: [] });
}

function running(paths: AirflowPaths, component: Component): number | null {
  const check = ownComponent(paths, component);
  return check?.verdict === 'ours' ? check.pid : null;
}

function redact(url: string): string {
  return url.replace(/\/\/([^:/@]+):[^@/]*@/, '//$1:***@');
}

/** Null when the host:port of a redis:// (or amqp://) URL takes a TCP connection, else why not. */
async function reachable(url: string, fallbackPort: number): Promise<string | null> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return `it is not a URL`;
  }
  const host = parsed.hostname.replace(/^\[|\]$/g, '');
  const port = Number(parsed.port || fallbackPort);
  return new Promise((resolve) => {
    const socket = net.connect({ host, port, timeout: 3000 });
    socket.once('connect', () => {
      socket.destroy();
      resolve(null);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve(`nothing answered on ${host}:${port} within 3 s`);
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(`${host}:${port}: ${error.code ?? error.message}`));
  });
}

/** Has the component said it is up? The API server and what it reports by its health; a worker by its "ready." line. */
async function isUp(config: Config, paths: AirflowPaths, component: Component, logStart: number): Promise<boolean> {
  if (component.name.startsWith('worker-')) {
    const file = logFileOf(paths, component.name);
    if (!existsSync(file)) return false;
    return new RegExp(`${component.name}@\\S+ ready\\.`).test(readFileSync(file, 'utf8').slice(logStart));
  }
  const h = await apiHealth(apiUrl(config));
  if (!h) return false;
  if (component.name === 'api-server') return h.metadatabase?.status === 'healthy';
  if (component.name === 'scheduler') return h.scheduler?.status === 'healthy';
  return h.dag_processor?.status === 'healthy';
}

function size(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

export interface UpOptions {
  role?: Role;
  log: Log;
  timeoutMs?: number;
}

/**
 * Start what is not running yet and wait until all of it is up. A component that exits or does not come
 * up in time fails the command with its log's last lines, and what this call started is stopped again.
 */
export async function celeryUp(config: Config, paths: AirflowPaths, options: UpOptions): Promise<CeleryStatus> {
  const { log } = options;
  const role = options.role ?? 'all';
  const broker = process.env[CELERY_OVERRIDES.broker_url] ?? config.airflow.celery.broker_url;
  const unreachable = await reachable(broker, 6379);
  if (unreachable) throw new DriftgateError('UNAVAILABLE', `cannot start Airflow's celery profile: the broker ${redact(broker)} (airflow.celery.broker_url or ${CELERY_OVERRIDES.broker_url}) is not reachable: ${unreachable}`);
  await ensureAirflow(log);
  const env = celeryEnv(config, paths);
  const wanted = components(config, role);
  mkdirSync(runDir(paths), { recursive: true });
  mkdirSync(path.dirname(logFileOf(paths, 'x')), { recursive: true });
  mkdirSync(paths.dagsFolder, { recursive: true });
  if (role !== 'workers') {
    log(`[airflow] migrating the metadata DB ${redact(process.env[CELERY_OVERRIDES.database_url] ?? config.airflow.celery.database_url)}`);
    try {
      await runChild(airflowBin(), ['db', 'migrate'], { env, inherit: ['airflow'], cwd: PROJECT_ROOT, timeoutMs: 600_000, label: 'airflow db migrate' });
    } catch (error) {
      throw new DriftgateError('UNAVAILABLE', `cannot start Airflow's celery profile: \`airflow db migrate\` failed on ${redact(process.env[CELERY_OVERRIDES.database_url] ?? config.airflow.celery.database_url)} (airflow.celery.database_url or ${CELERY_OVERRIDES.database_url}; the database must exist): ${(error as Error).message}`, { cause: error });
    }
  }
  const started: { component: Component; pid: number; logStart: number }[] = [];
  const exited = new Map<string, string>();
  try {
    for (const component of wanted) {
      const pid = running(paths, component);
      if (pid !== null) {
        log(`[airflow] ${component.name} is already running (pid ${pid})`);
        continue;
      }
      const logFile = logFileOf(paths, component.name);
      const logStart = size(logFile);
      const out = openSync(logFile, 'a');
      const argv = [airflowBin(), ...component.args];
      const child = spawn(argv[0]!, argv.slice(1), {
        detached: true,
        stdio: ['ignore', out, out],
        cwd: PROJECT_ROOT,
        // Airflow and its tasks (driftgate CLIs) inherit the allowlist, never the router's secrets.
        env: childEnv({ inherit: ['airflow'], extra: { ...env, ...component.env, PATH: pathWithAirflow(process.env, path.dirname(airflowBin())) } }),
      });
      closeSync(out);
      child.once('exit', (code, signal) => exited.set(component.name, signal ? `was killed by ${signal}` : `exited with status ${code}`));
      child.once('error', (error) => exited.set(component.name, `could not be started (${error.message})`));
      if (child.pid === undefined) throw new DriftgateError('CHILD_FAILED', `airflow ${component.args.join(' ')} could not be started from ${argv[0]}`);
      try {
        // Written at once, so an `up` killed while it waits still leaves the component stoppable.
        writePidFile(pidFileOf(paths, component.name), pidRecord(child.pid, argv));
      } catch (error) {
        // Without its pid file nothing could stop it later: stop it now.
        process.kill(-child.pid, 'SIGKILL');
        throw new DriftgateError('CHILD_FAILED', `cannot write the pid file ${pidFileOf(paths, component.name)} (${(error as NodeJS.ErrnoException).code ?? String(error)}); ${component.name} was stopped again`, { cause: error });
      }
      child.unref();
      started.push({ component, pid: child.pid, logStart });
      log(`[airflow] started ${component.name} (pid ${child.pid}); log ${logFile}`);
    }
    const deadline = Date.now() + (options.timeoutMs ?? 300_000);
    for (const { component, logStart } of started) {
      while (!(await isUp(config, paths, component, logStart))) {
        const gone = exited.get(component.name);
        if (gone || Date.now() > deadline) {
          const logFile = logFileOf(paths, component.name);
          const lines = existsSync(logFile) ? tail(readFileSync(logFile, 'utf8').slice(logStart), 15) : '';
          throw new DriftgateError('CHILD_FAILED', `airflow ${component.name} ${gone ?? `was not up within ${Math.round((options.timeoutMs ?? 300_000) / 1000)} s`}; last lines of ${logFile}:\n${lines}`);
        }
        await sleep(1000);
      }
      log(`[airflow] ${component.name} is up`);
    }
  } catch (error) {
    await stopComponents(paths, started.map((s) => s.component).reverse(), log, 15_000);
    throw error;
  }
  return celeryStatus(config, paths, role);
}

export async function celeryStatus(config: Config, paths: AirflowPaths, role: Role = 'all'): Promise<CeleryStatus> {
  const list = components(config, role).map((component): ComponentStatus => {
    const check = ownComponent(paths, component);
    const status: ComponentStatus = { name: component.name, running: check?.verdict === 'ours', pid: check?.verdict === 'ours' ? check.pid : null, log_file: logFileOf(paths, component.name) };
    if (check && check.verdict !== 'ours') status.detail = check.verdict === 'dead' ? `pid ${check.pid} is gone` : `pid ${check.pid} is not this component: ${check.why}`;
    return status;
  });
  return {
    profile: 'celery',
    url: apiUrl(config),
    airflow_home: paths.home,
    dags_folder: paths.dagsFolder,
    user: 'admin',
    password: readPassword(paths.home, 'admin'),
    password_file: passwordFile(paths.home),
    components: list,
  };
}

function signalGroup(check: PidCheck, signal: NodeJS.Signals): void {
  if (check.verdict !== 'ours') return;
  try {
    process.kill(check.groupLeader ? -check.pid : check.pid, signal);
  } catch {
    // Gone in between.
  }
}

/**
 * SIGTERM, then SIGKILL after `graceMs`, one component after the other. A worker's warm shutdown waits
 * for the task it runs, which Airflow then retries (the DAGs have retries) when the grace runs out.
 */
async function stopComponents(paths: AirflowPaths, list: Component[], log: Log, graceMs: number): Promise<string[]> {
  const stopped: string[] = [];
  for (const component of list) {
    const check = ownComponent(paths, component);
    if (check === null) continue;
    if (check.verdict !== 'ours') {
      if (check.verdict === 'dead' || check.verdict === 'other') removePidFile(pidFileOf(paths, component.name));
      continue;
    }
    log(`[airflow] stopping ${component.name} (pid ${check.pid})`);
    signalGroup(check, 'SIGTERM');
    const deadline = Date.now() + graceMs;
    while (running(paths, component) !== null && Date.now() < deadline) await sleep(250);
    const lingering = ownComponent(paths, component);
    if (lingering?.verdict === 'ours') {
      log(`[airflow] ${component.name} did not stop within ${Math.round(graceMs / 1000)} s; killing its process group`);
      signalGroup(lingering, 'SIGKILL');
      while (running(paths, component) !== null) await sleep(100);
    }
    // Its own children (a worker's task processes) leave with the group.
    if (check.groupLeader) signalGroup({ ...check }, 'SIGKILL');
    removePidFile(pidFileOf(paths, component.name));
    stopped.push(component.name);
  }
  return stopped;
}

/** Stop the components of a role: the scheduler first (nothing new is queued), the workers, then the dag-processor and the API server the workers report to. */
export async function celeryDown(config: Config, paths: AirflowPaths, options: { role?: Role; log: Log; graceMs?: number }): Promise<{ stopped: string[] }> {
  const all = components(config, options.role ?? 'all');
  const order = [...all.filter((c) => c.name === 'scheduler'), ...all.filter((c) => c.name.startsWith('worker-')), ...all.filter((c) => c.name === 'dag-processor' || c.name === 'api-server')];
  return { stopped: await stopComponents(paths, order, options.log, options.graceMs ?? 60_000) };
}
