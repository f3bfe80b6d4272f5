/**
 * What the generated DAGs are made of, taken from a validated config: ids, schedules, retries, the
 * absolute paths the tasks pass to the CLI, and the thresholds shown in the DAG docs.
 */
import type { Config } from '../config/index.js';
import { ConfigError } from '../errors.js';
import { CLI_BIN, NODE_BIN, PROJECT_ROOT } from '../project.js';
import { parseSchedule } from './schedule.js';

export interface DagSpec {
  /** performance: the monitor also checks the estimated accuracy (performance.max_drop set), else null. */
  monitor: { dagId: string; schedule: string | null; performance: { maxDrop: number } | null };
  ab: { dagId: string; schedule: string | null };
  retries: number;
  retryDelayS: number;
  catchup: boolean;
  /** The tasks' working directory: relative paths in DRIFTGATE_* deployment variables resolve here. */
  projectRoot: string;
  /** Environment of every task, by variable name, in this order. Values are never interpreted. */
  env: {
    DRIFTGATE_DAG_NODE: string;
    DRIFTGATE_DAG_CLI: string;
    DRIFTGATE_DAG_CONFIG: string;
    DRIFTGATE_DAG_REFERENCE: string;
    DRIFTGATE_DAG_CURRENT: string;
    DRIFTGATE_DAG_LOG_PATH: string;
  };
  /** Numbers and enums only (they go into the Markdown docs), as they were when the DAGs were generated. */
  thresholds: Record<string, number | string>;
}

/**
 * Build the spec from a config loaded WITHOUT environment overrides: the DAG files reflect the
 * config file alone, so the same file gives the same bytes, whatever the shell that generated them.
 * Deployment variables (MLFLOW_TRACKING_URI, DRIFTGATE_LOG_PATH, ...) still apply when tasks run.
 */
export function dagSpec(config: Config): DagSpec {
  const { airflow, dataset, drift, training, router, ab, performance, source } = config;
  if (airflow.ab_dag_id === airflow.dag_id) {
    throw new ConfigError(source.file, 'airflow.ab_dag_id', `expected a DAG id different from airflow.dag_id, got ${JSON.stringify(airflow.ab_dag_id)} for both`);
  }
  return {
    monitor: {
      dagId: airflow.dag_id,
      schedule: parseSchedule(airflow.schedule, source.file, 'airflow.schedule'),
      performance: performance.max_drop === null ? null : { maxDrop: performance.max_drop },
    },
    ab: { dagId: airflow.ab_dag_id, schedule: parseSchedule(airflow.ab_schedule, source.file, 'airflow.ab_schedule') },
    retries: airflow.retries,
    retryDelayS: airflow.retry_delay_s,
    catchup: airflow.catchup,
    projectRoot: PROJECT_ROOT,
    env: {
      DRIFTGATE_DAG_NODE: NODE_BIN,
      DRIFTGATE_DAG_CLI: CLI_BIN,
      DRIFTGATE_DAG_CONFIG: source.file,
      DRIFTGATE_DAG_REFERENCE: dataset.reference,
      DRIFTGATE_DAG_CURRENT: dataset.current ?? '',
      DRIFTGATE_DAG_LOG_PATH: router.log_path,
    },
    thresholds: {
      'drift.psi_threshold': drift.psi_threshold,
      'drift.ks_alpha': drift.ks_alpha,
      'drift.rule': drift.rule,
      'drift.share': drift.share,
      'drift.min_rows': drift.min_rows,
      'drift.log_window': drift.log_window,
      'training.min_holdout_accuracy': training.min_holdout_accuracy,
      'router.ab_start_split': router.ab_start_split,
      'router.ab_start_shadow_share': router.ab_start_shadow_share,
      'ab.design': ab.design,
      'ab.alpha': ab.alpha,
      'ab.mode': ab.mode,
      'ab.margin': ab.margin,
      'ab.min_labeled': ab.min_labeled,
      'ab.max_labeled': ab.max_labeled,
    },
  };
}
