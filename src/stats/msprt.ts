/**
 * Mixture sequential probability ratio test (mSPRT) for the difference in accuracy θ = pB − pA,
 * valid under continuous monitoring (Johari, Pekelis & Walsh, "Always Valid Inference").
 *
 * Model: the two-sample normal approximation with per-arm sample sizes, θ̂ = pB̂ − pÂ and
 * V_n = pÂ(1 − pÂ)/nA + pB̂(1 − pB̂)/nB (plug-in, unpooled). With matched sizes nA = nB = n this is
 * exactly the paper's closed form for n paired differences with σ² = pA(1 − pA) + pB(1 − pB); per-arm
 * sizes keep every labelled row when the split is not 50/50.
 *
 * Direction: besides the paper's symmetric mixture θ ~ N(θ0, τ²) (two-sided Λ), each direction gets
 * its own half-normal mixture over θ > θ0 (B better) or θ < θ0 (B worse), Λ± = 2 Λ Φ(±w). Each Λ± is
 * a test martingale under θ = θ0 and a supermartingale on its whole one-sided null, so the running
 * minimum of 1/Λ+ is an always-valid p-value for "B is better": false promotions stay ≤ alpha for
 * every true θ ≤ θ0, without spending half of alpha on the opposite direction.
 *
 * The mixture itself needs only an estimate and its variance (mixtureStatistic), so any asymptotically
 * normal estimate (a clustered mean, a log ratio of means) folds through sequentialStep, which also
 * keeps the always-valid bounds that answer the same questions as its p-values.
 */

import { InputError, describe } from '../errors.js';
import { normalCdf, normalLogCdf, normalPdf } from './normal.js';

/** Cumulative labelled counts of both arms at one moment. */
export interface TwoArmCounts {
  nA: number;
  successesA: number;
  nB: number;
  successesB: number;
}

export interface MsprtOptions {
  /** Mixture spread τ (> 0) on the scale of θ = pB − pA. */
  tau: number;
  /** Null difference θ0: 0 for superiority, −margin for non-inferiority. */
  theta0: number;
}

export interface MsprtStatistic {
  /** θ̂ (pB̂ − pÂ for counts). */
  estimate: number;
  /** V_n, the (plug-in) variance of θ̂. */
  variance: number;
  /** ln Λ of the paper's symmetric N(θ0, τ²) mixture. */
  logLambda: number;
  /** ln Λ+ of the half-normal mixture over θ > θ0 (evidence that B is better than θ0). */
  logLambdaBetter: number;
  /** ln Λ− of the half-normal mixture over θ < θ0 (evidence that B is worse than θ0). */
  logLambdaWorse: number;
}

/** One point of the always-valid p-value path: running minima up to and including these counts. */
export interface MsprtPathPoint extends TwoArmCounts {
  estimate: number;
  /** Two-sided always-valid p, min over the path of 1/Λ (the paper's p_n). */
  pValue: number;
  /** Always-valid p for H0: θ ≤ θ0, min over the path of 1/Λ+; promotion rests on it. */
  pBetter: number;
  /** Always-valid p for H0: θ ≥ θ0, min over the path of 1/Λ−; "B is worse" rests on it. */
  pWorse: number;
  /** False until both arms reach minPerArm: before that the path stays at p = 1. */
  counted: boolean;
}

export interface MsprtPathOptions extends MsprtOptions {
  /** Checkpoints where either arm has fewer labelled rows stay out of the running minima. */
  minPerArm: number;
}

function checkCounts(counts: TwoArmCounts, minN: number): void {
  for (const [arm, n, s] of [
    ['A', counts.nA, counts.successesA],
    ['B', counts.nB, counts.successesB],
  ] as const) {
    if (!Number.isInteger(n) || n < minN) throw new InputError(`arm ${arm} labelled rows: expected an integer ≥ ${minN}, got ${describe(n)}`);
    if (!Number.isInteger(s) || s < 0 || s > n) {
      throw new InputError(`arm ${arm} correct predictions: expected an integer in [0, ${n}], got ${describe(s)}`);
    }
  }
}

function checkTau(tau: number): void {
  if (!(tau > 0) || !Number.isFinite(tau)) throw new InputError(`mSPRT tau: expected a finite number > 0, got ${describe(tau)}`);
}

