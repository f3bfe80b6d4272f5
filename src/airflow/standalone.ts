/**
 * `airflow standalone` on loopback for local use: scheduler, dag-processor, API server and triggerer
 * with the LocalExecutor and SQLite, the generated DAGs, and a login printed once it answers.
 */
import { createWriteStream, existsSync, mkdirSync, readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import { DriftgateError, tail } from '../errors.js';
import { childEnv } from '../process/child-env.js';
import { PROJECT_ROOT } from '../project.js';
import { airflowBin, airflowEnv, pathWithAirflow, type AirflowPaths } from './airflow-env.js';
import { ensureAirflow } from './run-airflow.js';

type Log = (line: string) => void;

/** Ports `airflow standalone` binds besides the UI: the worker's and the triggerer's log servers. */
export const LOG_SERVER_PORTS = [8793, 8794] as const;

export interface StandaloneOptions {
  host: string;
  port: number;
  log: Log;
  signal: AbortSignal;
  /** Called once the API server answers, with what a person needs to log in. */
  onReady?: (info: StandaloneInfo) => void;
  readyTimeoutMs?: number;
}

export interface StandaloneInfo {
  url: string;
  user: string;
  password: string | null;
  password_file: string;
  log_file: string;
  airflow_home: string;
  dags_folder: string;
}

function portFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}

export function passwordFile(home: string): string {
  return path.join(home, 'simple_auth_manager_passwords.json.generated');
}

export function readPassword(home: string, user: string): string | null {
  try {
    const value = (JSON.parse(readFileSync(passwordFile(home), 'utf8')) as Record<string, unknown>)[user];
    return typeof value === 'string' ? value : null;
  } catch {
    return null;
  }
}

/** What the API server's health endpoint reports (the components it can see); null while it does not answer. */
export interface Health {
  metadatabase?: { status?: string };
  scheduler?: { status?: string };
  dag_processor?: { status?: string };
}

export async function apiHealth(url: string): Promise<Health | null> {
  try {
    const response = await fetch(new URL('/api/v2/monitor/health', url), { signal: AbortSignal.timeout(2000) });
    return response.ok ? ((await response.json()) as Health) : null;
  } catch {
    return null;
  }
}

async function healthy(url: string): Promise<boolean> {
  const health = await apiHealth(url);
  return health?.metadatabase?.status === 'healthy' && health.scheduler?.status === 'healthy';
}

/** A component that outlived `airflow standalone` in its process group gets SIGKILL. */
function killStragglers(groupId: number): void {
  try {
    process.kill(-groupId, 0);
  } catch {
    return;
  }
  try {
    process.kill(-groupId, 'SIGKILL');
  } catch {
    // Gone in between.
  }
}

/** Runs until `signal` aborts (Ctrl-C) or Airflow exits; stops it with SIGINT, then kills what is left. */
export async function runStandalone(paths: AirflowPaths, options: StandaloneOptions): Promise<StandaloneInfo> {
  const { host, port, log, signal } = options;
  await ensureAirflow(log);
  for (const p of [port, ...LOG_SERVER_PORTS]) {
    // The log servers bind all interfaces whatever the host setting, so check there.
    if (!(await portFree(p === port ? host : '0.0.0.0', p))) {
      throw new DriftgateError('PORT_IN_USE', `cannot start Airflow: port ${p} is taken${p === port ? ' (pick another with --port)' : ' (Airflow\'s log server needs it)'}`, { exitCode: 2 });
    }
  }
  mkdirSync(paths.home, { recursive: true });
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  const logFile = path.join(paths.home, 'standalone.log');
  const info: StandaloneInfo = {
    url,
    user: 'admin',
    password: null,
    password_file: passwordFile(paths.home),
    log_file: logFile,
    airflow_home: paths.home,
    dags_folder: paths.dagsFolder,
  };
  const out = createWriteStream(logFile, { flags: 'a' });
  const recent: string[] = [];
  const onLine = (line: string): void => {
    out.write(`${line}\n`);
    recent.push(line);
    if (recent.length > 200) recent.splice(0, 100);
    // Its own banner lines; the components' logs stay in the file.
    if (line.startsWith('standalone |')) log(`[airflow] ${line}`);
  };
  log(`[airflow] starting airflow standalone (AIRFLOW_HOME=${paths.home}); full log: ${logFile}`);
  const child = execa(airflowBin(), ['standalone'], {
    cwd: PROJECT_ROOT,
    // Airflow and its tasks (driftgate CLIs) inherit the allowlist, never the router's secrets.
    env: childEnv({
      inherit: ['airflow'],
      extra: {
        ...airflowEnv(paths),
        // The build folder, not the link: components started later keep this build when the pins change.
        PATH: pathWithAirflow(process.env, path.dirname(airflowBin())),
        AIRFLOW__API__HOST: host,
        AIRFLOW__API__PORT: String(port),
        // The LocalExecutor's workers reach the Execution API here; the default assumes port 8080.
        AIRFLOW__API__BASE_URL: url,
        // Pick up regenerated DAG files within 30 s instead of the default 5 minutes.
        AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL: '30',
      },
    }),
    extendEnv: false,
    // Its own process group: a Ctrl-C reaches us only, and we stop Airflow once, in order.
    detached: true,
    cleanup: true,
    reject: false,
    stdin: 'ignore',
    stdout: 'pipe',
    stderr: 'pipe',
    // Hours of component logs: stream them to the file instead of buffering.
    buffer: false,
  });
  for (const stream of [child.stdout, child.stderr]) createInterface({ input: stream, crlfDelay: Infinity }).on('line', onLine);
  let exited = false;
  const done = child.then((result) => {
    exited = true;
    return result;
  });
  try {
    const deadline = Date.now() + (options.readyTimeoutMs ?? 240_000);
    while (!(await healthy(url))) {
      if (exited) throw new DriftgateError('CHILD_FAILED', `airflow standalone exited before it was ready; last lines:\n${tail(recent.join('\n'), 15)}\nFull log: ${logFile}`);
      if (signal.aborted) return info;
      if (Date.now() > deadline) throw new DriftgateError('UNAVAILABLE', `Airflow did not answer at ${url} within ${Math.round((options.readyTimeoutMs ?? 240_000) / 1000)} s; full log: ${logFile}`);
      await sleep(1000);
    }
    info.password = readPassword(paths.home, info.user);
    options.onReady?.(info);
    await Promise.race([done, new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }))]);
    if (exited && !signal.aborted) throw new DriftgateError('CHILD_FAILED', `airflow standalone stopped on its own; last lines:\n${tail(recent.join('\n'), 15)}\nFull log: ${logFile}`);
    return info;
  } finally {
    if (!exited && child.pid !== undefined) {
      log('[airflow] stopping airflow standalone');
      child.kill('SIGINT');
      // An unref'd timer: once Airflow is gone, nothing should keep this process alive for 30 s.
      const stopped = await Promise.race([done.then(() => true), sleep(30_000, false, { ref: false })]);
      if (!stopped) {
        log('[airflow] airflow standalone did not stop within 30 s; killing its process group');
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          // Already gone.
        }
        await done;
      }
    }
    if (child.pid !== undefined) killStragglers(child.pid);
    await new Promise<void>((resolve) => out.end(resolve));
    if (existsSync(logFile)) log(`[airflow] stopped; its log is ${logFile}`);
  }
}
