/**
 * Real separate processes that import src/ TypeScript directly, for lock and concurrent-writer
 * tests: the pinned Node strips the types, and a resolve hook maps the `.js` import specifiers of
 * the sources to their `.ts` files. No build needed, and the code under test is the source itself.
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { execa, type ResultPromise } from 'execa';
import { NODE_BIN, PROJECT_ROOT } from '../../src/project.js';

const RESOLVE_TS = `import { registerHooks } from 'node:module';
registerHooks({
  resolve(specifier, context, next) {
    try {
      return next(specifier, context);
    } catch (error) {
      if (/^\\.\\.?\\//.test(specifier) && specifier.endsWith('.js')) return next(specifier.slice(0, -3) + '.ts', context);
      throw error;
    }
  },
});`;

/** The file URL of a source module, for an import in a child script: srcModule('fs-lock.ts'). */
export function srcModule(relative: string): string {
  return pathToFileURL(path.join(PROJECT_ROOT, 'src', relative)).href;
}

/** Run an ES module script (`-e`) in a child process; `args` arrive as process.argv.slice(1). */
export function tsChild(script: string, args: string[] = []): ResultPromise<{ reject: false; stdin: 'ignore'; all: true }> {
  return execa(NODE_BIN, ['--no-warnings', '--import', `data:text/javascript,${encodeURIComponent(RESOLVE_TS)}`, '--input-type=module', '-e', script, ...args], {
    cwd: PROJECT_ROOT,
    reject: false,
    stdin: 'ignore',
    all: true,
  });
}

/** The pid of a process that has exited (and been reaped): a dead owner for a lock record. */
export async function deadPid(): Promise<number> {
  const child = execa(NODE_BIN, ['-e', '']);
  await child;
  return child.pid!;
}
