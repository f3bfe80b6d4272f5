/**
 * A cross-process lock as an exclusive mkdir (atomic on local file systems and on NFS), shared by
 * every writer that must not interleave: the Python environment builds, the config writes.
 *
 * The lock folder holds one `owner` file: pid, process start time (/proc/<pid>/stat field 22), host
 * and boot id, so a pid the kernel reused for another process is not taken for the owner. A lock
 * whose owner is gone (killed by kill -9, the machine rebooted) is taken over; takeovers run one at
 * a time, each inside a second exclusive mkdir (`<lock>.takeover`), and remove the lock only if it
 * still names the same dead owner, so two waiters can never both remove it (the second would remove
 * the new owner's lock). A lock owned on another host is never taken over: its liveness cannot be
 * checked from here.
 */
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DriftgateError } from './errors.js';

export interface LockOptions {
  /** Give up waiting after this many ms (a live owner that hangs); default: wait as long as it lives. */
  timeoutMs?: number;
  /**
   * A lock with no owner record, or a takeover folder, older than this was left by a process killed
   * inside the few lines that create it (between mkdir and the owner write), and is removed.
   */
  abandonedMs?: number;
}

export const DEFAULT_ABANDONED_MS = 10_000;

/** Who holds a lock: what the owner file says. */
export interface LockOwner {
  pid: number;
  /** /proc/<pid>/stat field 22 (start time in clock ticks after boot); null where /proc is missing. */
  start: string | null;
  host: string;
  boot: string | null;
}

const OWNER_FILE = 'owner';

function procStat(pid: number): { state: string; start: string } | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 2 (the command name) is in parentheses and may hold spaces: count fields after the last ')'.
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    const state = fields[0];
    const start = fields[19];
    return state && start ? { state, start } : null;
  } catch {
    return null;
  }
}

function bootId(): string | null {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim() || null;
  } catch {
    return null;
  }
}

let self: LockOwner | null = null;

/** This process as a lock owner. */
export function currentOwner(): LockOwner {
  if (self === null || self.pid !== process.pid) {
    self = { pid: process.pid, start: procStat(process.pid)?.start ?? null, host: os.hostname(), boot: bootId() };
  }
  return self;
}

function parseOwner(raw: string | null): LockOwner | null {
  if (raw === null) return null;
  try {
    const value = JSON.parse(raw) as Partial<LockOwner>;
    if (!Number.isInteger(value.pid) || (value.pid as number) <= 0 || typeof value.host !== 'string') return null;
    return { pid: value.pid as number, start: typeof value.start === 'string' ? value.start : null, host: value.host, boot: typeof value.boot === 'string' ? value.boot : null };
  } catch {
    // A torn owner write (the process was killed inside it) reads like no owner record.
    return null;
  }
}

export type Liveness = 'alive' | 'dead' | 'unknown';

/** Whether the process an owner record names still runs: 'unknown' for another host. */
export function ownerLiveness(owner: LockOwner): Liveness {
  const me = currentOwner();
  if (owner.host !== me.host) return 'unknown';
  if (owner.boot !== null && me.boot !== null && owner.boot !== me.boot) return 'dead';
  try {
    process.kill(owner.pid, 0);
  } catch (error) {
    // EPERM: the process exists but belongs to another user.
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return 'dead';
  }
  const now = procStat(owner.pid);
  if (now === null) return 'alive';
  // A zombie has exited; a different start time is another process under a reused pid.
  if (now.state === 'Z' || now.state === 'X') return 'dead';
  if (owner.start !== null && now.start !== owner.start) return 'dead';
  return 'alive';
}

/** One look at a lock folder: its identity, its owner record as written, and its age. */
interface Seen {
  ino: number;
  raw: string | null;
  mtimeMs: number;
}

