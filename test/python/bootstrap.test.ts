import { execa } from 'execa';
import { existsSync, lstatSync, mkdirSync, readdirSync, realpathSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DriftgateError } from '../../src/errors.js';
import { ensurePythonEnv, venvPython, type PythonEnvSpec } from '../../src/python/bootstrap.js';
import { runChild } from '../../src/process/run.js';
import { tempDir } from '../helpers/config.js';

// Real venvs from real pins; tiny pure-Python wheels keep each build to seconds (the real pins take minutes).
const SIX = 'six==1.17.0 --hash=sha256:4721f391ed90541fddacab5acf947aa0d3dc7d27b2e1e8eda2be8970586c3274\n';
const IDNA = 'idna==3.20 --hash=sha256:ab7ae7122974553370f0bdb919e1a960b2cd1bc1ef0276416d896db81c14582c\n';
const WRONG = `--hash=sha256:${'0'.repeat(64)}`;
const BUILD = /^-[0-9a-f]{12}-[0-9a-f]{8}$/;

function probe(): PythonEnvSpec {
  const dir = tempDir();
  return { name: 'probe', requirements: path.join(dir, 'requirements.txt'), venvDir: path.join(dir, 'venv') };
}

/** The build folders beside the link, by name. */
function builds(spec: PythonEnvSpec): string[] {
  const base = path.basename(spec.venvDir);
  return readdirSync(path.dirname(spec.venvDir))
    .filter((n) => n.startsWith(`${base}-`) && !n.endsWith('.lock'))
    .sort();
}

function linkTarget(spec: PythonEnvSpec): string {
  expect(lstatSync(spec.venvDir).isSymbolicLink()).toBe(true);
  return realpathSync(spec.venvDir);
}

function isRunning(pid: number | undefined): boolean {
  try {
    process.kill(pid ?? 0, 0);
    return pid !== undefined;
  } catch {
    return false;
  }
}

async function moduleFile(python: string, module: string): Promise<string> {
  const { stdout } = await runChild(python, ['-c', `import ${module}; print(${module}.__file__)`]);
  return stdout.trim();
}

