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
 */

import { InputError, describe } from '../errors.js';
import { normalLogCdf } from './normal.js';


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
  /** θ̂ = pB̂ − pÂ. */
  estimate: number;
  /** V_n, the plug-in variance of θ̂. */
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

function checkOptions(options: MsprtOptions): void {
  if (!(options.tau > 0) || !Number.isFinite(options.tau)) throw new InputError(`mSPRT tau: expected a finite number > 0, got ${describe(options.tau)}`);
  if (!(options.theta0 > -1 && options.theta0 < 1)) throw new InputError(`mSPRT theta0: expected a number in (−1, 1), got ${describe(options.theta0)}`);
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

/**
 * The always-valid p-value path over cumulative checkpoints (in arrival order). Path-dependent by
 * design: p_n = min(p_{n−1}, 1/Λ_n), so recompute it from the whole log, never from the last counts.
 */
export function msprtPath(checkpoints: readonly TwoArmCounts[], options: MsprtPathOptions): MsprtPathPoint[] {
  if (!(options.minPerArm >= 1) || !Number.isInteger(options.minPerArm)) {
    throw new InputError(`mSPRT minPerArm: expected an integer ≥ 1, got ${describe(options.minPerArm)}`);
  }
  const path: MsprtPathPoint[] = [];
  let state: Pick<MsprtPathPoint, 'pValue' | 'pBetter' | 'pWorse'> = MSPRT_START;
  let previous: TwoArmCounts | undefined;
  for (const counts of checkpoints) {
    if (previous && (counts.nA < previous.nA || counts.nB < previous.nB)) {
      throw new InputError(
        `mSPRT checkpoints: expected cumulative counts that never decrease, got nA ${previous.nA} → ${counts.nA}, nB ${previous.nB} → ${counts.nB}`,
      );
    }
    const point = msprtStep(state, counts, options);
    path.push(point);
    state = point;
    previous = counts;
  }
  return path;
}
