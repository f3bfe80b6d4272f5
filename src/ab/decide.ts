/**
 * The A/B decision from the experiment's last look (experiment-fold.ts): the sample-ratio guard over
 * users, the labelled minimum, the guardrails, then the always-valid accuracy test. Pure: the same
 * numbers always give the same decision and the same reason, so the CLI, the report and the
 * benchmark agree. Promotion needs accuracy to win AND every guardrail to be shown to hold (latency
 * and failures not worse than A's by more than their margins); a guardrail shown breached rejects.
 * decideRequestLevel is the rule before users were the unit (requests as independent trials, a
 * chi-square sample-ratio check, no guardrails): reported beside it, and measured by npm run bench:ab.
 */

import { AB_DEFAULTS } from '../config/config-schema.js';
import type { Config } from '../config/index.js';
import type { ArmSnapshot, FoldLook, FoldSettings } from './experiment-fold.js';
import type { PairedLook, PairedSnapshot } from './paired-fold.js';
import { sampleRatioMismatch, type SrmResult } from './srm.js';

export type AbMode = 'superiority' | 'non-inferiority';
/** rollback: a watched new prod found worse than the prod it replaced (the watch after a promotion). */
export type AbDecisionKind = 'promote' | 'reject' | 'rollback' | 'continue';

export interface DecisionConfig extends Omit<FoldSettings, 'theta0'> {
  /** superiority: B must beat A; non-inferiority: B may not be worse than A by more than `margin`. */
  mode: AbMode;
  /** Non-inferiority margin m in accuracy points (0 ≤ m < 1); ignored in superiority mode. */
  margin: number;
  /** Labelled rows per arm after which a test without a win ends in reject. */
  maxLabeledPerArm: number;
  /** Configured share of traffic routed to B now (ab_split_b), for the request-level chi-square. */
  splitB: number;
  /** Sample-ratio-mismatch p below which the test is invalid. */
  srmAlpha: number;
}

type AbSettings = Pick<Config['ab'], 'alpha' | 'tau' | 'mode' | 'margin' | 'min_labeled' | 'min_users' | 'max_labeled' | 'srm_alpha' | 'checkpoint_every' | 'guardrails'>;

/** The decision settings of a config's `ab` section, at a split. */
export function decisionConfig(ab: AbSettings, splitB: number): DecisionConfig {
  return {
    alpha: ab.alpha,
    tau: ab.tau,
    mode: ab.mode,
    margin: ab.margin,
    minLabeledPerArm: ab.min_labeled,
    minUsersPerArm: ab.min_users,
    maxLabeledPerArm: ab.max_labeled,
    checkpointEvery: ab.checkpoint_every,
    splitB,
    srmAlpha: ab.srm_alpha,
    latencyMargin: ab.guardrails.latency_margin,
    failureMargin: ab.guardrails.failure_margin,
  };
}

/** The defaults of the config (AB_DEFAULTS), for the benchmark and the tests. */
export const DEFAULT_DECISION_CONFIG: Omit<DecisionConfig, 'splitB'> = decisionConfig(AB_DEFAULTS, 0.5);

/** θ0 for the configured mode: H0 is θ = pB − pA ≤ θ0. */
export function nullDifference(config: Pick<DecisionConfig, 'mode' | 'margin'>): number {
  return config.mode === 'non-inferiority' ? -config.margin : 0;
}

/** The fold's settings for a decision config, so the looks and the decision never disagree. */
export function foldSettings(config: DecisionConfig): FoldSettings {
  return {
    alpha: config.alpha,
    tau: config.tau,
    theta0: nullDifference(config),
    minLabeledPerArm: config.minLabeledPerArm,
    minUsersPerArm: config.minUsersPerArm,
    checkpointEvery: config.checkpointEvery,
    latencyMargin: config.latencyMargin,
    failureMargin: config.failureMargin,
  };
}

/** A p-value for a sentence: two significant digits, scientific below 1e-4. */
export function formatP(p: number): string {
  if (p >= 1) return '1';
  // Underflow: the likelihood ratio passed what a double holds.
  if (p === 0) return '0';
  if (p < 1e-4) return p.toExponential(1);
  return String(Number(p.toPrecision(2)));
}

function formatAccuracy(x: number): string {
  return Number.isNaN(x) ? 'n/a' : x.toFixed(3);
}

function percent(x: number): string {
  return `${Number((x * 100).toPrecision(3))}%`;
}

