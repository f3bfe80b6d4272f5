/**
 * The A/B decision: guardrails (sample ratio, labelled rows per arm), then the always-valid mSPRT
 * p-values against alpha. Pure: the same counts and p-values always give the same decision and the
 * same reason, so the CLI, the report and the benchmark agree. The settings come from the validated
 * config (its schema holds their ranges); the counts are checked here.
 */

import { InputError, describe } from '../errors.js';
import { wilsonInterval, type ProportionInterval } from '../stats/wilson-interval.js';
import { AB_DEFAULTS } from '../config/config-schema.js';
import type { Config } from '../config/index.js';
import { msprtPath, type MsprtPathOptions, type MsprtPathPoint, type TwoArmCounts } from '../stats/msprt.js';
import { sampleRatioMismatch, type SrmResult } from './srm.js';

export type AbMode = 'superiority' | 'non-inferiority';
export type AbDecisionKind = 'promote' | 'reject' | 'continue';

export interface DecisionConfig {
  /** Always-valid p below which the test decides. */
  alpha: number;
  /** mSPRT mixture spread τ on the accuracy-difference scale. */
  tau: number;
  /** superiority: B must beat A; non-inferiority: B may not be worse than A by more than `margin`. */
  mode: AbMode;
  /** Non-inferiority margin m in accuracy points (0 ≤ m < 1); ignored in superiority mode. */
  margin: number;
  /** Labelled rows each arm needs before any decision (the normal approximation's guardrail). */
  minLabeledPerArm: number;
  /** Labelled rows per arm after which a test without a win ends in reject. */
  maxLabeledPerArm: number;
  /** Configured share of traffic routed to B (ab_split_b). */
  splitB: number;
  /** Sample-ratio-mismatch p below which the test is invalid. */
  srmAlpha: number;
}

/** The decision settings of a config's `ab` section, at a split. */
export function decisionConfig(ab: Pick<Config['ab'], 'alpha' | 'tau' | 'mode' | 'margin' | 'min_labeled' | 'max_labeled' | 'srm_alpha'>, splitB: number): DecisionConfig {
  return {
    alpha: ab.alpha,
    tau: ab.tau,
    mode: ab.mode,
    margin: ab.margin,
    minLabeledPerArm: ab.min_labeled,
    maxLabeledPerArm: ab.max_labeled,
    splitB,
    srmAlpha: ab.srm_alpha,
  };
}

/** The defaults of the config (AB_DEFAULTS), for the benchmark and the tests. */
export const DEFAULT_DECISION_CONFIG: Omit<DecisionConfig, 'splitB'> = decisionConfig(AB_DEFAULTS, 0.5);

/** What the log says about one arm. */
export interface ArmCounts {
  requests: number;
  labeled: number;
  /** Labelled rows whose prediction matched the label. */
  correct: number;
}

/** The always-valid p-values at the latest checkpoint (the last point of msprtPath). */
export interface SequentialState {
  pBetter: number;
  pWorse: number;
}

export interface DecisionInput {
  A: ArmCounts;
  B: ArmCounts;
  sequential: SequentialState;
}

export interface ArmResult extends ArmCounts {
  /** correct / labeled; NaN before any label. */
  accuracy: number;
  /** 95% Wilson score interval of the accuracy. */
  ci: ProportionInterval;
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
  srm: SrmResult;
  /** False when a guardrail makes the comparison untrustworthy (sample ratio mismatch). */
  valid: boolean;
  arms: { A: ArmResult; B: ArmResult };
}

function checkArm(name: string, arm: ArmCounts): void {
  if (!Number.isInteger(arm.requests) || arm.requests < 0) throw new InputError(`arm ${name} requests: expected an integer ≥ 0, got ${describe(arm.requests)}`);
  if (!Number.isInteger(arm.labeled) || arm.labeled < 0 || arm.labeled > arm.requests) {
    throw new InputError(`arm ${name} labelled rows: expected an integer in [0, ${arm.requests}] (its requests), got ${describe(arm.labeled)}`);
  }
  if (!Number.isInteger(arm.correct) || arm.correct < 0 || arm.correct > arm.labeled) {
    throw new InputError(`arm ${name} correct predictions: expected an integer in [0, ${arm.labeled}], got ${describe(arm.correct)}`);
  }
}

/** θ0 for the configured mode: H0 is θ = pB − pA ≤ θ0. */
export function nullDifference(config: Pick<DecisionConfig, 'mode' | 'margin'>): number {
  return config.mode === 'non-inferiority' ? -config.margin : 0;
}

/** The mSPRT options that belong to a decision config, so the path and the decision never disagree. */
export function msprtOptionsFor(config: DecisionConfig): MsprtPathOptions {
  return { tau: config.tau, theta0: nullDifference(config), minPerArm: config.minLabeledPerArm };
}

/** A p-value for a sentence: two significant digits, scientific below 1e-4. */
export function formatP(p: number): string {
  if (p >= 1) return '1';
  if (p < 1e-4) return p.toExponential(1);
  return String(Number(p.toPrecision(2)));
}

