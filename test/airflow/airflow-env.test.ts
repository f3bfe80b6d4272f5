import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { airflowEnv, pathWithAirflow, shellExports } from '../../src/airflow/index.js';
import { runChild } from '../../src/process/run.js';
import { ENVIRONMENTS } from '../../src/python/bootstrap.js';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/config.js';
import { CORPUS_NAME } from './corpus.js';

describe('Airflow environment', () => {
  it('is SQLite + LocalExecutor under the given home, with the given DAG folder and no examples', () => {
    expect(airflowEnv({ home: '/s/airflow', dagsFolder: '/r/dags' })).toEqual({
      AIRFLOW_HOME: '/s/airflow',
      AIRFLOW__CORE__DAGS_FOLDER: '/r/dags',
      AIRFLOW__CORE__LOAD_EXAMPLES: 'False',
      AIRFLOW__CORE__EXECUTOR: 'LocalExecutor',
      AIRFLOW__DATABASE__SQL_ALCHEMY_CONN: 'sqlite:////s/airflow/airflow.db',
    });
    expect(pathWithAirflow({ PATH: '/usr/bin:/bin' })).toBe(`${path.join(ENVIRONMENTS.airflow.venvDir, 'bin')}:/usr/bin:/bin`);
  });

  it('prints shell exports that give back exactly the values, however hostile', async () => {
    const env = { A: CORPUS_NAME, B: "it's", C: '' };
    const { stdout } = await runChild('bash', ['-c', `${shellExports(env)}\nprintf '%s\\0' "$A" "$B" "$C"`]);
    expect(stdout.split('\0').slice(0, 3)).toEqual([CORPUS_NAME, "it's", '']);
  });

  it('driftgate airflow env prints them for the configured folders; an unknown action exits 2', async () => {
    const dir = tempDir();
    const env = await runCli(['airflow', 'env', '--airflow-home', path.join(dir, 'home'), '--dags', path.join(dir, 'dags')]);
    expect(env.exitCode).toBe(0);
    expect(env.stdout.split('\n').slice(0, 2)).toEqual([`export AIRFLOW_HOME='${path.join(dir, 'home')}'`, `export AIRFLOW__CORE__DAGS_FOLDER='${path.join(dir, 'dags')}'`]);
    const bad = await runCli(['airflow', 'fly']);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toBe('driftgate: airflow: expected check, dags-test, standalone, env, up, down, status or trigger, got "fly"\n');
  });
});
