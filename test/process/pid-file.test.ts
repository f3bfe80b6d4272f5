/**
 * The pid check of `driftgate mlflow stop|status`, against real processes (a `sleep` stands in for
 * whatever program reused the server's pid) and no Python: nothing here starts MLflow.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { bootId, checkPid, PID_FORMAT, pidRecord, readPidFile, type PidRecord } from '../../src/process/pid-file.js';
import { ENVIRONMENTS, venvPython } from '../../src/python/bootstrap.js';
import { runCli } from '../helpers/cli.js';
import { tempDir, writeConfig } from '../helpers/config.js';
import { freePort } from '../helpers/net.js';

const MLFLOW_BIN = path.join(path.dirname(venvPython(ENVIRONMENTS.train.venvDir)), 'mlflow');

const children: ChildProcess[] = [];
afterAll(() => {
  for (const child of children) child.kill('SIGKILL');
});

/** A live process that is not the MLflow server. */
async function sleeper(options: { uid?: number } = {}): Promise<ChildProcess & { pid: number }> {
  const child = spawn('sleep', ['60'], { stdio: 'ignore', ...options });
  children.push(child);
  await new Promise((resolve, reject) => child.once('spawn', resolve).once('error', reject));
  // spawn() returns before exec: wait until /proc shows sleep's own command line.
  for (let i = 0; i < 100 && readFileSync(`/proc/${child.pid}/cmdline`, 'utf8') !== 'sleep\u000060\u0000'; i++) await sleep(10);
  return child as ChildProcess & { pid: number };
}

function stillRunning(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null && readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1]?.[0] !== 'Z';
}

/** Field 22 of /proc/<pid>/stat, read independently of the code under test. */
function startTicks(pid: number): string {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]!;
}

/** A pid that was just in use and is now free (a process that exited and was reaped). */
async function deadPid(): Promise<number> {
  const child = spawn('true', { stdio: 'ignore' });
  await new Promise((resolve) => child.once('exit', resolve));
  return child.pid!;
}

async function setup(): Promise<{ config: string; stateDir: string; pidFile: string; uri: string; db: string }> {
  const dir = tempDir();
  const uri = `http://127.0.0.1:${await freePort()}`;
  const config = writeConfig(dir, { mlflow: { tracking_uri: uri } });
  const stateDir = path.join(dir, 'mlflow');
  mkdirSync(stateDir, { recursive: true });
  return { config, stateDir, pidFile: path.join(stateDir, 'server.pid'), uri, db: path.join(stateDir, 'mlflow.db') };
}

/** What `mlflow start` would have written for a server with this pid and start time. */
function serverRecord(pid: number, db: string, ticks: string, boot = bootId()): PidRecord {
  return { format: PID_FORMAT, pid, boot_id: boot, start_ticks: ticks, argv: [MLFLOW_BIN, 'server', '--backend-store-uri', `sqlite:///${db}`] };
}

describe('readPidFile: a hostile or old pid file is never a pid to signal', () => {
  const dir = tempDir();
  const table: [string, string, string][] = [
    ['garbage', 'hello\n', 'invalid'],
    ['empty', '', 'invalid'],
    ['negative (would signal a process group)', '-1\n', 'invalid'],
    ['zero (would signal our own group)', '0\n', 'invalid'],
    ['pid 1 (init)', '1\n', 'invalid'],
    ['a huge number', '99999999999\n', 'invalid'],
    ['above PID_MAX_LIMIT', '4194305\n', 'invalid'],
    ['exponent notation', '1e3\n', 'invalid'],
    ['trailing garbage', '123abc\n', 'invalid'],
    ['our own pid', `${process.pid}\n`, 'invalid'],
    ['JSON with a negative pid', JSON.stringify({ format: PID_FORMAT, pid: -5, start_ticks: '1', boot_id: null, argv: [] }), 'invalid'],
    ['JSON of another format', JSON.stringify({ pid: 1234 }), 'invalid'],
    ['the old format', '4242\n', 'legacy'],
    ['a record', JSON.stringify({ format: PID_FORMAT, pid: 4242, start_ticks: '77', boot_id: 'b', argv: ['x'] }), 'record'],
  ];
  it.each(table)('%s', (_name, text, kind) => {
    const file = path.join(dir, 'server.pid');
    writeFileSync(file, text);
    expect(readPidFile(file).kind).toBe(kind);
  });

  it('missing is "no server"; an unreadable pid file is an error naming it', () => {
    expect(readPidFile(path.join(dir, 'nope.pid'))).toEqual({ kind: 'missing' });
    const folder = path.join(dir, 'a-folder.pid');
    mkdirSync(folder);
    expect(() => readPidFile(folder)).toThrow(`cannot read the MLflow pid file ${folder}: EISDIR; fix the state folder's permissions (mlflow.state_dir)`);
  });
});

