/**
 * Where Driftgate's Airflow lives and the environment every `airflow` command gets: its own
 * AIRFLOW_HOME under the state folder, SQLite + LocalExecutor, the generated DAGs and no examples.
 */
import path from 'node:path';
import { PROJECT_ROOT, STATE_DIR } from '../project.js';
import { ENVIRONMENTS, liveVenvDir } from '../python/bootstrap.js';

export const DEFAULT_AIRFLOW_HOME = path.join(STATE_DIR, 'airflow');
export const DEFAULT_DAGS_FOLDER = path.join(PROJECT_ROOT, 'dags');

export interface AirflowPaths {
  home: string;
  dagsFolder: string;
}

/** A program of the live Airflow build, by its path in the build folder (not through the link): a process started from it keeps its build when the pins change. */
export function airflowBin(name = 'airflow'): string {
  return path.join(liveVenvDir(ENVIRONMENTS.airflow), 'bin', name);
}

export function airflowDb(home: string): string {
  return path.join(home, 'airflow.db');
}

/** Variables set for every airflow child; they win over the caller's own AIRFLOW__* settings. */
export function airflowEnv(paths: AirflowPaths): Record<string, string> {
  return {
    AIRFLOW_HOME: paths.home,
    AIRFLOW__CORE__DAGS_FOLDER: paths.dagsFolder,
    AIRFLOW__CORE__LOAD_EXAMPLES: 'False',
    AIRFLOW__CORE__EXECUTOR: 'LocalExecutor',
    AIRFLOW__DATABASE__SQL_ALCHEMY_CONN: `sqlite:///${airflowDb(paths.home)}`,
  };
}

/**
 * PATH with the Airflow environment first, for `airflow standalone` (it starts its components as
 * plain `airflow ...` processes) and for people running the airflow CLI by hand. Other commands call
 * the binaries by absolute path and leave PATH alone, so tasks see the caller's PATH.
 */
export function pathWithAirflow(base: Readonly<Record<string, string | undefined>> = process.env, binDir = path.join(ENVIRONMENTS.airflow.venvDir, 'bin')): string {
  // By default through the link: a shell's PATH stays good when a new build replaces this one.
  return [binDir, base.PATH ?? ''].filter(Boolean).join(path.delimiter);
}

/** POSIX shell `export` lines for using the same Airflow by hand (`eval "$(driftgate airflow env)"`). */
export function shellExports(env: Record<string, string>): string {
  const quote = (value: string): string => `'${value.replaceAll("'", `'\\''`)}'`;
  return Object.entries(env)
    .map(([name, value]) => `export ${name}=${quote(value)}`)
    .join('\n');
}
