import http from 'node:http';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI_BIN, NODE_BIN } from '../../src/project.js';
import { ENVIRONMENTS, venvPython } from '../../src/python/bootstrap.js';
import { probe } from '../../src/mlflow/server.js';
import { tempDir, writeConfig } from '../helpers/config.js';
import { runCli } from '../helpers/cli.js';
import { mlflowApi } from '../helpers/mlflow.js';
import { freePort } from '../helpers/net.js';
import { createDatabase } from '../helpers/postgres.js';

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

describe('driftgate mlflow start|stop|status against a real server', () => {
  it('starts, serves the REST API, is idempotent, and stops cleanly', async () => {
    const dir = tempDir();
    const port = await freePort();
    const uri = `http://127.0.0.1:${port}`;
    const config = writeConfig(dir, { mlflow: { tracking_uri: uri } });
    cleanups.push(() => runCli(['mlflow', 'stop', '--config', config]));

    const before = await runCli(['mlflow', 'status', '--config', config]);
    expect(before.exitCode).toBe(1);
    expect(before.stderr).toBe(`driftgate: MLflow is not running at ${uri}\n`);

    // The router's secrets in the operator's shell must not reach the server.
    const secrets = { DRIFTGATE_ADMIN_TOKEN: 'admin-token-s3cret', DRIFTGATE_REQUEST_KEY: 'request-key-0123456789abcdef' };
    const started = await runCli(['mlflow', 'start', '--config', config, '--json'], { env: secrets });
    expect(started.stderr).toContain(`[mlflow] up at ${uri}`);
    expect(started.exitCode).toBe(0);
    const startResult = JSON.parse(started.stdout) as { pid: number; running: boolean; managed: boolean; message: string };
    expect(startResult).toEqual({ uri, managed: true, running: true, pid: startResult.pid, message: `MLflow started at ${uri} (pid ${startResult.pid})` });
    const serverEnv = readFileSync(`/proc/${startResult.pid}/environ`, 'utf8').split('\0');
    expect(serverEnv.filter((entry) => entry.startsWith('DRIFTGATE_'))).toEqual([]);
    expect(serverEnv).toContain('MLFLOW_SERVER_ENABLE_JOB_EXECUTION=false');
    const record = JSON.parse(readFileSync(path.join(dir, 'mlflow', 'server.pid'), 'utf8')) as { format: string; pid: number; start_ticks: string; argv: string[] };
    expect(record).toMatchObject({ format: 'driftgate-mlflow-pid/2', pid: startResult.pid });
    expect(record.start_ticks).toMatch(/^\d+$/);
    expect(record.argv.slice(0, 2)).toEqual([path.join(path.dirname(venvPython(ENVIRONMENTS.train.venvDir)), 'mlflow'), 'server']);

    const created = await mlflowApi<{ experiment_id: string }>(uri, 'POST', 'experiments/create', { name: 'driftgate-server-test' });
    const fetched = await mlflowApi<{ experiment: { name: string; experiment_id: string; artifact_location: string } }>(uri, 'GET', 'experiments/get-by-name', {
      experiment_name: 'driftgate-server-test',
    });
    expect(fetched.experiment.experiment_id).toBe(created.experiment_id);
    expect(fetched.experiment.artifact_location).toBe(`mlflow-artifacts:/${created.experiment_id}`);

    const again = await runCli(['mlflow', 'start', '--config', config]);
    expect(again.exitCode).toBe(0);
    expect(again.stdout).toBe(`MLflow is running at ${uri} (pid ${startResult.pid}); already up, nothing started\n`);

    const status = await runCli(['mlflow', 'status', '--config', config]);
    expect(status.exitCode).toBe(0);
    expect(status.stdout).toBe(`MLflow is running at ${uri} (pid ${startResult.pid})\n`);

    // A second config on the same port with another state folder reuses the running server.
    const other = writeConfig(tempDir(), { mlflow: { tracking_uri: uri } });
    const reuse = await runCli(['mlflow', 'start', '--config', other]);
    expect(reuse.exitCode).toBe(0);
    expect(reuse.stdout).toBe(`an MLflow server not started by driftgate is running at ${uri}; already up, nothing started\n`);

    const stopped = await runCli(['mlflow', 'stop', '--config', config]);
    expect(stopped.exitCode).toBe(0);
    expect(stopped.stdout).toBe(`MLflow stopped (pid ${startResult.pid})\n`);
    expect(await probe(uri)).toBe('down');

    const twice = await runCli(['mlflow', 'stop', '--config', config]);
    expect(twice.exitCode).toBe(0);
    expect(twice.stdout).toBe(`MLflow is not running (no server started by driftgate from ${path.join(dir, 'mlflow')}); nothing to stop\n`);
  }, 300_000);

  it('a `start` killed by kill -9 while it waits leaves a pid file that still stops the server', async () => {
    const dir = tempDir();
    const uri = `http://127.0.0.1:${await freePort()}`;
    const config = writeConfig(dir, { mlflow: { tracking_uri: uri } });
    cleanups.push(() => runCli(['mlflow', 'stop', '--config', config]));
    const pidFile = path.join(dir, 'mlflow', 'server.pid');
    const starting = execa(NODE_BIN, [CLI_BIN, 'mlflow', 'start', '--config', config], { reject: false, stdin: 'ignore', env: { DRIFTGATE_CONFIG: undefined, MLFLOW_TRACKING_URI: undefined } });
    for (let i = 0; i < 1800 && !existsSync(pidFile); i++) await sleep(100);
    starting.kill('SIGKILL');
    expect((await starting).signal).toBe('SIGKILL');
    const { pid } = JSON.parse(readFileSync(pidFile, 'utf8')) as { pid: number };
    for (let i = 0; i < 360 && (await probe(uri)) !== 'mlflow'; i++) await sleep(500);

    const status = await runCli(['mlflow', 'status', '--config', config]);
    expect(status.stdout).toBe(`MLflow is running at ${uri} (pid ${pid})\n`);
    const stopped = await runCli(['mlflow', 'stop', '--config', config]);
    expect(stopped.stdout).toBe(`MLflow stopped (pid ${pid})\n`);
    expect(stopped.exitCode).toBe(0);
    expect(await probe(uri)).toBe('down');
    // Its parent was killed, so init reaps it, in its own time: a zombie is gone too.
    const state = existsSync(`/proc/${pid}`) ? readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0] : 'gone';
    expect(['gone', 'Z']).toContain(state);
    expect(existsSync(pidFile)).toBe(false);
  }, 300_000);

  it('refuses a port taken by a program that is not MLflow', async () => {
    const foreign = http.createServer((_req, res) => res.writeHead(404).end('not mlflow'));
    const port = await freePort();
    await new Promise<void>((resolve) => foreign.listen(port, '127.0.0.1', resolve));
    cleanups.push(() => new Promise((resolve) => foreign.close(resolve)));
    const config = writeConfig(tempDir(), { mlflow: { tracking_uri: `http://127.0.0.1:${port}` } });
    const result = await runCli(['mlflow', 'start', '--config', config]);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toBe(
      `driftgate: cannot start MLflow at http://127.0.0.1:${port}: port ${port} on 127.0.0.1 is taken by another program that is not an MLflow server; stop it or point mlflow.tracking_uri (or MLFLOW_TRACKING_URI) at a free port\n`,
    );
    const status = await runCli(['mlflow', 'status', '--config', config]);
    expect(status.exitCode).toBe(1);
    expect(status.stderr).toBe(`driftgate: port ${port} is taken by a program that is not an MLflow server\n`);
  });

  it('treats a non-loopback URI as external: nothing is started, status checks that server', async () => {
    // An external server backed by the machine's PostgreSQL, on 127.0.0.2 (loopback range, but not the embedded address).
    const port = await freePort('127.0.0.2');
    const db = await createDatabase(`driftgate_mlflow_test_${process.pid}`);
    cleanups.push(() => db.drop());
    const artifacts = tempDir();
    const mlflowBin = path.join(path.dirname(venvPython(ENVIRONMENTS.train.venvDir)), 'mlflow');
    const server = spawn(mlflowBin, ['server', '--host', '127.0.0.2', '--port', String(port), '--backend-store-uri', db.url, '--artifacts-destination', artifacts, '--workers', '1', '--allowed-hosts', `127.0.0.2:${port}`], {
      stdio: 'ignore',
      detached: true,
    });
    cleanups.push(() => {
      try {
        process.kill(-server.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    });
    const uri = `http://127.0.0.2:${port}`;
    const config = writeConfig(tempDir(), { mlflow: { tracking_uri: 'http://127.0.0.1:1' } });

    const down = await runCli(['mlflow', 'status', '--config', config], { env: { MLFLOW_TRACKING_URI: 'http://127.0.0.3:9' } });
    expect(down.exitCode).toBe(1);
    expect(down.stderr).toBe('driftgate: external MLflow server at http://127.0.0.3:9 is not reachable\n');

    for (let i = 0; i < 240 && (await probe(uri)) !== 'mlflow'; i++) await sleep(500);
    const status = await runCli(['mlflow', 'status', '--config', config, '--json'], { env: { MLFLOW_TRACKING_URI: uri } });
    expect(status.exitCode).toBe(0);
    expect(JSON.parse(status.stdout)).toEqual({ uri, managed: false, running: true, pid: null, message: `external MLflow server at ${uri} is up` });
    const start = await runCli(['mlflow', 'start', '--config', config], { env: { MLFLOW_TRACKING_URI: uri } });
    expect(start.exitCode).toBe(0);
    expect(start.stdout).toBe(`external MLflow server at ${uri} is up; nothing to start\n`);
    const created = await mlflowApi<{ experiment_id: string }>(uri, 'POST', 'experiments/create', { name: 'on-postgres' });
    expect(created.experiment_id).toMatch(/^\d+$/);
  }, 240_000);
});
