/**
 * `driftgate ab evaluate`: the registry says which versions are A (prod) and B (staging), the log
 * says how they did, the finished statistics (decide.ts) say promote, reject or continue. This module
 * turns those into one evaluation record (evaluation.ts); the report, the MLflow run and --apply all
 * read from it.
 */
import { InputError } from '../errors.js';
import { decide, decidePaired, decideRequestLevel, decisionConfig, foldSettings, formatP, nullDifference, type AbDecision, type DecisionConfig, type GuardrailResult, type PairedDecision, type RequestLevelDecision } from './decide.js';
import type { AbDesign, AbEvaluation, EvaluationContext, GuardrailReport, Interval, PairedReport, PathPoint, VariantReport } from './evaluation.js';
import type { PairedSnapshot } from './paired-fold.js';
import { decideWatch } from './watch.js';
import { previousAlias } from '../registry/index.js';
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
    design: designOf(ctx),
    paired: null,
    watch: ctx.watch && designOf(ctx) === 'watch'
      ? { version: ctx.watch.version, previous: ctx.watch.previous, started_at: ctx.watch.started_at, labels: ctx.watch.labels ?? null, hours: ctx.watch.hours ?? null, ends: false }
      : null,
    statistical_decision: null,
    p_value: null,
    p_better: null,
    p_worse: null,
    srm_pvalue: null,
    difference: null,
    interval: null,
    labels: config.router.labels,
    variants:
      designOf(ctx) === 'watch'
        ? { A: variant(config.mlflow.prod_alias, ctx.prod, ab.alpha), B: variant(previousAlias(config), ctx.watch!.previous, ab.alpha) }
        : { A: variant(config.mlflow.prod_alias, ctx.prod, ab.alpha), B: variant(config.mlflow.staging_alias, ctx.staging, ab.alpha) },
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

/** The watch when there is no candidate and prod is being watched; else the configured design. */
function designOf(ctx: EvaluationContext): AbDesign {
  return ctx.staging === null && ctx.watch !== null && ctx.prod === ctx.watch.version ? 'watch' : ctx.config.ab.design;
}

