/**
 * `driftgate ab evaluate`: the registry says which versions are A (prod) and B (staging), the log
 * says how they did, the finished statistics (decide.ts) say promote, reject or continue. This module
 * turns those into one evaluation record (evaluation.ts); the report, the MLflow run and --apply all
 * read from it.
 */
import { InputError } from '../errors.js';
import { decide, decideRequestLevel, decisionConfig, foldSettings, formatP, nullDifference, type AbDecision, type DecisionConfig, type GuardrailResult, type RequestLevelDecision } from './decide.js';
import type { AbEvaluation, EvaluationContext, GuardrailReport, Interval, PathPoint, VariantReport } from './evaluation.js';
import { logSchema, openLogSet, type ScanReport } from '../prediction-log/index.js';
import { readExperiment, type Experiment } from './experiment.js';
import type { ArmSnapshot, FoldLook } from './experiment-fold.js';
import { wilsonInterval } from '../stats/wilson-interval.js';

function finite(x: number): number | null {
  return Number.isFinite(x) ? x : null;
}

function sqrtOrNull(v: number): number | null {
  return Number.isFinite(v) && v >= 0 ? Math.sqrt(v) : null;
}

/** An arm's report; `bounds` is its running always-valid interval from the last look. */
function variant(alias: string, version: string | null, alpha: number, arm?: ArmSnapshot, bounds?: { lower: number; upper: number }): VariantReport {
  const requests = arm?.requests ?? 0;
  const failed = arm?.failed ?? 0;
  const labeled = arm?.labeled ?? 0;
  const correct = arm?.correct ?? 0;
  const counted = bounds !== undefined && Number.isFinite(bounds.lower);
  const ci: Interval | null = counted ? { lower: Math.max(0, bounds.lower), upper: Math.min(1, bounds.upper), confidence: 1 - alpha, kind: 'always-valid' } : null;
  const wilson = labeled > 0 ? wilsonInterval(correct, labeled) : null;
  return {
    version,
    alias,
    requests,
    failed,
    failure_rate: requests + failed > 0 ? failed / (requests + failed) : null,
    users: arm?.users ?? 0,
    labeled_users: arm?.labeledUsers ?? 0,
    labeled,
    correct,
    accuracy: labeled > 0 ? correct / labeled : null,
    ci,
    error_rate: labeled > 0 ? (labeled - correct) / labeled : null,
    error_ci: ci ? { ...ci, lower: 1 - ci.upper, upper: 1 - ci.lower } : null,
    label_coverage: requests > 0 ? labeled / requests : null,
    latency_ms: { mean: arm && requests > 0 ? arm.meanLatencyMs : null, p50: arm?.latencyP50 ?? null, p99: arm?.latencyP99 ?? null },
    standard_error: arm ? sqrtOrNull(arm.accuracyVariance) : null,
    request_level: {
      standard_error: arm ? sqrtOrNull(arm.accuracyIidVariance) : null,
      ci: wilson ? { lower: wilson.lower, upper: wilson.upper, confidence: wilson.confidence, kind: 'fixed-horizon' } : null,
    },
  };
}

function pathPoint(p: FoldLook): PathPoint {
  return {
    labeled_A: p.labeledA,
    labeled_B: p.labeledB,
    correct_A: p.correctA,
    correct_B: p.correctB,
    users_A: p.usersA,
    users_B: p.usersB,
    difference: p.difference,
    p_better: p.accuracy.pBetter,
    p_worse: p.accuracy.pWorse,
    p_value: p.accuracy.pValue,
    lower: finite(p.accuracy.lower),
    upper: finite(p.accuracy.upper),
    request_p_better: p.requestLevel.pBetter,
    request_p_worse: p.requestLevel.pWorse,
    srm_pvalue: p.srmPValue,
    counted: p.counted,
  };
}

