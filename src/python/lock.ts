/** A cross-process lock as an exclusive mkdir; a lock whose owner died is taken over. */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

function ownerAlive(lockDir: string): boolean {
  try {
    const pid = Number(readFileSync(path.join(lockDir, 'pid'), 'utf8'));
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export async function withLock<T>(lockDir: string, log: (line: string) => void, work: () => Promise<T>): Promise<T> {
  let announced = false;
  for (;;) {
    try {
      mkdirSync(lockDir);
      writeFileSync(path.join(lockDir, 'pid'), String(process.pid));
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      // A lock just created may not have its pid file yet; only a lock with a dead owner is stale.
      await sleep(500);
      if (!ownerAlive(lockDir)) {
        try {
          readFileSync(path.join(lockDir, 'pid'));
          rmSync(lockDir, { recursive: true, force: true });
        } catch {
          // no pid file yet: the owner is still starting
        }
        continue;
      }
      if (!announced) log(`[setup] waiting for another process that holds ${lockDir}`);
      announced = true;
    }
  }
  try {
    return await work();
  } finally {
    rmSync(lockDir, { recursive: true, force: true });
  }
}
