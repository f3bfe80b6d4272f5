/**
 * The predictions log under faults, with real `driftgate serve` processes, real Python workers and
 * real MLflow models: a full disk (a small tmpfs mounted for the test), rotation by size, by SIGHUP
 * after mv and after copytruncate under load, the bin wrapper on a Node older than 24 (Ctrl-C to the
 * group, kill -9 of the wrapper), and feedback at one replica for a request another answered,
 * joined by `driftgate ab evaluate`.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parse } from 'csv-parse/sync';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI_BIN, PROJECT_ROOT } from '../../src/project.js';
import { lastJson, runCli } from '../helpers/cli.js';
import { writeConfig } from '../helpers/config.js';
import { startMlflow, type MlflowFixture } from '../helpers/mlflow.js';
import { registerTestModels } from '../helpers/model.js';
import { waitForReady } from '../../src/router/wait-ready.js';
import { freePort } from '../helpers/net.js';
import { answer, getJson, isAlive, loadUntil, predictOnce, startRouter, statusCounts, type RouterProcess, type Sample } from '../helpers/serve-process.js';
import { useTmpfs } from '../helpers/tmpfs.js';

let mlflow: MlflowFixture;
const routers: RouterProcess[] = [];
const USERS = Array.from({ length: 500 }, (_, i) => `user-${i}`);

type Row = Record<string, string>;
function readRows(file: string): Row[] {
  // strict: a torn or interleaved row (wrong column count, broken quoting) fails the parse.
  return parse(readFileSync(file, 'utf8'), { columns: true, strict: true } as never) as Row[];
}

/** Every row of every file in a folder whose name starts with `base`. */
function rowsOfSet(dir: string, base: string): { files: string[]; rows: Row[] } {
  const files = readdirSync(dir).filter((name) => name.startsWith(base)).map((name) => path.join(dir, name));
  return { files, rows: files.flatMap(readRows) };
}

function config(dir: string, router: Record<string, unknown>, name = 'driftgate.yaml'): string {
  return writeConfig(dir, { mlflow: { tracking_uri: mlflow.uri }, router: { workers: 1, registry_poll_s: 1, rate_limit: { max: 1_000_000, window_ms: 1000 }, ab_split_b: 0.5, ...router } }, name);
}

async function launch(configFile: string, port: number, env: Record<string, string> = {}): Promise<RouterProcess> {
  const router = startRouter(configFile, port, env);
  routers.push(router);
  await waitForReady(router.url, { timeoutMs: 240_000, accept: (body) => body.workers.every((w) => w.models.length === 2) });
  return router;
}

async function stop(router: RouterProcess): Promise<{ exitCode: number | undefined; stdout: string }> {
  router.kill('SIGTERM');
  return router.exited;
}

function answeredIds(samples: readonly Sample[]): string[] {
  return samples.filter((s) => s.status === 200).map((s) => answer(s).request_id);
}

beforeAll(async () => {
  mlflow = await startMlflow();
  await registerTestModels(mlflow.uri, mlflow.config.mlflow.model_name, ['lr:prod', 'tree:staging']);
}, 600_000);

afterAll(async () => {
  for (const r of routers) r.kill('SIGKILL');
  await mlflow?.stop();
});

