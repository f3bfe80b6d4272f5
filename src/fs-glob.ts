/**
 * Paths that may be globs: several router replicas each write their own log, so a configured path
 * like `logs/predictions-*.csv` stands for every matching file.
 */
import { glob, stat } from 'node:fs/promises';

const GLOB_MAGIC = /[*?[\]{}]/;

export function isGlob(pattern: string): boolean {
  return GLOB_MAGIC.test(pattern);
}

/** True when the path is to be expanded: it has glob characters and is not itself an existing path. */
export async function expandsAsGlob(pattern: string): Promise<boolean> {
  return isGlob(pattern) && (await stat(pattern).catch(() => null)) === null;
}

/** The regular files (or links to them) a glob matches, sorted so every read sees the same order. */
export async function globFiles(pattern: string): Promise<string[]> {
  const files: string[] = [];
  for await (const file of glob(pattern)) if ((await stat(file).catch(() => null))?.isFile()) files.push(file);
  return files.sort();
}
