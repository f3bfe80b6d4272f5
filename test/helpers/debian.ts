/**
 * Programs from Debian's packages that tests need (chromium, haproxy): found on PATH, or installed
 * with apt-get when missing, so a fresh machine needs nothing by hand. A machine that cannot get one
 * fails the test with what to do; it is never skipped.
 */
import { accessSync, constants } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';

/** The first of these programs on PATH (and in the sbin folders apt installs daemons into), or null. */
export function findProgram(names: readonly string[], searchPath = process.env.PATH ?? ''): string | null {
  const dirs = [...searchPath.split(path.delimiter).filter(Boolean), '/usr/sbin', '/sbin'];
  for (const name of names) {
    for (const dir of dirs) {
      const file = path.join(dir, name);
      try {
        accessSync(file, constants.X_OK);
        return file;
      } catch {
        // not here
      }
    }
  }
  return null;
}

export function tail(text: string, lines = 12): string {
  return text.trim().split('\n').slice(-lines).join('\n');
}

/**
 * The program's path, installing Debian's package first when it is missing (as root; apt-get update only
 * when the install fails, e.g. on stale package lists). Throws, never skips, when it cannot be had.
 */
export async function ensureDebianProgram(
  pkg: string,
  names: readonly string[],
  neededFor: string,
  log: (line: string) => void = (line) => void process.stderr.write(`${line}\n`),
): Promise<string> {
  const found = findProgram(names);
  if (found) return found;
  // Another apt-get (unattended upgrades, a parallel install) holds the lock for a while: wait for it.
  const apt = (args: string[]) =>
    execa('apt-get', ['-o', 'DPkg::Lock::Timeout=300', ...args], { env: { DEBIAN_FRONTEND: 'noninteractive' }, reject: false, all: true, timeout: 900_000 });
  log(`[${pkg}] not on PATH: apt-get install -y ${pkg}`);
  let result = await apt(['install', '-y', pkg]);
  let step = `\`apt-get install -y ${pkg}\``;
  if (result.exitCode !== 0) {
    log(`[${pkg}] install failed (exit ${result.exitCode}); apt-get update, then again`);
    const update = await apt(['update']);
    step = update.exitCode === 0 ? `\`apt-get install -y ${pkg}\` (also after apt-get update)` : `\`apt-get install -y ${pkg}\`, and then \`apt-get update\`,`;
    result = update.exitCode === 0 ? await apt(['install', '-y', pkg]) : update;
  }
  const installed = findProgram(names);
  if (result.exitCode !== 0 || !installed) {
    throw new Error(
      [
        `${pkg} is needed for ${neededFor} and could not be had:`,
        `neither ${names.join(' nor ')} is on PATH, and ${step} ${result.exitCode === 0 ? 'put none there' : `failed (exit ${result.exitCode ?? result.signal ?? 'unknown'}${result.timedOut ? ', timed out' : ''})`}.`,
        `Install Debian's ${pkg} package as root (DEBIAN_FRONTEND=noninteractive apt-get install -y ${pkg}) and run the test again.`,
        result.all ? `apt-get said:\n${tail(String(result.all))}` : '',
      ]
        .filter(Boolean)
        .join('\n'),
    );
  }
  log(`[${pkg}] installed ${installed}`);
  return installed;
}
