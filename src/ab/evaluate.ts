/**
 * `driftgate ab evaluate`: the registry says which versions are A (prod) and B (staging), the log
 * says how they did, the finished statistics (decide.ts) say promote, reject or continue. This module
 * turns those into one evaluation record (evaluation.ts); the report, the MLflow run and --apply all
 * read from it.
 */
import { InputError } from '../errors.js';
import { decisionConfig, evaluateAb, formatP, nullDifference, type AbDecision } from './decide.js';
import type { AbEvaluation, EvaluationContext, Interval, PathPoint, VariantReport } from './evaluation.js';
import { logSchema, openLogSet, type ScanReport } from '../prediction-log/index.js';
import { readExperiment, type Experiment } from './experiment.js';
import { wilsonInterval, type ProportionInterval } from '../stats/wilson-interval.js';
import type { MsprtPathPoint } from '../stats/msprt.js';

function interval(ci: ProportionInterval): Interval {
  return { lower: ci.lower, upper: ci.upper, confidence: ci.confidence };
}

function finite(x: number): number | null {
  return Number.isFinite(x) ? x : null;
}

function variant(alias: string, version: string | null, counts?: Experiment['arms']['A']): VariantReport {
  const requests = counts?.requests ?? 0;
  const labeled = counts?.labeled ?? 0;
  const correct = counts?.correct ?? 0;
  const acc = labeled > 0 ? wilsonInterval(correct, labeled) : null;
  const err = labeled > 0 ? wilsonInterval(labeled - correct, labeled) : null;
  return {
    version,
    alias,
    requests,
    labeled,
    correct,
    accuracy: acc ? acc.estimate : null,
    ci: acc ? interval(acc) : null,
    error_rate: err ? err.estimate : null,
    error_ci: err ? interval(err) : null,
    label_coverage: requests > 0 ? labeled / requests : null,
    latency_ms: { p50: counts?.latencyP50 ?? null, p99: counts?.latencyP99 ?? null },
  };
}

function pathPoint(p: MsprtPathPoint): PathPoint {
  return {
    labeled_A: p.nA,
    labeled_B: p.nB,
    correct_A: p.successesA,
    correct_B: p.successesB,
    difference: p.estimate,
    p_better: p.pBetter,
    p_worse: p.pWorse,
    p_value: p.pValue,
    counted: p.counted,
  };
}

function percent(share: number): string {
  return `${Number((share * 100).toPrecision(3))}%`;
}

/** The evaluation before any log is read: every field present, nothing measured. */
function skeleton(ctx: EvaluationContext): AbEvaluation {
  const { config } = ctx;
  const ab = config.ab;
  return {
    id: ctx.id,
    evaluated_at: ctx.now.toISOString(),
    model_name: config.mlflow.model_name,
    decision: 'continue',
    reason: '',
    statistical_decision: null,
    p_value: null,
    p_better: null,
    p_worse: null,
    srm_pvalue: null,
    difference: null,
    variants: { A: variant(config.mlflow.prod_alias, ctx.prod), B: variant(config.mlflow.staging_alias, ctx.staging) },
    guardrails: {
      srm: { passed: null, p_value: null, alpha: ab.srm_alpha, statistic: null, observed: { A: 0, B: 0 }, expected: null },
      min_labeled: { passed: false, required: ab.min_labeled },
      malformed: { passed: true, rows: 0, share: 0, max_share: ab.max_malformed_share },
    },
    test: {
      mode: ab.mode,
      alpha: ab.alpha,
      tau: ab.tau,
      margin: ab.margin,
      theta0: nullDifference(ab),
      min_labeled: ab.min_labeled,
      max_labeled: ab.max_labeled,
      checkpoint_every: ab.checkpoint_every,
      ab_split_b: ctx.split,
    },
    log: {
      pattern: ctx.logPattern,
      files: [],
      rows: 0,
      malformed_rows: 0,
      malformed: [],
      unknown_labels: {},
      unreadable: [],
      headerless: [],
      excluded_predictions: 0,
      orphan_feedback: 0,
      excluded_feedback: 0,
      duplicate_labels: 0,
      experiment_started_at: null,
    },
    path: [],
    report_dir: ctx.reportDir,
    mlflow_run_id: null,
    applied: null,
    recovered: null,
  };
}

