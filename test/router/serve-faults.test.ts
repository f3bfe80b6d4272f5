/**
 * The faults a production router meets, against `driftgate serve` for real: two Python workers on the
 * pinned environment, real MLflow models, and a real MLflow server behind a switchable proxy that
 * plays the load balancer (passing through, answering 404 pages during a "deploy", or refusing).
 *
 * Registered: v1 log-check (prod: raises for a feature <= 0), v2 log (staging: NaN probabilities for
 * one), so a poison row is a petal_length of -1 on either arm.
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENVIRONMENTS, liveVenvDir, venvPython } from '../../src/python/bootstrap.js';
import { assignVariant } from '../../src/router/assign.js';
import { waitForReady } from '../../src/router/wait-ready.js';
import { writeConfig } from '../helpers/config.js';
import { startMlflow, type MlflowFixture } from '../helpers/mlflow.js';
import { registerTestModels } from '../helpers/model.js';
import { freePort } from '../helpers/net.js';
import { loadUntil, startRouter, statusCounts, type RouterProcess, type Sample } from '../helpers/serve-process.js';

const REQUEST_TIMEOUT_MS = 3000;
const USERS = Array.from({ length: 500 }, (_, i) => `fault-user-${i}`);
const POISON = { sepal_length: 5.1, sepal_width: 3.5, petal_length: -1, petal_width: 0.2 };

type Mode = 'pass' | 'html404' | 'refuse';

/** MLflow behind a proxy whose answers the test switches. */
class SwitchableProxy {
  mode: Mode = 'pass';
  readonly url: string;
  private server: http.Server | null = null;
  private readonly sockets = new Set<net.Socket>();

  constructor(
    private readonly port: number,
    private readonly target: URL,
  ) {
    this.url = `http://127.0.0.1:${port}`;
  }

  async listen(): Promise<void> {
    const server = http.createServer((request, response) => {
      if (this.mode === 'html404') {
        response.writeHead(404, { 'content-type': 'text/html' }).end('<html><body><h1>404 Not Found</h1>nginx</body></html>');
        return;
      }
      const upstream = http.request({ host: this.target.hostname, port: this.target.port, path: request.url, method: request.method, headers: request.headers }, (answer) => {
        response.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(response);
      });
      upstream.on('error', () => response.destroy());
      request.pipe(upstream);
    });
    server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    this.server = server;
  }

  /** Stop listening: connections are refused, as with MLflow down. */
  async close(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (!server) return;
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

let mlflow: MlflowFixture;
let proxy: SwitchableProxy;
let configFile: string;
let port: number;
let router: RouterProcess;
const routers: RouterProcess[] = [];
let userA: string;
let userB: string;

const SECRETS = { DRIFTGATE_ADMIN_TOKEN: 'faults-admin-token', DRIFTGATE_REQUEST_KEY: 'faults-request-key-0123456789' };

function launch(): RouterProcess {
  const started = startRouter(configFile, port, SECRETS);
  routers.push(started);
  return started;
}

async function metric(name: string): Promise<string> {
  const text = await (await fetch(`${router.url}/metrics`)).text();
  return text.split('\n').find((line) => line.startsWith(`${name} `)) ?? `${name} missing`;
}

async function predictPoison(user: string): Promise<{ status: number; body: unknown; ms: number }> {
  const started = Date.now();
  const response = await fetch(`${router.url}/predict`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ user_id: user, features: POISON }),
  });
  return { status: response.status, body: await response.json(), ms: Date.now() - started };
}

/** A load that runs until the returned stop() is called, then resolves with every sample. */
function background(concurrency = 8): { stop: () => Promise<Sample[]> } {
  let stopped = false;
  const load = loadUntil(router.url, { concurrency, users: USERS, stop: () => stopped, timeoutMs: 30_000 });
  return {
    stop: async () => {
      stopped = true;
      return load;
    },
  };
}

