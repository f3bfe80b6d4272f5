/**
 * Run Airflow's own CLI from the pinned environment: migrate the metadata DB once, check that the DAG
 * folder imports, and run a DAG end to end with `airflow dags test` (every task in-process, states and
 * XComs in the SQLite DB, which is then read back).
 */
import { createWriteStream, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { ChildProcessError, DriftgateError, tail } from '../errors.js';
import { runChild } from '../process/run.js';
import { PROJECT_ROOT } from '../project.js';
import { ENVIRONMENTS, ensurePythonEnv } from '../python/bootstrap.js';
import { airflowBin, airflowDb, airflowEnv, type AirflowPaths } from './airflow-env.js';

type Log = (line: string) => void;

const MIGRATED_MARKER = '.driftgate-migrated';

export interface ImportCheck {
  dag_ids: string[];
  import_errors: { file: string; error: string }[];
}

export interface TaskState {
  task_id: string;
  state: string | null;
  try_number: number;
}

export interface DagRunReport {
  dag_id: string;
  run_id: string;
  state: string;
  tasks: TaskState[];
  /** Each task's return_value XCom; a bash task's JSON line is parsed, anything else kept as text. */
  xcom: Record<string, unknown>;
  /** Airflow's full output of the run. */
  log_file: string;
}

/** The pinned Airflow environment, built on first use; returns the environment's hash. */
export async function ensureAirflow(log: Log): Promise<string> {
  return (await ensurePythonEnv(ENVIRONMENTS.airflow, { log })).hash;
}

/**
 * `airflow db migrate` when this AIRFLOW_HOME has no DB yet or was migrated by other pins. Re-running
 * it is harmless but costs 6-10 s, hence the marker.
 */
export async function ensureMigrated(paths: AirflowPaths, log: Log): Promise<void> {
  const hash = await ensureAirflow(log);
  const marker = path.join(paths.home, MIGRATED_MARKER);
  if (existsSync(airflowDb(paths.home)) && existsSync(marker) && readFileSync(marker, 'utf8').trim() === hash) return;
  mkdirSync(paths.home, { recursive: true });
  mkdirSync(paths.dagsFolder, { recursive: true });
  log(`[airflow] migrating the metadata DB in ${paths.home}`);
  await runChild(airflowBin(), ['db', 'migrate'], { env: airflowEnv(paths), inherit: ['airflow'], cwd: PROJECT_ROOT, timeoutMs: 300_000, label: 'airflow db migrate' });
  writeFileSync(marker, `${hash}\n`);
}

const DAGBAG_CHECK = `
import json, sys
from airflow.dag_processing.dagbag import DagBag
bag = DagBag(dag_folder=sys.argv[1])
errors = [{"file": f, "error": e} for f, e in sorted(bag.import_errors.items())]
print(json.dumps({"dag_ids": sorted(bag.dag_ids), "import_errors": errors}))
`;

/** Parse every file in the DAG folder the way the dag-processor does (DagBag; no DB needed). */
export async function checkImports(paths: AirflowPaths, log: Log): Promise<ImportCheck> {
  await ensureAirflow(log);
  const { stdout } = await runChild(airflowBin('python'), ['-c', DAGBAG_CHECK, paths.dagsFolder], {
    // Airflow prints a graphviz UserWarning on stdout; keep the output to DagBag's logs and our line.
    env: { ...airflowEnv(paths), PYTHONWARNINGS: 'ignore' },
    inherit: ['airflow'],
    cwd: PROJECT_ROOT,
    timeoutMs: 300_000,
    label: 'DagBag import check',
  });
  // DagBag logs to stdout too; the JSON is the last line.
  return JSON.parse(stdout.trimEnd().split('\n').at(-1) ?? '') as ImportCheck;
}

function latestRunId(db: DatabaseSync, dagId: string): number {
  const row = db.prepare('SELECT max(id) AS id FROM dag_run WHERE dag_id = ?').get(dagId) as { id: number | null } | undefined;
  return row?.id ?? 0;
}

function openDb(paths: AirflowPaths): DatabaseSync {
  return new DatabaseSync(airflowDb(paths.home), { readOnly: true });
}

function parseXcom(value: string): unknown {
  // The column holds JSON; a bash task's value is a JSON string that itself holds our JSON line.
  const outer: unknown = JSON.parse(value);
  if (typeof outer !== 'string') return outer;
  try {
    return JSON.parse(outer) as unknown;
  } catch {
    return outer;
  }
}

/** States and return values of a run, straight from the SQLite metadata DB (read-only, ~10 ms). */
export function readDagRun(paths: AirflowPaths, dagId: string, afterId = 0): Omit<DagRunReport, 'log_file'> | null {
  const db = openDb(paths);
  try {
    const run = db.prepare('SELECT id, run_id, state FROM dag_run WHERE dag_id = ? AND id > ? ORDER BY id DESC LIMIT 1').get(dagId, afterId) as
      | { id: number; run_id: string; state: string }
      | undefined;
    if (!run) return null;
    const tasks = db
      .prepare('SELECT task_id, state, try_number FROM task_instance WHERE dag_id = ? AND run_id = ? ORDER BY task_id')
      .all(dagId, run.run_id) as unknown as TaskState[];
    const xcoms = db
      .prepare("SELECT task_id, value FROM xcom WHERE dag_id = ? AND run_id = ? AND key = 'return_value' AND map_index = -1 ORDER BY task_id")
      .all(dagId, run.run_id) as { task_id: string; value: string }[];
    const xcom: Record<string, unknown> = {};
    for (const row of xcoms) xcom[row.task_id] = parseXcom(row.value);
    return { dag_id: dagId, run_id: run.run_id, state: run.state, tasks: tasks.map((t) => ({ ...t })), xcom };
  } finally {
    db.close();
  }
}

const SUBPROCESS_LOGGER = ' [airflow.task.hooks.airflow.providers.standard.hooks.subprocess.SubprocessHook]';

/** Turn Airflow's log into a few progress lines: which task runs, what it prints, how the run ends. */
function progressReader(dagId: string, log: Log): (line: string) => void {
  let task = '';
  // DAG ids may contain dots, so the id is matched literally rather than up to the first dot.
  const runningTask = new RegExp(`\\[DAG TEST\\] running task <TaskInstance: ${dagId.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.(\\S+) `);
  return (line) => {
    const running = runningTask.exec(line);
    if (running) {
      task = running[1] ?? '';
      log(`[airflow] running ${task}`);
      return;
    }
    const at = line.lastIndexOf(SUBPROCESS_LOGGER);
    if (at > 0) {
      const message = line.slice(0, at).replace(/^\S+ \[\w+\s*\] /, '').trimEnd();
      if (message !== 'Output:' && !message.startsWith('Tmp dir root location') && !message.startsWith('Running command:')) log(`[airflow] ${task}: ${message}`);
      return;
    }
    const state = /Task instance state updated .* new_state=(\w+)/.exec(line);
    if (state) {
      log(`[airflow] ${task} -> ${state[1]}`);
      return;
    }
    const finished = /DagRun Finished: .*?run_id=([^,]+),.*? state=(\w+)/.exec(line);
    if (finished) log(`[airflow] run ${finished[1]} finished: ${finished[2]}`);
    else if (/Following branch|Skipping tasks/.test(line)) log(`[airflow] ${task}: ${line.replace(/^\S+ \[\w+\s*\] /, '').split(' [airflow.')[0]?.trimEnd()}`);
  };
}

export interface DagsTestOptions {
  /** ISO date; default: now. A run has one whether or not the DAG is scheduled. */
  logicalDate?: string;
  timeoutMs?: number;
  /** Added to the environment of Airflow and so of every task. */
  env?: Record<string, string | undefined>;
  log: Log;
  signal?: AbortSignal;
}

/**
 * `airflow dags test DAG_ID`: one full run of the DAG in this process tree, retries included. The
 * report comes from the DB, so it holds even when the run failed (then `state` says so).
 */
export async function dagsTest(paths: AirflowPaths, dagId: string, options: DagsTestOptions): Promise<DagRunReport> {
  const { log } = options;
  await ensureMigrated(paths, log);
  const logDir = path.join(paths.home, 'driftgate-runs');
  mkdirSync(logDir, { recursive: true });
  const logFile = path.join(logDir, `${dagId}-${new Date().toISOString().replace(/[:.]/g, '-')}.log`);
  const out = createWriteStream(logFile);
  const before = (() => {
    const db = openDb(paths);
    try {
      return latestRunId(db, dagId);
    } finally {
      db.close();
    }
  })();
  const progress = progressReader(dagId, log);
  const onLine = (line: string): void => {
    out.write(`${line}\n`);
    progress(line);
  };
  let failure: unknown = null;
  const started = Date.now();
  try {
    await runChild(airflowBin(), ['dags', 'test', dagId, ...(options.logicalDate ? [options.logicalDate] : [])], {
      env: { ...options.env, ...airflowEnv(paths) },
      inherit: ['airflow'],
      cwd: PROJECT_ROOT,
      timeoutMs: options.timeoutMs ?? 3_600_000,
      killAfterMs: 15_000,
      signal: options.signal,
      label: `airflow dags test ${dagId}`,
      onStdoutLine: onLine,
      onStderrLine: onLine,
    });
  } catch (error) {
    // A failed run exits 1; the DB says which task failed. Anything else (a timeout) is reported below.
    failure = error;
  } finally {
    await new Promise<void>((resolve) => out.end(resolve));
  }
  const run = readDagRun(paths, dagId, before);
  if (!run) {
    const detail = failure instanceof ChildProcessError ? failure.message : tail(readFileSync(logFile, 'utf8'), 15);
    throw new DriftgateError('CHILD_FAILED', `airflow dags test ${dagId} created no DAG run (is "${dagId}" in ${paths.dagsFolder}?): ${detail}\nFull log: ${logFile}`, { cause: failure });
  }
  if (failure instanceof ChildProcessError && (failure.timedOut || failure.signal)) {
    throw new DriftgateError('CHILD_FAILED', `${failure.message}\nFull log: ${logFile}`, { cause: failure });
  }
  log(`[airflow] ${dagId} run ${run.run_id}: ${run.state} in ${Math.round((Date.now() - started) / 1000)} s`);
  return { ...run, log_file: logFile };
}
