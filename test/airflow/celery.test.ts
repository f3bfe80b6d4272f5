/**
 * The celery profile's settings and its command's refusals. Starting the profile for real (PostgreSQL,
 * Redis, two workers) is test/scale/loop.test.ts.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { celeryEnv, components } from '../../src/airflow/celery.js';
import { loadConfig } from '../../src/config/index.js';
import { runCli } from '../helpers/cli.js';
import { DEFAULT_CONFIG, tempDir, writeConfig } from '../helpers/config.js';

const paths = { home: '/s/airflow-celery', dagsFolder: '/r/dags' };

/** A port that refuses connections: listen, take its number, close. */
function refusingPort(): Promise<number> {
  return new Promise((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

describe('the celery profile', () => {
  it('gives every component the executor, the DB, the broker, the result store and the API address from airflow.celery', () => {
    const config = loadConfig(DEFAULT_CONFIG, {});
    expect(celeryEnv(config, paths, {})).toEqual({
      AIRFLOW_HOME: '/s/airflow-celery',
      AIRFLOW__CORE__DAGS_FOLDER: '/r/dags',
      AIRFLOW__CORE__LOAD_EXAMPLES: 'False',
      AIRFLOW__CORE__EXECUTOR: 'CeleryExecutor',
      AIRFLOW__API__HOST: '127.0.0.1',
      AIRFLOW__API__PORT: '8080',
      AIRFLOW__API__BASE_URL: 'http://127.0.0.1:8080',
      AIRFLOW__CELERY__WORKER_CONCURRENCY: '1',
      AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL: '30',
      AIRFLOW__DATABASE__SQL_ALCHEMY_CONN: 'postgresql+psycopg2://postgres@127.0.0.1:5432/airflow',
      AIRFLOW__CELERY__BROKER_URL: 'redis://127.0.0.1:6379/0',
      AIRFLOW__CELERY__RESULT_BACKEND: 'db+postgresql+psycopg2://postgres@127.0.0.1:5432/airflow',
    });
  });

  it('leaves a DB URL set in the environment (with its password) to be inherited, and derives the result store from it', () => {
    const config = loadConfig(DEFAULT_CONFIG, {});
    const env = celeryEnv(config, paths, { AIRFLOW__DATABASE__SQL_ALCHEMY_CONN: 'postgresql+psycopg2://airflow:s3cret@db:5432/airflow' });
    expect(env.AIRFLOW__DATABASE__SQL_ALCHEMY_CONN).toBeUndefined();
    expect(env.AIRFLOW__CELERY__RESULT_BACKEND).toBe('db+postgresql+psycopg2://airflow:s3cret@db:5432/airflow');
    expect(env.AIRFLOW__CELERY__BROKER_URL).toBe('redis://127.0.0.1:6379/0');
  });

  it('runs a scheduler, a dag-processor, an API server and airflow.celery.workers workers, each worker with a node name and a log server port of its own', () => {
    const config = loadConfig(writeConfig(tempDir(), { airflow: { celery: { workers: 3, api_port: 9090, log_server_port: 9800 } } }), {});
    expect(components(config).map((c) => [c.name, c.args.join(' '), JSON.stringify(c.env)])).toEqual([
      ['scheduler', 'scheduler', '{}'],
      ['dag-processor', 'dag-processor', '{}'],
      ['api-server', 'api-server --host 127.0.0.1 --port 9090', '{}'],
      ['worker-1', 'celery worker --celery-hostname worker-1@%h', '{"AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT":"9800"}'],
      ['worker-2', 'celery worker --celery-hostname worker-2@%h', '{"AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT":"9801"}'],
      ['worker-3', 'celery worker --celery-hostname worker-3@%h', '{"AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT":"9802"}'],
    ]);
    expect(components(config, 'control').map((c) => c.name)).toEqual(['scheduler', 'dag-processor', 'api-server']);
    expect(components(config, 'workers').map((c) => c.name)).toEqual(['worker-1', 'worker-2', 'worker-3']);
  });

  it('driftgate airflow: up, down, status and trigger need --profile celery; dags-test and standalone refuse it; a bad profile or role exits 2', async () => {
    const cases: [string[], string][] = [
      [['airflow', 'up'], 'airflow up runs the celery profile (--profile celery); the local profile runs in the foreground with `driftgate airflow standalone`'],
      [['airflow', 'trigger', 'monitor', '--profile', 'local'], 'airflow trigger runs the celery profile (--profile celery); the local profile runs in the foreground with `driftgate airflow standalone`'],
      [['airflow', 'dags-test', 'monitor', '--profile', 'celery'], 'airflow dags-test runs the local profile (SQLite, LocalExecutor); with --profile celery use `airflow up` and `airflow trigger`'],
      [['airflow', 'up', '--profile', 'kubernetes'], '--profile: expected local or celery, got "kubernetes"'],
      [['airflow', 'up', '--profile', 'celery', '--role', 'web'], '--role: expected all, control or workers, got "web"'],
      [['airflow', 'trigger', '--profile', 'celery'], 'airflow trigger: expected one DAG id (or "monitor" or "ab")'],
    ];
    for (const [args, message] of cases) {
      const result = await runCli(args);
      expect([result.exitCode, result.stderr], args.join(' ')).toEqual([2, `driftgate: ${message}\n`]);
    }
  });

  it('airflow up with an unreachable broker fails at once, naming it without its password; status says every component is down', async () => {
    const port = await refusingPort();
    const dir = tempDir();
    const config = writeConfig(dir, { airflow: { celery: { broker_url: `redis://user:hunter2@127.0.0.1:${port}/0` } } });
    const where = ['--config', config, '--airflow-home', path.join(dir, 'home'), '--dags', path.join(dir, 'dags'), '--profile', 'celery'];
    const up = await runCli(['airflow', 'up', ...where]);
    expect([up.exitCode, up.stderr]).toEqual([
      1,
      `[generate-dag] wrote ${path.join(dir, 'dags', 'driftgate_monitor.py')}\n[generate-dag] wrote ${path.join(dir, 'dags', 'driftgate_ab.py')}\n` +
        `driftgate: cannot start Airflow's celery profile: the broker redis://user:***@127.0.0.1:${port}/0 (airflow.celery.broker_url or AIRFLOW__CELERY__BROKER_URL) is not reachable: 127.0.0.1:${port}: ECONNREFUSED\n`,
    ]);
    const status = await runCli(['airflow', 'status', ...where]);
    expect(status.exitCode).toBe(1);
    expect(status.stderr).toBe(
      ['scheduler', 'dag-processor', 'api-server', 'worker-1', 'worker-2'].map((name) => `${name.padEnd(14)} down`).join('\n').replace(/^/, 'driftgate: ') +
        '\nnot running: scheduler, dag-processor, api-server, worker-1, worker-2\n',
    );
  });

  it('airflow trigger without a running profile: one line saying what is missing, exit 1', async () => {
    const port = await refusingPort();
    const dir = tempDir();
    const home = path.join(dir, 'home');
    const config = writeConfig(dir, { airflow: { celery: { api_port: port } } });
    const where = ['--config', config, '--airflow-home', home, '--dags', path.join(dir, 'dags'), '--profile', 'celery'];
    const never = await runCli(['airflow', 'trigger', 'monitor', ...where]);
    expect([never.exitCode, never.stderr]).toEqual([
      1,
      `driftgate: no password for Airflow's user admin: the API server at http://127.0.0.1:${port} writes it when it first starts (simple auth manager); is the profile up (driftgate airflow status --profile celery)?\n`,
    ]);
    // It ran once (the password file exists) but its API server is down now.
    mkdirSync(home, { recursive: true });
    writeFileSync(path.join(home, 'simple_auth_manager_passwords.json.generated'), '{"admin": "pw"}');
    const down = await runCli(['airflow', 'trigger', 'monitor', ...where]);
    expect([down.exitCode, down.stderr]).toEqual([
      1,
      `driftgate: Airflow's API at http://127.0.0.1:${port} did not answer POST /auth/token: ECONNREFUSED; is the profile up (driftgate airflow status --profile celery)?\n`,
    ]);
  });
});
