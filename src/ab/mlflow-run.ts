/**
 * Each A/B evaluation is an MLflow run in the configured experiment: the test settings as params,
 * the outcome as metrics (the p-value path as a metric history), the decision as tags, and the
 * report files as artifacts.
 */
import type { Config } from '../config/index.js';
import type { Metric, MlflowClient, Run } from '../registry/client.js';
import { RUN_TAGS } from '../registry/vocabulary.js';
import type { AbEvaluation } from './evaluation.js';
import type { ReportFiles } from './report-json.js';

export const ARTIFACT_DIR = 'ab_report';

/** Opens the run before anything is applied, so version tags can name it. */
export async function openEvaluationRun(client: MlflowClient, config: Config, evaluation: AbEvaluation): Promise<Run> {
  const experimentId = await client.ensureExperiment(config.mlflow.experiment);
  return client.createRun(experimentId, `ab-evaluate-${evaluation.id}`, {
    [RUN_TAGS.kind]: 'ab-evaluation',
    [RUN_TAGS.reportId]: evaluation.id,
    ...(evaluation.variants.A.version ? { [RUN_TAGS.prodVersion]: evaluation.variants.A.version } : {}),
    ...(evaluation.variants.B.version ? { [RUN_TAGS.stagingVersion]: evaluation.variants.B.version } : {}),
  });
}

function metrics(e: AbEvaluation, timestamp: number): Metric[] {
  const out: Metric[] = [];
  const add = (key: string, value: number | null, step = 0): void => {
    if (value !== null && Number.isFinite(value)) out.push({ key, value, timestamp, step });
  };
  add('p_value', e.p_value);
  add('p_better', e.p_better);
  add('p_worse', e.p_worse);
  add('srm_pvalue', e.srm_pvalue);
  add('difference', e.difference);
  add('interval_lower', e.interval?.lower ?? null);
  add('interval_upper', e.interval?.upper ?? null);
  add('request_p_better', e.request_level.p_better);
  add('request_p_worse', e.request_level.p_worse);
  add('malformed_share', e.guardrails.malformed.share);
  for (const name of ['latency', 'failures'] as const) {
    const g = e.guardrails[name];
    add(`guardrail_${name}_p_holds`, g?.p_holds ?? null);
    add(`guardrail_${name}_p_breached`, g?.p_breached ?? null);
  }
  for (const name of ['A', 'B'] as const) {
    const v = e.variants[name];
    add(`users_${name}`, v.users);
    add(`labeled_users_${name}`, v.labeled_users);
    add(`requests_${name}`, v.requests);
    add(`failed_${name}`, v.failed);
    add(`failure_rate_${name}`, v.failure_rate);
    add(`labeled_${name}`, v.labeled);
    add(`accuracy_${name}`, v.accuracy);
    add(`accuracy_ci_lower_${name}`, v.ci?.lower ?? null);
    add(`accuracy_ci_upper_${name}`, v.ci?.upper ?? null);
    add(`error_rate_${name}`, v.error_rate);
    add(`latency_mean_ms_${name}`, v.latency_ms.mean);
    add(`latency_p50_ms_${name}`, v.latency_ms.p50);
    add(`latency_p99_ms_${name}`, v.latency_ms.p99);
  }
  // The path as metric histories, stepped by labelled requests (both arms), so MLflow can chart it;
  // the bounds are null before the first counted look, and add skips them there.
  for (const point of e.path) {
    const step = point.labeled_A + point.labeled_B;
    add('path_p_better', point.p_better, step);
    add('path_p_worse', point.p_worse, step);
    add('path_difference', point.difference, step);
    add('path_lower', point.lower, step);
    add('path_upper', point.upper, step);
  }
  return out;
}

/**
 * Logs everything and ends the run. An artifact upload that the server refuses (a store that does not
 * proxy artifacts) is a warning: the report stays on disk and the decision is not held back by it.
 */
export async function finishEvaluationRun(
  client: MlflowClient,
  run: Run,
  evaluation: AbEvaluation,
  files: ReportFiles,
  log: (line: string) => void,
  status: 'FINISHED' | 'FAILED' = 'FINISHED',
): Promise<void> {
  const runId = run.info.run_id;
  const t = evaluation.test;
  await client.logBatch(runId, {
    params: {
      mode: t.mode,
      alpha: String(t.alpha),
      tau: String(t.tau),
      margin: String(t.margin),
      min_labeled: String(t.min_labeled),
      min_users: String(t.min_users),
      max_labeled: String(t.max_labeled),
      checkpoint_every: String(t.checkpoint_every),
      latency_margin: String(t.latency_margin),
      failure_margin: String(t.failure_margin),
      ab_split_b: String(t.ab_split_b),
      labels: evaluation.labels,
      srm_alpha: String(evaluation.guardrails.srm.alpha),
      prod_version: evaluation.variants.A.version ?? '',
      staging_version: evaluation.variants.B.version ?? '',
      log_files: String(evaluation.log.files.length),
    },
    metrics: metrics(evaluation, Date.parse(evaluation.evaluated_at)),
    tags: {
      [RUN_TAGS.decision]: evaluation.decision,
      [RUN_TAGS.applied]: evaluation.applied ? evaluation.applied.action : 'no',
      [RUN_TAGS.note]: evaluation.reason.slice(0, 4000),
    },
  });
  try {
    await client.uploadArtifact(run, `${ARTIFACT_DIR}/report.json`, files['report.json'], 'application/json');
    await client.uploadArtifact(run, `${ARTIFACT_DIR}/report.html`, files['report.html'], 'text/html');
  } catch (error) {
    log(`[ab] warning: the report was not uploaded to MLflow run ${runId} (${(error as Error).message}); it is in ${evaluation.report_dir}`);
  }
  await client.updateRun(runId, status);
}