describe('checkPid against real processes', () => {
  it('the process itself (same boot, start time and command line) is ours; a reused pid is not', async () => {
    const child = await sleeper();
    const record = pidRecord(child.pid, ['sleep', '60']);
    expect(record).toEqual({ format: PID_FORMAT, pid: child.pid, boot_id: bootId(), start_ticks: startTicks(child.pid), argv: ['sleep', '60'] });
    expect(checkPid({ kind: 'record', record }, { program: 'sleep', marker: ['60'] })).toEqual({ verdict: 'ours', pid: child.pid, groupLeader: false });
    expect(checkPid({ kind: 'record', record: { ...record, start_ticks: '1' } }, { program: 'sleep', marker: ['60'] })).toEqual({
      verdict: 'other',
      pid: child.pid,
      why: `it started at tick ${startTicks(child.pid)}, the server at tick 1`,
      running: '"sleep 60"',
    });
    expect(checkPid({ kind: 'record', record: { ...record, boot_id: 'another-boot' } }, { program: 'sleep', marker: ['60'] })).toMatchObject({
      verdict: 'other',
      why: 'the machine has rebooted since the server was started',
    });
    expect(checkPid({ kind: 'record', record }, { program: MLFLOW_BIN, marker: ['--backend-store-uri', 'sqlite:///x.db'] })).toMatchObject({
      verdict: 'other',
      why: `its command line is not ${MLFLOW_BIN} --backend-store-uri sqlite:///x.db`,
    });
    expect(checkPid({ kind: 'legacy', pid: child.pid }, { program: 'sleep', marker: ['60'] })).toEqual({
      verdict: 'unverifiable',
      pid: child.pid,
      why: 'the pid file is in the old format (a bare pid), which cannot be verified',
      running: '"sleep 60"',
    });
    // A server that retitles itself (program null): the boot and the start time decide alone.
    expect(checkPid({ kind: 'record', record }, { program: null, marker: [] })).toEqual({ verdict: 'ours', pid: child.pid, groupLeader: false });
    expect(checkPid({ kind: 'record', record: { ...record, start_ticks: '1' } }, { program: null, marker: [] })).toMatchObject({ verdict: 'other', why: `it started at tick ${startTicks(child.pid)}, the server at tick 1` });
    expect(stillRunning(child)).toBe(true);
    const gone = await deadPid();
    expect(checkPid({ kind: 'legacy', pid: gone }, { program: 'sleep', marker: [] })).toEqual({ verdict: 'dead', pid: gone });
  });
});

