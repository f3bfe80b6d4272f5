/**
 * Downloaded model folders, one folder per router process (made when its pool starts, removed when it
 * closes), so a restarted worker reloads its models without MLflow. A router killed by kill -9 skips
 * the cleanup: the next one to start removes folders whose process is gone.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const CACHE_PREFIX = 'driftgate-models-';

/** Model caches left by routers that were killed (kill -9 skips the cleanup). */
export function removeOrphanCaches(): void {
  let names: string[];
  try {
    names = readdirSync(os.tmpdir());
  } catch {
    return;
  }
  for (const name of names) {
    const pid = Number(/^driftgate-models-(\d+)-/.exec(name)?.[1]);
    if (!pid || pid === process.pid || processExists(pid)) continue;
    rmSync(path.join(os.tmpdir(), name), { recursive: true, force: true });
  }
}

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, it is just not ours.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
/** A new cache folder for this process (older ones of dead processes removed first). */
export function createModelCache(): string {
  removeOrphanCaches();
  return mkdtempSync(path.join(os.tmpdir(), `${CACHE_PREFIX}${process.pid}-`));
}

/** Where a model's files go in the cache. */
export function cachedModelDir(cacheDir: string, key: string): string {
  return path.join(cacheDir, encodeURIComponent(key));
}