export interface DecisionInput {
  arms: { A: ArmSnapshot; B: ArmSnapshot };
  /** The experiment's last look (the current numbers); null before any label. */
  look: FoldLook | null;
  /** The always-valid sample-ratio p over first-seen users, against the split in force for each. */
  srmPValue: number;
}

export type GuardrailState = 'holds' | 'breached' | 'undecided';

export interface GuardrailResult {
  name: 'latency' | 'failures';
  state: GuardrailState;
  /** B's harm on the test's scale: log(mean B / mean A) for latency, rate B − rate A for failures. */
  estimate: number | null;
  /** The margin on the same scale: log(1 + latency_margin), failure_margin. */
  threshold: number;
  /** Always-valid p that harm < threshold (it holds) and that harm > threshold (breached). */
  pHolds: number;
  pBreached: number;
  /** Always-valid bounds of the harm (each one-sided at 1 − alpha). */
  lower: number | null;
  upper: number | null;
  /** The numbers for people: A's and B's value, and the margin. */
  text: string;
}

export interface AbDecision {
  decision: AbDecisionKind;
  /** One plain sentence with the numbers behind the decision. */
  reason: string;
  /** The always-valid p the decision cites: pWorse when B was found worse, pBetter otherwise. */
  pValue: number;
  pBetter: number;
  pWorse: number;
  /** θ0 of the test: 0 (superiority) or −margin (non-inferiority). */
  theta0: number;
  /** pB̂ − pÂ; NaN until both arms have labels. */
  difference: number;
  /** Always-valid bounds of B − A; promote ⇔ lower > θ0, reject as worse ⇔ upper < θ0. */
  lower: number;
  upper: number;
  srmPValue: number;
  /** False when the sample-ratio guard makes the comparison untrustworthy. */
  valid: boolean;
  guardrails: GuardrailResult[];
  /** The guardrail whose breach rejected; null otherwise. */
  breached: GuardrailResult['name'] | null;
}

function guardrailOf(name: GuardrailResult['name'], state: FoldLook['latency'], estimate: number | null, threshold: number, text: string, alpha: number): GuardrailResult {
  const verdict: GuardrailState = state.pBetter < alpha ? 'breached' : state.pWorse < alpha ? 'holds' : 'undecided';
  return {
    name,
    state: verdict,
    estimate,
    threshold,
    pHolds: state.pWorse,
    pBreached: state.pBetter,
    lower: Number.isFinite(state.lower) ? state.lower : null,
    upper: Number.isFinite(state.upper) ? state.upper : null,
    text,
  };
}

function ms(x: number): string {
  return Number.isFinite(x) ? `${x.toFixed(1)} ms` : 'n/a';
}

/** Both guardrails at the last look, with their numbers in words. */
export function guardrails(input: DecisionInput, config: DecisionConfig): GuardrailResult[] {
  return guardrailsOf(input.arms, input.look, config);
}

/** What a guardrail sentence reads of each arm (in the paired test, of each model). */
type GuardrailNumbers = Pick<ArmSnapshot, 'meanLatencyMs' | 'latencyP99' | 'failureRate' | 'failed' | 'requests'>;

/** The guardrails of a split look or a paired one: both carry the same two sequential states. */
function guardrailsOf(
  models: { A: GuardrailNumbers; B: GuardrailNumbers },
  look: Pick<FoldLook, 'latency' | 'failures' | 'latencyHarm' | 'failureHarm'> | null,
  config: DecisionConfig,
): GuardrailResult[] {
  const { A, B } = models;
  const start = { pValue: 1, pBetter: 1, pWorse: 1, lower: Number.NEGATIVE_INFINITY, upper: Number.POSITIVE_INFINITY };
  const latencyChange = A.meanLatencyMs > 0 ? B.meanLatencyMs / A.meanLatencyMs - 1 : Number.NaN;
  const latencyText =
    `mean latency B ${ms(B.meanLatencyMs)} vs A ${ms(A.meanLatencyMs)} (${Number.isFinite(latencyChange) ? `${latencyChange >= 0 ? '+' : ''}${percent(latencyChange)}` : 'n/a'}, ` +
    `margin +${percent(config.latencyMargin)}; p99 B ${ms(B.latencyP99 ?? Number.NaN)} vs A ${ms(A.latencyP99 ?? Number.NaN)})`;
  const failureText =
    `failure rate B ${Number.isFinite(B.failureRate) ? percent(B.failureRate) : 'n/a'} (${B.failed} of ${B.requests + B.failed}) vs A ` +
    `${Number.isFinite(A.failureRate) ? percent(A.failureRate) : 'n/a'} (${A.failed} of ${A.requests + A.failed}), margin +${percent(config.failureMargin)}`;
  return [
    guardrailOf('latency', look?.latency ?? start, look?.latencyHarm ?? null, Math.log1p(config.latencyMargin), latencyText, config.alpha),
    guardrailOf('failures', look?.failures ?? start, look?.failureHarm ?? null, config.failureMargin, failureText, config.alpha),
  ];
}