describe('driftgate mlflow stop|status with a pid file that does not name the server', () => {
  it('a pid reused by an unrelated live process: stop signals nothing, says what runs there, removes the stale file, exits 0', async () => {
    const { config, pidFile, db, uri } = await setup();
    const child = await sleeper();
    writeFileSync(pidFile, `${JSON.stringify(serverRecord(child.pid, db, '1'))}\n`);

    const status = await runCli(['mlflow', 'status', '--config', config]);
    expect(status.exitCode).toBe(1);
    const stale = `the pid file ${pidFile} names pid ${child.pid}, which is not the MLflow server driftgate started (it started at tick ${startTicks(child.pid)}, the server at tick 1; it runs "sleep 60")`;
    expect(status.stderr).toBe(`driftgate: MLflow is not running at ${uri}; ${stale}\n`);
    expect(existsSync(pidFile)).toBe(true);

    const stop = await runCli(['mlflow', 'stop', '--config', config]);
    expect(stop.stderr).toBe('');
    expect(stop.stdout).toBe(
      `not stopping pid ${child.pid}: it is not the MLflow server driftgate started (it started at tick ${startTicks(child.pid)}, the server at tick 1); it runs "sleep 60". Nothing was signalled; removed the stale pid file ${pidFile}; nothing to stop\n`,
    );
    expect(stop.exitCode).toBe(0);
    await sleep(200);
    expect(stillRunning(child)).toBe(true);
    expect(existsSync(pidFile)).toBe(false);
  });

  it("the same start time but another program's command line (reuse after a reboot): not signalled", async () => {
    const { config, pidFile, db } = await setup();
    const child = await sleeper();
    writeFileSync(pidFile, JSON.stringify(serverRecord(child.pid, db, startTicks(child.pid))));
    const stop = await runCli(['mlflow', 'stop', '--config', config, '--json']);
    expect(stop.exitCode).toBe(0);
    expect(JSON.parse(stop.stdout)).toEqual({
      uri: expect.any(String),
      managed: true,
      running: false,
      pid: null,
      message: `not stopping pid ${child.pid}: it is not the MLflow server driftgate started (its command line is not ${MLFLOW_BIN} --backend-store-uri sqlite:///${db}); it runs "sleep 60". Nothing was signalled; removed the stale pid file ${pidFile}; nothing to stop`,
    });
    expect(stillRunning(child)).toBe(true);
  });

  it.runIf(process.getuid?.() === 0)("another user's process (as root a signal would go through): not signalled, named as another user's", async () => {
    const { config, pidFile, db } = await setup();
    const child = await sleeper({ uid: 65534 });
    writeFileSync(pidFile, JSON.stringify(serverRecord(child.pid, db, '1')));
    const stop = await runCli(['mlflow', 'stop', '--config', config]);
    expect(stop.exitCode).toBe(0);
    expect(stop.stdout).toContain(`it runs "sleep 60" (another user's process, uid 65534). Nothing was signalled; removed the stale pid file ${pidFile}; nothing to stop\n`);
    expect(stillRunning(child)).toBe(true);
  });

  it('the old one-number format naming a live process: not signalled, the file is kept, exit 1 with what to do', async () => {
    const { config, pidFile } = await setup();
    const child = await sleeper();
    writeFileSync(pidFile, `${child.pid}\n`);
    const stop = await runCli(['mlflow', 'stop', '--config', config]);
    expect(stop.exitCode).toBe(1);
    expect(stop.stderr).toBe(
      `driftgate: not stopping pid ${child.pid}: the pid file is in the old format (a bare pid), which cannot be verified; it runs "sleep 60". Nothing was signalled. If that is the MLflow server, stop it yourself (kill ${child.pid}); then remove ${pidFile}\n`,
    );
    expect(stillRunning(child)).toBe(true);
    expect(readFileSync(pidFile, 'utf8')).toBe(`${child.pid}\n`);
  });

  it('a dead pid, in either format: the stale file is removed, exit 0', async () => {
    const { config, pidFile, db } = await setup();
    for (const text of [JSON.stringify(serverRecord(await deadPid(), db, '1')), `${await deadPid()}\n`]) {
      writeFileSync(pidFile, text);
      const pid = (JSON.parse(text) as { pid?: number }).pid ?? Number(text);
      const stop = await runCli(['mlflow', 'stop', '--config', config]);
      expect(stop.exitCode).toBe(0);
      expect(stop.stdout).toBe(`MLflow is not running (the server driftgate started, pid ${pid}, is gone; removed the stale pid file ${pidFile}); nothing to stop\n`);
      expect(existsSync(pidFile)).toBe(false);
    }
  });

  it('a garbage pid file: removed, nothing signalled, exit 0', async () => {
    const { config, pidFile } = await setup();
    writeFileSync(pidFile, 'not a pid at all\n');
    const stop = await runCli(['mlflow', 'stop', '--config', config]);
    expect(stop.exitCode).toBe(0);
    expect(stop.stdout).toBe(`MLflow is not running (the pid file ${pidFile} held "not a pid at all", not a pid driftgate would signal; nothing was signalled; removed it); nothing to stop\n`);
    expect(existsSync(pidFile)).toBe(false);
  });

  it('an unreadable pid file: exit 1 naming it, nothing removed', async () => {
    const { config, pidFile } = await setup();
    mkdirSync(pidFile);
    for (const action of ['stop', 'status']) {
      const result = await runCli(['mlflow', action, '--config', config]);
      expect(result.exitCode).toBe(1);
      expect(result.stderr).toBe(`driftgate: cannot read the MLflow pid file ${pidFile}: EISDIR; fix the state folder's permissions (mlflow.state_dir)\n`);
    }
    expect(existsSync(pidFile)).toBe(true);
  });
});
