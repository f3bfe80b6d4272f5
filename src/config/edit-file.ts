/**
 * Every rewrite of the YAML config goes through here (PUT /ab, ab start, ab evaluate --apply,
 * promote, rollback): a read-modify-write under one advisory lock shared by all writers, the file
 * re-read inside the lock so an edit another writer saved first is never lost, then an atomic,
 * durable write through any symlink to its final target, keeping the file's mode and owner.
 */
import { readFileSync } from 'node:fs';
import { ConfigError, DriftgateError } from '../errors.js';
import { removeLeftoverTemps, resolveWriteTarget, writeFileAtomic } from '../fs-atomic.js';
import { withLock, withLockSync, type LockOptions } from '../fs-lock.js';

/** A config write holds the lock for milliseconds; a writer holding it this long has hung. */
export const CONFIG_LOCK_TIMEOUT_MS = 10_000;

export interface ConfigEditOptions {
  lockTimeoutMs?: number;
}

/** New text for the file from its current text (return it unchanged to write nothing). */
export type ConfigEdit = (text: string) => string;

/** The writers' lock of a config: a folder beside the file its path finally points at. */
export function configLockDir(file: string): string {
  return `${resolveWriteTarget(file)}.lock`;
}

// A read-only or forbidden location is a deployment problem (exit 2); the rest are failures (exit 1).
const CONFIG_PROBLEMS: Record<string, string> = {
  EROFS: 'the file system is read-only',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
};
const OTHER_PROBLEMS: Record<string, string> = {
  ENOSPC: 'no space left on the device',
  EDQUOT: 'the disk quota is exceeded',
  EIO: 'an I/O error',
};

function writeFailure(file: string, error: unknown): DriftgateError {
  if (error instanceof DriftgateError) return error;
  const errno = error as NodeJS.ErrnoException;
  const where = `${errno.code ?? 'error'}${errno.path ? ` on ${errno.path}` : ''}`;
  const owner = errno.syscall === 'fchown';
  const reason = owner
    ? 'the new file cannot be given the original owner (only root or that owner may)'
    : (CONFIG_PROBLEMS[errno.code ?? ''] ?? OTHER_PROBLEMS[errno.code ?? ''] ?? errno.message ?? String(error));
  const message = `cannot write the file: ${reason} (${where}); it is unchanged`;
  if (owner || (errno.code && errno.code in CONFIG_PROBLEMS)) return new ConfigError(file, '', message, { cause: error });
  return new DriftgateError('UNAVAILABLE', `${file}: ${message}`, { cause: error });
}

function readFailure(file: string, error: unknown): ConfigError {
  const code = (error as NodeJS.ErrnoException).code;
  return new ConfigError(file, '', `cannot read the file (${code ?? String(error)})`, {
    cause: error,
    code: code === 'ENOENT' ? 'CONFIG_NOT_FOUND' : 'CONFIG_INVALID',
  });
}

/** What a rewrite inside the lock came to: done, the link moved (lock its new target), or its own error. */
type Outcome = { done: boolean } | { error: unknown };

function rewrite(file: string, target: string, edit: ConfigEdit, attempt: number): Outcome {
  try {
    if (attempt < 3 && resolveWriteTarget(file) !== target) return { done: false };
    let text: string;
    try {
      text = readFileSync(target, 'utf8');
    } catch (error) {
      throw readFailure(file, error);
    }
    const next = edit(text);
    if (next === text) return { done: true };
    removeLeftoverTemps(target);
    try {
      writeFileAtomic(target, next, { followSymlinks: true, keepOwnership: true, durable: true });
    } catch (error) {
      throw writeFailure(file, error);
    }
    return { done: true };
  } catch (error) {
    // Kept apart from the lock's own errors, which lockFailure names after the file.
    return { error };
  }
}

/** Errors of taking the lock, named after the config file. */
function lockFailure(file: string, error: unknown): DriftgateError {
  if (error instanceof DriftgateError) return new DriftgateError(error.code, `${file}: not written: ${error.message}`, { cause: error });
  // The lock cannot be created in a folder that does not exist: the file is not there either.
  if ((error as NodeJS.ErrnoException).code === 'ENOENT') return readFailure(file, error);
  return writeFailure(file, error);
}

function lockOptions(options: ConfigEditOptions): LockOptions {
  return { timeoutMs: options.lockTimeoutMs ?? CONFIG_LOCK_TIMEOUT_MS };
}

function target(file: string): string {
  try {
    return resolveWriteTarget(file);
  } catch (error) {
    throw readFailure(file, error);
  }
}

/** Edit the config under the writers' lock, waiting for it synchronously (the CLI's commands). */
export function editConfigFile(file: string, edit: ConfigEdit, options: ConfigEditOptions = {}): void {
  for (let attempt = 0; ; attempt++) {
    const real = target(file);
    let outcome: Outcome;
    try {
      outcome = withLockSync(`${real}.lock`, () => rewrite(file, real, edit, attempt), lockOptions(options));
    } catch (error) {
      throw lockFailure(file, error);
    }
    if ('error' in outcome) throw outcome.error;
    if (outcome.done) return;
  }
}

/** The same, waiting for the lock without blocking the event loop (the router). */
export async function editConfigFileAsync(file: string, edit: ConfigEdit, options: ConfigEditOptions = {}): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    const real = target(file);
    let outcome: Outcome;
    try {
      outcome = await withLock(`${real}.lock`, () => undefined, async () => rewrite(file, real, edit, attempt), lockOptions(options));
    } catch (error) {
      throw lockFailure(file, error);
    }
    if ('error' in outcome) throw outcome.error;
    if (outcome.done) return;
  }
}
