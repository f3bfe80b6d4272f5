/** PUT /ab when the config cannot be written (read-only, the lock held by a hung writer): a 503 JSON answer, never a crash. */
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, readFileSync, statSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { LiveConfig } from '../../src/router/live-config.js';
import { tempDir, writeConfig } from '../helpers/config.js';
import { srcModule, tsChild } from '../helpers/ts-child.js';
import { testRouter } from './build.js';

const ADMIN = { 'content-type': 'application/json', authorization: 'Bearer test-admin-token' };

describe('PUT /ab and the config file: a link, a read-only mount, a hung writer', () => {
  it('a read-only mount: 503 CONFIG_NOT_WRITTEN naming the file; the split in force and the file stay', async () => {
    const router = await testRouter({ patch: { router: { ab_split_b: 0.5 } } });
    const folder = path.dirname(router.configFile);
    const before = readFileSync(router.configFile, 'utf8');
    // A read-only bind mount of the router's own folder, as a read-only volume would be.
    execFileSync('mount', ['--bind', folder, folder]);
    try {
      execFileSync('mount', ['-o', 'remount,bind,ro', folder]);
      const response = await router.app.inject({ method: 'PUT', url: '/ab', payload: '{"ab_split_b": 0.2}', headers: ADMIN });
      expect(response.statusCode).toBe(503);
      expect(response.json()).toEqual({
        error: {
          code: 'CONFIG_NOT_WRITTEN',
          message: `the split was not written: ${router.configFile}: cannot write the file: the file system is read-only (EROFS on ${router.configFile}.lock); it is unchanged`,
        },
      });
      expect(router.config.current.router.ab_split_b).toBe(0.5);
      expect(readFileSync(router.configFile, 'utf8')).toBe(before);
      // The router keeps answering.
      expect((await router.app.inject({ method: 'GET', url: '/ab' })).json().ab_split_b).toBe(0.5);
    } finally {
      execFileSync('umount', ['-l', folder]);
    }
    await router.app.close();
  });

  it('a config reached through a symlink: PUT /ab\'s write keeps the link and the mode, and the router applies it', async () => {
    const shared = tempDir('driftgate-shared-');
    const real = writeConfig(shared, { router: { ab_split_b: 0.5 } });
    chmodSync(real, 0o640);
    const local = tempDir('driftgate-replica-');
    const link = path.join(local, 'driftgate.yaml');
    symlinkSync(real, link);
    const env = { DRIFTGATE_ADMIN_TOKEN: 'test-admin-token' };
    const live = new LiveConfig(loadConfig(link, env), env);
    expect((await live.setSplit(0.2)).router.ab_split_b).toBe(0.2);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(loadConfig(real, env).router.ab_split_b).toBe(0.2);
    expect(statSync(real).mode & 0o7777).toBe(0o640);
    expect(await live.check()).toBe('unchanged');
  });

  it('a writer hanging on the lock: 503 after the lock timeout, and the event loop keeps serving meanwhile', { timeout: 30_000 }, async () => {
    const router = await testRouter({ patch: { router: { ab_split_b: 0.5 } } });
    const holding = `${router.configFile}.holding`;
    const hung = tsChild(
      `import { writeFileSync } from 'node:fs';
       import { editConfigFile } from '${srcModule('config/edit-file.ts')}';
       editConfigFile(process.argv[1], (text) => { writeFileSync(process.argv[2], ''); Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 60000); return text; });`,
      [router.configFile, holding],
    );
    try {
      while (!existsSync(holding)) await sleep(5);
      const put = router.app.inject({ method: 'PUT', url: '/ab', payload: '{"ab_split_b": 0.2}', headers: ADMIN });
      // While PUT /ab waits for the lock, other requests are answered.
      await sleep(200);
      expect((await router.app.inject({ method: 'GET', url: '/health' })).statusCode).toBe(200);
      const response = await put;
      expect(response.statusCode).toBe(503);
      expect(response.json()).toEqual({
        error: {
          code: 'CONFIG_NOT_WRITTEN',
          message: `the split was not written: ${router.configFile}: not written: the lock ${router.configFile}.lock is held by pid ${hung.pid} on host ${os.hostname()} and was not released within 10 s; if that process hangs, stop it; if it no longer runs, remove ${router.configFile}.lock`,
        },
      });
      expect(router.config.current.router.ab_split_b).toBe(0.5);
    } finally {
      hung.kill('SIGKILL');
      await hung;
    }
    await router.app.close();
  });
});