/** A reason the test cannot run at all (no prod, no staging, no split), or null when it can. */
function precondition(ctx: EvaluationContext): string | null {
  const { prod, staging, split, config } = ctx;
  const { prod_alias: prodAlias, staging_alias: stagingAlias, model_name: model } = config.mlflow;
  if (prod === null) return `no ${prodAlias} version of ${model} is registered: there is nothing to test a candidate against`;
  if (staging === null) return `no ${stagingAlias} version of ${model}: no A/B test is running (train a candidate, then 'driftgate ab start')`;
  if (staging === prod) {
    return `${stagingAlias} and ${prodAlias} both point at version ${prod} (left over from a promotion that did not finish); 'driftgate ab evaluate --apply' removes the leftover ${stagingAlias}`;
  }
  if (split === 0) return `router.ab_split_b is 0: the A/B test of version ${staging} has not started, no traffic goes to ${stagingAlias} (run 'driftgate ab start')`;
  if (split === 1) return `router.ab_split_b is 1: all traffic goes to ${stagingAlias}, so there is no control arm to compare against`;
  return null;
}

function logMalformed(scan: ScanReport, log: (line: string) => void): void {
  for (const row of scan.malformed) log(`[ab] malformed row ${row.file}:${row.line}: ${row.problem}`);
  const more = scan.malformedCount - scan.malformed.length;
  if (more > 0) log(`[ab] ... and ${more} more malformed rows`);
}

/** Reads the log and decides. Pure apart from reading the log files. */
export async function evaluateLog(ctx: EvaluationContext): Promise<AbEvaluation> {
  const result = skeleton(ctx);
  const set = await openLogSet(ctx.logPattern, { rotated: true });
  try {
    return await evaluateSet(ctx, result, set);
  } finally {
    await set.close();
  }
}

async function evaluateSet(ctx: EvaluationContext, result: AbEvaluation, set: Awaited<ReturnType<typeof openLogSet>>): Promise<AbEvaluation> {
  const files = set.files.map((f) => f.path);
  // A path the operator typed is checked whatever the registry says; the configured one may not exist yet.
  if (files.length === 0 && ctx.explicitLog) throw new InputError(`--log: no file matches ${ctx.logPattern}`, { code: 'INPUT_NOT_FOUND' });
  const blocked = precondition(ctx);
  if (blocked) return { ...result, reason: blocked };
  const prod = ctx.prod!;
  const staging = ctx.staging!;
  const { config } = ctx;
  const ab = config.ab;
  if (files.length === 0) return { ...result, reason: `no predictions log yet: nothing matches router.log_path ${ctx.logPattern}` };
  const { experiment, report: scan } = await readExperiment(set, logSchema(config), { A: prod, B: staging }, ab.checkpoint_every);
  if (scan.files.every((f) => !f.read)) throw new InputError(`${scan.unreadable[0]!.path}: ${scan.unreadable[0]!.reason}`);
  for (const file of scan.unreadable) ctx.log(`[ab] not read: ${file.path}: ${file.reason}`);
  logMalformed(scan, ctx.log);
  const share = scan.rows > 0 ? scan.malformedCount / scan.rows : 0;
  result.log = {
    ...result.log,
    files,
    rows: scan.rows,
    malformed_rows: scan.malformedCount,
    malformed: scan.malformed,
    unknown_labels: scan.unknownLabels,
    unreadable: scan.unreadable,
    headerless: scan.files.filter((f) => f.headerless).map((f) => f.path),
  };
  result.guardrails.malformed = { passed: share <= ab.max_malformed_share, rows: scan.malformedCount, share, max_share: ab.max_malformed_share };
  if (scan.rows === 0) return { ...result, reason: `the predictions log (${files.length === 1 ? files[0] : `${files.length} files`}) has no rows yet` };

  const { A, B } = experiment.arms;
  const { decision, path } = evaluateAb({ A, B, checkpoints: experiment.checkpoints }, decisionConfig(config.ab, ctx.split));
  fill(result, experiment, decision, path);

  // Data-quality guards come last: the statistics are still reported, but they do not decide.
  if (!result.guardrails.malformed.passed) {
    const first = scan.malformed[0];
    return {
      ...result,
      decision: 'continue',
      reason:
        `${scan.malformedCount} of ${scan.rows} log rows (${percent(share)}) are malformed, more than the ${percent(ab.max_malformed_share)} allowed, ` +
        `so the log is not trusted for a decision${first ? ` (first: ${first.file}:${first.line}: ${first.problem})` : ''}; ` +
        `the statistics alone say ${decision.decision}: ${decision.reason}`,
    };
  }
  if (B.requests === 0) {
    const unknown = Object.keys(scan.unknownLabels);
    return {
      ...result,
      decision: 'continue',
      reason:
        `no request served by ${config.mlflow.staging_alias} version ${staging} in the log yet (${scan.rows} rows read, ` +
        `${experiment.excludedPredictions} predictions from other versions or from before the test)` +
        (unknown.length ? `; labels outside dataset.classes: ${unknown.map((u) => JSON.stringify(u)).join(', ')}` : ''),
    };
  }
  return result;
}

