import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateDags, GENERATED_HEADER } from '../../src/airflow/index.js';
import { DEPLOYMENT_PREFIX } from '../../src/airflow/render-dag.js';
import { loadConfig } from '../../src/config/index.js';
import { DriftgateError } from '../../src/errors.js';
import { CLI_BIN, NODE_BIN, PROJECT_ROOT } from '../../src/project.js';
import { lastJson, runCli } from '../helpers/cli.js';
import { tempDir, writeConfig } from '../helpers/config.js';
import { thrown as thrownBy } from '../helpers/thrown.js';
import { useTmpfs } from '../helpers/tmpfs.js';

function thrown(fn: () => unknown): DriftgateError {
  const error = thrownBy(fn);
  expect(error).toBeInstanceOf(DriftgateError);
  return error as DriftgateError;
}

/** Bytes and identity of a file: a rewrite with the same bytes still changes the inode (temp + rename). */
function snapshot(file: string): { bytes: string; ino: number; mtimeMs: number } {
  const info = statSync(file);
  return { bytes: readFileSync(file, 'utf8'), ino: info.ino, mtimeMs: info.mtimeMs };
}

describe('generate-dag', () => {
  it('writes both DAGs with the same bytes every time, and says when nothing changed', async () => {
    const dir = tempDir();
    const config = writeConfig(dir, { airflow: { dag_id: 'dg_monitor', ab_dag_id: 'dg_ab', schedule: '*/15 * * * *', retries: 3, retry_delay_s: 7 } });
    const out = path.join(dir, 'dags');
    const first = await runCli(['generate-dag', '--config', config, '--out', out, '--json']);
    expect(first.exitCode).toBe(0);
    const files = [path.join(out, 'dg_monitor.py'), path.join(out, 'dg_ab.py')];
    expect(lastJson(first.stdout)).toEqual({
      out_dir: out,
      config,
      dags: [
        { dag_id: 'dg_monitor', kind: 'monitor', file: files[0] },
        { dag_id: 'dg_ab', kind: 'ab', file: files[1] },
      ],
      written: files,
      unchanged: [],
      removed: [],
      deployment: realpathSync(config),
      legacy: [],
      foreign: [],
    });
    const bytes = files.map((f) => readFileSync(f, 'utf8'));
    const monitor = bytes[0] ?? '';
    expect(monitor.split('\n').slice(0, 2)).toEqual([GENERATED_HEADER, `# driftgate deployment: "${realpathSync(config)}"`]);
    expect(monitor).toContain('\nDAG_ID = "dg_monitor"\nSCHEDULE = "*/15 * * * *"\nRETRIES = 3\nRETRY_DELAY_S = 7\nCATCHUP = False\n');
    expect(monitor).toContain(`    "DRIFTGATE_DAG_NODE": "${NODE_BIN}",\n    "DRIFTGATE_DAG_CLI": "${CLI_BIN}",\n    "DRIFTGATE_DAG_CONFIG": "${config}",\n`);
    expect(monitor).toContain(`    "DRIFTGATE_DAG_REFERENCE": "${path.join(PROJECT_ROOT, 'data', 'iris.csv')}",\n`);
    expect(monitor).toContain('    "| `drift.psi_threshold` | 0.2 |\\n"\n');

    // The deployment environment of the shell that generates does not leak into the files.
    const again = await runCli(['generate-dag', '--config', config, '--out', out, '--json'], { env: { DRIFTGATE_LOG_PATH: '/elsewhere.csv', MLFLOW_TRACKING_URI: 'http://10.0.0.1:5000' } });
    expect(again.exitCode).toBe(0);
    expect(lastJson(again.stdout)).toMatchObject({ written: [], unchanged: files, removed: [] });
    expect(files.map((f) => readFileSync(f, 'utf8'))).toEqual(bytes);
  });

  it('deletes generated files the config no longer produces, and only those', () => {
    const dir = tempDir();
    const out = path.join(dir, 'dags');
    mkdirSync(out);
    const foreign = path.join(out, 'someone_elses.py');
    writeFileSync(foreign, '# a hand-written DAG\nfrom airflow.sdk import DAG\n');
    const first = generateDags(loadConfig(writeConfig(dir, { airflow: { dag_id: 'old_monitor' } }), {}), out);
    expect(first.written).toEqual([path.join(out, 'old_monitor.py'), path.join(out, 'driftgate_ab.py')]);

    const second = generateDags(loadConfig(writeConfig(dir, { airflow: { dag_id: 'new_monitor' } }), {}), out);
    expect(second.removed).toEqual([path.join(out, 'old_monitor.py')]);
    expect(second.written).toEqual([path.join(out, 'new_monitor.py')]);
    expect(second.unchanged).toEqual([path.join(out, 'driftgate_ab.py')]);
    expect(existsSync(path.join(out, 'old_monitor.py'))).toBe(false);
    expect(readFileSync(foreign, 'utf8')).toBe('# a hand-written DAG\nfrom airflow.sdk import DAG\n');
  });

  it('refuses to overwrite a file it did not write', () => {
    const dir = tempDir();
    const out = path.join(dir, 'dags');
    mkdirSync(out);
    writeFileSync(path.join(out, 'driftgate_ab.py'), 'print("mine")\n');
    const error = (() => {
      try {
        generateDags(loadConfig(writeConfig(dir), {}), out);
        return null;
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(DriftgateError);
    expect((error as DriftgateError).exitCode).toBe(2);
    expect((error as DriftgateError).message).toBe(
      `${path.join(out, 'driftgate_ab.py')} exists and was not written by driftgate generate-dag (its first line is not "${GENERATED_HEADER}"); move it away or pick another airflow.dag_id`,
    );
    expect(readFileSync(path.join(out, 'driftgate_ab.py'), 'utf8')).toBe('print("mine")\n');
  });

  it.each([
    [{ schedule: 'every hour' }, 'airflow.schedule: expected a cron expression with 5 fields, one of @once, @continuous, @hourly, @daily, @weekly, @monthly, @quarterly, @yearly, or none; got "every hour"'],
    [{ ab_schedule: '0 * * * *; rm -rf /' }, 'airflow.ab_schedule: expected a cron expression with 5 fields, one of @once, @continuous, @hourly, @daily, @weekly, @monthly, @quarterly, @yearly, or none; got "0 * * * *; rm -rf /"'],
    [{ ab_dag_id: 'driftgate_monitor' }, 'airflow.ab_dag_id: expected a DAG id different from airflow.dag_id, got "driftgate_monitor" for both'],
  ])('a bad airflow section %j exits 2 with one line naming the key', async (airflow, message) => {
    const dir = tempDir();
    const config = writeConfig(dir, { airflow });
    const { exitCode, stdout, stderr } = await runCli(['generate-dag', '--config', config, '--out', path.join(dir, 'dags')]);
    expect(exitCode).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toBe(`driftgate: ${config}: ${message}\n`);
    expect(existsSync(path.join(dir, 'dags'))).toBe(false);
  });

  it('takes none for manual-only DAGs', () => {
    const dir = tempDir();
    const result = generateDags(loadConfig(writeConfig(dir, { airflow: { schedule: 'none', ab_schedule: '@daily' } }), {}), path.join(dir, 'dags'));
    expect(readFileSync(result.dags[0]?.file ?? '', 'utf8')).toContain('\nSCHEDULE = None\n');
    expect(readFileSync(result.dags[1]?.file ?? '', 'utf8')).toContain('\nSCHEDULE = "@daily"\n');
  });
});

describe('generate-dag in a DAG folder shared by several deployments', () => {
  // Two deployments: two config files in two project folders, one Airflow DAG folder.
  function twoDeployments(): { out: string; iris: string; wine: string; irisId: string; wineId: string } {
    const out = path.join(tempDir(), 'dags');
    const iris = writeConfig(tempDir('driftgate-iris-'), { airflow: { dag_id: 'iris_monitor', ab_dag_id: 'iris_ab' } });
    const wine = writeConfig(tempDir('driftgate-wine-'), { airflow: { dag_id: 'wine_monitor', ab_dag_id: 'wine_ab' } });
    return { out, iris, wine, irisId: realpathSync(iris), wineId: realpathSync(wine) };
  }

  it('never deletes or rewrites the files of the other deployment, and reports them', () => {
    const { out, iris, wine, irisId, wineId } = twoDeployments();
    const irisFiles = [path.join(out, 'iris_monitor.py'), path.join(out, 'iris_ab.py')];
    const wineFiles = [path.join(out, 'wine_monitor.py'), path.join(out, 'wine_ab.py')];
    expect(generateDags(loadConfig(iris, {}), out).written).toEqual(irisFiles);
    const irisBefore = irisFiles.map(snapshot);

    const first = generateDags(loadConfig(wine, {}), out);
    expect(first).toMatchObject({ deployment: wineId, written: wineFiles, unchanged: [], removed: [], legacy: [] });
    expect(first.foreign).toEqual([
      { file: irisFiles[1], deployment: irisId },
      { file: irisFiles[0], deployment: irisId },
    ]);
    expect(irisFiles.map(snapshot)).toEqual(irisBefore);
    expect(readFileSync(wineFiles[0] ?? '', 'utf8').split('\n')[1]).toBe(`${DEPLOYMENT_PREFIX}${JSON.stringify(wineId)}`);

    // Each side regenerating keeps the other's files, byte for byte and inode for inode.
    const wineBefore = wineFiles.map(snapshot);
    expect(generateDags(loadConfig(iris, {}), out)).toMatchObject({ written: [], unchanged: irisFiles, removed: [] });
    expect(generateDags(loadConfig(wine, {}), out)).toMatchObject({ written: [], unchanged: wineFiles, removed: [] });
    expect(irisFiles.map(snapshot)).toEqual(irisBefore);
    expect(wineFiles.map(snapshot)).toEqual(wineBefore);
    expect(readdirSync(out).sort()).toEqual(['iris_ab.py', 'iris_monitor.py', 'wine_ab.py', 'wine_monitor.py']);
  });

  it('a renamed dag_id still removes its own stale file, and only that one', () => {
    const { out, iris, wine } = twoDeployments();
    generateDags(loadConfig(iris, {}), out);
    generateDags(loadConfig(wine, {}), out);
    const wineBefore = ['wine_monitor.py', 'wine_ab.py'].map((name) => snapshot(path.join(out, name)));

    const renamed = writeConfig(path.dirname(iris), { airflow: { dag_id: 'iris_monitor_v2', ab_dag_id: 'iris_ab' } });
    expect(renamed).toBe(iris);
    const result = generateDags(loadConfig(renamed, {}), out);
    expect(result).toMatchObject({
      written: [path.join(out, 'iris_monitor_v2.py')],
      unchanged: [path.join(out, 'iris_ab.py')],
      removed: [path.join(out, 'iris_monitor.py')],
      legacy: [],
    });
    expect(readdirSync(out).sort()).toEqual(['iris_ab.py', 'iris_monitor_v2.py', 'wine_ab.py', 'wine_monitor.py']);
    expect(['wine_monitor.py', 'wine_ab.py'].map((name) => snapshot(path.join(out, name)))).toEqual(wineBefore);
  });

  it('refuses a DAG whose file name is another deployment\'s file, before writing anything', async () => {
    const { out, iris, irisId } = twoDeployments();
    generateDags(loadConfig(iris, {}), out);
    const before = snapshot(path.join(out, 'iris_ab.py'));
    const clash = writeConfig(tempDir('driftgate-clash-'), { airflow: { dag_id: 'clash_monitor', ab_dag_id: 'iris_ab' } });
    const message = `${path.join(out, 'iris_ab.py')} belongs to another driftgate deployment (config ${irisId}), not this one (config ${realpathSync(clash)}); pick another airflow.ab_dag_id, or delete the file if that deployment was moved or removed`;

    const error = thrown(() => generateDags(loadConfig(clash, {}), out));
    expect(error.exitCode).toBe(2);
    expect(error.message).toBe(message);
    expect(snapshot(path.join(out, 'iris_ab.py'))).toEqual(before);
    // The monitor DAG, which collides with nothing, was not written either: a refusal changes nothing.
    expect(readdirSync(out).sort()).toEqual(['iris_ab.py', 'iris_monitor.py']);

    const cli = await runCli(['generate-dag', '--config', clash, '--out', out, '--json']);
    expect(cli).toEqual({ exitCode: 2, stdout: '', stderr: `driftgate: ${message}\n` });
  });

  it('the same config through a symlink is the same deployment; a copy elsewhere (a moved project) is not', () => {
    const { out, iris, irisId } = twoDeployments();
    generateDags(loadConfig(iris, {}), out);
    const link = path.join(tempDir(), 'linked.yaml');
    symlinkSync(iris, link);
    // Rewritten (the files name the config path it was given), not refused: it is the same deployment.
    expect(generateDags(loadConfig(link, {}), out)).toMatchObject({
      deployment: irisId,
      written: [path.join(out, 'iris_monitor.py'), path.join(out, 'iris_ab.py')],
      removed: [],
      foreign: [],
    });

    const moved = path.join(tempDir('driftgate-moved-'), 'driftgate.yaml');
    writeFileSync(moved, readFileSync(iris));
    expect(thrown(() => generateDags(loadConfig(moved, {}), out)).message).toBe(
      `${path.join(out, 'iris_monitor.py')} belongs to another driftgate deployment (config ${irisId}), not this one (config ${realpathSync(moved)}); pick another airflow.dag_id, or delete the file if that deployment was moved or removed`,
    );
  });

  it('leaves files of the older format (no deployment line) alone and reports them, but takes over its own name', () => {
    const dir = tempDir();
    const out = path.join(dir, 'dags');
    const config = writeConfig(dir, { airflow: { dag_id: 'iris_monitor', ab_dag_id: 'iris_ab' } });
    generateDags(loadConfig(config, {}), out);
    // What an older driftgate wrote: the same file without the second line.
    const legacyOf = (file: string): string => readFileSync(file, 'utf8').split('\n').filter((_, i) => i !== 1).join('\n');
    const oldMonitor = legacyOf(path.join(out, 'iris_monitor.py'));
    expect(oldMonitor.split('\n').slice(0, 2)).toEqual([GENERATED_HEADER, '# Do not edit: `npm run generate-dag` rewrites this file from the config and deletes it when the']);
    writeFileSync(path.join(out, 'iris_monitor.py'), oldMonitor);
    writeFileSync(path.join(out, 'old_monitor.py'), oldMonitor);
    const ours = readFileSync(path.join(out, 'iris_ab.py'), 'utf8');

    const result = generateDags(loadConfig(config, {}), out);
    expect(result).toMatchObject({
      written: [path.join(out, 'iris_monitor.py')],
      unchanged: [path.join(out, 'iris_ab.py')],
      removed: [],
      legacy: [path.join(out, 'old_monitor.py')],
      foreign: [],
    });
    expect(readFileSync(path.join(out, 'old_monitor.py'), 'utf8')).toBe(oldMonitor);
    expect(readFileSync(path.join(out, 'iris_monitor.py'), 'utf8').split('\n')[1]).toBe(ours.split('\n')[1]);
  });

  it('keeps a config path with a newline, quotes and emoji on one ASCII header line', () => {
    const dir = path.join(tempDir(), 'we"ird\nname $(x) {{ run_id }} 😀é');
    mkdirSync(dir);
    const config = writeConfig(dir, { airflow: { dag_id: 'odd_monitor', ab_dag_id: 'odd_ab' } });
    const out = path.join(dir, 'dags');
    const first = generateDags(loadConfig(config, {}), out);
    const lines = readFileSync(path.join(out, 'odd_monitor.py'), 'utf8').split('\n');
    const id = realpathSync(config);
    expect(lines[1]).toBe(`${DEPLOYMENT_PREFIX}"${id.replace('"', '\\"').replace('\n', '\\n').replace('😀é', '\\ud83d\\ude00\\u00e9')}"`);
    expect(lines[1]).toMatch(/^[\x20-\x7e]+$/);
    expect(lines.slice(0, 5).every((line) => line.startsWith('# '))).toBe(true);
    expect(lines[5]).toBe('"""Driftgate monitor: check drift, retrain on drift, open the A/B test."""');
    // Read back as the same deployment, and named exactly to another.
    expect(first.deployment).toBe(id);
    expect(generateDags(loadConfig(config, {}), out)).toMatchObject({ written: [], removed: [] });
    const other = generateDags(loadConfig(writeConfig(tempDir(), { airflow: { dag_id: 'b_monitor', ab_dag_id: 'b_ab' } }), {}), out);
    expect(other.foreign).toEqual([
      { file: path.join(out, 'odd_ab.py'), deployment: id },
      { file: path.join(out, 'odd_monitor.py'), deployment: id },
    ]);
  });

  it('skips a dangling symlink in the folder instead of failing on it', () => {
    const dir = tempDir();
    const out = path.join(dir, 'dags');
    mkdirSync(out);
    symlinkSync(path.join(dir, 'gone.py'), path.join(out, 'dangling.py'));
    expect(generateDags(loadConfig(writeConfig(dir), {}), out)).toMatchObject({ removed: [], legacy: [], foreign: [] });
  });
});

// A real read-only mount and a real full disk (tests run as root; chmod would not stop root).
describe.skipIf(process.getuid?.() !== 0)('generate-dag when the DAG folder cannot be written', () => {
  const mount = path.join(tempDir('driftgate-dagfs-'), 'mnt');
  useTmpfs(() => mount, '8k');

  it('a read-only folder: no change still succeeds; a change is one error naming the folder, exit 2', () => {
    const out = path.join(mount, 'ro');
    const dir = tempDir();
    const config = writeConfig(dir, { airflow: { dag_id: 'ro_monitor', ab_dag_id: 'ro_ab' } });
    execFileSync('mount', ['-o', 'remount,size=64k', mount]);
    try {
      generateDags(loadConfig(config, {}), out);
      execFileSync('mount', ['-o', 'remount,ro', mount]);
      expect(generateDags(loadConfig(config, {}), out)).toMatchObject({ written: [], removed: [] });

      const renamed = writeConfig(dir, { airflow: { dag_id: 'ro_monitor_v2', ab_dag_id: 'ro_ab' } });
      const error = thrown(() => generateDags(loadConfig(renamed, {}), out));
      expect(error.exitCode).toBe(2);
      expect(error.code).toBe('UNAVAILABLE');
      expect(error.message.startsWith(`cannot write the DAG folder ${out}: EROFS: read-only file system, `)).toBe(true);
      expect(readdirSync(out).sort()).toEqual(['ro_ab.py', 'ro_monitor.py']);
    } finally {
      // Back to a small, empty, writable disk for the next test (tmpfs cannot shrink below its use).
      execFileSync('mount', ['-o', 'remount,rw', mount]);
      rmSync(out, { recursive: true, force: true });
      execFileSync('mount', ['-o', 'remount,size=8k', mount]);
    }
  });

  it('a full disk: one error naming the folder, exit 1, and no half-written DAG file', () => {
    const out = path.join(mount, 'full');
    const config = writeConfig(tempDir(), { airflow: { dag_id: 'full_monitor', ab_dag_id: 'full_ab' } });
    const error = thrown(() => generateDags(loadConfig(config, {}), out));
    expect(error.exitCode).toBe(1);
    expect(error.message).toBe(`cannot write the DAG folder ${out}: ENOSPC: no space left on device, write`);
    // The monitor file fits in 8k, the A/B file does not: each file is whole or absent.
    const files = readdirSync(out).filter((name) => name.endsWith('.py'));
    expect(files).toEqual(['full_monitor.py']);
    expect(readFileSync(path.join(out, 'full_monitor.py'), 'utf8').endsWith('    retrain >> start_ab\n')).toBe(true);
  });
});
