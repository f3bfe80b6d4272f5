import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateDags, GENERATED_HEADER } from '../../src/airflow/index.js';
import { loadConfig } from '../../src/config/index.js';
import { DriftgateError } from '../../src/errors.js';
import { CLI_BIN, NODE_BIN, PROJECT_ROOT } from '../../src/project.js';
import { lastJson, runCli } from '../helpers/cli.js';
import { tempDir, writeConfig } from '../helpers/config.js';

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
    });
    const bytes = files.map((f) => readFileSync(f, 'utf8'));
    const monitor = bytes[0] ?? '';
    expect(monitor.split('\n')[0]).toBe(GENERATED_HEADER);
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
