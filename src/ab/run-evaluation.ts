/**
 * One `ab evaluate` from start to end: finish an interrupted transition (with --apply), read the
 * registry, evaluate the log, open the MLflow run, apply, write the report, close the run.
 */
import type { Config } from '../config/index.js';
import { resetShares } from '../config/write-split.js';
import { connectRegistry, recover, registryState, type MlflowClient, type PromotionDeps, type Run } from '../registry/index.js';
import { applyDecision } from './apply.js';
import { evaluateLog } from './evaluate.js';
import type { AbEvaluation } from './evaluation.js';
import { finishEvaluationRun, openEvaluationRun } from './mlflow-run.js';
import path from 'node:path';
import { reportId, writeReportDir } from '../report/index.js';
import { reportFiles, type ReportFiles } from './report-json.js';

export interface RunEvaluationOptions {
  apply: boolean;
  /** --log PATH|GLOB; router.log_path when absent. */
  logPattern?: string;
  log: (line: string) => void;
  now?: () => Date;
  client?: MlflowClient;
  /** Sets router.ab_split_b to 0; writes the config file unless a test passes its own. */
  resetSplit?: () => void;
}

/** Rendered once: the same files go to the report folder and to the MLflow run. */
function writeReport(config: Config, evaluation: AbEvaluation): ReportFiles {
  const files = reportFiles(evaluation);
  writeReportDir(config.ab.reports_dir, evaluation.id, files);
  return files;
}

export async function runEvaluation(config: Config, options: RunEvaluationOptions): Promise<AbEvaluation> {
  const { log } = options;
  const client = options.client ?? (await connectRegistry(config));
  if (options.client) await client.ping();
  let splitReset = false;
  const reset = options.resetSplit ?? ((): void => resetShares(config.source.file));
  const deps: PromotionDeps = {
    client,
    config,
    log,
    now: options.now,
    resetSplit: () => {
      reset();
      splitReset = true;
    },
  };
  const recovered = options.apply ? await recover(deps) : null;
  const state = await registryState(client, config);
  if (!options.apply && state.journal) {
    log(`[ab] an interrupted ${state.journal.kind} of version ${state.journal.version} is pending; 'driftgate ab evaluate --apply' completes it`);
  }
  const now = (options.now ?? (() => new Date()))();
  const id = reportId(now);
  const dir = path.join(config.ab.reports_dir, id);
  const evaluation = await evaluateLog({
    config,
    prod: state.prod,
    staging: state.staging,
    split: splitReset ? 0 : config.router.ab_split_b,
    shadowShare: splitReset ? 0 : config.router.shadow_share,
    watch: state.watch,
    logPattern: options.logPattern ?? config.router.log_path,
    explicitLog: options.logPattern !== undefined,
    now,
    id,
    reportDir: dir,
    log,
  });
  if (recovered && recovered.steps.length > 0) {
    evaluation.recovered = recovered.transition
      ? { kind: recovered.transition.kind, version: recovered.transition.version, steps: recovered.steps }
      : { kind: 'cleanup', version: state.prod ?? '', steps: recovered.steps };
  }
  // A run per evaluated experiment; with no prod or no staging there is nothing to record.
  let run: Run | null = null;
  if (state.prod !== null && ((state.staging !== null && state.prod !== state.staging) || evaluation.design === 'watch')) {
    run = await openEvaluationRun(client, config, evaluation);
    evaluation.mlflow_run_id = run.info.run_id;
  }
  if (options.apply) {
    try {
      evaluation.applied = await applyDecision(deps, evaluation);
    } catch (error) {
      evaluation.applied = {
        action: 'none',
        message: `failed part-way (${(error as Error).message}); the transition is journalled, and the next 'driftgate ab evaluate --apply' completes it`,
        steps: [],
      };
      const files = writeReport(config, evaluation);
      if (run) await finishEvaluationRun(client, run, evaluation, files, log, 'FAILED').catch(() => undefined);
      throw error;
    }
  }
  const files = writeReport(config, evaluation);
  if (run) await finishEvaluationRun(client, run, evaluation, files, log);
  log(`[ab] ${evaluation.decision}: ${evaluation.reason}`);
  log(`[ab] report: ${evaluation.report_dir}`);
  return evaluation;
}
