/**
 * Standard normal distribution: density, cdf, survival function and quantile, accurate to a few
 * ulps, tails included (sf(37) ≈ 5.7e-300 keeps its relative precision).
 */

import { continuedFraction } from './continued-fraction.js';
import { InputError, describe } from '../errors.js';

const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);
const EPS = Number.EPSILON;
// Below this |z| the series for Φ(z) − 1/2 (≤ 2 bits lost in 1/2 − S), above it the continued fraction (≤ 250 terms).
const SERIES_LIMIT = 1.25;

/** exp(−z²/2) with z split into high and low halves, so z² carries no rounding into the exponent. */
function expHalfSquare(z: number): number {
  const split = 134217729 * z; // 2^27 + 1: Veltkamp split
  const hi = split - (split - z);
  const lo = z - hi;
  return Math.exp(-0.5 * hi * hi) * Math.exp(-(hi * lo + 0.5 * lo * lo));
}

/** Standard normal density φ(z). */
export function normalPdf(z: number): number {
  return INV_SQRT_2PI * expHalfSquare(z);
}

/** Φ(z) − 1/2 = φ(z) · Σ z^(2n+1) / (1·3·…·(2n+1)); all terms positive for z > 0, so no cancellation. */
function centralSeries(z: number): number {
  let term = z;
  let sum = z;
  for (let n = 1; n < 500; n++) {
    term *= (z * z) / (2 * n + 1);
    sum += term;
    if (Math.abs(term) <= EPS * Math.abs(sum)) break;
  }
  return normalPdf(z) * sum;
}

/** Mills ratio (1 − Φ(z)) / φ(z) for z ≥ SERIES_LIMIT, by Laplace's continued fraction z + 1/(z + 2/(z + …)). */
function millsRatio(z: number): number {
  return 1 / continuedFraction(z, (k) => [k, z], EPS, `normal tail (z = ${z})`);
}

/** Upper tail for z ≥ 0, to full relative precision. */
function upperTail(z: number): number {
  if (z < SERIES_LIMIT) return 0.5 - centralSeries(z);
  return normalPdf(z) * millsRatio(z);
}

function checkNumber(name: string, z: number): void {
  if (Number.isNaN(z)) throw new InputError(`${name}: expected a number, got ${describe(z)}`);
}

/** Φ(z) = P(Z ≤ z). */
export function normalCdf(z: number): number {
  checkNumber('normalCdf', z);
  if (z === Infinity) return 1;
  if (z === -Infinity) return 0;
  if (z >= 0) return z < SERIES_LIMIT ? 0.5 + centralSeries(z) : 1 - upperTail(z);
  return upperTail(-z);
}

/** 1 − Φ(z) = P(Z > z), without the cancellation of 1 − cdf in the upper tail. */
export function normalSf(z: number): number {
  checkNumber('normalSf', z);
  return normalCdf(-z);
}

/** ln Φ(z) and φ(z)/Φ(z) for z ≤ 0, computed without forming φ, so they stay finite where Φ underflows. */
function lowerTailLogAndHazard(z: number): { logCdf: number; hazard: number } {
  const t = -z;
  if (t < SERIES_LIMIT) {
    const cdf = upperTail(t);
    return { logCdf: Math.log(cdf), hazard: normalPdf(t) / cdf };
  }
  const r = millsRatio(t);
  return { logCdf: -0.5 * t * t + Math.log(INV_SQRT_2PI * r), hazard: 1 / r };
}

/** ln Φ(z), finite far into the lower tail (ln Φ(−40) ≈ −804.6) where Φ itself underflows. */
export function normalLogCdf(z: number): number {
  checkNumber('normalLogCdf', z);
  if (z === Infinity) return 0;
  if (z === -Infinity) return -Infinity;
  if (z > 0) return Math.log1p(-upperTail(z));
  return lowerTailLogAndHazard(z).logCdf;
}

/** Lower-tail quantile for 0 < p ≤ 1/2: Abramowitz–Stegun 26.2.23 start, then Halley on ln Φ. */
function lowerQuantile(p: number): number {
  const t = Math.sqrt(-2 * Math.log(p));
  let z = -(t - (2.515517 + t * (0.802853 + t * 0.010328)) / (1 + t * (1.432788 + t * (0.189269 + t * 0.001308))));
  const logP = Math.log(p);
  for (let i = 0; i < 50; i++) {
    const { logCdf, hazard } = lowerTailLogAndHazard(z);
    // f(z) = ln Φ(z) − ln p; f' = h = φ/Φ; f'' = −h(z + h): Halley's step.
    const f = logCdf - logP;
    const f1 = hazard;
    const f2 = -hazard * (z + hazard);
    const step = (2 * f * f1) / (2 * f1 * f1 - f * f2);
    z -= step;
    if (Math.abs(step) <= 4 * EPS * Math.abs(z)) break;
  }
  return z;
}

/** Central quantile for 1/4 ≤ p ≤ 1/2: Halley on Φ(z) − 1/2 = p − 1/2, exact differences, no logs. */
function centralQuantile(p: number): number {
  // Sterbenz: p − 1/2 is exact for p in [1/4, 1].
  const target = p - 0.5;
  let z = target * Math.sqrt(2 * Math.PI);
  for (let i = 0; i < 50; i++) {
    const f = (z >= 0 ? centralSeries(z) : -centralSeries(-z)) - target;
    const pdf = normalPdf(z);
    // f' = φ, f'' = −zφ: Halley's step.
    const step = (2 * f * pdf) / (2 * pdf * pdf + f * z * pdf);
    z -= step;
    if (Math.abs(step) <= 4 * EPS * Math.abs(z)) break;
  }
  return z;
}

/** Φ⁻¹(p): the z with P(Z ≤ z) = p. */
export function normalQuantile(p: number): number {
  if (!(p >= 0 && p <= 1)) throw new InputError(`normalQuantile: expected a probability in [0, 1], got ${describe(p)}`);
  if (p === 0) return -Infinity;
  if (p === 1) return Infinity;
  if (p === 0.5) return 0;
  if (p >= 0.25 && p <= 0.75) return p <= 0.5 ? centralQuantile(p) : -centralQuantile(1 - p);
  // Solve in the lower tail, where p carries its full precision; 1 − p is exact for p ≥ 1/2.
  return p < 0.5 ? lowerQuantile(p) : -lowerQuantile(1 - p);
}

/** Φ⁻¹(1 − q): the z with P(Z > z) = q, precise for tiny q. */
export function normalIsf(q: number): number {
  if (!(q >= 0 && q <= 1)) throw new InputError(`normalIsf: expected a probability in [0, 1], got ${describe(q)}`);
  // 0 − x rather than −x: the median is +0, not −0.
  return 0 - normalQuantile(q);
}
