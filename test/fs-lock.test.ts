import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { currentOwner, withLock, withLockSync, type LockOwner } from '../src/fs-lock.js';
import { NODE_BIN } from '../src/project.js';
import { tempDir } from './helpers/config.js';
import { deadPid, srcModule, tsChild } from './helpers/ts-child.js';

const dir = tempDir('driftgate-lock-');
let n = 0;
const newLock = (): string => path.join(dir, `l${++n}.lock`);

function plant(lock: string, owner: Partial<LockOwner> | string): void {
  mkdirSync(lock);
  writeFileSync(path.join(lock, 'owner'), typeof owner === 'string' ? owner : JSON.stringify({ ...currentOwner(), ...owner }));
}

function procStart(pid: number): string {
  const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return text.slice(text.lastIndexOf(')') + 2).split(' ')[19]!;
}

/** Nothing of a lock is left: neither its folder nor a takeover folder. */
function leftovers(lock: string): string[] {
  return readdirSync(dir).filter((name) => name.startsWith(path.basename(lock)));
}

function heldMessage(lock: string, holder: string, seconds: number): string {
  return `the lock ${lock} is held by ${holder} and was not released within ${seconds} s; if that process hangs, stop it; if it no longer runs, remove ${lock}`;
}

/** A live process to name as an owner; stopped by the test. */
async function liveProcess(): Promise<{ pid: number; stop: () => Promise<void> }> {
  const child = execa(NODE_BIN, ['-e', 'setInterval(() => {}, 1000)'], { reject: false });
  await sleep(50);
  return {
    pid: child.pid!,
    stop: async () => {
      child.kill('SIGKILL');
      await child;
    },
  };
}

const CONTENDER = `
import { appendFileSync, existsSync } from 'node:fs';
import { withLock, withLockSync } from '${srcModule('fs-lock.ts')}';
const [lock, log, ready, go, mode, rounds, crashAt] = process.argv.slice(1);
const pause = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
appendFileSync(ready, 'x');
while (!existsSync(go)) pause(2);
for (let i = 0; i < Number(rounds); i++) {
  const critical = () => {
    appendFileSync(log, 'enter ' + process.pid + '\\n');
    // kill -9 while holding the lock: the others must take it over, one of them, once.
    if (i === Number(crashAt)) {
      appendFileSync(log, 'crash ' + process.pid + '\\n');
      process.kill(process.pid, 'SIGKILL');
    }
    pause(2 + Math.random() * 8);
    appendFileSync(log, 'leave ' + process.pid + '\\n');
  };
  if (mode === 'sync') withLockSync(lock, critical);
  else await withLock(lock, () => {}, async () => critical());
}
`;

