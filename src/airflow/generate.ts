/**
 * Write the DAG files into a folder and delete the ones an earlier run wrote that this config no
 * longer produces (a renamed dag_id). Only files whose first line is the generated header are ever
 * deleted; a file of the same name without it is refused rather than overwritten.
 */
import { readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Config } from '../config/index.js';
import { DriftgateError } from '../errors.js';
import { writeFileAtomic } from '../fs-atomic.js';
import { dagSpec } from './dag-spec.js';
import { GENERATED_HEADER, renderDags } from './render-dag.js';

export interface GenerateResult {
  out_dir: string;
  config: string;
  dags: { dag_id: string; kind: 'monitor' | 'ab'; file: string }[];
  /** Files whose bytes changed (or are new). */
  written: string[];
  unchanged: string[];
  /** Stale generated files deleted. */
  removed: string[];
}

function readIfExists(file: string): string | null {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

function isGenerated(content: string): boolean {
  return content.split('\n', 1)[0] === GENERATED_HEADER;
}

export function dagFileName(dagId: string): string {
  return `${dagId}.py`;
}

/** `config` must be loaded without environment overrides (loadConfig(file, {})); see dagSpec. */
export function generateDags(config: Config, outDir: string, log: (line: string) => void = () => undefined): GenerateResult {
  const rendered = renderDags(dagSpec(config));
  const result: GenerateResult = { out_dir: outDir, config: config.source.file, dags: [], written: [], unchanged: [], removed: [] };
  const keep = new Set<string>();
  for (const dag of rendered) {
    const file = path.join(outDir, dagFileName(dag.dagId));
    keep.add(path.basename(file));
    const before = readIfExists(file);
    if (before !== null && !isGenerated(before)) {
      throw new DriftgateError('INPUT_INVALID', `${file} exists and was not written by driftgate generate-dag (its first line is not "${GENERATED_HEADER}"); move it away or pick another airflow.dag_id`, { exitCode: 2 });
    }
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
    if (!statSync(file).isFile()) continue;
    const content = readIfExists(file);
    if (content !== null && isGenerated(content)) {
      rmSync(file);
      result.removed.push(file);
      log(`[generate-dag] removed stale ${file}`);
    }
  }
  return result;
}