/** θ0 on the accuracy scale, where a difference of proportions lives in (−1, 1). */
function checkOptions(options: MsprtOptions): void {
  checkTau(options.tau);
  if (!(options.theta0 > -1 && options.theta0 < 1)) throw new InputError(`mSPRT theta0: expected a number in (−1, 1), got ${describe(options.theta0)}`);
}

function checkEstimate(estimate: number, variance: number): void {
  if (!Number.isFinite(estimate)) throw new InputError(`mSPRT estimate: expected a finite number, got ${describe(estimate)}`);
  if (!(variance > 0) || !Number.isFinite(variance)) throw new InputError(`mSPRT variance: expected a finite number > 0, got ${describe(variance)}`);
}

function checkAlpha(alpha: number): void {
  if (!(alpha > 0 && alpha < 1)) throw new InputError(`mSPRT alpha: expected a number in (0, 1), got ${describe(alpha)}`);
}

/** p̂(1 − p̂), floored at the variance with one of the n outcomes flipped so 0/n and n/n do not give V = 0. */
function bernoulliVariance(successes: number, n: number): number {
  const p = successes / n;
  return Math.max(p * (1 - p), (n - 1) / (n * n));
}

/** The mixture likelihood ratios at cumulative counts (no running minimum). */
export function msprtStatistic(counts: TwoArmCounts, options: MsprtOptions): MsprtStatistic {
  checkCounts(counts, 1);
  checkOptions(options);
  const { nA, successesA, nB, successesB } = counts;
  const estimate = successesB / nB - successesA / nA;
  const variance = bernoulliVariance(successesA, nA) / nA + bernoulliVariance(successesB, nB) / nB;
  return mixtureStatistic(estimate, variance, options);
}

/**
 * The mixture likelihood ratios of an estimate θ̂ with variance V against θ0 (no running minimum).
 * θ0 may be any finite number here: the scale is the estimate's (a latency log ratio, a rate).
 */
export function mixtureStatistic(estimate: number, variance: number, options: MsprtOptions): MsprtStatistic {
  checkEstimate(estimate, variance);
  checkTau(options.tau);
  if (!Number.isFinite(options.theta0)) throw new InputError(`mSPRT theta0: expected a finite number, got ${describe(options.theta0)}`);
  const tau2 = options.tau * options.tau;
  const d = estimate - options.theta0;
  const logLambda = 0.5 * Math.log(variance / (variance + tau2)) + (tau2 * d * d) / (2 * variance * (variance + tau2));
  // Half-normal mixture: ∫_{θ>θ0} N(θ; θ0, τ²)·2 · LR(θ) dθ = 2 Λ Φ(w), w = τ d / √(V (V + τ²)).
  const w = (options.tau * d) / Math.sqrt(variance * (variance + tau2));
  return {
    estimate,
    variance,
    logLambda,
    logLambdaBetter: Math.LN2 + logLambda + normalLogCdf(w),
    logLambdaWorse: Math.LN2 + logLambda + normalLogCdf(-w),
  };
}

/** 1/Λ from ln Λ, capped at 1. */
function inverse(logLambda: number): number {
  return logLambda <= 0 ? 1 : Math.exp(-logLambda);
}

/**
 * The distance d = θ̂ − θ0 at which ln Λ+ = ln(1/α). With w = τ d / √(V (V + τ²)),
 * ln Λ+ = ln 2 + ½ ln(V/(V + τ²)) + w²/2 + ln Φ(w), so solve h(w) = w²/2 + ln Φ(w) = target. h is
 * increasing and convex (h' = w + φ/Φ > 0, h'' = 1 − λ(w + λ) > 0 with λ = φ/Φ), h(0) = −ln 2 < target
 * for every α < 1, so Newton from the right end of [0, √(2(target + ln 2))] falls monotonically onto the root.
 */
function oneSidedDistance(variance: number, tau: number, alpha: number): number {
  const tau2 = tau * tau;
  // The same ½ ln(V/(V + τ²)) as mixtureStatistic, so the bound and the p-value round alike.
  const target = -Math.log(alpha) - Math.LN2 - 0.5 * Math.log(variance / (variance + tau2));
  let lo = 0;
  let hi = Math.sqrt(2 * (target + Math.LN2));
  let w = hi;
  for (let i = 0; i < 200; i++) {
    const f = (w * w) / 2 + normalLogCdf(w) - target;
    if (f === 0) break;
    if (f > 0) hi = w;
    else lo = w;
    let next = w - f / (w + normalPdf(w) / normalCdf(w));
    // Safeguard: rounding near the root must not leave the bracket.
    if (!(next > lo && next < hi)) next = (lo + hi) / 2;
    const moved = Math.abs(next - w);
    w = next;
    if (moved <= 4 * Number.EPSILON * w) break;
  }
  return (w * Math.sqrt(variance * (variance + tau2))) / tau;
}