function guardrailReport(g: GuardrailResult, margin: number): GuardrailReport {
  return { state: g.state, estimate: g.estimate, threshold: g.threshold, margin, p_holds: g.pHolds, p_breached: g.pBreached, lower: g.lower, upper: g.upper, summary: g.text };
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
    interval: null,
    labels: config.router.labels,
    variants: { A: variant(config.mlflow.prod_alias, ctx.prod, ab.alpha), B: variant(config.mlflow.staging_alias, ctx.staging, ab.alpha) },
    guardrails: {
      srm: { passed: null, p_value: null, alpha: ab.srm_alpha, users: { A: 0, B: 0 }, periods: [] },
      min_labeled: { passed: false, required: ab.min_labeled },
      min_users: { passed: false, required: ab.min_users },
      malformed: { passed: true, rows: 0, share: 0, max_share: ab.max_malformed_share },
      latency: null,
      failures: null,
    },
    request_level: { decision: null, reason: null, p_better: null, p_worse: null, srm: { p_value: null, statistic: null, observed: { A: 0, B: 0 }, expected: null } },
    test: {
      mode: ab.mode,
      alpha: ab.alpha,
      tau: ab.tau,
      margin: ab.margin,
      theta0: nullDifference(ab),
      min_labeled: ab.min_labeled,
      min_users: ab.min_users,
      max_labeled: ab.max_labeled,
      checkpoint_every: ab.checkpoint_every,
      latency_margin: ab.guardrails.latency_margin,
      failure_margin: ab.guardrails.failure_margin,
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
      split_changes: [],
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
  const settings = decisionConfig(ab, ctx.split);
  const { experiment, report: scan } = await readExperiment(set, logSchema(config), { A: prod, B: staging }, foldSettings(settings), ctx.split);
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

  const { B } = experiment.fold.arms;
  const input = { arms: experiment.fold.arms, look: experiment.fold.path.at(-1) ?? null, srmPValue: experiment.fold.srm.pValue };
  fill(result, experiment, decide(input, settings), decideRequestLevel(input, settings), settings);

  // Data-quality guards come last: the statistics are still reported, but they do not decide.
  if (!result.guardrails.malformed.passed) {
    const first = scan.malformed[0];
    return {
      ...result,
      decision: 'continue',
      reason:
        `${scan.malformedCount} of ${scan.rows} log rows (${percent(share)}) are malformed, more than the ${percent(ab.max_malformed_share)} allowed, ` +
        `so the log is not trusted for a decision${first ? ` (first: ${first.file}:${first.line}: ${first.problem})` : ''}; ` +
        `the statistics alone say ${result.statistical_decision}: ${result.reason}`,
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

function fill(result: AbEvaluation, experiment: Experiment, decision: AbDecision, requestLevel: RequestLevelDecision, settings: DecisionConfig): void {
  const { fold } = experiment;
  const look = fold.path.at(-1);
  const alpha = settings.alpha;
  result.decision = decision.decision;
  result.statistical_decision = decision.decision;
  result.reason = decision.reason;
  result.p_value = decision.pValue;
  result.p_better = decision.pBetter;
  result.p_worse = decision.pWorse;
  result.difference = finite(decision.difference);
  result.srm_pvalue = decision.srmPValue;
  result.interval = Number.isFinite(decision.lower) || Number.isFinite(decision.upper)
    ? { lower: decision.lower, upper: decision.upper, confidence: 1 - 2 * alpha, kind: 'always-valid' }
    : null;
  result.variants = {
    A: variant(result.variants.A.alias, experiment.versions.A, alpha, fold.arms.A, look?.armIntervals.A),
    B: variant(result.variants.B.alias, experiment.versions.B, alpha, fold.arms.B, look?.armIntervals.B),
  };
  result.guardrails.srm = {
    passed: decision.valid,
    p_value: decision.srmPValue,
    alpha: result.guardrails.srm.alpha,
    users: { A: fold.arms.A.users, B: fold.arms.B.users },
    periods: fold.srm.periods.map((p) => ({ ab_split_b: p.shareB, users_A: p.usersA, users_B: p.usersB })),
  };
  const [latency, failures] = decision.guardrails;
  result.guardrails.latency = guardrailReport(latency!, settings.latencyMargin);
  result.guardrails.failures = guardrailReport(failures!, settings.failureMargin);
  result.guardrails.min_labeled.passed = Math.min(fold.arms.A.labeled, fold.arms.B.labeled) >= result.guardrails.min_labeled.required;
  result.guardrails.min_users.passed = Math.min(fold.arms.A.labeledUsers, fold.arms.B.labeledUsers) >= result.guardrails.min_users.required;
  const srm = requestLevel.srm;
  result.request_level = {
    decision: requestLevel.decision,
    reason: requestLevel.reason,
    p_better: requestLevel.pBetter,
    p_worse: requestLevel.pWorse,
    srm: { p_value: srm.pValue, statistic: srm.statistic, observed: { A: srm.requestsA, B: srm.requestsB }, expected: { A: srm.expectedA, B: srm.expectedB } },
  };
  result.log.excluded_predictions = experiment.excludedPredictions;
  result.log.orphan_feedback = experiment.orphanFeedback;
  result.log.excluded_feedback = experiment.excludedFeedback;
  result.log.duplicate_labels = experiment.duplicateLabels;
  result.log.experiment_started_at = experiment.startedAt === null ? null : new Date(experiment.startedAt).toISOString();
  result.log.split_changes = experiment.splitChanges.map((c) => ({ ts: new Date(c.ts).toISOString(), ab_split_b: c.splitB }));
  result.path = fold.path.map(pathPoint);
}

/** One line for people: decision, reason, and the numbers that matter. */
export function summaryLine(e: AbEvaluation): string {
  const arm = (name: 'A' | 'B'): string => {
    const v = e.variants[name];
    const acc = v.accuracy === null ? 'n/a' : `${v.accuracy.toFixed(3)}${v.ci ? ` [${v.ci.lower.toFixed(3)}, ${v.ci.upper.toFixed(3)}] always-valid` : ''}`;
    return `${name} (${v.alias} v${v.version ?? '-'}): ${v.users} users, ${v.requests} requests, ${v.failed} failed, ${v.labeled} labelled, accuracy ${acc}`;
  };
  return [
    `decision: ${e.decision.toUpperCase()} — ${e.reason}`,
    `  ${arm('A')}`,
    `  ${arm('B')}`,
    `  always-valid p ${e.p_value === null ? 'n/a' : formatP(e.p_value)}` +
      (e.interval ? `, B − A in [${e.interval.lower.toFixed(3)}, ${e.interval.upper.toFixed(3)}] (always-valid)` : '') +
      `, SRM p over users ${e.srm_pvalue === null ? 'n/a' : formatP(e.srm_pvalue)}, split ${e.test.ab_split_b}`,
    ...(e.labels === 'open' ? ['  labels: open (router.labels): any client may label, so a client can sway this test'] : []),
    ...(e.recovered ? [`  completed an interrupted ${e.recovered.kind} of version ${e.recovered.version} first`] : []),
    ...(e.applied ? [`  applied: ${e.applied.message}`] : []),
    `  report: ${e.report_dir}`,
  ].join('\n');
}