/** ", always-valid interval of B − A [lower, upper]", or nothing before the first counted look. */
function intervalText(accuracy: { lower: number; upper: number }): string {
  return Number.isFinite(accuracy.lower) || Number.isFinite(accuracy.upper) ? `, always-valid interval of B − A [${accuracy.lower.toFixed(3)}, ${accuracy.upper.toFixed(3)}]` : '';
}

/** The guardrails not yet shown to hold, each with its numbers and its always-valid p. */
function pendingGuardrails(open: readonly GuardrailResult[]): string {
  return open.map((g) => `${g.name} (${g.text}, always-valid p = ${formatP(g.pHolds)})`).join('; ');
}

/** promote | reject | continue, with the reason spelled out. */
export function decide(input: DecisionInput, config: DecisionConfig): AbDecision {
  const { A, B } = input.arms;
  const look = input.look;
  const accuracy = look?.accuracy ?? { pValue: 1, pBetter: 1, pWorse: 1, lower: Number.NEGATIVE_INFINITY, upper: Number.POSITIVE_INFINITY };
  const { pBetter, pWorse } = accuracy;
  const theta0 = nullDifference(config);
  const { alpha } = config;
  const rails = guardrails(input, config);
  const mismatch = input.srmPValue < config.srmAlpha;
  const base = {
    pBetter,
    pWorse,
    theta0,
    difference: B.accuracy - A.accuracy,
    lower: accuracy.lower,
    upper: accuracy.upper,
    srmPValue: input.srmPValue,
    valid: !mismatch,
    guardrails: rails,
    breached: null,
  };
  const result = (decision: AbDecisionKind, reason: string, pValue = pBetter): AbDecision => ({ decision, reason, pValue, ...base });
  const accuracies = `accuracy ${formatAccuracy(B.accuracy)} vs ${formatAccuracy(A.accuracy)}`;
  const interval = intervalText(accuracy);
  const labelled = Math.min(A.labeled, B.labeled);
  const maxReached = labelled >= config.maxLabeledPerArm;
  const marginText = `by more than the margin ${config.margin}`;

  if (mismatch) {
    const what =
      `sample ratio mismatch: ${A.users} users in A and ${B.users} in B against the split in force ` +
      `(always-valid p = ${formatP(input.srmPValue)} < ${config.srmAlpha}); the test is invalid and nothing is promoted`;
    if (maxReached) return result('reject', `${what}, and the maximum of ${config.maxLabeledPerArm} labelled rows per arm is reached`);
    return result('continue', what);
  }
  if (A.labeled < config.minLabeledPerArm || B.labeled < config.minLabeledPerArm) {
    return result('continue', `waiting for labels: A has ${A.labeled} and B has ${B.labeled} labelled rows, ${config.minLabeledPerArm} per arm are needed`);
  }
  const minUsers = Math.max(2, config.minUsersPerArm);
  if (A.labeledUsers < minUsers || B.labeledUsers < minUsers) {
    return result('continue', `waiting for users: A has ${A.labeledUsers} and B has ${B.labeledUsers} users with labels, ${minUsers} per arm are needed (users are the unit of the test)`);
  }
  const breached = rails.find((g) => g.state === 'breached');
  if (breached) {
    const reason = `the ${breached.name} guardrail is breached: ${breached.text}, always-valid p = ${formatP(breached.pBreached)} < alpha ${alpha}`;
    return { ...result('reject', reason, breached.pBreached), breached: breached.name };
  }
  // "Worse" is checked first: if both directions ever crossed, nothing is promoted.
  if (pWorse < alpha) {
    const who = config.mode === 'superiority' ? 'B is worse than A' : `B is worse than A ${marginText}`;
    return result('reject', `${who}: ${accuracies}, always-valid p = ${formatP(pWorse)} < alpha ${alpha}${interval}`, pWorse);
  }
  if (pBetter < alpha) {
    const who = config.mode === 'superiority' ? 'B beats A' : `B is not worse than A ${marginText}`;
    const open = rails.filter((g) => g.state !== 'holds');
    if (open.length === 0) return result('promote', `${who}: ${accuracies}, always-valid p = ${formatP(pBetter)} < alpha ${alpha}${interval}; guardrails hold`);
    const pending = pendingGuardrails(open);
    const what = `${who} (${accuracies}, always-valid p = ${formatP(pBetter)}) but a guardrail is not yet shown to hold: ${pending}`;
    if (maxReached) return result('reject', `${what}, and the maximum of ${config.maxLabeledPerArm} labelled rows per arm is reached`);
    return result('continue', what);
  }
  const evidence = `accuracy B ${formatAccuracy(B.accuracy)} vs A ${formatAccuracy(A.accuracy)}, always-valid p = ${formatP(pBetter)} ≥ alpha ${alpha}${interval}`;
  if (maxReached) return result('reject', `no win within the maximum of ${config.maxLabeledPerArm} labelled rows per arm: ${evidence}`);
  return result('continue', `no decision yet after ${A.labeled} (A) and ${B.labeled} (B) labelled rows from ${A.labeledUsers} and ${B.labeledUsers} users: ${evidence}`);
}

