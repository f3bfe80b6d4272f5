/**
 * The embedded MLflow tracking server: SQLite store and local artifacts under the state folder, on
 * loopback. A tracking URI on another host is external: nothing is started, status checks it.
 */
import { openSync, closeSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Config } from '../config/index.js';
import { DriftgateError, tail } from '../errors.js';
import { childEnv } from '../process/child-env.js';
import { ENVIRONMENTS, ensurePythonEnv, venvPython } from '../python/bootstrap.js';
import { checkPid, pidRecord, readPidFile, removePidFile, writePidFile, type Expected, type PidCheck, type PidFile } from '../process/pid-file.js';

export interface ServerStatus {
  uri: string;
  /** Started and owned by driftgate (a pid file in the state folder), as opposed to external. */
  managed: boolean;
  running: boolean;
  pid: number | null;
  message: string;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

export function isEmbedded(uri: string): boolean {
  return LOOPBACK.has(new URL(uri).hostname);
}

function files(config: Config) {
  const dir = config.mlflow.state_dir;
  return {
    dir,
    pid: path.join(dir, 'server.pid'),
    log: path.join(dir, 'server.log'),
    db: path.join(dir, 'mlflow.db'),
    artifacts: path.join(dir, 'artifacts'),
  };
}

/** GET /health answers "OK" on an MLflow server; anything else on the port is a foreign program. */
export async function probe(uri: string, timeoutMs = 2000): Promise<'mlflow' | 'other' | 'down'> {
  try {
    const response = await fetch(new URL('/health', uri), { signal: AbortSignal.timeout(timeoutMs) });
    const body = await response.text();
    return response.ok && body.trim() === 'OK' ? 'mlflow' : 'other';
  } catch {
    const { hostname, port } = new URL(uri);
    return (await portOpen(hostname.replace(/^\[|\]$/g, ''), Number(port || 80))) ? 'other' : 'down';
  }
}

function portOpen(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    socket.setTimeout(1000);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

/** The program `start` runs and the arguments that tie it to this state folder: what a pid must run to be ours. */
function mlflowProgram(): string {
  return path.join(path.dirname(venvPython(ENVIRONMENTS.train.venvDir)), 'mlflow');
}

function expected(config: Config): Expected {
  return { program: mlflowProgram(), marker: ['--backend-store-uri', `sqlite:///${files(config).db}`] };
}

/**
 * The pid file's verdict: null when there is no file. A file that names no valid pid is 'invalid';
 * the rest are checked against /proc (see pid-file.ts). Throws when the state folder is unreadable.
 */
function ownServer(config: Config, pidFile: PidFile = readPidFile(files(config).pid)): PidCheck | { verdict: 'invalid'; text: string } | null {
  if (pidFile.kind === 'missing') return null;
  if (pidFile.kind === 'invalid') return { verdict: 'invalid', text: pidFile.text };
  return checkPid(pidFile, expected(config));
}

/** Why the pid file does not name a server driftgate started (for every verdict but 'ours'), in one clause. */
function staleClause(file: string, check: Exclude<ReturnType<typeof ownServer>, null>): string {
  switch (check.verdict) {
    case 'invalid':
      return `the pid file ${file} holds ${check.text}, not a pid driftgate would signal`;
    case 'dead':
      return `the pid file ${file} names pid ${check.pid}, which is gone`;
    case 'other':
      return `the pid file ${file} names pid ${check.pid}, which is not the MLflow server driftgate started (${check.why}; it runs ${check.running})`;
    case 'unverifiable':
      return `the pid file ${file} names pid ${check.pid}, which cannot be verified as the MLflow server driftgate started (${check.why}; it runs ${check.running})`;
    case 'ours':
      return `the pid file ${file} names the server (pid ${check.pid})`;
  }
}

export async function status(config: Config): Promise<ServerStatus> {
  const uri = config.mlflow.tracking_uri;
  const state = await probe(uri);
  if (!isEmbedded(uri)) {
    return {
      uri,
      managed: false,
      running: state === 'mlflow',
      pid: null,
      message: state === 'mlflow' ? `external MLflow server at ${uri} is up` : `external MLflow server at ${uri} is not reachable`,
    };
  }
  const file = files(config).pid;
  const own = ownServer(config);
  const pid = own?.verdict === 'ours' ? own.pid : null;
  const stale = own && own.verdict !== 'ours' ? `; ${staleClause(file, own)}` : '';
  if (state === 'mlflow') {
    return pid
      ? { uri, managed: true, running: true, pid, message: `MLflow is running at ${uri} (pid ${pid})` }
      : { uri, managed: false, running: true, pid: null, message: `an MLflow server not started by driftgate is running at ${uri}${stale}` };
  }
  if (state === 'other') {
    return { uri, managed: false, running: false, pid: null, message: `port ${new URL(uri).port} is taken by a program that is not an MLflow server${stale}` };
  }
  if (pid) return { uri, managed: true, running: false, pid, message: `MLflow (pid ${pid}, started by driftgate) is alive but does not answer at ${uri}` };
  return { uri, managed: true, running: false, pid: null, message: `MLflow is not running at ${uri}${stale}` };
}

export async function start(config: Config, log: (line: string) => void, options: { waitMs?: number } = {}): Promise<ServerStatus> {
  const uri = config.mlflow.tracking_uri;
  const url = new URL(uri);
  const before = await status(config);
  if (!isEmbedded(uri)) {
    if (!before.running) throw new DriftgateError('MLFLOW_UNREACHABLE', `${before.message}; an external tracking server is not started by driftgate`);
    return { ...before, message: `${before.message}; nothing to start` };
  }
  if (before.running) return { ...before, message: `${before.message}; already up, nothing started` };
  const waitMs = options.waitMs ?? 180_000;
  if (before.pid !== null) {
    // Alive and verified ours but not answering yet (another `start` still waits for it, or it hangs): never start a second one.
    log(`[mlflow] ${before.message}; waiting for it`);
    const deadline = Date.now() + waitMs;
    while (Date.now() < deadline && ownServer(config)?.verdict === 'ours') {
      if ((await probe(uri, 1000)) === 'mlflow') {
        return { uri, managed: true, running: true, pid: before.pid, message: `MLflow is running at ${uri} (pid ${before.pid}); already up, nothing started` };
      }
      await sleep(500);
    }
    if (ownServer(config)?.verdict === 'ours') {
      throw new DriftgateError('MLFLOW_ERROR', `MLflow (pid ${before.pid}, started by driftgate) is alive but did not answer at ${uri} within ${Math.round(waitMs / 1000)} s; see ${files(config).log}; \`driftgate mlflow stop\` stops it`);
    }
  }
  if ((await probe(uri)) === 'other') {
    throw new DriftgateError(
      'PORT_IN_USE',
      `cannot start MLflow at ${uri}: port ${url.port} on ${url.hostname} is taken by another program that is not an MLflow server; stop it or point mlflow.tracking_uri (or MLFLOW_TRACKING_URI) at a free port`,
      { exitCode: 2 },
    );
  }
  await ensurePythonEnv(ENVIRONMENTS.train, { log });
  const f = files(config);
  mkdirSync(f.artifacts, { recursive: true });
  const mlflowBin = mlflowProgram();
  const args = [
    'server',
    '--host', url.hostname.replace(/^\[|\]$/g, ''),
    '--port', url.port || '80',
    '--backend-store-uri', `sqlite:///${f.db}`,
    '--artifacts-destination', f.artifacts,
    '--workers', '1',
  ];
  log(`[mlflow] starting: mlflow ${args.join(' ')}`);
  const out = openSync(f.log, 'a');
  // Detached in its own process group: the server outlives this command; `stop` kills the group.
  const child = spawn(mlflowBin, args, {
    detached: true,
    stdio: ['ignore', out, out],
    cwd: f.dir,
    // Driftgate uses no MLflow server jobs (GenAI features): skip their three extra processes. No telemetry.
    env: childEnv({ inherit: ['python', 'mlflow'], extra: { MLFLOW_SERVER_ENABLE_JOB_EXECUTION: 'false', MLFLOW_DISABLE_TELEMETRY: 'true' } }),
  });
  closeSync(out);
  let exited: string | null = null;
  child.once('exit', (code, signal) => {
    exited = signal ? `was killed by ${signal}` : `exited with status ${code}`;
  });
  child.once('error', (error) => {
    exited = `could not be started (${error.message})`;
  });
  if (child.pid === undefined) throw new DriftgateError('MLFLOW_ERROR', `mlflow server could not be started from ${mlflowBin}`);
  try {
    // Written at once (before the wait), so a `start` killed while it waits still leaves the server stoppable.
    writePidFile(f.pid, pidRecord(child.pid, [mlflowBin, ...args]));
  } catch (error) {
    killGroup(child.pid, 'SIGKILL');
    throw new DriftgateError('MLFLOW_ERROR', `cannot write the MLflow pid file ${f.pid} (${(error as NodeJS.ErrnoException).code ?? String(error)}); the server was stopped again`, { cause: error });
  }
  child.unref();
  const deadline = Date.now() + waitMs;
  while (Date.now() < deadline) {
    if (exited) break;
    if ((await probe(uri, 1000)) === 'mlflow') {
      log(`[mlflow] up at ${uri} (pid ${child.pid}); store ${f.db}`);
      return { uri, managed: true, running: true, pid: child.pid, message: `MLflow started at ${uri} (pid ${child.pid})` };
    }
    await sleep(500);
  }
  const logTail = existsSync(f.log) ? tail(readFileSync(f.log, 'utf8'), 15) : '';
  if (!exited) killGroup(child.pid, 'SIGKILL');
  removePidFile(f.pid);
  throw new DriftgateError('MLFLOW_ERROR', `mlflow server ${exited ?? 'did not answer /health in time'}; last lines of ${f.log}:\n${logTail}`);
}

function killGroup(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pid, signal);
    return true;
  } catch {
    try {
      process.kill(pid, signal);
      return true;
    } catch {
      return false;
    }
  }
}