function formatAccuracy(x: number): string {
  return Number.isNaN(x) ? 'n/a' : x.toFixed(3);
}

function armResult(arm: ArmCounts): ArmResult {
  const ci = wilsonInterval(arm.correct, arm.labeled);
  return { ...arm, accuracy: ci.estimate, ci };
}

/** promote | reject | continue, with the reason spelled out. */
export function decide(input: DecisionInput, config: DecisionConfig): AbDecision {
  checkArm('A', input.A);
  checkArm('B', input.B);
  const { pBetter, pWorse } = input.sequential;
  for (const [key, p] of [['pBetter', pBetter], ['pWorse', pWorse]] as const) {
    if (!(p >= 0 && p <= 1)) throw new InputError(`sequential ${key}: expected a probability in [0, 1], got ${describe(p)}`);
  }
  const A = armResult(input.A);
  const B = armResult(input.B);
  const srm = sampleRatioMismatch(input.A.requests, input.B.requests, config.splitB, config.srmAlpha);
  const theta0 = nullDifference(config);
  const { alpha } = config;
  const accuracies = `accuracy ${formatAccuracy(B.accuracy)} vs ${formatAccuracy(A.accuracy)}`;
  const labelled = Math.min(A.labeled, B.labeled);
  const maxReached = labelled >= config.maxLabeledPerArm;
  const base = { pBetter, pWorse, theta0, difference: B.accuracy - A.accuracy, srm, valid: !srm.mismatch, arms: { A, B } };
  const result = (decision: AbDecisionKind, reason: string, pValue = pBetter): AbDecision => ({ decision, reason, pValue, ...base });
  const marginText = `by more than the margin ${config.margin}`;

  if (srm.mismatch) {
    const what =
      `sample ratio mismatch: A got ${srm.requestsA} requests and B ${srm.requestsB}, expected ` +
      `${srm.expectedA.toFixed(1)} and ${srm.expectedB.toFixed(1)} at ab_split_b ${config.splitB} ` +
      `(chi-square p = ${formatP(srm.pValue)} < ${config.srmAlpha}); the test is invalid and nothing is promoted`;
    if (maxReached) return result('reject', `${what}, and the maximum of ${config.maxLabeledPerArm} labelled rows per arm is reached`);
    return result('continue', what);
  }
  if (A.labeled < config.minLabeledPerArm || B.labeled < config.minLabeledPerArm) {
    return result(
      'continue',
      `waiting for labels: A has ${A.labeled} and B has ${B.labeled} labelled rows, ${config.minLabeledPerArm} per arm are needed`,
    );
  }
  // "Worse" is checked first: if both directions ever crossed, nothing is promoted.
  if (pWorse < alpha) {
    const who = config.mode === 'superiority' ? 'B is worse than A' : `B is worse than A ${marginText}`;
    return result('reject', `${who}: ${accuracies}, always-valid p = ${formatP(pWorse)} < alpha ${alpha}`, pWorse);
  }
  if (pBetter < alpha) {
    const who = config.mode === 'superiority' ? 'B beats A' : `B is not worse than A ${marginText}`;
    return result('promote', `${who}: ${accuracies}, always-valid p = ${formatP(pBetter)} < alpha ${alpha}`);
  }
  const evidence = `accuracy B ${formatAccuracy(B.accuracy)} vs A ${formatAccuracy(A.accuracy)}, always-valid p = ${formatP(pBetter)} ≥ alpha ${alpha}`;
  if (maxReached) {
    return result('reject', `no win within the maximum of ${config.maxLabeledPerArm} labelled rows per arm: ${evidence}`);
  }
  return result('continue', `no decision yet after ${A.labeled} (A) and ${B.labeled} (B) labelled rows: ${evidence}`);
}

/**
 * The whole evaluation from the log's cumulative labelled checkpoints: the always-valid p path and
 * the decision at its end. The last checkpoint should be the arms' current labelled counts.
 */
export function evaluateAb(
  input: { A: ArmCounts; B: ArmCounts; checkpoints: readonly TwoArmCounts[] },
  config: DecisionConfig,
): { decision: AbDecision; path: MsprtPathPoint[] } {
  const path = msprtPath(input.checkpoints, msprtOptionsFor(config));
  const last = path.at(-1);
  const lastCounts = last ?? { nA: 0, successesA: 0, nB: 0, successesB: 0 };
  if (
    lastCounts.nA !== input.A.labeled ||
    lastCounts.successesA !== input.A.correct ||
    lastCounts.nB !== input.B.labeled ||
    lastCounts.successesB !== input.B.correct
  ) {
    throw new InputError(
      `A/B checkpoints: expected the last one to equal the arms' labelled counts (A ${input.A.correct}/${input.A.labeled}, ` +
        `B ${input.B.correct}/${input.B.labeled}), got A ${lastCounts.successesA}/${lastCounts.nA}, B ${lastCounts.successesB}/${lastCounts.nB}`,
    );
  }
  const sequential: SequentialState = last ? { pBetter: last.pBetter, pWorse: last.pWorse } : { pBetter: 1, pWorse: 1 };
  return { decision: decide({ A: input.A, B: input.B, sequential }, config), path };
}