export interface RequestLevelDecision {
  decision: AbDecisionKind;
  reason: string;
  pBetter: number;
  pWorse: number;
  srm: SrmResult;
}

/**
 * The rule before users were the unit: a chi-square of answered requests against the split now,
 * every labelled request an independent Bernoulli trial, no guardrails.
 */
export function decideRequestLevel(input: DecisionInput, config: DecisionConfig): RequestLevelDecision {
  const { A, B } = input.arms;
  const { pBetter, pWorse } = input.look?.requestLevel ?? { pBetter: 1, pWorse: 1 };
  const srm = sampleRatioMismatch(A.requests, B.requests, config.splitB, config.srmAlpha);
  const result = (decision: AbDecisionKind, reason: string): RequestLevelDecision => ({ decision, reason, pBetter, pWorse, srm });
  const maxReached = Math.min(A.labeled, B.labeled) >= config.maxLabeledPerArm;
  if (srm.mismatch) return result(maxReached ? 'reject' : 'continue', `request sample ratio mismatch: ${A.requests} vs ${B.requests} requests (chi-square p = ${formatP(srm.pValue)})`);
  if (A.labeled < config.minLabeledPerArm || B.labeled < config.minLabeledPerArm) return result('continue', 'waiting for labels');
  if (pWorse < config.alpha) return result('reject', `B is worse (request-level p = ${formatP(pWorse)})`);
  if (pBetter < config.alpha) return result('promote', `B beats A (request-level p = ${formatP(pBetter)})`);
  return result(maxReached ? 'reject' : 'continue', `no decision (request-level p = ${formatP(pBetter)})`);
}

/** What decidePaired reads: a paired fold's numbers and its last look (null before any). */
export type PairedDecisionInput = Omit<PairedSnapshot, 'path'> & { look: PairedLook | null };

/** decide's answer without the sample-ratio fields (nothing is randomised), with the pair counts. */
export interface PairedDecision extends Omit<AbDecision, 'srmPValue' | 'valid'> {
  labeledPairs: number;
  /** Discordant pairs: b with B right and A wrong, c the reverse; only they move accuracy B − A. */
  b: number;
  c: number;
  /** Share of compared pairs (labelled and unlabelled) where both predicted the same class; NaN before any. */
  agreementRate: number;
  /** The prediction-distribution chi-square p (descriptive); null before both models predicted. */
  predictionPValue: number | null;
}

/**
 * Why the paired test reports latency and does not judge it: the shadow predicts in batches of up to
 * shadowBatchSize rows on its own workers at the lowest priority, so its times are one measurement per
 * batch (not per request) of a batch prod never serves, and a model that takes longer on more rows
 * looks slower than it would serve. The split design measures the latency users get.
 */
export const PAIRED_LATENCY_NOTE = "reported, not judged, in shadow: the shadow's times are of its own batches; ab.design split or both judges latency";

/**
 * The paired (shadow) test's decision, in decide's order: the minimum of labelled pairs and of users
 * with them, a breached guardrail rejects, worse rejects, better with every guardrail shown to hold
 * promotes, the maximum of labelled pairs (max_labeled) rejects, else continue.
 */
