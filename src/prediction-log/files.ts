/**
 * The files a log path stands for. A replica's log is rotated (by the router, or by logrotate with
 * `mv` or `copytruncate`), so `router.log_path` names the live file and its rotated siblings
 * `<file>.<anything>` and `<file>-<anything>` (the router's own `<file>.20261201T120000.000Z`,
 * logrotate's `<file>.1` and `<file>-20261201`, gzip-compressed ones as `.gz`). Files are opened as
 * they are found and told apart by inode, then the folder is listed again until no new file turns
 * up, so a rotation during the listing neither hides a file nor shows one twice.
 */
import { readdirSync } from 'node:fs';
import { open, readdir, stat, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { expandsAsGlob, globFiles } from '../fs-glob.js';

/** Compressed rotations Driftgate cannot read; gzip (`.gz`) it reads. */
const UNREADABLE_SUFFIXES = ['.bz2', '.xz', '.zst', '.lz4', '.zip', '.Z', '.br'];

export interface OpenLogFile {
  path: string;
  handle: FileHandle;
  dev: number;
  ino: number;
  /** Size when opened; a reader never reads past it, so a file that is still written to reads as a snapshot. */
  size: number;
  mtimeMs: number;
  gzip: boolean;
  /** A file the pattern names itself (not a rotated sibling). */
  live: boolean;
}

export interface LogSet {
  /** The pattern as given, resolved. */
  pattern: string;
  files: OpenLogFile[];
  /** Files found but not read (a compression Driftgate cannot read), with why. */
  skipped: { path: string; reason: string }[];
  close(): Promise<void>;
}

/** The router's name for a file it rotates away: sorts by time, never clashes with a live name. */
export function rotatedPath(file: string, now: number, attempt = 0): string {
  const stamp = new Date(now).toISOString().replace(/[-:]/g, '');
  return `${file}.${stamp}${attempt > 0 ? `-${attempt}` : ''}`;
}

/** A rotated sibling's name: `<file>.<x>` or `<file>-<x>`. */
function isSiblingName(base: string, name: string): boolean {
  return name.length > base.length + 1 && name.startsWith(base) && (name[base.length] === '.' || name[base.length] === '-');
}

/** The live files a pattern names, and (with `rotated`) their rotated siblings. */
async function candidates(pattern: string, rotated: boolean): Promise<{ live: string[]; siblings: string[] }> {
  if (await expandsAsGlob(pattern)) {
    const live = await globFiles(pattern);
    if (!rotated) return { live, siblings: [] };
    return { live, siblings: [...(await globFiles(`${pattern}.*`)), ...(await globFiles(`${pattern}-*`))] };
  }
  const exists = (await stat(pattern).catch(() => null))?.isFile() ?? false;
  const live = exists ? [pattern] : [];
  if (!rotated) return { live, siblings: [] };
  const dir = path.dirname(pattern);
  const base = path.basename(pattern);
  const names = await readdir(dir).catch(() => [] as string[]);
  return { live, siblings: names.filter((name) => isSiblingName(base, name)).map((name) => path.join(dir, name)) };
}

/**
 * Open every file of a log path or glob (with `rotated`, its rotated siblings too), oldest first.
 * Files already open are matched by inode, so a file renamed by a rotation is read once.
 */
export async function openLogSet(pattern: string, options: { rotated: boolean }): Promise<LogSet> {
  const files: OpenLogFile[] = [];
  const skipped: LogSet['skipped'] = [];
  const seenNames = new Set<string>();
  const seenInodes = new Set<string>();
  const close = async (): Promise<void> => {
    await Promise.all(files.map((f) => f.handle.close().catch(() => undefined)));
  };
  try {
    for (let round = 0; round < 5; round++) {
      let found = 0;
      const candidate = await candidates(pattern, options.rotated);
      const live = new Set(candidate.live);
      for (const name of [...candidate.live, ...candidate.siblings]) {
        if (seenNames.has(name) || path.basename(name).startsWith('.')) continue;
        seenNames.add(name);
        const suffix = UNREADABLE_SUFFIXES.find((s) => name.endsWith(s));
        if (suffix) {
          skipped.push({ path: name, reason: `a ${suffix} compressed file (Driftgate reads plain and .gz logs)` });
          continue;
        }
        const handle = await open(name, 'r').catch(() => null);
        if (!handle) continue;
        const info = await handle.stat();
        const inode = `${info.dev}:${info.ino}`;
        if (!info.isFile() || seenInodes.has(inode)) {
          await handle.close();
          continue;
        }
        seenInodes.add(inode);
        files.push({ path: name, handle, dev: info.dev, ino: info.ino, size: info.size, mtimeMs: info.mtimeMs, gzip: name.endsWith('.gz'), live: live.has(name) });
        found++;
      }
      if (found === 0 && round > 0) break;
    }
  } catch (error) {
    await close();
    throw error;
  }
  // Rotated files oldest first, then the live ones; readers merge rows by time, so this only settles ties.
  files.sort((a, b) => Number(a.live) - Number(b.live) || (a.live ? 0 : a.mtimeMs - b.mtimeMs) || a.path.localeCompare(b.path));
  return { pattern, files, skipped, close };
}

/** Byte length up to and including the last line end before `size`: a row being appended is left out. */
export async function completeLength(handle: FileHandle, size: number): Promise<number> {
  const block = Buffer.alloc(64 * 1024);
  let end = size;
  while (end > 0) {
    const start = Math.max(0, end - block.length);
    const { bytesRead } = await handle.read(block, 0, end - start, start);
    const at = block.subarray(0, bytesRead).lastIndexOf(10);
    if (at !== -1) return start + at + 1;
    end = start;
  }
  return 0;
}

/** Names in a folder that are rotated siblings of `file` (for the writer's copy search). */
export function siblingNames(file: string): string[] {
  const base = path.basename(file);
  try {
    return readdirSync(path.dirname(file))
      .filter((name) => isSiblingName(base, name))
      .map((name) => path.join(path.dirname(file), name));
  } catch {
    return [];
  }
}
