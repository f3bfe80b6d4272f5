/**
 * Write a whole file so readers see the old content or the new, never half of it: a temp file in
 * the same folder, then a rename over the file. On any failure (a full disk included) the temp file
 * is removed and the file is untouched.
 */
import {
  closeSync,
  fchmodSync,
  fchownSync,
  fstatSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readlinkSync,
  realpathSync,
  renameSync,
  statSync,
  unlinkSync,
  writeFileSync,
  type Stats,
} from 'node:fs';
import path from 'node:path';

export interface AtomicWriteOptions {
  /**
   * Write to the file a symlink points at, so the link stays a link (a shared volume, a
   * ConfigMap-style link); without it the link is replaced by a regular file.
   */
  followSymlinks?: boolean;
  /** Give the new file the mode and owner of the one it replaces, not the umask's and this user's. */
  keepOwnership?: boolean;
  /** fsync the temp file before the rename and the folder after it: after a power cut, old or new. */
  durable?: boolean;
}

/** Temp files end so; the pid in the name tells a leftover (its writer is gone) from a write under way. */
export const TEMP_SUFFIX = '.driftgate-tmp';

let counter = 0;

function code(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException).code;
}

/**
 * The path a write through `file` lands on: its final target when it is a symlink (a chain, a
 * dangling link to a file not made yet), the file itself otherwise.
 */
export function resolveWriteTarget(file: string): string {
  try {
    return realpathSync(file);
  } catch (error) {
    if (code(error) !== 'ENOENT') throw error;
  }
  let current = path.resolve(file);
  for (let hops = 0; hops < 40; hops++) {
    let link: string;
    try {
      link = readlinkSync(current);
    } catch (error) {
      // EINVAL: not a link; ENOENT: nothing there yet. Either way this is where the file goes.
      if (code(error) === 'EINVAL' || code(error) === 'ENOENT') return current;
      throw error;
    }
    current = path.resolve(path.dirname(current), link);
  }
  throw Object.assign(new Error(`ELOOP: too many symbolic links, ${file}`), { code: 'ELOOP', syscall: 'readlink', path: file });
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return code(error) === 'EPERM';
  }
}

/**
 * Remove temp files of `file` left by writers killed between the temp write and the rename (their
 * pid no longer runs). Returns the paths removed.
 */
export function removeLeftoverTemps(file: string): string[] {
  const dir = path.dirname(file);
  const prefix = `.${path.basename(file)}.`;
  const removed: string[] = [];
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return removed;
  }
  for (const name of names) {
    if (!name.startsWith(prefix) || !name.endsWith(TEMP_SUFFIX)) continue;
    const pid = Number(/^(\d+)-\d+$/.exec(name.slice(prefix.length, -TEMP_SUFFIX.length))?.[1]);
    if (!Number.isInteger(pid) || pid <= 0 || pidAlive(pid)) continue;
    try {
      unlinkSync(path.join(dir, name));
      removed.push(path.join(dir, name));
    } catch {
      // another cleaner was first
    }
  }
  return removed;
}

function fsyncFolder(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } catch (error) {
    // Some file systems cannot fsync a folder; the rename is done either way.
    if (code(error) !== 'EINVAL' && code(error) !== 'ENOTSUP') throw error;
  } finally {
    closeSync(fd);
  }
}

/** Write `content` to `file` atomically; returns the path written (the symlink's target when followed). */
export function writeFileAtomic(file: string, content: string | Uint8Array, options: AtomicWriteOptions = {}): string {
  const target = options.followSymlinks ? resolveWriteTarget(file) : file;
  const dir = path.dirname(target);
  mkdirSync(dir, { recursive: true });
  let original: Stats | null = null;
  if (options.keepOwnership) {
    try {
      original = statSync(target);
    } catch (error) {
      if (code(error) !== 'ENOENT') throw error;
    }
  }
  const temp = path.join(dir, `.${path.basename(target)}.${process.pid}-${++counter}${TEMP_SUFFIX}`);
  const mode = original ? original.mode & 0o777 : 0o666;
  let fd: number;
  try {
    fd = openSync(temp, 'wx', mode);
  } catch (error) {
    if (code(error) !== 'EEXIST') throw error;
    // Only a dead process that had our pid (reused since) can have left a temp file of this name.
    unlinkSync(temp);
    fd = openSync(temp, 'wx', mode);
  }
  let renamed = false;
  try {
    try {
      writeFileSync(fd, content);
      if (original) {
        const made = fstatSync(fd);
        // chown first: it clears set-id bits, which the chmod then restores.
        if (made.uid !== original.uid || made.gid !== original.gid) fchownSync(fd, original.uid, original.gid);
        fchmodSync(fd, original.mode & 0o7777);
      }
      if (options.durable) fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, target);
    renamed = true;
  } catch (error) {
    // Errors on the fd name no path; name the temp file so a message says where it happened.
    const errno = error as NodeJS.ErrnoException;
    if (errno.code && errno.path === undefined) errno.path = temp;
    throw error;
  } finally {
    if (!renamed) {
      try {
        unlinkSync(temp);
      } catch {
        // nothing to remove
      }
    }
  }
  if (options.durable) fsyncFolder(dir);
  return target;
}

