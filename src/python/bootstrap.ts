/**
 * Build a pinned Python virtual environment on first use, inside the repo. Up to date means the
 * sha256 of the pins (and the interpreter version) matches the marker written after the last
 * successful install — not that the folder exists.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DriftgateError, ChildProcessError } from '../errors.js';
import { PROJECT_ROOT, STATE_DIR } from '../project.js';
import { runChild } from '../process/run.js';
import { withLock } from './lock.js';

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
const BUILD_FORMAT = '1';

export interface BootstrapResult {
  name: string;
  python: string;
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

/** True when the environment was built from exactly these pins. Cheap: reads two small files. */
export function isUpToDate(spec: PythonEnvSpec, hash: string): boolean {
  const marker = path.join(spec.venvDir, MARKER);
  return existsSync(venvPython(spec.venvDir)) && existsSync(marker) && readFileSync(marker, 'utf8').trim() === hash;
}

async function interpreterVersion(python: string): Promise<string> {
  try {
    const { stdout } = await runChild(python, ['-c', 'import sys; print("%d.%d.%d" % sys.version_info[:3])'], { timeoutMs: 30_000 });
    return stdout.trim();
  } catch (error) {
    throw new DriftgateError('BOOTSTRAP_FAILED', `cannot run the base Python "${python}" (install Python 3.11 or set DRIFTGATE_PYTHON)`, { cause: error });
  }
}

export async function ensurePythonEnv(
  spec: PythonEnvSpec,
  options: { log?: (line: string) => void; env?: Readonly<Record<string, string | undefined>> } = {},
): Promise<BootstrapResult> {
  const log = options.log ?? (() => undefined);
  const base = basePython(options.env);
  // The venv's own interpreter is a symlink to the base one, so one version check serves both.
  const version = await interpreterVersion(existsSync(venvPython(spec.venvDir)) ? venvPython(spec.venvDir) : base);
  if (!version.startsWith('3.11.')) {
    throw new DriftgateError('BOOTSTRAP_FAILED', `the "${spec.name}" environment needs Python 3.11, got ${version} from ${base} (set DRIFTGATE_PYTHON)`);
  }
  const hash = pinsHash(spec, version);
  const result = { name: spec.name, python: venvPython(spec.venvDir), venvDir: spec.venvDir, hash };
  if (isUpToDate(spec, hash)) return { ...result, rebuilt: false };

  mkdirSync(path.dirname(spec.venvDir), { recursive: true });
  return withLock(`${spec.venvDir}.lock`, log, async () => {
    // Another process may have finished the same build while we waited for the lock.
    if (isUpToDate(spec, hash)) return { ...result, rebuilt: false };
    const started = Date.now();
    log(`[setup] building the "${spec.name}" Python environment from ${path.relative(PROJECT_ROOT, spec.requirements)} (first use or the pins changed)`);
    rmSync(spec.venvDir, { recursive: true, force: true });
    const step = async (what: string, file: string, args: string[]): Promise<void> => {
      try {
        await runChild(file, args, {
          label: what,
          onStdoutLine: (line) => {
            if (/^(Collecting|Installing|Successfully)/.test(line)) log(`[setup] ${line.length > 160 ? `${line.slice(0, 157)}...` : line}`);
          },
          // pip's config on some machines names extra index folders that do not exist; that is noise.
          onStderrLine: (line) => {
            if (!/^WARNING: Location '.*' is ignored/.test(line)) log(`[setup] ${line}`);
          },
        });
      } catch (error) {
        rmSync(spec.venvDir, { recursive: true, force: true });
        const detail = error instanceof ChildProcessError ? error.message : String(error);
        throw new DriftgateError(
          'BOOTSTRAP_FAILED',
          `building the "${spec.name}" Python environment failed at "${what}": ${detail}\nThe half-built environment was removed; fix the cause and retry with: npx driftgate setup`,
          { cause: error },
        );
      }
    };
    await step(`${base} -m venv`, base, ['-m', 'venv', spec.venvDir]);
    const pip = [result.python, '-m', 'pip'] as const;
    await step('pip install', pip[0], [...pip.slice(1), 'install', '--disable-pip-version-check', '--no-input', '--progress-bar', 'off', '-r', spec.requirements]);
    await step('pip check', pip[0], [...pip.slice(1), 'check', '--disable-pip-version-check']);
    writeFileSync(path.join(spec.venvDir, MARKER), `${hash}\n`);
    log(`[setup] the "${spec.name}" environment is ready (${Math.round((Date.now() - started) / 1000)} s)`);
    return { ...result, rebuilt: true };
  });
}