/** A reason the test cannot run at all (no prod, no staging, no traffic to the candidate), or null when it can. */
function precondition(ctx: EvaluationContext): string | null {
  const { prod, staging, split, config } = ctx;
  const { prod_alias: prodAlias, staging_alias: stagingAlias, model_name: model } = config.mlflow;
  if (prod === null) return `no ${prodAlias} version of ${model} is registered: there is nothing to test a candidate against`;
  const design = designOf(ctx);
  if (design === 'watch') return null;
  if (staging === null) return `no ${stagingAlias} version of ${model}: no A/B test is running (train a candidate, then 'driftgate ab start')`;
  if (staging === prod) {
    return `${stagingAlias} and ${prodAlias} both point at version ${prod} (left over from a promotion that did not finish); 'driftgate ab evaluate --apply' removes the leftover ${stagingAlias}`;
  }
  if (split === 1) return `router.ab_split_b is 1: all traffic goes to ${stagingAlias}, so there is no control arm to compare against`;
  if (design === 'shadow' && ctx.shadowShare === 0) {
    return `router.shadow_share is 0: the shadow test of version ${staging} (ab.design shadow) has not started, ${stagingAlias} predicts on no request (run 'driftgate ab start')`;
  }
  if (design === 'split' && split === 0) return `router.ab_split_b is 0: the A/B test of version ${staging} has not started, no traffic goes to ${stagingAlias} (run 'driftgate ab start')`;
  if (design === 'both' && split === 0 && ctx.shadowShare === 0) {
    return `router.ab_split_b and router.shadow_share are 0: the A/B test of version ${staging} (ab.design both) has not started (run 'driftgate ab start')`;
  }
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
  const design = designOf(ctx);
  const watch = design === 'watch' ? ctx.watch! : null;
  // In a watch, A is the new prod and the shadow (B) the prod it replaced.
  const staging = watch ? watch.previous : ctx.staging!;
  const { config } = ctx;
  const ab = config.ab;
  if (files.length === 0) return { ...result, reason: `no predictions log yet: nothing matches router.log_path ${ctx.logPattern}` };
  const settings = decisionConfig(ab, ctx.split);
  const options = watch
    ? { shadowVersion: watch.previous, since: Date.parse(watch.started_at) }
    : design === 'split'
      ? {}
      : { shadowVersion: staging };
  const { experiment, report: scan } = await readExperiment(set, logSchema(config), { A: prod, B: staging }, foldSettings(settings), ctx.split, options);
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
  const split = decide(input, settings);
  // The request-level rule compares request counts with a split: it has nothing to say without one.
  fill(result, experiment, split, ctx.split > 0 && ctx.split < 1 ? decideRequestLevel(input, settings) : null, settings);
  const pairedSnapshot = experiment.paired;
  if (pairedSnapshot && (design === 'shadow' || design === 'watch')) {
    // No arm B in the split sense: B's numbers are the shadow's, on the pairs.
    const b = pairedSnapshot.models.B;
    const shadowArm: ArmSnapshot = {
      ...experiment.fold.arms.B,
      users: pairedSnapshot.pairs.labeledUsers,
      labeledUsers: pairedSnapshot.pairs.labeledUsers,
      requests: b.requests,
      failed: b.failed,
      labeled: pairedSnapshot.pairs.labeled,
      correct: b.correct,
      accuracy: b.accuracy,
      meanLatencyMs: b.meanLatencyMs,
      latencyP50: b.latencyP50,
      latencyP99: b.latencyP99,
      failureRate: b.failureRate,
    };
    result.variants.B = variant(result.variants.B.alias, staging, settings.alpha, shadowArm);
  }
  if (pairedSnapshot) {
    const paired = decidePaired({ ...pairedSnapshot, look: pairedSnapshot.path.at(-1) ?? null }, settings);
    result.paired = pairedReport(pairedSnapshot, paired, settings);
    if (watch) {
      const judged = decideWatch({
        paired,
        accuracy: { A: pairedSnapshot.models.A.accuracy, B: pairedSnapshot.models.B.accuracy },
        watch,
        aliases: { prod: config.mlflow.prod_alias, previous: previousAlias(config) },
        alpha: settings.alpha,
        now: ctx.now,
      });
      result.watch = { ...result.watch!, ends: judged.ends };
      setDecision(result, judged.decision, judged.reason, paired, settings);
    } else if (design === 'shadow') {
      setDecision(result, paired.decision, paired.reason, paired, settings);
    } else {
      const both = combine(split, paired);
      setDecision(result, both.decision, both.reason, both.from === 'paired' ? paired : split, settings);
    }
  }

  // Data-quality guards come last: the statistics are still reported, but they do not decide.
  if (!result.guardrails.malformed.passed) {
    const first = scan.malformed[0];
    return {
      ...result,
      decision: 'continue',
      // An untrusted log ends no watch either: the watch goes on until a log that can be trusted judges it.
      ...(result.watch ? { watch: { ...result.watch, ends: false } } : {}),
      reason:
        `${scan.malformedCount} of ${scan.rows} log rows (${percent(share)}) are malformed, more than the ${percent(ab.max_malformed_share)} allowed, ` +
        `so the log is not trusted for a decision${first ? ` (first: ${first.file}:${first.line}: ${first.problem})` : ''}; ` +
        `the statistics alone say ${result.statistical_decision}: ${result.reason}`,
    };
  }
  if (design === 'split' && B.requests === 0) {
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

function pairedReport(snapshot: PairedSnapshot, d: PairedDecision, settings: DecisionConfig): PairedReport {
  const { pairs, models, agreement, predictionShift } = snapshot;
  return {
    labeled_pairs: pairs.labeled,
    labeled_users: pairs.labeledUsers,
    b: pairs.b,
    c: pairs.c,
    both_right: pairs.bothRight,
    both_wrong: pairs.bothWrong,
    compared: agreement.compared,
    agreement_rate: finite(agreement.rate),
    accuracy: { A: finite(models.A.accuracy), B: finite(models.B.accuracy) },
    difference: finite(pairs.difference),
    standard_error: sqrtOrNull(pairs.variance),
    p_better: d.pBetter,
    p_worse: d.pWorse,
    interval: Number.isFinite(d.lower) || Number.isFinite(d.upper) ? { lower: d.lower, upper: d.upper, confidence: 1 - 2 * settings.alpha, kind: 'always-valid' } : null,
    prediction_shift: predictionShift ? { statistic: predictionShift.statistic, p_value: predictionShift.pvalue, classes: predictionShift.classes } : null,
    decision: d.decision,
    reason: d.reason,
  };
}

/** The decision and the statistics it cites come from the test that decided (split or paired). */
function setDecision(result: AbEvaluation, decision: AbEvaluation['decision'], reason: string, from: AbDecision | PairedDecision, settings: DecisionConfig): void {
  result.decision = decision;
  result.statistical_decision = decision;
  result.reason = reason;
  result.p_value = from.pValue;
  result.p_better = from.pBetter;
  result.p_worse = from.pWorse;
  result.difference = finite(from.difference);
  result.interval = Number.isFinite(from.lower) || Number.isFinite(from.upper) ? { lower: from.lower, upper: from.upper, confidence: 1 - 2 * settings.alpha, kind: 'always-valid' } : null;
  // The guardrails of the test that decided.
  const [latency, failures] = from.guardrails;
  result.guardrails.latency = guardrailReport(latency!, settings.latencyMargin);
  result.guardrails.failures = guardrailReport(failures!, settings.failureMargin);
  if ('labeledPairs' in from) result.guardrails.min_labeled.passed = from.labeledPairs >= result.guardrails.min_labeled.required;
}

/**
 * ab.design both: the paired test decides accuracy (it needs far fewer labels), the split test keeps
 * its say over what only it sees: a sample-ratio mismatch blocks, and a rejection from either rejects.
 */
function combine(split: AbDecision, paired: PairedDecision): { decision: AbEvaluation['decision']; reason: string; from: 'split' | 'paired' } {
  if (split.decision === 'reject') return { decision: 'reject', reason: `the split test: ${split.reason}`, from: 'split' };
  if (paired.decision === 'reject') return { decision: 'reject', reason: paired.reason, from: 'paired' };
  if (!split.valid) return { decision: 'continue', reason: `the split test: ${split.reason}`, from: 'split' };
  return { decision: paired.decision, reason: `${paired.reason}; the split test says ${split.decision}`, from: 'paired' };
}

function fill(result: AbEvaluation, experiment: Experiment, decision: AbDecision, requestLevel: RequestLevelDecision | null, settings: DecisionConfig): void {
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
  if (requestLevel) {
    const srm = requestLevel.srm;
    result.request_level = {
      decision: requestLevel.decision,
      reason: requestLevel.reason,
      p_better: requestLevel.pBetter,
      p_worse: requestLevel.pWorse,
      srm: { p_value: srm.pValue, statistic: srm.statistic, observed: { A: srm.requestsA, B: srm.requestsB }, expected: { A: srm.expectedA, B: srm.expectedB } },
    };
  }
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