describe('a full disk under the router (a real 512 KiB tmpfs)', () => {
  const mount = (): string => path.join(mlflow.dir, 'tmpfs');
  useTmpfs(mount, '512k');

  it('refuses what it cannot log (503 LOG_UNAVAILABLE, /ready 503 and why), logs no torn or repeated row, and serves again once there is room', async () => {
    const logPath = path.join(mount(), 'predictions.csv');
    const port = await freePort();
    const router = await launch(config(mlflow.dir, { port, log_path: logPath }, 'full-disk.yaml'), port);
    // Leave room for a few hundred rows, then send thousands.
    const filler = path.join(mount(), 'filler');
    writeFileSync(filler, Buffer.alloc(400 * 1024));
    let i = 0;
    const samples = await loadUntil(router.url, { concurrency: 16, users: USERS, stop: () => i++ >= 3000 });
    const counts = statusCounts(samples);
    expect(Object.keys(counts).sort()).toEqual(['200', '503:LOG_UNAVAILABLE']);
    const refused = samples.find((s) => s.status === 503)!;
    expect((refused.body as { error: { message: string } }).error.message).toBe('the predictions log cannot be written (ENOSPC), so the request was not answered; retry (another instance)');
    const ready = await getJson<{ status: string; reasons: string[] }>(`${router.url}/ready`);
    expect(ready.status).toBe(503);
    expect(ready.body.reasons.at(-1)).toMatch(new RegExp(`^the predictions log ${logPath} cannot be written \\(ENOSPC: .*\\) since .*; \\d+ rows could not be logged so far$`));
    const metrics = await (await fetch(`${router.url}/metrics`)).text();
    expect(metrics).toContain(`driftgate_router_log_rows_failed_total{event="prediction"} ${counts['503:LOG_UNAVAILABLE']}\n`);
    expect(metrics).toContain('driftgate_router_log_writable 0\n');
    // On disk: exactly the answered rows, whole, once each; drift reads the log.
    // Besides the answered predictions, only the split row of the start.
    const logged = readRows(logPath).filter((r) => r.event !== 'split').map((r) => r.request_id!);
    expect(logged.sort()).toEqual(answeredIds(samples).sort());
    expect(readFileSync(logPath, 'utf8').endsWith('\n')).toBe(true);

    rmSync(filler);
    await waitForReady(router.url, { timeoutMs: 10_000 });
    const after = await Promise.all(USERS.slice(0, 50).map((u, k) => predictOnce(router.url, u, k)));
    expect(statusCounts(after)).toEqual({ '200': 50 });
    expect(await (await fetch(`${router.url}/metrics`)).text()).toContain('driftgate_router_log_writable 1\n');
    const summary = await stop(router);
    expect(summary.exitCode).toBe(0);
    expect(readRows(logPath).filter((r) => r.event !== 'split').map((r) => r.request_id!).sort()).toEqual([...answeredIds(samples), ...answeredIds(after)].sort());
    const drift = await runCli(['drift', '--config', path.join(mlflow.dir, 'full-disk.yaml'), '--current', 'log', '--json']);
    expect(drift.exitCode).toBe(0);
    expect((lastJson(drift.stdout) as { current: { quality: { malformed_rows: number } } }).current.quality.malformed_rows).toBe(0);
  }, 300_000);
});

describe('rotation under load', () => {
  /** Load the router while `during` runs; every answer must be 200. */
  async function underLoad(router: RouterProcess, during: () => Promise<void>): Promise<Sample[]> {
    let stopLoad = false;
    const load = loadUntil(router.url, { concurrency: 16, users: USERS, stop: () => stopLoad });
    await during();
    stopLoad = true;
    const samples = await load;
    expect(statusCounts(samples)).toEqual({ '200': samples.length });
    return samples;
  }

  /** After the router stopped: every answered row in exactly one file of the set, each file with the header; the A/B reader reads them all. */
  async function expectEveryRowOnce(dir: string, configFile: string, samples: readonly Sample[]): Promise<string[]> {
    const { files, rows } = rowsOfSet(dir, 'predictions.csv');
    for (const file of files) expect(readFileSync(file, 'utf8').startsWith('ts,event,request_id,')).toBe(true);
    // The split row written at the start is the only other row.
    expect(rows.filter((r) => r.event === 'split').map((r) => r.ab_split_b)).toEqual(['0.5']);
    const ids = rows.filter((r) => r.event === 'prediction').map((r) => r.request_id!);
    expect(ids.length).toBe(samples.length);
    expect(new Set(ids)).toEqual(new Set(answeredIds(samples)));
    const evaluation = await runCli(['ab', 'evaluate', '--config', configFile, '--json']);
    expect(evaluation.exitCode).toBe(0);
    expect(lastJson(evaluation.stdout)).toMatchObject({ log: { rows: rows.length, malformed_rows: 0 } });
    return files;
  }

  it('by size: new files with the header, every answered row in exactly one readable file', async () => {
    const dir = path.join(mlflow.dir, 'rotation-size');
    mkdirSync(dir);
    const port = await freePort();
    const configFile = config(mlflow.dir, { port, log_path: path.join(dir, 'predictions.csv'), log_rotate: { max_size_mb: 0.05, every: 'none' } }, 'rotation-size.yaml');
    const router = await launch(configFile, port);
    const samples = await underLoad(router, () => sleep(3000));
    expect((await stop(router)).exitCode).toBe(0);
    const files = await expectEveryRowOnce(dir, configFile, samples);
    expect(files.filter((f) => /predictions\.csv\.\d{8}T\d{6}\.\d{3}Z(-\d+)?$/.test(f)).length).toBeGreaterThan(1);
  }, 300_000);

  it('by SIGHUP after mv and after copytruncate: every answered row in exactly one readable file', async () => {
    const dir = path.join(mlflow.dir, 'rotation-outside');
    mkdirSync(dir);
    const logPath = path.join(dir, 'predictions.csv');
    const port = await freePort();
    const configFile = config(mlflow.dir, { port, log_path: logPath }, 'rotation-outside.yaml');
    const router = await launch(configFile, port);
    const samples = await underLoad(router, async () => {
      await sleep(1500);
      // logrotate's create mode: mv, then SIGHUP.
      renameSync(logPath, `${logPath}.1`);
      await sleep(200);
      router.kill('SIGHUP');
      await sleep(1000);
      // logrotate's copytruncate: copy, truncate in place, no signal.
      copyFileSync(logPath, `${logPath}.2`);
      truncateSync(logPath, 0);
      await sleep(1500);
    });
    expect((await stop(router)).exitCode).toBe(0);
    expect((await expectEveryRowOnce(dir, configFile, samples)).sort()).toEqual([logPath, `${logPath}.1`, `${logPath}.2`]);
    expect(router.stderr.join('\n')).toContain('reopened ' + logPath + ' (SIGHUP)');
    expect(router.stderr.join('\n')).toContain(`${logPath} was truncated in place (copytruncate); rebuilt it with the header and `);
  }, 300_000);
});

