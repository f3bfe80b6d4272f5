/**
 * Pid files of the servers driftgate starts detached (the embedded MLflow server, the Airflow
 * components of `airflow up`), and the check that the pid one names is still that server.
 * A pid alone proves nothing after a crash or a reboot: the number may belong to another program
 * by then, and `stop` signals a whole process group. So the file records the boot, the process's
 * start time and its command line, and nothing is signalled unless all three still match.
 */
import { readFileSync, rmSync, statSync } from 'node:fs';
import { DriftgateError, type ErrorCode } from '../errors.js';
import { writeFileAtomic } from '../fs-atomic.js';

/** The format tag of the file's JSON (named for its first user, kept so old files still read); a file holding a bare number is the old format. */
export const PID_FORMAT = 'driftgate-mlflow-pid/2';

/** Linux's largest possible pid (PID_MAX_LIMIT); a bigger number is not a pid. */
const PID_MAX = 4_194_304;

export interface PidRecord {
  format: typeof PID_FORMAT;
  pid: number;
  /** /proc/sys/kernel/random/boot_id: start times compare only within one boot. */
  boot_id: string | null;
  /** /proc/<pid>/stat field 22, clock ticks after boot; null where there is no /proc. */
  start_ticks: string | null;
  /** What was started (the program and its arguments), for people reading the file. */
  argv: string[];
}

export type PidFile =
  | { kind: 'missing' }
  /** Garbage, or a number that is no pid we would ever signal (0, 1, negative, too big, ours). */
  | { kind: 'invalid'; text: string }
  /** The old format, a bare pid: nothing to verify it with. */
  | { kind: 'legacy'; pid: number }
  | { kind: 'record'; record: PidRecord };

/** What the pid in the file is now. */
export type PidCheck =
  | { verdict: 'ours'; pid: number; groupLeader: boolean }
  | { verdict: 'dead'; pid: number }
  /** Alive and certainly not the server: `running` says what it is. */
  | { verdict: 'other'; pid: number; why: string; running: string }
  /** Alive (or cannot be told dead) and cannot be verified either way. */
  | { verdict: 'unverifiable'; pid: number; why: string; running: string };

/** What the server we started looks like in /proc/<pid>/cmdline: its program and arguments that name this state folder. */
export interface Expected {
  /** null: the command line is not checked, for servers that retitle their processes (setproctitle); the boot and the start time still are. */
  program: string | null;
  /** A contiguous run of arguments that must appear, e.g. ['--backend-store-uri', 'sqlite:///…/mlflow.db']. */
  marker: readonly string[];
}

export interface ProcInfo {
  state: string;
  pgrp: number;
  startTicks: string;
  /** Empty for kernel threads; null when /proc hides it. */
  argv: string[] | null;
  comm: string;
  uid: number | null;
}

function validPid(text: string): number | null {
  if (!/^\d{1,7}$/.test(text)) return null;
  const pid = Number(text);
  // 0 and negatives would signal process groups, 1 is init; our own pid is never the server.
  return pid >= 2 && pid <= PID_MAX && pid !== process.pid ? pid : null;
}

/** Whose pid files these are, for the error a file that cannot be read gives. */
export interface PidOwner {
  code: ErrorCode;
  /** "the MLflow pid file" */
  name: string;
  /** What to do, e.g. "fix the state folder's permissions (mlflow.state_dir)". */
  fix: string;
}

const MLFLOW_OWNER: PidOwner = { code: 'MLFLOW_ERROR', name: 'the MLflow pid file', fix: "fix the state folder's permissions (mlflow.state_dir)" };

/** Read the pid file; a folder or file we cannot read is an error that names it (never taken as "no server"). */
export function readPidFile(file: string, owner: PidOwner = MLFLOW_OWNER): PidFile {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { kind: 'missing' };
    throw new DriftgateError(owner.code, `cannot read ${owner.name} ${file}: ${code ?? String(error)}; ${owner.fix}`, { cause: error });
  }
  const trimmed = text.trim();
  const shown = trimmed.length > 60 ? `${JSON.stringify(trimmed.slice(0, 57))}...` : JSON.stringify(trimmed);
  if (/^\d+$/.test(trimmed)) {
    const pid = validPid(trimmed);
    return pid === null ? { kind: 'invalid', text: shown } : { kind: 'legacy', pid };
  }
  try {
    const parsed = JSON.parse(trimmed) as Partial<PidRecord> | null;
    const pid = typeof parsed?.pid === 'number' && Number.isInteger(parsed.pid) ? validPid(String(parsed.pid)) : null;
    if (parsed?.format !== PID_FORMAT || pid === null) return { kind: 'invalid', text: shown };
    const str = (value: unknown): string | null => (typeof value === 'string' ? value : null);
    const argv = Array.isArray(parsed.argv) ? parsed.argv.filter((a): a is string => typeof a === 'string') : [];
    return { kind: 'record', record: { format: PID_FORMAT, pid, boot_id: str(parsed.boot_id), start_ticks: str(parsed.start_ticks), argv } };
  } catch {
    return { kind: 'invalid', text: shown };
  }
}