beforeAll(async () => {
  mlflow = await startMlflow();
  await registerTestModels(mlflow.uri, mlflow.config.mlflow.model_name, ['log-check:prod', 'log:staging']);
  proxy = new SwitchableProxy(await freePort(), new URL(mlflow.uri));
  await proxy.listen();
  port = await freePort();
  configFile = writeConfig(
    mlflow.dir,
    {
      mlflow: { tracking_uri: proxy.url },
      router: {
        port,
        ab_split_b: 0.5,
        log_path: path.join(mlflow.dir, 'predictions.csv'),
        model_cache_dir: path.join(mlflow.dir, 'models'),
        registry_poll_s: 0.5,
        request_timeout_ms: REQUEST_TIMEOUT_MS,
        workers: 2,
        rate_limit: { max: 1_000_000, window_ms: 1000 },
      },
    },
    'faults.yaml',
  );
  const on = (variant: 'A' | 'B') => USERS.find((u) => assignVariant(u, { splitB: 0.5, seed: 'driftgate', stagingAvailable: true }) === variant)!;
  userA = on('A');
  userB = on('B');
  router = launch();
  await waitForReady(router.url, { timeoutMs: 240_000, accept: (body) => body.workers.every((w) => w.models.length === 2) });
}, 600_000);

afterAll(async () => {
  for (const r of routers) r.kill('SIGKILL');
  await proxy?.close();
  await mlflow?.stop();
});

