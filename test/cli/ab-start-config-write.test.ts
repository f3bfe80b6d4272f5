/**
 * `driftgate ab start` writing the split (the built CLI, as Airflow runs it; `npm run build` first):
 * through a symlink it keeps the link and the mode, into a read-only mount it exits 2 with one line.
 * A small stand-in answers the two MLflow calls the command makes before the write.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, lstatSync, mkdirSync, readFileSync, statSync, symlinkSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { tempDir, writeConfig } from '../helpers/config.js';

const MODEL = { name: 'iris-classifier', aliases: [{ alias: 'prod', version: '1' }, { alias: 'staging', version: '2' }], tags: [] };

describe('ab start writes router.ab_split_b', () => {
  const dir = tempDir('driftgate-ab-start-');
  const mount = path.join(dir, 'ro');
  let server: http.Server;
  let uri = '';
  let roConfig = '';

  beforeAll(async () => {
    server = http.createServer((request, response) => {
      const url = new URL(request.url ?? '/', 'http://x');
      response.setHeader('content-type', 'application/json');
      if (url.pathname === '/health') return void response.end('OK');
      if (url.pathname === '/api/2.0/mlflow/registered-models/get') return void response.end(JSON.stringify({ registered_model: { ...MODEL, name: url.searchParams.get('name') } }));
      response.statusCode = 404;
      response.end(JSON.stringify({ error_code: 'ENDPOINT_NOT_FOUND', message: url.pathname }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    uri = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    mkdirSync(mount);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', mount]);
    roConfig = writeConfig(mount, { mlflow: { tracking_uri: uri } });
    execFileSync('mount', ['-o', 'remount,ro', mount]);
  });

  afterAll(() => {
    server.close();
    execFileSync('umount', ['-l', mount]);
  });

  it('through a symlink: exit 0, the link stays a link, the target has the split and its mode 0640', async () => {
    const real = writeConfig(tempDir('driftgate-shared-'), { mlflow: { tracking_uri: uri } });
    chmodSync(real, 0o640);
    const link = path.join(dir, 'driftgate.yaml');
    symlinkSync(real, link);
    const { exitCode, stdout, stderr } = await runCli(['ab', 'start', '--split', '0.3', '--config', link, '--json']);
    expect({ exitCode, stderr }).toEqual({ exitCode: 0, stderr: `[ab] router.ab_split_b 0 -> 0.3 in ${link}\n` });
    expect(JSON.parse(stdout.trimEnd().split('\n').pop()!)).toMatchObject({ started: true, ab_split_b: 0.3, previous_split: 0 });
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readFileSync(real, 'utf8')).toMatch(/^ {2}ab_split_b: 0\.3$/m);
    expect(statSync(real).mode & 0o7777).toBe(0o640);
  });

  it('into a read-only mount: exit 2 and one line naming the file, no stack trace', async () => {
    const before = readFileSync(roConfig, 'utf8');
    const { exitCode, stdout, stderr } = await runCli(['ab', 'start', '--split', '0.3', '--config', roConfig]);
    expect({ exitCode, stdout, stderr }).toEqual({
      exitCode: 2,
      stdout: '',
      stderr: `driftgate: ${roConfig}: cannot write the file: the file system is read-only (EROFS on ${roConfig}.lock); it is unchanged\n`,
    });
    expect(readFileSync(roConfig, 'utf8')).toBe(before);
  });
});
