/**
 * Real Airflow, no scheduler: the generated DAGs parse in DagBag with zero import errors, have the
 * shape the config asks for, and their tasks — rendered by Airflow's own Templater and run through
 * BashOperator's SubprocessHook — hand the CLI exactly the configured values, however hostile.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { airflowEnv, generateDags } from '../../src/airflow/index.js';
import { loadConfig } from '../../src/config/index.js';
import { runChild } from '../../src/process/run.js';
import { PROJECT_ROOT } from '../../src/project.js';
import { ENVIRONMENTS, venvPython } from '../../src/python/bootstrap.js';
import { lastJson, runCli } from '../helpers/cli.js';
import { tempDir, writeConfig } from '../helpers/config.js';
import { CORPUS, CORPUS_NAME } from './corpus.js';

const FIXTURES = path.join(PROJECT_ROOT, 'test', 'airflow', 'fixtures');

interface TaskInfo {
  type: string;
  upstream: string[];
  downstream: string[];
  retries: number;
  retry_delay_s: number;
  bash_command?: string;
  env?: Record<string, { literal?: string; template?: string }>;
  cwd?: { literal?: string };
  append_env?: boolean;
}

interface Inspection {
  import_errors: Record<string, string>;
  dags: Record<string, { schedule: string | null; max_active_runs: number; catchup: boolean; tags: string[]; tasks: Record<string, TaskInfo> }>;
  runs: { rendered_env: Record<string, string>; rendered_cwd: string; exit_code: number; last_line: string }[];
}

interface RunSpec {
  dag_id: string;
  task_id: string;
  run_id: string;
  xcom: Record<string, string>;
  write_before?: string;
  env?: Record<string, string>;
}

async function inspect(dagsFolder: string, runs: RunSpec[], recordFile: string): Promise<Inspection> {
  const specFile = path.join(path.dirname(recordFile), 'inspect-spec.json');
  writeFileSync(specFile, JSON.stringify({ dags_folder: dagsFolder, record_cli: path.join(FIXTURES, 'record_cli.py'), runs }));
  const { stdout } = await runChild(venvPython(ENVIRONMENTS.airflow.venvDir), [path.join(FIXTURES, 'inspect_dags.py'), specFile], {
    env: { ...airflowEnv({ home: path.join(path.dirname(recordFile), 'airflow-home'), dagsFolder }), DRIFTGATE_TEST_RECORD: recordFile },
    timeoutMs: 120_000,
  });
  return JSON.parse(stdout.trimEnd().split('\n').at(-1) ?? '') as Inspection;
}

function records(file: string): { argv: string[]; cwd: string }[] {
  return existsSync(file)
    ? readFileSync(file, 'utf8')
        .trimEnd()
        .split('\n')
        .map((line) => JSON.parse(line) as { argv: string[]; cwd: string })
    : [];
}

describe('generated DAGs in Airflow (DagBag)', () => {
  it('the default config gives two DAGs that import cleanly (driftgate airflow check)', async () => {
    const dir = tempDir();
    const config = writeConfig(dir);
    const dags = path.join(dir, 'dags');
    const { exitCode, stdout, stderr } = await runCli(['airflow', 'check', '--config', config, '--dags', dags, '--airflow-home', path.join(dir, 'home'), '--json']);
    expect(stderr).not.toContain('Traceback');
    expect(exitCode).toBe(0);
    expect(lastJson(stdout)).toEqual({ dag_ids: ['driftgate_ab', 'driftgate_monitor'], import_errors: [] });
  });

  it('a broken file in the folder is reported with its error and exit 1', async () => {
    const dir = tempDir();
    const dags = path.join(dir, 'dags');
    mkdirSync(dags);
    writeFileSync(path.join(dags, 'broken.py'), 'from airflow.sdk import DAG\nDAG(dag_id="broken"\n');
    const { exitCode, stdout, stderr } = await runCli(['airflow', 'check', '--config', writeConfig(dir), '--dags', dags, '--airflow-home', path.join(dir, 'home')]);
    expect(exitCode).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toContain(`\ndriftgate: 1 DAG file(s) in ${dags} fail to import:\n${path.join(dags, 'broken.py')}:\nTraceback (most recent call last):\n`);
    expect(stderr).toMatch(/SyntaxError: '\(' was never closed\n$/);
  });

  describe('with hostile strings in every config value that reaches a DAG', () => {
    const root = tempDir();
    // The folder holds the whole corpus, so every path below (config file included) carries it.
    const dir = path.join(root, CORPUS_NAME);
    const configName = `driftgate ${CORPUS.quotes}.yaml`;
    const names = {
      reference: `ref ${CORPUS.command}.csv`,
      current: `cur ${CORPUS.tripleQuotes} ${CORPUS.backslash}.csv`,
      log: `log ${CORPUS.semicolon} ${CORPUS.unicode} ${CORPUS.jinja}.csv`,
    };
    const expected = {
      config: path.join(dir, configName),
      reference: path.join(dir, names.reference),
      current: path.join(dir, names.current),
      log: path.join(dir, names.log),
    };
    const runId = `manual__${CORPUS.jinja} ${CORPUS.command} ${CORPUS.quotes}`;
    const reportDir = path.join(dir, 'reports', `{{ run_id }} <&> ${CORPUS.command} ${CORPUS.newline}`);
    const dags = path.join(root, 'dags');
    const recordFile = path.join(root, 'record.jsonl');
    let result: Inspection;

    beforeAll(async () => {
      mkdirSync(dir, { recursive: true });
      // Relative paths, resolved against the config's folder, as users write them.
      writeConfig(
        dir,
        {
          dataset: { reference: names.reference, current: names.current },
          router: { log_path: names.log },
          airflow: { retries: 4, retry_delay_s: 2.5, schedule: '0 */6 * * *', ab_schedule: 'none' },
          // The performance check is in the DAG only with performance.max_drop.
          performance: { max_drop: 0.05 },
        },
        configName,
      );
      generateDags(loadConfig(expected.config, {}), dags);
      const xcom = { 'branch_on_drift:drift_report_dir': reportDir, 'branch_on_drift:trigger': 'performance' };
      const run = (dagId: string, taskId: string, extra: Partial<RunSpec> = {}): RunSpec => ({ dag_id: dagId, task_id: taskId, run_id: runId, xcom, ...extra });
      result = await inspect(
        dags,
        [
          run('driftgate_monitor', 'check_drift'),
          run('driftgate_monitor', 'check_drift', { write_before: expected.log }),
          run('driftgate_monitor', 'check_drift', { env: { DRIFTGATE_LOG_PATH: path.join(root, 'no-such-log.csv') } }),
          run('driftgate_monitor', 'check_drift', { env: { DRIFTGATE_LOG_PATH: path.join(root, 'no-such-log.csv'), DRIFTGATE_DAG_CURRENT: '' } }),
          run('driftgate_monitor', 'retrain'),
          run('driftgate_monitor', 'start_ab'),
          run('driftgate_ab', 'ab_evaluate'),
          // One log per router replica: a glob counts once any file matches.
          run('driftgate_monitor', 'check_drift', { write_before: path.join(root, 'replica-1.csv'), env: { DRIFTGATE_LOG_PATH: path.join(root, 'replica-*.csv') } }),
          // No log yet: no verdict, and the run goes on; with the log, driftgate performance.
          run('driftgate_monitor', 'check_performance', { env: { DRIFTGATE_LOG_PATH: path.join(root, 'no-such-log.csv') } }),
          run('driftgate_monitor', 'check_performance'),
        ],
        recordFile,
      );
    }, 180_000);

    it('imports with zero errors and the shape the config asks for', () => {
      expect(result.import_errors).toEqual({});
      expect(Object.keys(result.dags)).toEqual(['driftgate_ab', 'driftgate_monitor']);
      const monitor = result.dags.driftgate_monitor!;
      expect({ ...monitor, tasks: undefined }).toEqual({ schedule: '0 */6 * * *', max_active_runs: 1, catchup: false, tags: ['driftgate'], fileloc: path.join(dags, 'driftgate_monitor.py'), tasks: undefined });
      const edges = Object.fromEntries(Object.entries(monitor.tasks).map(([id, t]) => [id, [t.type, t.downstream, t.retries, t.retry_delay_s]]));
      expect(edges).toEqual({
        check_drift: ['BashOperator', ['branch_on_drift'], 4, 2.5],
        check_performance: ['BashOperator', ['branch_on_drift'], 4, 2.5],
        branch_on_drift: ['_BranchPythonDecoratedOperator', ['no_drift', 'retrain'], 4, 2.5],
        retrain: ['BashOperator', ['start_ab'], 4, 2.5],
        start_ab: ['BashOperator', [], 4, 2.5],
        no_drift: ['EmptyOperator', [], 4, 2.5],
      });
      const ab = result.dags.driftgate_ab!;
      expect(ab.schedule).toBeNull();
      expect(ab.max_active_runs).toBe(1);
      expect(Object.fromEntries(Object.entries(ab.tasks).map(([id, t]) => [id, [t.type, t.downstream]]))).toEqual({
        ab_evaluate: ['BashOperator', ['branch_on_decision']],
        branch_on_decision: ['_BranchPythonDecoratedOperator', ['promoted', 'rejected', 'rolled_back', 'wait_for_data']],
        promoted: ['EmptyOperator', []],
        rejected: ['EmptyOperator', []],
        rolled_back: ['EmptyOperator', []],
        wait_for_data: ['EmptyOperator', []],
      });
    });

    it('holds every config value as a literal Jinja leaves alone; only run_id and the XCom are templates', () => {
      const retrain = result.dags.driftgate_monitor!.tasks.retrain!;
      expect(retrain.append_env).toBe(true);
      expect(retrain.cwd).toEqual({ literal: PROJECT_ROOT });
      expect(retrain.env).toEqual({
        DRIFTGATE_DAG_NODE: { literal: path.join(PROJECT_ROOT, 'node_modules', '.bin', 'node') },
        DRIFTGATE_DAG_CLI: { literal: path.join(PROJECT_ROOT, 'bin', 'driftgate.js') },
        DRIFTGATE_DAG_CONFIG: { literal: expected.config },
        DRIFTGATE_DAG_REFERENCE: { literal: expected.reference },
        DRIFTGATE_DAG_CURRENT: { literal: expected.current },
        DRIFTGATE_DAG_LOG_PATH: { literal: expected.log },
        DRIFTGATE_DAG_RUN_ID: { template: '{{ run_id }}' },
        DRIFTGATE_DAG_DRIFT_REPORT: { template: "{{ ti.xcom_pull(task_ids='branch_on_drift', key='drift_report_dir') }}" },
        DRIFTGATE_DAG_TRIGGER: { template: "{{ ti.xcom_pull(task_ids='branch_on_drift', key='trigger') }}" },
      });
      // Rendered by the task's own Templater: literals come out unchanged, the two templates filled in verbatim.
      expect(result.runs[4]?.rendered_env).toMatchObject({
        DRIFTGATE_DAG_CONFIG: expected.config,
        DRIFTGATE_DAG_LOG_PATH: expected.log,
        DRIFTGATE_DAG_RUN_ID: runId,
        DRIFTGATE_DAG_DRIFT_REPORT: reportDir,
        DRIFTGATE_DAG_TRIGGER: 'performance',
      });
      expect(result.runs[4]?.rendered_cwd).toBe(PROJECT_ROOT);
    });

    it('runs the CLI with exactly those values, and the JSON result is the line XCom gets', () => {
      const cli = (...args: string[]): { argv: string[]; cwd: string } => ({ argv: [...args, '--config', expected.config, '--json'], cwd: PROJECT_ROOT });
      expect(records(recordFile)).toEqual([
        cli('drift', '--reference', expected.reference, '--current', expected.current),
        // Once the router log exists, drift runs on live traffic.
        cli('drift', '--reference', expected.reference, '--current', 'log'),
        // DRIFTGATE_LOG_PATH in the worker's environment wins, as it does in the CLI.
        cli('drift', '--reference', expected.reference, '--current', expected.current),
        cli('train', '--trigger', 'performance', '--run-id', runId, '--drift-report', reportDir),
        cli('ab', 'start'),
        cli('ab', 'evaluate', '--apply'),
        cli('drift', '--reference', expected.reference, '--current', 'log'),
        cli('performance'),
      ]);
      const ok = { exit_code: 0, last_line: '{"recorded": 8}' };
      expect(result.runs.map((r) => ({ exit_code: r.exit_code, last_line: r.last_line }))).toEqual([
        ok,
        ok,
        ok,
        // No log and no dataset.current: exit 99, which Airflow marks skipped.
        { exit_code: 99, last_line: `no current data to check: no router log matches ${path.join(root, 'no-such-log.csv')} and dataset.current is not set` },
        { exit_code: 0, last_line: '{"recorded": 10}' },
        { exit_code: 0, last_line: '{"recorded": 5}' },
        { exit_code: 0, last_line: '{"recorded": 6}' },
        ok,
        { exit_code: 0, last_line: '{"verdict":null,"unavailable":"no router log"}' },
        { exit_code: 0, last_line: '{"recorded": 4}' },
      ]);
    });

    it('executes nothing from the values', () => {
      for (const where of [PROJECT_ROOT, root, dir, path.join(dir, 'reports')]) {
        expect(existsSync(path.join(where, 'PWNED'))).toBe(false);
        expect(existsSync(path.join(where, 'pwned-marker'))).toBe(false);
      }
    });
  });
});
