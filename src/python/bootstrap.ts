/**
 * Build a pinned Python virtual environment on first use, inside the repo. Up to date means the
 * sha256 of the pins (and the interpreter version) matches the marker written after the last
 * successful install — not that the folder exists.
 *
 * Layout: each build has its own folder `<venvDir>-<hash prefix>-<random>` beside a symlink
 * `<venvDir>` naming the live one. A new build is made beside the live one, installed from hashed
 * pins (`--require-hashes`), and switched to by renaming a new link over the old one (atomic), so a
 * process running from the old build keeps it. Callers start processes from `python` of the result,
 * a path inside the build folder: a venv's Python finds its site-packages from the path it was
 * invoked by, so one started through the link would import from the next build after a switch.
 * Kept after a switch: the live build, the previous one, and any other that a running process uses
 * (/proc: its command line or mapped files name the folder); the rest are removed. A folder without
 * the marker is a build that died half-way (kill -9, full disk) and is removed by the next build.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, realpathSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DriftgateError, ChildProcessError } from '../errors.js';
import { PROJECT_ROOT, STATE_DIR } from '../project.js';
import { runChild } from '../process/run.js';
import { withLock } from '../fs-lock.js';

export interface PythonEnvSpec {
  name: string;
  requirements: string;
  venvDir: string;
}

export const ENVIRONMENTS = {
  train: {
    name: 'train',
    requirements: path.join(PROJECT_ROOT, 'python', 'requirements.txt'),
    venvDir: path.join(STATE_DIR, 'venvs', 'train'),
  },
  airflow: {
    name: 'airflow',
    requirements: path.join(PROJECT_ROOT, 'python', 'airflow', 'requirements.txt'),
    venvDir: path.join(STATE_DIR, 'venvs', 'airflow'),
  },
} as const satisfies Record<string, PythonEnvSpec>;

const MARKER = '.driftgate-pins';
// Bump when the way environments are built changes, so old ones are rebuilt.
// 2: a folder per build behind a symlink, pins installed with --require-hashes.
const BUILD_FORMAT = '2';
// A hung pip (a stalled mirror, a lock in its cache) fails the build instead of waiting for ever.
const PIP_INSTALL_TIMEOUT_MS = 30 * 60_000;
const STEP_TIMEOUT_MS = 5 * 60_000;

export interface BootstrapResult {
  name: string;
  /** The interpreter inside the build folder (not through the link): start processes from this. */
  python: string;
  /** The build folder, `<spec.venvDir>-<hash prefix>-<random>`; `spec.venvDir` is the link to it. */
  venvDir: string;
  rebuilt: boolean;
  hash: string;
}

export function venvPython(venvDir: string): string {
  return path.join(venvDir, 'bin', 'python');
}

/** The base interpreter that venvs are made from: DRIFTGATE_PYTHON, else python3.11. */
export function basePython(env: Readonly<Record<string, string | undefined>> = process.env): string {
  return env.DRIFTGATE_PYTHON ?? 'python3.11';
}

export function pinsHash(spec: PythonEnvSpec, pythonVersion: string): string {
  let pins: string;
  try {
    pins = readFileSync(spec.requirements, 'utf8');
  } catch (error) {
    throw new DriftgateError('BOOTSTRAP_FAILED', `cannot read the pins of the "${spec.name}" environment at ${spec.requirements}`, { cause: error });
  }
  return createHash('sha256').update(`${BUILD_FORMAT}\n${pythonVersion}\n${pins}`).digest('hex');
}

function markerOf(dir: string): string | null {
  try {
    return readFileSync(path.join(dir, MARKER), 'utf8').trim();
  } catch {
    return null;
  }
}

/** A finished build: the marker (written last) is there, and so is its interpreter. */
function isComplete(dir: string, hash?: string): boolean {
  const marker = markerOf(dir);
  return marker !== null && (hash === undefined || marker === hash) && existsSync(venvPython(dir));
}

/**
 * The build folder the link `spec.venvDir` names (resolved); `spec.venvDir` itself when it is not a
 * link (a folder of the old layout, or nothing yet). For starting a process from the live build.
 */
export function liveVenvDir(spec: PythonEnvSpec): string {
  try {
    return lstatSync(spec.venvDir).isSymbolicLink() ? realpathSync(spec.venvDir) : spec.venvDir;
  } catch {
    return spec.venvDir;
  }
}

/** The live build when it was built from exactly these pins, else null. Cheap: a link and two small files. */
function liveBuild(spec: PythonEnvSpec, hash: string): string | null {
  const dir = liveVenvDir(spec);
  return dir !== spec.venvDir && isComplete(dir, hash) ? dir : null;
}

/** True when the environment was built from exactly these pins. */
export function isUpToDate(spec: PythonEnvSpec, hash: string): boolean {
  return liveBuild(spec, hash) !== null;
}

