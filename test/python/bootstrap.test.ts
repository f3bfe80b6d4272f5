import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DriftgateError } from '../../src/errors.js';
import { ensurePythonEnv, venvPython } from '../../src/python/bootstrap.js';
import { tempDir } from '../helpers/config.js';

// A real venv from real pins; an empty pin list keeps it to seconds (the real pins take minutes).
describe('ensurePythonEnv', () => {
  const dir = tempDir();
  const spec = { name: 'probe', requirements: path.join(dir, 'requirements.txt'), venvDir: path.join(dir, 'venv') };

  it('builds on first use, is a no-op when the pins are unchanged, and rebuilds when they change', async () => {
    writeFileSync(spec.requirements, '# no packages\n');
    const lines: string[] = [];
    const first = await ensurePythonEnv(spec, { log: (l) => lines.push(l) });
    expect(first.rebuilt).toBe(true);
    expect(first.python).toBe(venvPython(spec.venvDir));
    expect(existsSync(first.python)).toBe(true);
    expect(lines[0]).toBe(`[setup] building the "probe" Python environment from ${path.relative(path.resolve('.'), spec.requirements)} (first use or the pins changed)`);
    expect(lines.at(-1)).toMatch(/^\[setup\] the "probe" environment is ready \(\d+ s\)$/);

    const quiet: string[] = [];
    const started = Date.now();
    const second = await ensurePythonEnv(spec, { log: (l) => quiet.push(l) });
    expect(second).toEqual({ ...first, rebuilt: false });
    expect(quiet).toEqual([]);
    expect(Date.now() - started).toBeLessThan(2000);

    writeFileSync(spec.requirements, '# no packages, but the pins file changed\n');
    const third = await ensurePythonEnv(spec);
    expect(third.rebuilt).toBe(true);
    expect(third.hash).not.toBe(first.hash);
  });

  it('says what failed and how to retry, and leaves no half-built environment', async () => {
    writeFileSync(spec.requirements, 'driftgate-surely-no-such-package==0.0.1\n');
    const error = await ensurePythonEnv(spec).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DriftgateError);
    const message = (error as DriftgateError).message;
    expect(message).toMatch(/^building the "probe" Python environment failed at "pip install": pip install exited with status 1; last stderr lines:\n/);
    expect(message).toContain('No matching distribution found for driftgate-surely-no-such-package==0.0.1');
    expect(message.split('\n').at(-1)).toBe('The half-built environment was removed; fix the cause and retry with: npx driftgate setup');
    expect(existsSync(spec.venvDir)).toBe(false);
  });
});
