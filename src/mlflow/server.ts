/**
 * The embedded MLflow tracking server: SQLite store and local artifacts under the state folder, on
 * loopback. A tracking URI on another host is external: nothing is started, status checks it.
 */
import { openSync, closeSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Config } from '../config/index.js';
import { DriftgateError, tail } from '../errors.js';
import { ENVIRONMENTS, ensurePythonEnv } from '../python/bootstrap.js';

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

function readPid(file: string): number | null {
  try {
    const pid = Number(readFileSync(file, 'utf8').trim());
    if (!Number.isInteger(pid) || pid <= 0) return null;
    process.kill(pid, 0);
    return pid;
  } catch {
    return null;
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
  const pid = readPid(files(config).pid);
  if (state === 'mlflow') {
    return pid
      ? { uri, managed: true, running: true, pid, message: `MLflow is running at ${uri} (pid ${pid})` }
      : { uri, managed: false, running: true, pid: null, message: `an MLflow server not started by driftgate is running at ${uri}` };
  }
  if (state === 'other') {
    return { uri, managed: false, running: false, pid: null, message: `port ${new URL(uri).port} is taken by a program that is not an MLflow server` };
  }
  return { uri, managed: true, running: false, pid, message: `MLflow is not running at ${uri}` };
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
  if ((await probe(uri)) === 'other') {
    throw new DriftgateError(
      'PORT_IN_USE',
      `cannot start MLflow at ${uri}: port ${url.port} on ${url.hostname} is taken by another program that is not an MLflow server; stop it or point mlflow.tracking_uri (or MLFLOW_TRACKING_URI) at a free port`,
      { exitCode: 2 },
    );
  }
  const { python } = await ensurePythonEnv(ENVIRONMENTS.train, { log });
  const f = files(config);
  mkdirSync(f.artifacts, { recursive: true });
  const mlflowBin = path.join(path.dirname(python), 'mlflow');
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
    env: { ...process.env, MLFLOW_SERVER_ENABLE_JOB_EXECUTION: 'false', MLFLOW_DISABLE_TELEMETRY: 'true' },
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
  writeFileSync(f.pid, `${child.pid}\n`);
  child.unref();
  const deadline = Date.now() + (options.waitMs ?? 180_000);
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
  rmSync(f.pid, { force: true });
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

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export async function stop(config: Config, log: (line: string) => void): Promise<ServerStatus> {
  const uri = config.mlflow.tracking_uri;
  if (!isEmbedded(uri)) {
    return { uri, managed: false, running: (await probe(uri)) === 'mlflow', pid: null, message: `${uri} is an external server; driftgate does not stop it` };
  }
  const f = files(config);
  const pid = readPid(f.pid);
  if (pid === null) {
    rmSync(f.pid, { force: true });
    return { uri, managed: true, running: false, pid: null, message: `MLflow is not running (no server started by driftgate from ${f.dir}); nothing to stop` };
  }
  log(`[mlflow] stopping pid ${pid}`);
  killGroup(pid, 'SIGTERM');
  const deadline = Date.now() + 15_000;
  while (alive(pid) && Date.now() < deadline) await sleep(200);
  if (alive(pid)) killGroup(pid, 'SIGKILL');
  // Workers in the group may outlive the leader by a moment; wait until the port is free.
  while ((await probe(uri, 500)) !== 'down' && Date.now() < deadline + 5000) await sleep(200);
  rmSync(f.pid, { force: true });
  return { uri, managed: true, running: false, pid: null, message: `MLflow stopped (pid ${pid})` };
}