/** Every build folder of this environment: `<name>-<12 hex>-<suffix>`, and `<name>-legacy-<ms>` (the old layout, moved aside). */
function buildFolders(spec: PythonEnvSpec): string[] {
  const parent = path.dirname(spec.venvDir);
  const base = path.basename(spec.venvDir).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const pattern = new RegExp(`^${base}-([0-9a-f]{12}-[0-9a-f]{8}|legacy-\\d+)$`);
  let names: string[];
  try {
    names = readdirSync(parent);
  } catch {
    return [];
  }
  return names
    .filter((n) => pattern.test(n))
    .map((n) => path.join(parent, n))
    .filter((dir) => {
      try {
        return lstatSync(dir).isDirectory();
      } catch {
        return false;
      }
    });
}

/**
 * A process that runs from `dir`: its command line names a path inside it, or it has a file inside
 * it mapped (an extension module, through any link). Linux only: where /proc is missing every
 * folder counts as in use (-1), so nothing is removed that might be.
 */
export function processUsing(dir: string): number | null {
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((n) => /^\d+$/.test(n));
  } catch {
    return -1;
  }
  const inside = `${dir}/`;
  for (const pid of pids) {
    try {
      const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      if (args.some((a) => a === dir || a.startsWith(inside))) return Number(pid);
      if (readFileSync(`/proc/${pid}/maps`, 'utf8').includes(inside)) return Number(pid);
    } catch {
      // gone meanwhile, or another user's process (their maps are not ours to read)
    }
  }
  return null;
}

/** Remove a build folder, the marker first: a removal cut short leaves a half build, never a "complete" one with files missing. */
function removeBuild(dir: string): void {
  rmSync(path.join(dir, MARKER), { force: true });
  rmSync(dir, { recursive: true, force: true });
}

/** Builds that died half-way (no marker) and that no process uses any more (an orphaned pip may still write there). */
function removeHalfBuilds(spec: PythonEnvSpec, log: (line: string) => void): void {
  for (const dir of buildFolders(spec)) {
    if (markerOf(dir) !== null) continue;
    const pid = processUsing(dir);
    if (pid !== null) {
      log(`[setup] leaving the unfinished build ${dir}: process ${pid} still uses it`);
      continue;
    }
    log(`[setup] removing the unfinished build ${dir} (a build that was stopped half-way)`);
    removeBuild(dir);
  }
}

/**
 * Point the link at `build`: a new link under a temporary name, renamed over the old one (atomic).
 * An old-layout folder at the link's place is moved aside first (not deleted: a process may run from
 * it). Returns the build the link named before (or the moved-aside folder), or null.
 */
function switchLink(spec: PythonEnvSpec, build: string, log: (line: string) => void): string | null {
  const parent = path.dirname(spec.venvDir);
  const temp = path.join(parent, `.${path.basename(spec.venvDir)}.link-${randomBytes(4).toString('hex')}`);
  // Relative, so the state folder can be moved as a whole.
  symlinkSync(path.basename(build), temp);
  let previous: string | null = null;
  let movedAside = false;
  try {
    const stat = lstatSync(spec.venvDir, { throwIfNoEntry: false });
    if (stat?.isSymbolicLink()) {
      previous = liveVenvDir(spec);
      if (previous === spec.venvDir) previous = null;
    } else if (stat) {
      previous = `${spec.venvDir}-legacy-${Date.now()}`;
      renameSync(spec.venvDir, previous);
      movedAside = true;
    }
    renameSync(temp, spec.venvDir);
  } catch (error) {
    rmSync(temp, { force: true });
    // Put the old-layout folder back: a failed switch leaves what was live where it was.
    if (movedAside && previous) renameSync(previous, spec.venvDir);
    throw error;
  }
  if (movedAside) log(`[setup] moved the old-layout environment ${spec.venvDir} aside to ${previous}; restart what still runs from it`);
  return previous;
}

/** After a switch: keep the live build, the previous one and any in use; remove the others. */
function pruneBuilds(spec: PythonEnvSpec, keep: readonly (string | null)[], log: (line: string) => void): void {
  for (const dir of buildFolders(spec)) {
    if (keep.includes(dir) || markerOf(dir) === null) continue;
    const pid = processUsing(dir);
    if (pid !== null) {
      log(`[setup] keeping the old build ${dir}: process ${pid} runs from it`);
      continue;
    }
    log(`[setup] removing the old build ${dir}`);
    removeBuild(dir);
  }
}

async function interpreterVersion(python: string): Promise<string> {
  try {
    const { stdout } = await runChild(python, ['-c', 'import sys; print("%d.%d.%d" % sys.version_info[:3])'], { timeoutMs: 30_000, inherit: ['python'] });
    return stdout.trim();
  } catch (error) {
    throw new DriftgateError('BOOTSTRAP_FAILED', `cannot run the base Python "${python}" (install Python 3.11 or set DRIFTGATE_PYTHON)`, { cause: error });
  }
}

