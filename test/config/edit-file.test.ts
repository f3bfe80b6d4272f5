import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, copyFileSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, statSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { editConfigFile } from '../../src/config/edit-file.js';
import { loadConfig } from '../../src/config/index.js';
import { writeSplit, writeSplitAsync } from '../../src/config/write-split.js';
import { ConfigError, DriftgateError } from '../../src/errors.js';
import { DEFAULT_CONFIG, tempDir } from '../helpers/config.js';
import { useTmpfs } from '../helpers/tmpfs.js';
import { deadPid, srcModule, tsChild } from '../helpers/ts-child.js';

const dir = tempDir('driftgate-edit-');
const SPLIT_LINE = /^ {2}ab_split_b: ([^ ]+) /m;

function splitIn(file: string): string {
  return SPLIT_LINE.exec(readFileSync(file, 'utf8'))?.[1] ?? '';
}

/** What a thrown error is, field by field, for exact assertions. */
function caught(run: () => unknown): { name: string; code: string; exitCode: number; message: string } {
  try {
    run();
  } catch (error) {
    const e = error as DriftgateError;
    return { name: e.name, code: e.code, exitCode: e.exitCode, message: e.message };
  }
  throw new Error('expected a throw');
}

async function caughtAsync(run: () => Promise<unknown>): Promise<{ name: string; code: string; exitCode: number; message: string }> {
  try {
    await run();
  } catch (error) {
    const e = error as DriftgateError;
    return { name: e.name, code: e.code, exitCode: e.exitCode, message: e.message };
  }
  throw new Error('expected a throw');
}

const HOLD_LOCK = `
import { writeFileSync } from 'node:fs';
import { editConfigFile } from '${srcModule('config/edit-file.ts')}';
const [file, holding, ms, replace, by] = process.argv.slice(1);
editConfigFile(file, (text) => {
  writeFileSync(holding, '');
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, Number(ms));
  return text.replace(replace, by);
});
`;

async function waitFor(file: string): Promise<void> {
  while (!existsSync(file)) await sleep(5);
}

describe('config writes through a symlink keep the link, the mode and the owner', () => {
  it('a ConfigMap-style link chain: the target gets the split, every link stays a link, mode 0640 and owner 1234:1234 stay', async () => {
    // driftgate.yaml -> ..data/driftgate.yaml, ..data -> ..2026_05_06 (how Kubernetes lays out a ConfigMap volume)
    const base = path.join(dir, 'configmap');
    const version = path.join(base, '..2026_05_06');
    mkdirSync(version, { recursive: true });
    const real = path.join(version, 'driftgate.yaml');
    copyFileSync(DEFAULT_CONFIG, real);
    chmodSync(real, 0o640);
    chownSync(real, 1234, 1234);
    symlinkSync('..2026_05_06', path.join(base, '..data'));
    const link = path.join(base, 'driftgate.yaml');
    symlinkSync('..data/driftgate.yaml', link);
    const before = readFileSync(real, 'utf8');

    writeSplit(link, 0.25);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readlinkSync(link)).toBe('..data/driftgate.yaml');
    expect(readlinkSync(path.join(base, '..data'))).toBe('..2026_05_06');
    expect(readFileSync(real, 'utf8')).toBe(before.replace(/^( {2}ab_split_b: )0 /m, '$10.25 '));
    expect(loadConfig(link, {}).router.ab_split_b).toBe(0.25);
    const info = statSync(real);
    expect({ mode: info.mode & 0o7777, uid: info.uid, gid: info.gid }).toEqual({ mode: 0o640, uid: 1234, gid: 1234 });
    // No temp file and no lock left, in either folder.
    expect(readdirSync(version)).toEqual(['driftgate.yaml']);
    expect(readdirSync(base).sort()).toEqual(['..2026_05_06', '..data', 'driftgate.yaml']);

    await writeSplitAsync(link, 0.5);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(splitIn(real)).toBe('0.5');
    const after = statSync(real);
    expect({ mode: after.mode & 0o7777, uid: after.uid, gid: after.gid }).toEqual({ mode: 0o640, uid: 1234, gid: 1234 });
    expect(readdirSync(version)).toEqual(['driftgate.yaml']);
  });

  it('a link into a shared folder: the shared file changes (other replicas see it); a plain file keeps mode 0600', () => {
    const shared = path.join(dir, 'shared');
    const local = path.join(dir, 'replica-1');
    mkdirSync(shared);
    mkdirSync(local);
    const real = path.join(shared, 'driftgate.yaml');
    writeFileSync(real, 'router:\n  ab_split_b: 0.1\n', { mode: 0o600 });
    const link = path.join(local, 'driftgate.yaml');
    symlinkSync(real, link);
    writeSplit(link, 0.3);
    expect(readlinkSync(link)).toBe(real);
    expect(readFileSync(real, 'utf8')).toBe('router:\n  ab_split_b: 0.3\n');
    expect(statSync(real).mode & 0o7777).toBe(0o600);
    expect(readdirSync(shared)).toEqual(['driftgate.yaml']);
    expect(readdirSync(local)).toEqual(['driftgate.yaml']);
  });
});