export function decidePaired(input: PairedDecisionInput, config: DecisionConfig): PairedDecision {
  // No sample-ratio check: in shadow mode nothing is randomised, both models see every request.
  const { A, B } = input.models;
  const { labeled, labeledUsers, b, c } = input.pairs;
  const accuracy = input.look?.accuracy ?? { pValue: 1, pBetter: 1, pWorse: 1, lower: Number.NEGATIVE_INFINITY, upper: Number.POSITIVE_INFINITY };
  const { pBetter, pWorse } = accuracy;
  const { alpha } = config;
  const rails = guardrailsOf(input.models, input.look, config).map((g) =>
    g.name === 'latency' ? { ...g, text: `${g.text}; ${PAIRED_LATENCY_NOTE}` } : g,
  );
  // Only the failures guardrail judges in the paired test: see PAIRED_LATENCY_NOTE.
  const judged = rails.filter((g) => g.name !== 'latency');
  const base = {
    pBetter,
    pWorse,
    theta0: nullDifference(config),
    difference: input.pairs.difference,
    lower: accuracy.lower,
    upper: accuracy.upper,
    guardrails: rails,
    breached: null,
    labeledPairs: labeled,
    b,
    c,
    agreementRate: input.agreement.rate,
    predictionPValue: input.predictionShift?.pvalue ?? null,
  };
  const result = (decision: AbDecisionKind, reason: string, pValue = pBetter): PairedDecision => ({ decision, reason, pValue, ...base });
  const test = 'the paired (shadow) test';
  const discordant = `B right and A wrong ${b}, the reverse ${c}`;
  const accuracies = `accuracy ${formatAccuracy(B.accuracy)} vs ${formatAccuracy(A.accuracy)} on ${labeled} labelled pairs (${discordant})`;
  const interval = intervalText(accuracy);
  const maxReached = labeled >= config.maxLabeledPerArm;
  const marginText = `by more than the margin ${config.margin}`;

  if (labeled < config.minLabeledPerArm) {
    const { compared, rate } = input.agreement;
    const agreement = compared > 0 ? `A and B agree on ${percent(rate)} of ${compared} requests` : 'no predictions of both models compared yet';
    const shift = input.predictionShift ? `prediction distribution of B against A's: chi-square p = ${formatP(input.predictionShift.pvalue)}` : 'no predicted classes recorded';
    const waiting = labeled === 0 ? 'no labelled pairs yet' : `${labeled} labelled pairs (${discordant})`;
    return result('continue', `waiting for labels in ${test}: ${waiting}, ${config.minLabeledPerArm} are needed; ${agreement}; ${shift}`);
  }
  const minUsers = Math.max(2, config.minUsersPerArm);
  if (labeledUsers < minUsers) {
    return result('continue', `waiting for users in ${test}: ${labeledUsers} users with labelled pairs, ${minUsers} are needed (users are the unit of the test)`);
  }
  const breached = judged.find((g) => g.state === 'breached');
  if (breached) {
    const reason = `the ${breached.name} guardrail is breached in ${test}: ${breached.text}, always-valid p = ${formatP(breached.pBreached)} < alpha ${alpha}`;
    return { ...result('reject', reason, breached.pBreached), breached: breached.name };
  }
  // "Worse" is checked first, as in decide: if both directions ever crossed, nothing is promoted.
  if (pWorse < alpha) {
    const who = config.mode === 'superiority' ? 'B is worse than A' : `B is worse than A ${marginText}`;
    return result('reject', `${who} in ${test}: ${accuracies}, always-valid p = ${formatP(pWorse)} < alpha ${alpha}${interval}`, pWorse);
  }
  if (pBetter < alpha) {
    const who = config.mode === 'superiority' ? 'B beats A' : `B is not worse than A ${marginText}`;
    const open = judged.filter((g) => g.state !== 'holds');
    if (open.length === 0) return result('promote', `${who} in ${test}: ${accuracies}, always-valid p = ${formatP(pBetter)} < alpha ${alpha}${interval}; the failures guardrail holds (latency is reported, not judged, in shadow)`);
    const what = `${who} in ${test} (${accuracies}, always-valid p = ${formatP(pBetter)}) but a guardrail is not yet shown to hold: ${pendingGuardrails(open)}`;
    if (maxReached) return result('reject', `${what}, and the maximum of ${config.maxLabeledPerArm} labelled pairs is reached`);
    return result('continue', what);
  }
  const evidence = `${accuracies}, always-valid p = ${formatP(pBetter)} ≥ alpha ${alpha}${interval}`;
  if (maxReached) return result('reject', `no win in ${test} within the maximum of ${config.maxLabeledPerArm} labelled pairs: ${evidence}`);
  return result('continue', `no decision yet in ${test} after ${labeled} labelled pairs from ${labeledUsers} users: ${evidence}`);
}