export async function ensurePythonEnv(
  spec: PythonEnvSpec,
  options: {
    log?: (line: string) => void;
    env?: Readonly<Record<string, string | undefined>>;
    /** Stops a build under way (its half folder is removed, like any failed build). */
    signal?: AbortSignal;
  } = {},
): Promise<BootstrapResult> {
  const log = options.log ?? (() => undefined);
  const base = basePython(options.env);
  // The venv's own interpreter is a symlink to the base one, so one version check serves both.
  const version = await interpreterVersion(existsSync(venvPython(spec.venvDir)) ? venvPython(spec.venvDir) : base);
  if (!version.startsWith('3.11.')) {
    throw new DriftgateError('BOOTSTRAP_FAILED', `the "${spec.name}" environment needs Python 3.11, got ${version} from ${base} (set DRIFTGATE_PYTHON)`);
  }
  const hash = pinsHash(spec, version);
  const result = (dir: string, rebuilt: boolean): BootstrapResult => ({ name: spec.name, python: venvPython(dir), venvDir: dir, rebuilt, hash });
  const live = liveBuild(spec, hash);
  if (live) return result(live, false);

  mkdirSync(path.dirname(spec.venvDir), { recursive: true });
  // One build at a time per environment, whatever the pins: a second caller with the same pins waits
  // and reuses the build; one with other pins builds after it, in a folder of its own.
  return withLock(`${spec.venvDir}.lock`, log, async () => {
    // Another process may have finished the same build while we waited for the lock.
    const done = liveBuild(spec, hash);
    if (done) return result(done, false);
    removeHalfBuilds(spec, log);
    // The pins went back to those of a build that is still kept: switch to it, nothing to install.
    const earlier = buildFolders(spec).find((dir) => isComplete(dir, hash));
    if (earlier) {
      const previous = switchLink(spec, earlier, log);
      log(`[setup] the "${spec.name}" environment is back on its earlier build ${earlier}`);
      pruneBuilds(spec, [earlier, previous], log);
      return result(earlier, false);
    }
    const started = Date.now();
    log(`[setup] building the "${spec.name}" Python environment from ${path.relative(PROJECT_ROOT, spec.requirements)} (first use or the pins changed)`);
    const build = `${spec.venvDir}-${hash.slice(0, 12)}-${randomBytes(4).toString('hex')}`;
    const python = venvPython(build);
    const fail = (what: string, error: unknown): never => {
      // Only this build's folder: the live build and its link stay as they were.
      rmSync(build, { recursive: true, force: true });
      const detail = error instanceof ChildProcessError ? error.message : error instanceof Error ? error.message : String(error);
      // pip says the same when the index cannot be reached as when a pin does not exist there.
      const hint = /No matching distribution found/.test(detail) ? '\npip found no file for a pin: is the package index (pip\'s own configuration) reachable, and does the pin exist there?' : '';
      throw new DriftgateError(
        'BOOTSTRAP_FAILED',
        `building the "${spec.name}" Python environment failed at "${what}": ${detail}${hint}\nThe half-built environment was removed and the live one left as it was; fix the cause and retry with: npx driftgate setup`,
        { cause: error },
      );
    };
    const step = async (what: string, file: string, args: string[], timeoutMs: number): Promise<void> => {
      try {
        await runChild(file, args, {
          label: what,
          timeoutMs,
          inherit: ['pip'],
          signal: options.signal,
          onStdoutLine: (line) => {
            if (/^(Collecting|Installing|Successfully)/.test(line)) log(`[setup] ${line.length > 160 ? `${line.slice(0, 157)}...` : line}`);
          },
          // pip's config on some machines names extra index folders that do not exist; that is noise.
          onStderrLine: (line) => {
            if (!/^WARNING: Location '.*' is ignored/.test(line)) log(`[setup] ${line}`);
          },
        });
      } catch (error) {
        fail(what, error);
      }
    };
    await step(`${base} -m venv`, base, ['-m', 'venv', build], STEP_TIMEOUT_MS);
    const pip = ['-m', 'pip', '--disable-pip-version-check', '--no-input'];
    // Every pin carries its sha256 (python/tools/hash_pins.py): a file that differs from the one hashed fails the build.
    await step('pip install', python, [...pip, 'install', '--require-hashes', '--progress-bar', 'off', '-r', spec.requirements], PIP_INSTALL_TIMEOUT_MS);
    await step('pip check', python, [...pip, 'check'], STEP_TIMEOUT_MS);
    let previous: string | null = null;
    try {
      // The marker last: a folder without it is a build that did not finish.
      writeFileSync(path.join(build, MARKER), `${hash}\n`);
      previous = switchLink(spec, build, log);
    } catch (error) {
      fail('switch to the new build', error);
    }
    pruneBuilds(spec, [build, previous], log);
    log(`[setup] the "${spec.name}" environment is ready (${Math.round((Date.now() - started) / 1000)} s)`);
    return result(build, true);
  });
}
