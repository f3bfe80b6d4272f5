/**
 * Every name Driftgate writes into MLflow, in one place: the tags on registered versions (set by
 * python/train.py, which receives these names in its spec, and by the transitions), the journal tag
 * on the registered model, the tags on A/B evaluation runs, and the alias that keeps the replaced prod.
 */
import type { Config } from '../config/index.js';

/** Tags on a registered model version. */
export const VERSION_TAGS = {
  trigger: 'driftgate.trigger',
  dataDigest: 'driftgate.data_digest',
  driftReport: 'driftgate.drift_report',
  orchestratorRunId: 'driftgate.orchestrator_run_id',
  gate: 'driftgate.gate',
  bestModel: 'driftgate.best_model',
  holdoutAccuracy: 'driftgate.holdout_accuracy',
  cvAccuracy: 'driftgate.cv_accuracy',
  decision: 'driftgate.decision',
  decisionReason: 'driftgate.decision_reason',
  decisionRunId: 'driftgate.decision_run_id',
  previousProd: 'driftgate.previous_prod',
  replacedBy: 'driftgate.replaced_by',
  rolledBackTo: 'driftgate.rolled_back_to',
} as const;

/** The tags python/train.py sets on the runs and versions it makes, as the spec hands them over. */
export const TRAINING_TAGS = {
  trigger: VERSION_TAGS.trigger,
  data_digest: VERSION_TAGS.dataDigest,
  drift_report: VERSION_TAGS.driftReport,
  orchestrator_run_id: VERSION_TAGS.orchestratorRunId,
  gate: VERSION_TAGS.gate,
  best_model: VERSION_TAGS.bestModel,
  holdout_accuracy: VERSION_TAGS.holdoutAccuracy,
  cv_accuracy: VERSION_TAGS.cvAccuracy,
} as const;

/** Values of the `driftgate.decision` version tag. */
export type DecisionTag = 'promoted' | 'manual-promote' | 'rejected' | 'replaced' | 'rolled-back' | 'restored';

/** Tag on the registered model holding the transition in progress (JSON). */
export const JOURNAL_TAG = 'driftgate.transition';

/**
 * Tag on the registered model while a promotion is watched (JSON `{"version", "previous", "started_at"}`,
 * read by src/registry/watch.ts): the replaced prod predicts in shadow beside the new one.
 */
export const WATCH_TAG = 'driftgate.watch';

/** Tags on an A/B evaluation's MLflow run. */
export const RUN_TAGS = {
  kind: 'driftgate.kind',
  decision: 'driftgate.decision',
  prodVersion: 'driftgate.prod_version',
  stagingVersion: 'driftgate.staging_version',
  reportId: 'driftgate.report_id',
  applied: 'driftgate.applied',
  /** MLflow shows this tag as the run's description. */
  note: 'mlflow.note.content',
} as const;

/** The alias that keeps the replaced prod findable: `previous_<prod alias>` (previous_prod by default). */
export function previousAlias(config: Pick<Config, 'mlflow'>): string {
  return `previous_${config.mlflow.prod_alias}`;
}
