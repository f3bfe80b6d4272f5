/**
 * Write the DAG files into a folder and delete the ones an earlier run wrote that this config no
 * longer produces (a renamed dag_id). A DAG folder may be shared by several deployments (several
 * config files), so every file records the deployment that wrote it in its second line, and only
 * files of this deployment are ever rewritten or deleted. A file of the same name without the header,
 * or of another deployment, is refused rather than overwritten.
 */
import { readdirSync, readFileSync, realpathSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Config } from '../config/index.js';
import { DriftgateError } from '../errors.js';
import { writeFileAtomic } from '../fs-atomic.js';
import { dagSpec } from './dag-spec.js';
import { DEPLOYMENT_PREFIX, deploymentLine, GENERATED_HEADER, renderDags } from './render-dag.js';

export interface GenerateResult {
  out_dir: string;
  config: string;
  /** This config's deployment id, as recorded in the files it writes (see deploymentId). */
  deployment: string;
  dags: { dag_id: string; kind: 'monitor' | 'ab'; file: string }[];
  /** Files whose bytes changed (or are new). */
  written: string[];
  unchanged: string[];
  /** Stale generated files of this deployment deleted. */
  removed: string[];
  /** Generated files from before deployments were recorded: never deleted, delete them by hand when stale. */
  legacy: string[];
  /** Generated files of other deployments in the same folder: never touched. */
  foreign: { file: string; deployment: string }[];
}

/** Who wrote a file: not driftgate, driftgate before deployment lines existed, or a deployment. */
type Owner = { kind: 'not-driftgate' } | { kind: 'legacy' } | { kind: 'deployment'; line: string };

function readIfExists(file: string): string | null {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

function ownerOf(content: string): Owner {
  const [first, second = ''] = content.split('\n', 2);
  if (first !== GENERATED_HEADER) return { kind: 'not-driftgate' };
  if (!second.startsWith(DEPLOYMENT_PREFIX)) return { kind: 'legacy' };
  return { kind: 'deployment', line: second };
}

/** The deployment id back from its line; a hand-edited line that is not JSON is shown as it stands. */
function deploymentOf(line: string): string {
  const text = line.slice(DEPLOYMENT_PREFIX.length);
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value === 'string') return value;
  } catch {
    // fall through
  }
  return text;
}

/**
 * A deployment is one config file, named by its absolute real path (symlinks resolved), not a hash:
 * the files already contain that path (DRIFTGATE_DAG_CONFIG), and a readable id lets a refusal say
 * which deployment owns a file. Moving the project or generating from a second checkout is a new
 * deployment: the old files point at the old paths, so the new one refuses to overwrite them (same
 * dag_id) instead of silently taking them over, and the user deletes them or picks other dag_ids.
 */
export function deploymentId(configFile: string): string {
  return realpathSync(configFile);
}

export function dagFileName(dagId: string): string {
  return `${dagId}.py`;
}

// A DAG folder the user can fix (permissions, a read-only mount, not a folder) is exit 2, like a bad
// --out; anything else (a full disk, an I/O error) is exit 1.
const FOLDER_INPUT_ERRORS = new Set(['EACCES', 'EPERM', 'EROFS', 'ENOTDIR', 'EISDIR', 'EEXIST']);

function folderError(outDir: string, error: unknown): unknown {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  if (error instanceof DriftgateError || typeof code !== 'string') return error;
  return new DriftgateError('UNAVAILABLE', `cannot write the DAG folder ${outDir}: ${(error as Error).message}`, {
    exitCode: FOLDER_INPUT_ERRORS.has(code) ? 2 : 1,
    cause: error,
  });
}

/** `config` must be loaded without environment overrides (loadConfig(file, {})); see dagSpec. */
export function generateDags(config: Config, outDir: string, log: (line: string) => void = () => undefined): GenerateResult {
  const deployment = deploymentId(config.source.file);
  const ours = deploymentLine(deployment);
  const rendered = renderDags(dagSpec(config), deployment);
  const result: GenerateResult = {
    out_dir: outDir,
    config: config.source.file,
    deployment,
    dags: [],
    written: [],
    unchanged: [],
    removed: [],
    legacy: [],
    foreign: [],
  };
  try {
    // Check every target before writing any, so a refusal leaves the folder as it was.
    const plan = rendered.map((dag) => {
      const file = path.join(outDir, dagFileName(dag.dagId));
      const before = readIfExists(file);
      const owner = before === null ? null : ownerOf(before);
      const key = dag.kind === 'monitor' ? 'airflow.dag_id' : 'airflow.ab_dag_id';
      if (owner?.kind === 'not-driftgate') {
        throw new DriftgateError('INPUT_INVALID', `${file} exists and was not written by driftgate generate-dag (its first line is not "${GENERATED_HEADER}"); move it away or pick another airflow.dag_id`, { exitCode: 2 });
      }
      if (owner?.kind === 'deployment' && owner.line !== ours) {
        throw new DriftgateError(
          'INPUT_INVALID',
          `${file} belongs to another driftgate deployment (config ${deploymentOf(owner.line)}), not this one (config ${deployment}); pick another ${key}, or delete the file if that deployment was moved or removed`,
          { exitCode: 2 },
        );
      }
      // A legacy file of the same name is overwritten: it is this DAG id, written before deployments were recorded.
      return { dag, file, before };
    });
    const keep = new Set(plan.map(({ file }) => path.basename(file)));
    for (const { dag, file, before } of plan) {
      if (before === dag.source) result.unchanged.push(file);
      else {
        writeFileAtomic(file, dag.source);
        result.written.push(file);
        log(`[generate-dag] wrote ${file}`);
      }
      result.dags.push({ dag_id: dag.dagId, kind: dag.kind, file });
    }
    for (const name of readdirSync(outDir).sort()) {
      if (!name.endsWith('.py') || keep.has(name)) continue;
      const file = path.join(outDir, name);
      // Gone meanwhile (another deployment removing its own stale file) or a dangling symlink: not ours.
      if (!statSync(file, { throwIfNoEntry: false })?.isFile()) continue;
      const content = readIfExists(file);
      const owner = content === null ? null : ownerOf(content);
      if (owner?.kind === 'deployment' && owner.line === ours) {
        rmSync(file, { force: true });
        result.removed.push(file);
        log(`[generate-dag] removed stale ${file}`);
      } else if (owner?.kind === 'legacy') {
        result.legacy.push(file);
        log(`[generate-dag] left ${file}: generated before deployments were recorded, so it may be another deployment's; delete it by hand if it is stale`);
      } else if (owner?.kind === 'deployment') {
        result.foreign.push({ file, deployment: deploymentOf(owner.line) });
      }
    }
  } catch (error) {
    throw folderError(outDir, error);
  }
  return result;
}