export async function stop(config: Config, log: (line: string) => void): Promise<ServerStatus> {
  const uri = config.mlflow.tracking_uri;
  if (!isEmbedded(uri)) {
    return { uri, managed: false, running: (await probe(uri)) === 'mlflow', pid: null, message: `${uri} is an external server; driftgate does not stop it` };
  }
  const f = files(config);
  const pidFile = readPidFile(f.pid);
  const own = ownServer(config, pidFile);
  if (own === null) {
    return { uri, managed: true, running: false, pid: null, message: `MLflow is not running (no server started by driftgate from ${f.dir}); nothing to stop` };
  }
  if (own.verdict === 'unverifiable') {
    // Alive and maybe ours: signalling could hit another program, removing the file could orphan the server. A person decides.
    throw new DriftgateError(
      'MLFLOW_ERROR',
      `not stopping pid ${own.pid}: ${own.why}; it runs ${own.running}. Nothing was signalled. If that is the MLflow server, stop it yourself (kill ${own.pid}); then remove ${f.pid}`,
    );
  }
  if (own.verdict !== 'ours') {
    const failed = removePidFile(f.pid);
    const removed = failed === null ? `removed the stale pid file ${f.pid}` : `could not remove the stale pid file ${f.pid} (${failed})`;
    const message =
      own.verdict === 'other'
        ? `not stopping pid ${own.pid}: it is not the MLflow server driftgate started (${own.why}); it runs ${own.running}. Nothing was signalled; ${removed}; nothing to stop`
        : own.verdict === 'dead'
          ? `MLflow is not running (the server driftgate started, pid ${own.pid}, is gone; ${removed}); nothing to stop`
          : `MLflow is not running (the pid file ${f.pid} held ${own.text}, not a pid driftgate would signal; nothing was signalled; ${failed === null ? 'removed it' : removed}); nothing to stop`;
    if ((await probe(uri)) === 'mlflow') {
      throw new DriftgateError('MLFLOW_ERROR', `${message}; but an MLflow server still answers at ${uri} and driftgate cannot tell which process it is: stop it by hand`);
    }
    return { uri, managed: true, running: false, pid: null, message };
  }
  const { pid } = own;
  // Re-checked before every signal: once the server is gone its pid may be reused at any time.
  const stillOurs = (): PidCheck | null => {
    const check = ownServer(config, pidFile);
    return check?.verdict === 'ours' ? check : null;
  };
  const signal = (check: PidCheck, name: NodeJS.Signals): void => {
    // The group only when the server leads it (it was spawned detached); never a group it merely belongs to.
    if (check.verdict === 'ours' && check.groupLeader) killGroup(pid, name);
    else killOne(pid, name);
  };
  log(`[mlflow] stopping pid ${pid}`);
  signal(own, 'SIGTERM');
  const deadline = Date.now() + 15_000;
  while (stillOurs() && Date.now() < deadline) await sleep(200);
  const lingering = stillOurs();
  if (lingering) signal(lingering, 'SIGKILL');
  // Workers in the group may outlive the leader by a moment; wait until the port is free.
  while ((await probe(uri, 500)) !== 'down' && Date.now() < deadline + 5000) await sleep(200);
  removePidFile(f.pid);
  return { uri, managed: true, running: false, pid: null, message: `MLflow stopped (pid ${pid})` };
}

function killOne(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(pid, signal);
    return true;
  } catch {
    return false;
  }
}