describe('the bin wrapper on a Node older than 24', () => {
  const systemNode = '/usr/bin/node';
  const major = Number(execFileSync(systemNode, ['--version'], { encoding: 'utf8' }).trim().slice(1).split('.')[0]);

  it.skipIf(major >= 24)('a Ctrl-C to the whole group drains once and completely: exit 0, the summary, every answered row logged', async () => {
    const dir = path.join(mlflow.dir, 'wrapper-int');
    mkdirSync(dir);
    const logPath = path.join(dir, 'predictions.csv');
    const port = await freePort();
    const child = execa(systemNode, [CLI_BIN, 'serve', '--config', config(mlflow.dir, { port, log_path: logPath }, 'wrapper-int.yaml'), '--json'], {
      cwd: PROJECT_ROOT,
      env: { MLFLOW_TRACKING_URI: undefined, DRIFTGATE_LOG_PATH: undefined, DRIFTGATE_ROUTER_PORT: undefined },
      detached: true,
      reject: false,
      stdin: 'ignore',
    });
    const url = `http://127.0.0.1:${port}`;
    await waitForReady(url, { timeoutMs: 240_000, accept: (body) => body.workers.every((w) => w.models.length === 2) });
    let exited = false;
    const done = child.then((r) => {
      exited = true;
      return r;
    });
    const load = loadUntil(url, { concurrency: 16, users: USERS, stop: () => exited });
    await sleep(1000);
    // What a terminal does on Ctrl-C: SIGINT to every process of the group, wrapper and child alike.
    process.kill(-child.pid!, 'SIGINT');
    const result = await done;
    const samples = await load;
    expect(result.exitCode).toBe(0);
    const summary = lastJson(String(result.stdout)) as { stopped: boolean; log_rows_written: number };
    expect(summary.stopped).toBe(true);
    const rows = readRows(logPath);
    const logged = new Set(rows.filter((r) => r.event === 'prediction').map((r) => r.request_id));
    expect(answeredIds(samples).filter((id) => !logged.has(id))).toEqual([]);
    // Every row this router wrote: the predictions and the split row of the start.
    expect(summary.log_rows_written).toBe(rows.length);
    expect(rows.length).toBe(logged.size + 1);
  }, 300_000);

  it.skipIf(major >= 24)('kill -9 of the wrapper takes the router down with it: the port is free for the next one', async () => {
    const dir = path.join(mlflow.dir, 'wrapper-kill');
    mkdirSync(dir);
    const port = await freePort();
    const configFile = config(mlflow.dir, { port, log_path: path.join(dir, 'predictions.csv') }, 'wrapper-kill.yaml');
    const wrapper = execa(systemNode, [CLI_BIN, 'serve', '--config', configFile], { cwd: PROJECT_ROOT, reject: false, stdin: 'ignore', env: { MLFLOW_TRACKING_URI: undefined } });
    const url = `http://127.0.0.1:${port}`;
    await waitForReady(url, { timeoutMs: 240_000 });
    const child = Number(execFileSync('pgrep', ['-P', String(wrapper.pid)], { encoding: 'utf8' }).trim().split('\n')[0]);
    expect(child).toBeGreaterThan(0);
    process.kill(wrapper.pid!, 'SIGKILL');
    await wrapper;
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline && isAlive(child)) await sleep(100);
    expect(isAlive(child)).toBe(false);
    const next = await launch(configFile, port);
    expect(answer(await predictOnce(next.url, 'u1', 1)).variant).toMatch(/^[AB]$/);
    await stop(next);
  }, 300_000);
});

