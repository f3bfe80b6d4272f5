import { chmodSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI_BIN, NODE_BIN, PROJECT_ROOT } from '../../src/project.js';
import { runCli } from '../helpers/cli.js';
import { tempDir, writeConfig } from '../helpers/config.js';
import { freePort } from '../helpers/net.js';

const servers: net.Server[] = [];
afterAll(() => {
  for (const server of servers) server.close();
});

describe('driftgate serve (CLI)', () => {
  it('--help describes the router', async () => {
    const { exitCode, stdout } = await runCli(['serve', '--help']);
    expect(exitCode).toBe(0);
    expect(stdout.split('\n')[0]).toBe('Usage: driftgate serve [options]');
    expect(stdout).toContain('SIGTERM or Ctrl-C: stop accepting, finish in-flight requests, flush, exit 0.');
  });

  it('a taken port exits 2 with one line, before any worker starts', async () => {
    const port = await freePort();
    const holder = net.createServer();
    await new Promise<void>((resolve) => holder.listen(port, '127.0.0.1', resolve));
    servers.push(holder);
    const dir = tempDir();
    const config = writeConfig(dir, { router: { port, log_path: path.join(dir, 'predictions.csv') } });
    const started = Date.now();
    const { exitCode, stdout, stderr } = await runCli(['serve', '--config', config]);
    expect(exitCode).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toBe(`driftgate: cannot listen on 127.0.0.1:${port}: the port is taken; stop that program or set router.port (DRIFTGATE_ROUTER_PORT)\n`);
    expect(Date.now() - started).toBeLessThan(15_000);
  });

  it('listens at once while the Python environment is built: /health 200, /ready 503 "starting"; SIGTERM stops the build and exits 0', async () => {
    const dir = tempDir();
    // A stand-in base Python (the real build takes minutes): it reports 3.11 and then "builds" for a minute.
    const python = path.join(dir, 'python3.11');
    writeFileSync(python, '#!/bin/sh\ncase "$*" in *version_info*) echo 3.11.7 ;; *) exec sleep 60 ;; esac\n');
    chmodSync(python, 0o755);
    const port = await freePort();
    const config = writeConfig(dir, { router: { port, log_path: path.join(dir, 'predictions.csv') }, mlflow: { tracking_uri: 'http://127.0.0.1:9' } });
    const started = Date.now();
    const child = execa(NODE_BIN, [CLI_BIN, 'serve', '--config', config, '--json'], {
      cwd: PROJECT_ROOT,
      env: { DRIFTGATE_CONFIG: undefined, MLFLOW_TRACKING_URI: undefined, DRIFTGATE_LABEL_TOKEN: undefined, DRIFTGATE_STATE_DIR: path.join(dir, 'state'), DRIFTGATE_PYTHON: python },
      reject: false,
      stdin: 'ignore',
    });
    const url = `http://127.0.0.1:${port}`;
    let health = 0;
    while (health !== 200 && Date.now() - started < 30_000) {
      health = await fetch(`${url}/health`).then((r) => r.status, () => 0);
      if (health !== 200) await sleep(100);
    }
    expect(health).toBe(200);
    const ready = await fetch(`${url}/ready`);
    expect(ready.status).toBe(503);
    const reason = 'the pinned Python environment is being checked (or built: first use or the pins changed); the inference workers start when it is ready';
    expect(await ready.json()).toEqual({ error: { code: 'NOT_READY', message: reason }, status: 'starting', reasons: [reason] });
    child.kill('SIGTERM');
    const result = await child;
    expect(result.exitCode).toBe(0);
    expect(JSON.parse(String(result.stdout).trim().split('\n').pop()!)).toMatchObject({ stopped: true, predictions: 0, worker_restarts: 0 });
    expect(Date.now() - started).toBeLessThan(30_000);
    // router.labels: token (the default) without DRIFTGATE_LABEL_TOKEN: one line says labels are refused.
    expect(String(result.stderr).split('\n')).toContain('[serve] labels (POST /feedback, a label on POST /predict) are refused with 401 LABELS_DISABLED: DRIFTGATE_LABEL_TOKEN is not set');
  });

  it('router.labels: open prints a one-line warning at start, and GET /ab says labels: "open"', async () => {
    const dir = tempDir();
    // The stand-in base Python of the test above: the router listens while it "builds".
    const python = path.join(dir, 'python3.11');
    writeFileSync(python, '#!/bin/sh\ncase "$*" in *version_info*) echo 3.11.7 ;; *) exec sleep 60 ;; esac\n');
    chmodSync(python, 0o755);
    const port = await freePort();
    const config = writeConfig(dir, { router: { port, labels: 'open', log_path: path.join(dir, 'predictions.csv') }, mlflow: { tracking_uri: 'http://127.0.0.1:9' } });
    const child = execa(NODE_BIN, [CLI_BIN, 'serve', '--config', config], {
      cwd: PROJECT_ROOT,
      env: { DRIFTGATE_CONFIG: undefined, MLFLOW_TRACKING_URI: undefined, DRIFTGATE_LABEL_TOKEN: undefined, DRIFTGATE_STATE_DIR: path.join(dir, 'state'), DRIFTGATE_PYTHON: python },
      reject: false,
      stdin: 'ignore',
    });
    const url = `http://127.0.0.1:${port}`;
    const started = Date.now();
    let ab: { labels?: string } | null = null;
    while (ab === null && Date.now() - started < 30_000) {
      ab = await fetch(`${url}/ab`).then((r) => (r.ok ? (r.json() as Promise<{ labels: string }>) : null), () => null);
      if (ab === null) await sleep(100);
    }
    expect(ab?.labels).toBe('open');
    child.kill('SIGTERM');
    const result = await child;
    expect(result.exitCode).toBe(0);
    const warnings = String(result.stderr).split('\n').filter((line) => line.includes('router.labels is open'));
    expect(warnings).toEqual([
      '[serve] WARNING: router.labels is open: anyone who reaches the router can send labels (POST /feedback, a label on POST /predict) and so sway the A/B test; set router.labels: token and DRIFTGATE_LABEL_TOKEN',
    ]);
  });
});