function fill(result: AbEvaluation, experiment: Experiment, decision: AbDecision, path: MsprtPathPoint[]): void {
  result.decision = decision.decision;
  result.statistical_decision = decision.decision;
  result.reason = decision.reason;
  result.p_value = decision.pValue;
  result.p_better = decision.pBetter;
  result.p_worse = decision.pWorse;
  result.difference = finite(decision.difference);
  result.srm_pvalue = decision.srm.pValue;
  result.variants = {
    A: variant(result.variants.A.alias, experiment.versions.A, experiment.arms.A),
    B: variant(result.variants.B.alias, experiment.versions.B, experiment.arms.B),
  };
  result.guardrails.srm = {
    passed: !decision.srm.mismatch,
    p_value: decision.srm.pValue,
    alpha: result.guardrails.srm.alpha,
    statistic: decision.srm.statistic,
    observed: { A: decision.srm.requestsA, B: decision.srm.requestsB },
    expected: { A: decision.srm.expectedA, B: decision.srm.expectedB },
  };
  result.guardrails.min_labeled.passed = Math.min(experiment.arms.A.labeled, experiment.arms.B.labeled) >= result.guardrails.min_labeled.required;
  result.log.excluded_predictions = experiment.excludedPredictions;
  result.log.orphan_feedback = experiment.orphanFeedback;
  result.log.excluded_feedback = experiment.excludedFeedback;
  result.log.duplicate_labels = experiment.duplicateLabels;
  result.log.experiment_started_at = experiment.startedAt === null ? null : new Date(experiment.startedAt).toISOString();
  result.path = path.map(pathPoint);
}

/** One line for people: decision, reason, and the numbers that matter. */
export function summaryLine(e: AbEvaluation): string {
  const arm = (name: 'A' | 'B'): string => {
    const v = e.variants[name];
    const acc = v.accuracy === null ? 'n/a' : `${v.accuracy.toFixed(3)} [${v.ci!.lower.toFixed(3)}, ${v.ci!.upper.toFixed(3)}]`;
    return `${name} (${v.alias} v${v.version ?? '-'}): ${v.requests} requests, ${v.labeled} labelled, accuracy ${acc}`;
  };
  return [
    `decision: ${e.decision.toUpperCase()} — ${e.reason}`,
    `  ${arm('A')}`,
    `  ${arm('B')}`,
    `  always-valid p ${e.p_value === null ? 'n/a' : formatP(e.p_value)}, SRM p ${e.srm_pvalue === null ? 'n/a' : formatP(e.srm_pvalue)}, split ${e.test.ab_split_b}`,
    ...(e.recovered ? [`  completed an interrupted ${e.recovered.kind} of version ${e.recovered.version} first`] : []),
    ...(e.applied ? [`  applied: ${e.applied.message}`] : []),
    `  report: ${e.report_dir}`,
  ].join('\n');
}
