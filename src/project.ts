/** Where the installed package lives, whatever the working directory or whether we run from src/ or dist/. */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

function findRoot(start: string): string {
  let dir = start;
  while (!existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`no package.json above ${start}`);
    dir = parent;
  }
  return dir;
}

export const PROJECT_ROOT = findRoot(path.dirname(fileURLToPath(import.meta.url)));

/** The repo's own state (Python environments, embedded servers); never committed. */
export const STATE_DIR = process.env.DRIFTGATE_STATE_DIR ? path.resolve(process.env.DRIFTGATE_STATE_DIR) : path.join(PROJECT_ROOT, '.driftgate');

/** The pinned Node binary, so child processes and generated DAGs never fall back to an old system Node. */
export const NODE_BIN = path.join(PROJECT_ROOT, 'node_modules', '.bin', 'node');
export const CLI_BIN = path.join(PROJECT_ROOT, 'bin', 'driftgate.js');