describe('feedback at any replica', () => {
  it('a label sent to replica 2 for a request replica 1 answered is accepted and joined by ab evaluate; a forged id is 404', async () => {
    const dir = path.join(mlflow.dir, 'replicas');
    mkdirSync(dir);
    const [port1, port2] = [await freePort(), await freePort()];
    const shared = config(mlflow.dir, { port: port1, log_path: path.join(dir, 'predictions-*.csv') }, 'replicas.yaml');
    // One config file, one log file per replica in a shared folder (the README's recipe).
    // The replicas share the label token as they share the config (labels need it: router.labels: token).
    const labelToken = 'replicas-label-token';
    const labeller = { 'content-type': 'application/json', authorization: `Bearer ${labelToken}` };
    const one = await launch(shared, port1, { DRIFTGATE_LOG_PATH: path.join(dir, 'predictions-1.csv'), DRIFTGATE_ROUTER_PORT: String(port1), DRIFTGATE_LABEL_TOKEN: labelToken });
    const two = await launch(shared, port2, { DRIFTGATE_LOG_PATH: path.join(dir, 'predictions-2.csv'), DRIFTGATE_ROUTER_PORT: String(port2), DRIFTGATE_LABEL_TOKEN: labelToken });
    const answers = await Promise.all(USERS.slice(0, 200).map((u, k) => predictOnce(one.url, u, k)));
    expect(statusCounts(answers)).toEqual({ '200': 200 });
    for (const sample of answers) {
      const a = answer(sample);
      const feedback = await getJson(`${two.url}/feedback`, { method: 'POST', headers: labeller, body: JSON.stringify({ request_id: a.request_id, label: a.prediction }) });
      expect(feedback).toEqual({ status: 202, body: { request_id: a.request_id, label: a.prediction, status: 'accepted' } });
    }
    const forged = answer(answers[0]!).request_id.slice(0, -4) + 'AAAA';
    const refused = await getJson<{ error: { code: string } }>(`${two.url}/feedback`, { method: 'POST', headers: labeller, body: JSON.stringify({ request_id: forged, label: 'setosa' }) });
    expect([refused.status, refused.body.error.code]).toEqual([404, 'NOT_FOUND']);
    await Promise.all([stop(one), stop(two)]);
    expect(readRows(path.join(dir, 'predictions-2.csv')).map((r) => r.event)).toEqual(['split', ...new Array<string>(200).fill('feedback')]);
    const evaluation = await runCli(['ab', 'evaluate', '--config', shared, '--json']);
    expect(evaluation.exitCode).toBe(0);
    const result = lastJson(evaluation.stdout) as { variants: Record<'A' | 'B', { requests: number; labeled: number; correct: number }>; log: { orphan_feedback: number; files: string[] } };
    expect(result.log.files).toEqual([path.join(dir, 'predictions-1.csv'), path.join(dir, 'predictions-2.csv')]);
    expect(result.variants.A.requests + result.variants.B.requests).toBeGreaterThan(150);
    expect(result.variants.A.labeled).toBe(result.variants.A.requests);
    expect(result.variants.B.labeled).toBe(result.variants.B.requests);
    expect(result.log.orphan_feedback).toBe(0);
  }, 300_000);
});