/**
 * One-sided always-valid bounds at one look: `lower` is the θ0 where Λ+ = 1/α, `upper` the θ0 where
 * Λ− = 1/α. Λ+ falls as θ0 rises, so "pBetter < α at this look" ⇔ "lower > θ0", and likewise
 * "pWorse < α" ⇔ "upper < θ0". Λ− is Λ+ mirrored, so both sit at the same distance from θ̂.
 * No range check on the bounds: they may fall outside (−1, 1).
 */
export function mixtureBounds(estimate: number, variance: number, tau: number, alpha: number): { lower: number; upper: number } {
  checkEstimate(estimate, variance);
  checkTau(tau);
  checkAlpha(alpha);
  const d = oneSidedDistance(variance, tau, alpha);
  return { lower: estimate - d, upper: estimate + d };
}

/**
 * Half width of the two-sided normal-mixture confidence sequence: θ̂ ± it is where the symmetric Λ
 * equals 1/α, √((V (V + τ²)/τ²) · (2 ln(1/α) + ln((V + τ²)/V))).
 */
export function mixtureHalfWidth(variance: number, tau: number, alpha: number): number {
  checkEstimate(0, variance);
  checkTau(tau);
  checkAlpha(alpha);
  const tau2 = tau * tau;
  return Math.sqrt(((variance * (variance + tau2)) / tau2) * (-2 * Math.log(alpha) + Math.log1p(tau2 / variance)));
}

/** The always-valid state of an (estimate, variance) sequence: running minima of the p's, running max of lower, running min of upper. */
export interface SequentialPoint {
  pValue: number;
  pBetter: number;
  pWorse: number;
  lower: number;
  upper: number;
}

/** Before any look: nothing rejected, nothing bounded. */
export const SEQUENTIAL_START: SequentialPoint = Object.freeze({ pValue: 1, pBetter: 1, pWorse: 1, lower: -Infinity, upper: Infinity });

/**
 * Advances the always-valid state by one look at (estimate, variance). Each look's p < α exactly when
 * its bound excludes θ0, so the running min p is below α exactly when the running bound excludes θ0.
 */
export function sequentialStep(previous: SequentialPoint, estimate: number, variance: number, options: MsprtOptions & { alpha: number }): SequentialPoint {
  const stat = mixtureStatistic(estimate, variance, options);
  const bounds = mixtureBounds(estimate, variance, options.tau, options.alpha);
  return {
    pValue: Math.min(previous.pValue, inverse(stat.logLambda)),
    pBetter: Math.min(previous.pBetter, inverse(stat.logLambdaBetter)),
    pWorse: Math.min(previous.pWorse, inverse(stat.logLambdaWorse)),
    lower: Math.max(previous.lower, bounds.lower),
    upper: Math.min(previous.upper, bounds.upper),
  };
}

/** The always-valid state before any checkpoint. */
export const MSPRT_START: Pick<MsprtPathPoint, 'pValue' | 'pBetter' | 'pWorse'> = { pValue: 1, pBetter: 1, pWorse: 1 };

/** Advances the running minima by one checkpoint; the path is a fold of this step. */
export function msprtStep(
  previous: Pick<MsprtPathPoint, 'pValue' | 'pBetter' | 'pWorse'>,
  counts: TwoArmCounts,
  options: MsprtPathOptions,
): MsprtPathPoint {
  const counted = counts.nA >= options.minPerArm && counts.nB >= options.minPerArm;
  if (!counted) {
    checkCounts(counts, 0);
    const estimate = counts.nA > 0 && counts.nB > 0 ? counts.successesB / counts.nB - counts.successesA / counts.nA : 0;
    return { ...counts, estimate, pValue: previous.pValue, pBetter: previous.pBetter, pWorse: previous.pWorse, counted };
  }
  const stat = msprtStatistic(counts, options);
  return {
    ...counts,
    estimate: stat.estimate,
    pValue: Math.min(previous.pValue, inverse(stat.logLambda)),
    pBetter: Math.min(previous.pBetter, inverse(stat.logLambdaBetter)),
    pWorse: Math.min(previous.pWorse, inverse(stat.logLambdaWorse)),
    counted,
  };
}