describe('a read-only config (a real read-only tmpfs)', () => {
  const mount = path.join(dir, 'ro');
  const file = path.join(mount, 'driftgate.yaml');
  beforeAll(() => {
    mkdirSync(mount, { recursive: true });
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', mount]);
    writeFileSync(file, 'router:\n  ab_split_b: 0.1\n');
    execFileSync('mount', ['-o', 'remount,ro', mount]);
  });
  afterAll(() => execFileSync('umount', ['-l', mount]));

  it('gives a ConfigError (exit 2) naming the file, and the file stays as it was', async () => {
    const expected = {
      name: 'ConfigError',
      code: 'CONFIG_INVALID',
      exitCode: 2,
      message: `${file}: cannot write the file: the file system is read-only (EROFS on ${file}.lock); it is unchanged`,
    };
    expect(caught(() => writeSplit(file, 0.5))).toEqual(expected);
    expect(await caughtAsync(() => writeSplitAsync(file, 0.5))).toEqual(expected);
    expect(readFileSync(file, 'utf8')).toBe('router:\n  ab_split_b: 0.1\n');
  });
});

describe('a full disk (a real 64 KiB tmpfs)', () => {
  const mount = path.join(dir, 'full');
  useTmpfs(() => mount, '64k');

  it('ENOSPC taking the lock or writing the temp file: a clear error, the file untouched, nothing left behind', () => {
    const file = path.join(mount, 'small.yaml');
    writeFileSync(file, 'router:\n  ab_split_b: 0.1\n');
    // tmpfs counts whole 4 KiB pages; fill every one left.
    const fillers: string[] = [];
    for (let i = 0; ; i++) {
      const filler = path.join(mount, `filler-${i}`);
      try {
        writeFileSync(filler, Buffer.alloc(4096));
        fillers.push(filler);
      } catch {
        unlinkSync(filler);
        break;
      }
    }
    const listing = readdirSync(mount).sort();
    expect(caught(() => writeSplit(file, 0.5))).toEqual({
      name: 'DriftgateError',
      code: 'UNAVAILABLE',
      exitCode: 1,
      message: `${file}: cannot write the file: no space left on the device (ENOSPC on ${file}.lock/owner); it is unchanged`,
    });
    expect(readdirSync(mount).sort()).toEqual(listing);
    // One page free: the lock's owner record fits, the new config does not.
    unlinkSync(fillers.pop()!);
    const failure = caught(() => writeSplit(file, 0.5));
    expect(failure.message).toMatch(new RegExp(`^${file}: cannot write the file: no space left on the device \\(ENOSPC on ${mount}/\\.small\\.yaml\\.${process.pid}-\\d+\\.driftgate-tmp\\); it is unchanged$`));
    expect(readFileSync(file, 'utf8')).toBe('router:\n  ab_split_b: 0.1\n');
    expect(readdirSync(mount).sort()).toEqual(listing.filter((name) => fillers.includes(path.join(mount, name)) || !name.startsWith('filler')));
    // Room again: the write goes through.
    unlinkSync(fillers.pop()!);
    writeSplit(file, 0.5);
    expect(readFileSync(file, 'utf8')).toBe('router:\n  ab_split_b: 0.5\n');
  });
});

