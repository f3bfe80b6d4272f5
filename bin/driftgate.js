#!/usr/bin/env node
// Driftgate needs the Node.js pinned in node_modules (24 LTS); a bare `node` on PATH may be older.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const major = Number(process.versions.node.split('.')[0]);
const pinned = fileURLToPath(new URL('../node_modules/.bin/node', import.meta.url));

if (major < 24 && existsSync(pinned)) {
  // Node cannot exec, so the pinned Node runs as a child. It holds fd 3, one end of a socket pair
  // whose other end lives and dies with this process: if this wrapper is killed (even kill -9) the
  // child reads EOF and stops, never left behind holding the router's port.
  const child = spawn(pinned, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
    stdio: ['inherit', 'inherit', 'inherit', 'pipe'],
    env: { ...process.env, DRIFTGATE_PARENT_FD: '3' },
  });
  // A signal sent to this process alone is passed on; one sent to the whole group (Ctrl-C) reaches
  // the child twice, which it takes as one.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => {
    process.exitCode = code ?? (signal ? 128 : 1);
    child.stdio[3]?.destroy();
  });
} else {
  // Cache compiled code between runs: most commands are short-lived processes.
  (await import('node:module')).enableCompileCache?.();
  const { main } = await import('../dist/src/cli/main.js');
  process.exitCode = await main(process.argv.slice(2));
}