describe('withLock / withLockSync (src/fs-lock.ts)', () => {
  it('many processes racing for a stale lock, some killed while holding it: exactly one holds it at a time', { timeout: 120_000 }, async () => {
    const lock = newLock();
    const log = path.join(dir, 'race.log');
    const ready = path.join(dir, 'race.ready');
    const go = path.join(dir, 'race.go');
    writeFileSync(log, '');
    writeFileSync(ready, '');
    // Stale from the start: its owner is dead, so every contender tries a takeover at once.
    plant(lock, { pid: await deadPid() });
    const contenders = Array.from({ length: 16 }, (_, i) => ({ mode: i % 2 ? 'sync' : 'async', crashAt: i % 4 === 0 ? 1 : -1 }));
    const children = contenders.map((c) => tsChild(CONTENDER, [lock, log, ready, go, c.mode, '6', String(c.crashAt)]));
    while (readFileSync(ready, 'utf8').length < contenders.length) await sleep(20);
    writeFileSync(go, '');
    const results = await Promise.all(children);
    for (const [i, result] of results.entries()) {
      if (contenders[i]!.crashAt >= 0) expect(result.signal).toBe('SIGKILL');
      else expect({ exitCode: result.exitCode, all: result.all }).toEqual({ exitCode: 0, all: '' });
    }
    const lines = readFileSync(log, 'utf8').trimEnd().split('\n');
    let holder: string | null = null;
    const enters = new Map<string, number>();
    for (const [at, line] of lines.entries()) {
      const [what, pid] = line.split(' ') as [string, string];
      if (what === 'enter') {
        expect({ at, line, holder }).toEqual({ at, line, holder: null });
        holder = pid;
        enters.set(pid, (enters.get(pid) ?? 0) + 1);
      } else {
        expect({ at, line, holder }).toEqual({ at, line, holder: pid });
        holder = null;
      }
    }
    const expected = new Map(children.map((c, i) => [String(c.pid), contenders[i]!.crashAt >= 0 ? 2 : 6]));
    expect(enters).toEqual(expected);
    expect(lines.filter((l) => l.startsWith('crash'))).toHaveLength(4);
    // The last holder may have been one of those killed: its lock is taken over like any other.
    expect(withLockSync(lock, () => 'after', { timeoutMs: 2000 })).toBe('after');
    expect(leftovers(lock)).toEqual([]);
  });

  it("takes over the lock of an owner killed (kill -9) while holding it, at once", async () => {
    const lock = newLock();
    const child = tsChild(`import { withLockSync } from '${srcModule('fs-lock.ts')}'; withLockSync(process.argv[1], () => process.kill(process.pid, 'SIGKILL'));`, [lock]);
    expect((await child).signal).toBe('SIGKILL');
    expect(JSON.parse(readFileSync(path.join(lock, 'owner'), 'utf8'))).toEqual({ pid: child.pid, start: expect.stringMatching(/^\d+$/), host: os.hostname(), boot: expect.any(String) });
    const started = Date.now();
    expect(withLockSync(lock, () => 'mine', { timeoutMs: 5000 })).toBe('mine');
    expect(Date.now() - started).toBeLessThan(1000);
    expect(leftovers(lock)).toEqual([]);
  });

  it('a pid reused by another process is not taken for the owner; the real owner alive is waited for', async () => {
    const live = await liveProcess();
    try {
      const start = procStart(live.pid);
      const reused = newLock();
      plant(reused, { pid: live.pid, start: String(Number(start) - 1) });
      expect(withLockSync(reused, () => 'taken over', { timeoutMs: 2000 })).toBe('taken over');
      const rebooted = newLock();
      plant(rebooted, { pid: live.pid, start, boot: 'another-boot' });
      expect(withLockSync(rebooted, () => 'taken over', { timeoutMs: 2000 })).toBe('taken over');
      const held = newLock();
      plant(held, { pid: live.pid, start });
      expect(() => withLockSync(held, () => 'never', { timeoutMs: 300 })).toThrow(heldMessage(held, `pid ${live.pid} on host ${os.hostname()}`, 0.3));
      await live.stop();
      expect(withLockSync(held, () => 'after its death', { timeoutMs: 2000 })).toBe('after its death');
      expect([...leftovers(reused), ...leftovers(rebooted), ...leftovers(held)]).toEqual([]);
    } finally {
      await live.stop();
    }
  });

  it('never takes over a lock owned on another host', () => {
    const lock = newLock();
    plant(lock, { pid: 1, host: 'replica-2' });
    expect(() => withLockSync(lock, () => 'never', { timeoutMs: 200 })).toThrow(
      heldMessage(lock, 'pid 1 on host replica-2 (another host: whether it still runs cannot be checked from here)', 0.2),
    );
    expect(existsSync(path.join(lock, 'owner'))).toBe(true);
  });

  it('an ownerless lock (killed between mkdir and the owner write, or a torn record) is waited for, then taken once abandoned', () => {
    const fresh = newLock();
    mkdirSync(fresh);
    expect(() => withLockSync(fresh, () => 'never', { timeoutMs: 200 })).toThrow(heldMessage(fresh, 'a process that has not written its owner record yet', 0.2));
    const old = new Date(Date.now() - 11_000);
    utimesSync(fresh, old, old);
    expect(withLockSync(fresh, () => 'abandoned', { timeoutMs: 2000 })).toBe('abandoned');
    const torn = newLock();
    plant(torn, '{"pid": 12');
    utimesSync(torn, old, old);
    expect(withLockSync(torn, () => 'torn', { timeoutMs: 2000 })).toBe('torn');
    expect([...leftovers(fresh), ...leftovers(torn)]).toEqual([]);
  });

  it('a takeover folder left by a process killed inside it blocks takeovers only until it is abandoned', async () => {
    const lock = newLock();
    plant(lock, { pid: await deadPid() });
    mkdirSync(`${lock}.takeover`);
    expect(() => withLockSync(lock, () => 'never', { timeoutMs: 300 })).toThrow(heldMessage(lock, 'another process', 0.3));
    const old = new Date(Date.now() - 11_000);
    utimesSync(`${lock}.takeover`, old, old);
    expect(withLockSync(lock, () => 'mine', { timeoutMs: 2000 })).toBe('mine');
    expect(leftovers(lock)).toEqual([]);
  });

  it('taking a lock this process holds throws at once instead of waiting forever (sync)', () => {
    const lock = newLock();
    expect(() => withLockSync(lock, () => withLockSync(lock, () => 'nested'))).toThrow(`the lock ${lock} is already held by this process (pid ${process.pid})`);
    expect(leftovers(lock)).toEqual([]);
  });

  it('async: waits for a live owner without blocking the event loop, says so once, and runs when it releases', async () => {
    const lock = newLock();
    const held = path.join(dir, 'held');
    const order = path.join(dir, 'order');
    writeFileSync(order, '');
    const holder = tsChild(
      `import { appendFileSync, writeFileSync } from 'node:fs'; import { withLockSync } from '${srcModule('fs-lock.ts')}';
       withLockSync(process.argv[1], () => {
         writeFileSync(process.argv[2], '');
         Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 600);
         appendFileSync(process.argv[3], 'holder leaves\\n');
       });`,
      [lock, held, order],
    );
    while (!existsSync(held)) await sleep(10);
    let ticks = 0;
    const timer = setInterval(() => ticks++, 20);
    const lines: string[] = [];
    const result = await withLock(lock, (line) => lines.push(line), async () => {
      appendFileSync(order, 'work\n');
      return 42;
    });
    clearInterval(timer);
    expect(result).toBe(42);
    expect(readFileSync(order, 'utf8')).toBe('holder leaves\nwork\n');
    expect(ticks).toBeGreaterThan(5);
    expect(lines).toEqual([`[lock] waiting for pid ${holder.pid} on host ${os.hostname()}, which holds ${lock}`]);
    expect(leftovers(lock)).toEqual([]);
  });
});
