/** Temp config files for tests: the default config with overrides merged in. */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { PROJECT_ROOT } from '../../src/project.js';

export const DEFAULT_CONFIG = path.join(PROJECT_ROOT, 'config', 'driftgate.yaml');

type Tree = { [key: string]: unknown };

function merge(base: Tree, patch: Tree): Tree {
  const out: Tree = { ...base };
  for (const [key, value] of Object.entries(patch)) {
    const current = out[key];
    out[key] =
      value && typeof value === 'object' && !Array.isArray(value) && current && typeof current === 'object' && !Array.isArray(current)
        ? merge(current as Tree, value as Tree)
        : value;
  }
  return out;
}

export function tempDir(prefix = 'driftgate-test-'): string {
  return mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** Write the default config (or `baseFile`) with `patch` merged in; paths stay pointed at the repo's data. */
export function writeConfig(dir: string, patch: Tree = {}, name = 'driftgate.yaml', baseFile = DEFAULT_CONFIG): string {
  const base = parse(readFileSync(baseFile, 'utf8')) as Tree;
  const rooted = merge(base, {
    dataset: { reference: path.join(PROJECT_ROOT, 'data', 'iris.csv'), current: path.join(dir, 'iris-drifted.csv') },
    drift: { reports_dir: path.join(dir, 'reports', 'drift') },
    ab: { reports_dir: path.join(dir, 'reports', 'ab') },
    mlflow: { state_dir: path.join(dir, 'mlflow') },
    router: { log_path: path.join(dir, 'predictions.csv') },
  });
  const file = path.join(dir, name);
  writeFileSync(file, stringify(merge(rooted, patch)));
  return file;
}