export function bootId(): string | null {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim() || null;
  } catch {
    return null;
  }
}

/** The process as /proc shows it; 'gone' when it does not exist or has exited (a zombie); 'hidden' when alive but /proc does not show it. */
export function inspect(pid: number): ProcInfo | 'gone' | 'hidden' {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return alive(pid) ? 'hidden' : 'gone';
  }
  // "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses, so split after the last ")".
  const close = stat.lastIndexOf(')');
  const comm = stat.slice(stat.indexOf('(') + 1, close);
  const fields = stat.slice(close + 2).split(' ');
  const state = fields[0] ?? '?';
  if (state === 'Z' || state === 'X') return 'gone';
  let argv: string[] | null;
  try {
    const raw = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    argv = raw === '' ? [] : raw.replace(/\0$/, '').split('\0');
  } catch {
    argv = null;
  }
  let uid: number | null;
  try {
    uid = statSync(`/proc/${pid}`).uid;
  } catch {
    uid = null;
  }
  // Field 5 is the process group, field 22 the start time; fields[0] is field 3.
  return { state, pgrp: Number(fields[2]), startTicks: fields[19] ?? '', argv, comm, uid };
}

/** kill(pid, 0): EPERM means alive but another user's. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** One line about a process for messages: its command line, and whose it is when not ours. */
export function describeProcess(info: ProcInfo | 'hidden'): string {
  if (info === 'hidden') return 'a process /proc does not show (another user\'s, or no /proc here)';
  const command = info.argv === null ? `[${info.comm}] (command line not readable)` : info.argv.length === 0 ? `[${info.comm}]` : info.argv.join(' ');
  const shown = command.length > 160 ? `${command.slice(0, 157)}...` : command;
  const owner = info.uid !== null && typeof process.getuid === 'function' && info.uid !== process.getuid() ? ` (another user's process, uid ${info.uid})` : '';
  return `${JSON.stringify(shown)}${owner}`;
}

function hasRun(argv: readonly string[], run: readonly string[]): boolean {
  if (run.length === 0) return true;
  for (let i = 0; i + run.length <= argv.length; i++) {
    if (run.every((arg, j) => argv[i + j] === arg)) return true;
  }
  return false;
}

/** Is the pid in the file still the server we started? Never touches the process. */
export function checkPid(pidFile: Exclude<PidFile, { kind: 'missing' | 'invalid' }>, expected: Expected): PidCheck {
  const pid = pidFile.kind === 'legacy' ? pidFile.pid : pidFile.record.pid;
  const info = inspect(pid);
  if (info === 'gone') return { verdict: 'dead', pid };
  const running = describeProcess(info);
  if (pidFile.kind === 'legacy') return { verdict: 'unverifiable', pid, why: 'the pid file is in the old format (a bare pid), which cannot be verified', running };
  const { record } = pidFile;
  const boot = bootId();
  if (record.boot_id !== null && boot !== null && record.boot_id !== boot) {
    return { verdict: 'other', pid, why: 'the machine has rebooted since the server was started', running };
  }
  if (info === 'hidden') return { verdict: 'unverifiable', pid, why: 'its start time and command line cannot be read', running };
  if (record.start_ticks === null) return { verdict: 'unverifiable', pid, why: 'the pid file records no start time', running };
  if (info.startTicks !== record.start_ticks) {
    return { verdict: 'other', pid, why: `it started at tick ${info.startTicks}, the server at tick ${record.start_ticks}`, running };
  }
  if (expected.program === null) return { verdict: 'ours', pid, groupLeader: info.pgrp === pid };
  if (info.argv === null) return { verdict: 'unverifiable', pid, why: 'its command line cannot be read', running };
  if (!info.argv.includes(expected.program) || !hasRun(info.argv, expected.marker)) {
    return { verdict: 'other', pid, why: `its command line is not ${expected.program} ${expected.marker.join(' ')}`, running };
  }
  return { verdict: 'ours', pid, groupLeader: info.pgrp === pid };
}

/** Right after spawning: the record for the child, with its start time read while it surely lives. */
export function pidRecord(pid: number, argv: readonly string[]): PidRecord {
  const info = inspect(pid);
  return { format: PID_FORMAT, pid, boot_id: bootId(), start_ticks: typeof info === 'object' ? info.startTicks : null, argv: [...argv] };
}

export function writePidFile(file: string, record: PidRecord): void {
  writeFileAtomic(file, `${JSON.stringify(record)}\n`);
}

/** Remove a stale pid file; returns why it could not be, for the message, or null. */
export function removePidFile(file: string): string | null {
  try {
    rmSync(file, { force: true });
    return null;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code ?? String(error);
  }
}