describe('driftgate serve under faults', () => {
  it('the inference workers run from the live build\'s own folder (a pin change cannot swap it under them) and do not see the router\'s secrets', async () => {
    const { workers } = await waitForReady(router.url, { timeoutMs: 10_000 });
    const build = liveVenvDir(ENVIRONMENTS.train);
    expect(build).not.toBe(ENVIRONMENTS.train.venvDir);
    for (const worker of workers) {
      expect(readFileSync(`/proc/${worker.pid}/cmdline`, 'utf8').split('\0')[0]).toBe(venvPython(build));
      const environ = readFileSync(`/proc/${worker.pid}/environ`, 'utf8').split('\0');
      expect(environ.filter((entry) => entry.startsWith('DRIFTGATE_'))).toEqual([]);
      expect(environ).toContain(`MLFLOW_TRACKING_URI=${proxy.url}`);
    }
  });

  it('a poison row is answered 422 within 1 s on either arm, while a stream of normal requests sees no failure and no worker restarts', async () => {
    const load = background();
    await sleep(500);
    const a = await predictPoison(userA);
    const b = await predictPoison(userB);
    await sleep(500);
    const samples = await load.stop();
    expect(a).toEqual({
      status: 422,
      body: { error: { code: 'PREDICTION_FAILED', message: 'version 1 of driftgate-iris (prod) could not predict this row: the model raised ValueError for this row: array must not contain infs or NaNs' } },
      ms: expect.any(Number),
    });
    expect(b).toEqual({
      status: 422,
      body: {
        error: {
          code: 'PREDICTION_FAILED',
          message: 'version 2 of driftgate-iris (staging) could not predict this row: the model returned probabilities that are not finite numbers for this row (setosa=nan, versicolor=nan, virginica=nan)',
        },
      },
      ms: expect.any(Number),
    });
    expect(a.ms).toBeLessThan(1000);
    expect(b.ms).toBeLessThan(1000);
    expect(statusCounts(samples)).toEqual({ '200': samples.length });
    expect(samples.length).toBeGreaterThan(50);
    expect(await metric('driftgate_router_worker_restarts_total')).toBe('driftgate_router_worker_restarts_total 0');
  });

  it('a body that trickles in byte by byte is cut at router.request_timeout_ms', async () => {
    const socket = net.connect(port, '127.0.0.1');
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    const started = Date.now();
    socket.write(`POST /predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n`);
    const trickle = setInterval(() => socket.writable && socket.write('{'), 500);
    const received = await new Promise<string>((resolve) => {
      let text = '';
      socket.on('data', (chunk) => (text += chunk.toString()));
      socket.on('close', () => resolve(text));
      socket.on('error', () => undefined);
    });
    clearInterval(trickle);
    const took = Date.now() - started;
    expect(received.split('\r\n')[0]).toBe('HTTP/1.1 408 Request Timeout');
    expect(took).toBeGreaterThanOrEqual(REQUEST_TIMEOUT_MS);
    expect(took).toBeLessThan(REQUEST_TIMEOUT_MS + 1500);
  });

  it('a SIGSTOPped worker is killed and replaced, and every request is answered within the deadline', async () => {
    const before = (await waitForReady(router.url, { timeoutMs: 10_000 })).workers;
    const load = background();
    await sleep(500);
    process.kill(before[0]!.pid!, 'SIGSTOP');
    await sleep(REQUEST_TIMEOUT_MS + 1000);
    const samples = await load.stop();
    expect(statusCounts(samples)).toEqual({ '200': samples.length });
    expect(Math.max(...samples.map((s) => s.doneAt - s.sentAt))).toBeLessThan(REQUEST_TIMEOUT_MS);
    const after = await waitForReady(router.url, { timeoutMs: 60_000, accept: (body) => body.workers[0]!.pid !== before[0]!.pid && body.workers[0]!.models.length === 2 });
    expect(after.workers[1]!.pid).toBe(before[1]!.pid);
    expect(await metric('driftgate_router_worker_restarts_total')).toBe('driftgate_router_worker_restarts_total 1');
  }, 120_000);

  it('a minute of 404 pages on the tracking URI fails no request: the last versions keep serving, /ready and /metrics say so', async () => {
    proxy.mode = 'html404';
    const load = background();
    const degraded = await waitForReady(router.url, { timeoutMs: 10_000, accept: (body) => body.status === 'degraded' });
    expect(degraded.reasons).toEqual([
      'the model registry is unreachable (MLflow GET registered-models/alias failed (404 HTTP_404): <html><body><h1>404 Not Found</h1>nginx</body></html>); the loaded models keep serving',
    ]);
    expect(degraded.models).toMatchObject({ prod: { version: '1', state: 'serving' }, staging: { version: '2', state: 'serving' } });
    expect(await metric('driftgate_router_registry_up')).toBe('driftgate_router_registry_up 0');
    await sleep(60_000);
    const samples = await load.stop();
    proxy.mode = 'pass';
    expect(statusCounts(samples)).toEqual({ '200': samples.length });
    expect(samples.length).toBeGreaterThan(1000);
    const ready = await waitForReady(router.url, { timeoutMs: 10_000, accept: (body) => body.status === 'ready' });
    expect(ready.models).toMatchObject({ prod: { version: '1', state: 'serving' }, staging: { version: '2', state: 'serving' } });
    expect(await metric('driftgate_router_registry_up')).toBe('driftgate_router_registry_up 1');
  }, 120_000);

  it('a restart while MLflow is unreachable serves the last known versions from disk, and says so', async () => {
    router.kill('SIGTERM');
    expect((await router.exited).exitCode).toBe(0);
    await proxy.close();
    router = launch();
    const ready = await waitForReady(router.url, { timeoutMs: 240_000, accept: (body) => body.workers.every((w) => w.models.length === 2) });
    expect(ready.status).toBe('degraded');
    expect(ready.models).toMatchObject({ prod: { version: '1', state: 'serving' }, staging: { version: '2', state: 'serving' } });
    expect(ready.reasons[0]).toMatch(/^serving the last known versions \(prod version 1, staging version 2, recorded \d{4}-\d\d-\d\dT[\d:.]+Z\): the model registry has not answered since the router started$/);
    expect(router.stderr.some((line) => line.includes('serving the last known versions (prod version 1, staging version 2, recorded'))).toBe(true);
    let i = 0;
    const samples = await loadUntil(router.url, { concurrency: 8, users: USERS, stop: () => i++ >= 300 });
    expect(statusCounts(samples)).toEqual({ '200': samples.length });
    expect(new Set(samples.map((s) => (s.body as { model_version: string }).model_version))).toEqual(new Set(['1', '2']));
    await proxy.listen();
    const back = await waitForReady(router.url, { timeoutMs: 10_000, accept: (body) => body.status === 'ready' });
    expect(back.reasons).toEqual([]);
  }, 300_000);
});