function look(lockDir: string): Seen | null {
  let info;
  try {
    info = statSync(lockDir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  let raw: string | null = null;
  try {
    raw = readFileSync(path.join(lockDir, OWNER_FILE), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  return { ino: info.ino, raw, mtimeMs: info.mtimeMs };
}

type Verdict = { stale: true } | { stale: false; owner: LockOwner | null; liveness: Liveness };

function judge(seen: Seen, abandonedMs: number): Verdict {
  const owner = parseOwner(seen.raw);
  if (owner === null) return Date.now() - seen.mtimeMs > abandonedMs ? { stale: true } : { stale: false, owner: null, liveness: 'alive' };
  const liveness = ownerLiveness(owner);
  return liveness === 'dead' ? { stale: true } : { stale: false, owner, liveness };
}

function removeIfOlder(dir: string, ms: number): void {
  try {
    if (Date.now() - statSync(dir).mtimeMs > ms) rmSync(dir, { recursive: true, force: true });
  } catch {
    // gone already
  }
}

/** Remove a stale lock, one taker at a time, and only if it is still the lock that was judged stale. */
function takeOver(lockDir: string, seen: Seen, abandonedMs: number): void {
  const marker = `${lockDir}.takeover`;
  try {
    mkdirSync(marker);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    // Another waiter is taking over right now; its marker outlives that tiny section only if it was killed in it.
    removeIfOlder(marker, abandonedMs);
    return;
  }
  try {
    const now = look(lockDir);
    if (now !== null && now.ino === seen.ino && now.raw === seen.raw && judge(now, abandonedMs).stale) {
      rmSync(lockDir, { recursive: true, force: true });
    }
  } finally {
    rmSync(marker, { recursive: true, force: true });
  }
}

function tryCreate(lockDir: string, record: string): boolean {
  try {
    mkdirSync(lockDir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
  const ownerFile = path.join(lockDir, OWNER_FILE);
  try {
    writeFileSync(ownerFile, record, { flag: 'wx' });
  } catch (error) {
    const errno = error as NodeJS.ErrnoException;
    // We stalled past abandonedMs between the two steps: the folder was taken over (and maybe made anew).
    if (errno.code === 'EEXIST' || errno.code === 'ENOENT') return false;
    // A full disk (ENOSPC) fails here: leave no ownerless lock behind, and say where it failed.
    rmSync(lockDir, { recursive: true, force: true });
    if (errno.code && errno.path === undefined) errno.path = ownerFile;
    throw error;
  }
  return true;
}

function release(lockDir: string, record: string): void {
  // Only our own: if we were paused long enough to be taken for dead, the lock is someone else's now.
  const now = look(lockDir);
  if (now !== null && now.raw === record) rmSync(lockDir, { recursive: true, force: true });
}

type Step = { acquired: true } | { acquired: false; verdict: Verdict | null };

function step(lockDir: string, record: string, abandonedMs: number): Step {
  if (tryCreate(lockDir, record)) return { acquired: true };
  const seen = look(lockDir);
  if (seen === null) return { acquired: false, verdict: null };
  const verdict = judge(seen, abandonedMs);
  if (verdict.stale) takeOver(lockDir, seen, abandonedMs);
  return { acquired: false, verdict };
}

function describeOwner(owner: LockOwner | null): string {
  if (owner === null) return 'a process that has not written its owner record yet';
  return `pid ${owner.pid} on host ${owner.host}`;
}

function holderText(verdict: Verdict | null): string {
  if (verdict === null || verdict.stale) return 'another process';
  const who = describeOwner(verdict.owner);
  return verdict.liveness === 'unknown' ? `${who} (another host: whether it still runs cannot be checked from here)` : who;
}

function timeoutError(lockDir: string, verdict: Verdict | null, timeoutMs: number): DriftgateError {
  return new DriftgateError(
    'UNAVAILABLE',
    `the lock ${lockDir} is held by ${holderText(verdict)} and was not released within ${timeoutMs / 1000} s; ` +
      `if that process hangs, stop it; if it no longer runs, remove ${lockDir}`,
  );
}

/** Waits grow from 5 ms to 200 ms, with jitter so waiters do not retry in step. */
function nextDelay(delay: number): number {
  return Math.min(200, delay * 2) * (0.75 + Math.random() / 2);
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));

function sleepSync(ms: number): void {
  Atomics.wait(sleeper, 0, 0, Math.max(1, ms));
}

/** Run `work` holding the lock; wait (without blocking the event loop) while another process holds it. */
export async function withLock<T>(lockDir: string, log: (line: string) => void, work: () => Promise<T>, options: LockOptions = {}): Promise<T> {
  const { timeoutMs, abandonedMs = DEFAULT_ABANDONED_MS } = options;
  const record = JSON.stringify(currentOwner());
  const started = Date.now();
  let delay = 5;
  let announced = false;
  for (;;) {
    const result = step(lockDir, record, abandonedMs);
    if (result.acquired) break;
    const left = timeoutMs === undefined ? Infinity : started + timeoutMs - Date.now();
    if (left <= 0) throw timeoutError(lockDir, result.verdict, timeoutMs as number);
    if (!announced && result.verdict && !result.verdict.stale) log(`[lock] waiting for ${holderText(result.verdict)}, which holds ${lockDir}`);
    announced ||= result.verdict !== null && !result.verdict.stale;
    await sleep(Math.min(delay, left));
    delay = result.verdict?.stale ? 5 : nextDelay(delay);
  }
  try {
    return await work();
  } finally {
    release(lockDir, record);
  }
}

/**
 * Run `work` holding the lock, waiting synchronously: for short critical sections called from
 * synchronous code. Taking a lock this process already holds throws at once (it would never free).
 */
export function withLockSync<T>(lockDir: string, work: () => T, options: LockOptions = {}): T {
  const { timeoutMs, abandonedMs = DEFAULT_ABANDONED_MS } = options;
  const me = currentOwner();
  const record = JSON.stringify(me);
  const started = Date.now();
  let delay = 5;
  for (;;) {
    const result = step(lockDir, record, abandonedMs);
    if (result.acquired) break;
    const verdict = result.verdict;
    if (verdict && !verdict.stale && verdict.owner?.pid === me.pid && verdict.owner.host === me.host && verdict.owner.start === me.start) {
      throw new DriftgateError('UNAVAILABLE', `the lock ${lockDir} is already held by this process (pid ${me.pid})`);
    }
    const left = timeoutMs === undefined ? Infinity : started + timeoutMs - Date.now();
    if (left <= 0) throw timeoutError(lockDir, verdict, timeoutMs as number);
    sleepSync(Math.min(delay, left));
    delay = verdict?.stale ? 5 : nextDelay(delay);
  }
  try {
    return work();
  } finally {
    release(lockDir, record);
  }
}
