/**
 * A real, small tmpfs mounted for a test, to fill a disk for real (ENOSPC with short writes), not a
 * stand-in. Tests run as root here (mount needs it), as they do in CI on the same kind of machine.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { afterAll, beforeAll } from 'vitest';

/** Mount a tmpfs of `size` (e.g. "256k") at `dir` before the suite's tests and unmount it after. */
export function useTmpfs(dir: () => string, size: string): void {
  beforeAll(() => {
    mkdirSync(dir(), { recursive: true });
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir()]);
  });
  afterAll(() => {
    // Lazy: a process a failed test left behind may still hold a file open there.
    execFileSync('umount', ['-l', dir()]);
  });
}