describe('ensurePythonEnv', () => {
  it('builds on first use, is a no-op when the pins are unchanged, and rebuilds beside the live build when they change', async () => {
    const spec = probe();
    writeFileSync(spec.requirements, '# no packages\n');
    const lines: string[] = [];
    const first = await ensurePythonEnv(spec, { log: (l) => lines.push(l) });
    expect(first.rebuilt).toBe(true);
    expect(path.dirname(first.venvDir)).toBe(path.dirname(spec.venvDir));
    expect(path.basename(first.venvDir).slice('venv'.length)).toMatch(BUILD);
    expect(path.basename(first.venvDir).slice(5, 17)).toBe(first.hash.slice(0, 12));
    expect(first.python).toBe(venvPython(first.venvDir));
    expect(existsSync(first.python)).toBe(true);
    expect(linkTarget(spec)).toBe(first.venvDir);
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
    expect(linkTarget(spec)).toBe(third.venvDir);
    // The previous build is kept.
    expect(builds(spec)).toEqual([path.basename(first.venvDir), path.basename(third.venvDir)].sort());
  }, 120_000);

  it('says what failed and how to retry, and leaves no half-built environment', async () => {
    const spec = probe();
    writeFileSync(spec.requirements, `driftgate-surely-no-such-package==0.0.1 ${WRONG}\n`);
    const error = await ensurePythonEnv(spec).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DriftgateError);
    expect((error as DriftgateError).code).toBe('BOOTSTRAP_FAILED');
    const message = (error as DriftgateError).message;
    expect(message).toMatch(/^building the "probe" Python environment failed at "pip install": pip install exited with status 1; last stderr lines:\n/);
    expect(message).toContain('No matching distribution found for driftgate-surely-no-such-package==0.0.1');
    expect(message.split('\n').at(-1)).toBe('The half-built environment was removed and the live one left as it was; fix the cause and retry with: npx driftgate setup');
    expect(existsSync(spec.venvDir)).toBe(false);
    expect(builds(spec)).toEqual([]);
  }, 60_000);

  it('a pin change while a process runs from the old build: that process keeps importing from it', async () => {
    const spec = probe();
    writeFileSync(spec.requirements, SIX);
    const old = await ensurePythonEnv(spec);
    // Imports six only when told to, after the switch.
    const script = 'import sys\nprint("ready", flush=True)\nsys.stdin.readline()\nimport six\nprint(six.__file__, flush=True)\nsys.stdin.readline()\n';
    const running = execa(old.python, ['-c', script], { stdin: 'pipe', stdout: 'pipe', reject: false, lines: false });
    const out: string[] = [];
    running.stdout.on('data', (chunk: Buffer) => out.push(...chunk.toString().split('\n').filter(Boolean)));
    const waitFor = async (n: number): Promise<void> => {
      for (let i = 0; out.length < n && i < 200; i++) await new Promise((r) => setTimeout(r, 50));
    };
    try {
      await waitFor(1);
      expect(out).toEqual(['ready']);

      writeFileSync(spec.requirements, SIX + IDNA);
      const lines: string[] = [];
      const next = await ensurePythonEnv(spec, { log: (l) => lines.push(l) });
      expect(next.rebuilt).toBe(true);
      expect(next.venvDir).not.toBe(old.venvDir);
      expect(linkTarget(spec)).toBe(next.venvDir);
      expect(next.python).toBe(path.join(next.venvDir, 'bin', 'python'));
      expect(await moduleFile(next.python, 'idna')).toBe(path.join(next.venvDir, 'lib', 'python3.11', 'site-packages', 'idna', '__init__.py'));

      running.stdin.write('\n');
      await waitFor(2);
      expect(isRunning(running.pid)).toBe(true);
      expect(out[1]).toBe(path.join(old.venvDir, 'lib', 'python3.11', 'site-packages', 'six.py'));

      // Two changes on: the first build is neither live nor previous, but the process still runs from it.
      writeFileSync(spec.requirements, IDNA);
      const third: string[] = [];
      const latest = await ensurePythonEnv(spec, { log: (l) => third.push(l) });
      expect(third).toContain(`[setup] keeping the old build ${old.venvDir}: process ${running.pid} runs from it`);
      expect(builds(spec)).toEqual([old, next, latest].map((r) => path.basename(r.venvDir)).sort());

      running.stdin.end('\n');
      await running;
      // Once it has stopped, the next switch removes it, and the one before the previous.
      writeFileSync(spec.requirements, '# none\n');
      const fourth: string[] = [];
      const last = await ensurePythonEnv(spec, { log: (l) => fourth.push(l) });
      expect(fourth.filter((l) => l.startsWith('[setup] removing the old build')).sort()).toEqual(
        [old, next].map((r) => `[setup] removing the old build ${r.venvDir}`).sort(),
      );
      expect(builds(spec)).toEqual([latest, last].map((r) => path.basename(r.venvDir)).sort());

      // Pins back to a kept build: switch to it, nothing installed.
      writeFileSync(spec.requirements, IDNA);
      const back: string[] = [];
      const again = await ensurePythonEnv(spec, { log: (l) => back.push(l) });
      expect(again).toEqual({ ...latest, rebuilt: false });
      expect(back).toEqual([`[setup] the "probe" environment is back on its earlier build ${latest.venvDir}`]);
      expect(linkTarget(spec)).toBe(latest.venvDir);
    } finally {
      running.kill();
      await running;
    }
  }, 180_000);

  it('two concurrent bootstraps with the same pins build once; with different pins, each gets its own build', async () => {
    const spec = probe();
    writeFileSync(spec.requirements, SIX);
    const lines: string[] = [];
    const log = (l: string): number => lines.push(l);
    const [a, b] = await Promise.all([ensurePythonEnv(spec, { log }), ensurePythonEnv(spec, { log })]);
    expect([a.rebuilt, b.rebuilt].sort()).toEqual([false, true]);
    expect(a.venvDir).toBe(b.venvDir);
    expect(lines.filter((l) => l.startsWith('[setup] building'))).toHaveLength(1);
    expect(builds(spec)).toEqual([path.basename(a.venvDir)]);

    // A pin change while another process builds: the same environment from two pin files at once.
    const other = { ...spec, requirements: path.join(path.dirname(spec.requirements), 'other.txt') };
    writeFileSync(spec.requirements, SIX + IDNA);
    writeFileSync(other.requirements, IDNA);
    const [c, d] = await Promise.all([ensurePythonEnv(spec), ensurePythonEnv(other)]);
    expect(c.rebuilt && d.rebuilt).toBe(true);
    expect(c.venvDir).not.toBe(d.venvDir);
    expect(await moduleFile(c.python, 'six')).toBe(path.join(c.venvDir, 'lib', 'python3.11', 'site-packages', 'six.py'));
    expect(await moduleFile(d.python, 'idna')).toBe(path.join(d.venvDir, 'lib', 'python3.11', 'site-packages', 'idna', '__init__.py'));
    await expect(moduleFile(d.python, 'six')).rejects.toThrow(/No module named 'six'/);
    // The lock serialises them: the link names whichever finished last, and both builds are whole.
    expect([c.venvDir, d.venvDir]).toContain(linkTarget(spec));
  }, 120_000);

  it('a hash mismatch fails with BOOTSTRAP_FAILED and leaves the live build and its link in place', async () => {
    const spec = probe();
    writeFileSync(spec.requirements, SIX);
    const live = await ensurePythonEnv(spec);
    writeFileSync(spec.requirements, `six==1.17.0 ${WRONG}\n`);
    const error = await ensurePythonEnv(spec).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DriftgateError);
    expect((error as DriftgateError).code).toBe('BOOTSTRAP_FAILED');
    const message = (error as DriftgateError).message;
    expect(message).toMatch(/^building the "probe" Python environment failed at "pip install": pip install exited with status 1; last stderr lines:\n/);
    expect(message).toContain('THESE PACKAGES DO NOT MATCH THE HASHES FROM THE REQUIREMENTS FILE');
    expect(message).toContain(`Expected sha256 ${'0'.repeat(64)}`);
    expect(message).toContain('Got        4721f391ed90541fddacab5acf947aa0d3dc7d27b2e1e8eda2be8970586c3274');
    expect(message.split('\n').at(-1)).toBe('The half-built environment was removed and the live one left as it was; fix the cause and retry with: npx driftgate setup');
    expect(linkTarget(spec)).toBe(live.venvDir);
    expect(builds(spec)).toEqual([path.basename(live.venvDir)]);
    expect(await moduleFile(live.python, 'six')).toBe(path.join(live.venvDir, 'lib', 'python3.11', 'site-packages', 'six.py'));

    // An index that cannot be reached: pip's configuration replaced by a dead address, no retries.
    const saved = { ...process.env };
    Object.assign(process.env, { PIP_CONFIG_FILE: '/dev/null', PIP_INDEX_URL: 'http://127.0.0.1:9/simple', PIP_FIND_LINKS: '', PIP_RETRIES: '0' });
    writeFileSync(spec.requirements, IDNA);
    const offline = await ensurePythonEnv(spec).catch((e: unknown) => e);
    process.env = saved;
    expect((offline as DriftgateError).code).toBe('BOOTSTRAP_FAILED');
    expect((offline as DriftgateError).message.split('\n').slice(-3)).toEqual([
      'ERROR: No matching distribution found for idna==3.20',
      "pip found no file for a pin: is the package index (pip's own configuration) reachable, and does the pin exist there?",
      'The half-built environment was removed and the live one left as it was; fix the cause and retry with: npx driftgate setup',
    ]);
    expect(linkTarget(spec)).toBe(live.venvDir);
    expect(builds(spec)).toEqual([path.basename(live.venvDir)]);
  }, 90_000);

  it('a build killed half-way is removed by the next one; the live link is untouched until then', async () => {
    const spec = probe();
    writeFileSync(spec.requirements, '# none\n');
    const live = await ensurePythonEnv(spec);
    // What kill -9 during pip install leaves: a build folder without the marker.
    const half = `${spec.venvDir}-${'a'.repeat(12)}-deadbeef`;
    mkdirSync(path.join(half, 'lib', 'python3.11', 'site-packages'), { recursive: true });
    expect((await ensurePythonEnv(spec)).rebuilt).toBe(false);
    expect(existsSync(half)).toBe(true);

    writeFileSync(spec.requirements, SIX);
    const lines: string[] = [];
    const next = await ensurePythonEnv(spec, { log: (l) => lines.push(l) });
    expect(lines[0]).toBe(`[setup] removing the unfinished build ${half} (a build that was stopped half-way)`);
    expect(existsSync(half)).toBe(false);
    expect(builds(spec)).toEqual([live, next].map((r) => path.basename(r.venvDir)).sort());
  }, 60_000);

  it('moves an old-layout environment aside (a process running from it keeps running) and links the new build', async () => {
    const spec = probe();
    writeFileSync(spec.requirements, SIX);
    // The old layout: the venv itself at venvDir, with the old marker.
    await runChild('python3.11', ['-m', 'venv', spec.venvDir]);
    writeFileSync(path.join(spec.venvDir, '.driftgate-pins'), 'an-old-hash\n');
    const running = execa(venvPython(spec.venvDir), ['-c', 'import sys; sys.stdin.readline()'], { stdin: 'pipe', reject: false });
    try {
      const lines: string[] = [];
      const result = await ensurePythonEnv(spec, { log: (l) => lines.push(l) });
      expect(result.rebuilt).toBe(true);
      expect(linkTarget(spec)).toBe(result.venvDir);
      const aside = lines.map((l) => /^\[setup\] moved the old-layout environment (.+) aside to (.+); restart what still runs from it$/.exec(l)).find(Boolean);
      expect(aside?.[1]).toBe(spec.venvDir);
      expect(aside?.[2]).toMatch(new RegExp(`^${spec.venvDir}-legacy-\\d+$`));
      expect(existsSync(venvPython(aside![2]!))).toBe(true);
      expect(isRunning(running.pid)).toBe(true);
      expect(builds(spec)).toEqual([path.basename(aside![2]!), path.basename(result.venvDir)].sort());
    } finally {
      running.stdin.end('\n');
      await running;
    }
  }, 60_000);
});