describe('writers share one lock: no update is lost', () => {
  it('a PUT /ab-style write waits for another process editing another key under the lock, re-reads, and keeps its edit', async () => {
    const file = path.join(dir, 'two-writers.yaml');
    const holding = path.join(dir, 'two-writers.holding');
    writeFileSync(file, 'router:\n  ab_split_b: 0.1\nnote: old\n');
    const other = tsChild(HOLD_LOCK, [file, holding, '500', 'note: old', 'note: from the other writer']);
    await waitFor(holding);
    const started = Date.now();
    await writeSplitAsync(file, 0.3);
    expect(Date.now() - started).toBeGreaterThan(200);
    expect((await other).exitCode).toBe(0);
    expect(readFileSync(file, 'utf8')).toBe('router:\n  ab_split_b: 0.3\nnote: from the other writer\n');
    expect(readdirSync(dir).filter((name) => name.startsWith('two-writers.yaml'))).toEqual(['two-writers.yaml']);
  });

  it('eight processes, each incrementing its own key ten times while two others set the split: every increment lands', { timeout: 120_000 }, async () => {
    const file = path.join(dir, 'counters.yaml');
    writeFileSync(file, `router:\n  ab_split_b: 0\n${Array.from({ length: 6 }, (_, k) => `c${k}: 0\n`).join('')}`);
    const counter = `
      import { editConfigFile } from '${srcModule('config/edit-file.ts')}';
      const [file, key] = process.argv.slice(1);
      for (let i = 0; i < 10; i++) editConfigFile(file, (text) => text.replace(new RegExp('^' + key + ': (\\\\d+)$', 'm'), (_, v) => key + ': ' + (Number(v) + 1)));
    `;
    const splitter = `
      import { writeSplit } from '${srcModule('config/write-split.ts')}';
      for (let i = 0; i < 10; i++) writeSplit(process.argv[1], Number(process.argv[2]));
    `;
    const children = [
      ...Array.from({ length: 6 }, (_, k) => tsChild(counter, [file, `c${k}`])),
      tsChild(splitter, [file, '0.2']),
      tsChild(splitter, [file, '0.4']),
    ];
    const results = await Promise.all(children);
    expect(results.map((r) => ({ exitCode: r.exitCode, all: r.all }))).toEqual(Array.from({ length: 8 }, () => ({ exitCode: 0, all: '' })));
    const text = readFileSync(file, 'utf8');
    expect(text.replace(/ab_split_b: 0\.[24]\n/, 'ab_split_b: X\n')).toBe(`router:\n  ab_split_b: X\n${Array.from({ length: 6 }, (_, k) => `c${k}: 10\n`).join('')}`);
  });

  it('a writer hanging on the lock: the next one gives up after the timeout with an error naming both', async () => {
    const file = path.join(dir, 'hung.yaml');
    const holding = path.join(dir, 'hung.holding');
    writeFileSync(file, 'router:\n  ab_split_b: 0.1\n');
    const hung = tsChild(HOLD_LOCK, [file, holding, '60000', 'x', 'x']);
    try {
      await waitFor(holding);
      expect(caught(() => editConfigFile(file, (text) => `${text}# never\n`, { lockTimeoutMs: 300 }))).toEqual({
        name: 'DriftgateError',
        code: 'UNAVAILABLE',
        exitCode: 1,
        message: `${file}: not written: the lock ${file}.lock is held by pid ${hung.pid} on host ${os.hostname()} and was not released within 0.3 s; if that process hangs, stop it; if it no longer runs, remove ${file}.lock`,
      });
      expect(readFileSync(file, 'utf8')).toBe('router:\n  ab_split_b: 0.1\n');
    } finally {
      hung.kill('SIGKILL');
      await hung;
    }
    // Killed while holding it (kill -9): the next write takes the lock over at once.
    const started = Date.now();
    writeSplit(file, 0.2);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(readFileSync(file, 'utf8')).toBe('router:\n  ab_split_b: 0.2\n');
    expect(readdirSync(dir).filter((name) => name.startsWith('hung.yaml'))).toEqual(['hung.yaml']);
  });

  it('a writer killed between its temp write and the rename: the next write removes its temp file, not a live one', async () => {
    const file = path.join(dir, 'killed.yaml');
    writeFileSync(file, 'router:\n  ab_split_b: 0.1\n');
    const killed = tsChild(
      `import { writeFileSync } from 'node:fs';
       import { editConfigFile } from '${srcModule('config/edit-file.ts')}';
       editConfigFile(process.argv[1], (text) => {
         writeFileSync(process.argv[2] + '/.killed.yaml.' + process.pid + '-1.driftgate-tmp', 'half a conf');
         process.kill(process.pid, 'SIGKILL');
         return text;
       });`,
      [file, dir],
    );
    expect((await killed).signal).toBe('SIGKILL');
    const live = `.killed.yaml.${process.pid}-999.driftgate-tmp`;
    writeFileSync(path.join(dir, live), 'a write under way');
    const dead = `.killed.yaml.${await deadPid()}-3.driftgate-tmp`;
    writeFileSync(path.join(dir, dead), 'another leftover');
    expect(readdirSync(dir).filter((name) => name.includes('killed.yaml')).sort()).toEqual(
      [`.killed.yaml.${killed.pid}-1.driftgate-tmp`, dead, live, 'killed.yaml', 'killed.yaml.lock'].sort(),
    );
    writeSplit(file, 0.4);
    expect(readFileSync(file, 'utf8')).toBe('router:\n  ab_split_b: 0.4\n');
    expect(readdirSync(dir).filter((name) => name.includes('killed.yaml')).sort()).toEqual([live, 'killed.yaml'].sort());
    unlinkSync(path.join(dir, live));
  });

  it('a config in a folder that does not exist reads as not found', () => {
    const missing = path.join(dir, 'no-such-folder', 'driftgate.yaml');
    expect(() => writeSplit(missing, 0.5)).toThrow(new ConfigError(missing, '', 'cannot read the file (ENOENT)', { code: 'CONFIG_NOT_FOUND' }));
  });
});
