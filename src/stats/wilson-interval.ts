/**
 * Confidence interval for one arm's accuracy: the Wilson score interval (Wilson 1927), which keeps
 * its coverage near 0 and 1 where the Wald interval collapses, and never leaves [0, 1].
 */

import { InputError, describe } from '../errors.js';
import { normalQuantile } from './normal.js';

export interface ProportionInterval {
  /** Point estimate successes / n (NaN when n = 0). */
  estimate: number;
  lower: number;
  upper: number;
  confidence: number;
}

/** Lower Wilson bound 2s² / (n (2s + z² + z√(z² + 4s(n − s)/n))): the textbook form rationalised, no cancellation at s = 0. */
function wilsonLower(successes: number, n: number, z: number): number {
  if (successes === 0) return 0;
  const root = Math.sqrt(z * z + (4 * successes * (n - successes)) / n);
  return (2 * successes * successes) / (n * (2 * successes + z * z + z * root));
}

/**
 * Wilson score interval for `successes` out of `n` at two-sided `confidence` (default 0.95):
 * (p̂ + z²/2n ± z √(p̂(1 − p̂)/n + z²/4n²)) / (1 + z²/n), z = Φ⁻¹(1 − (1 − confidence)/2).
 * With n = 0 nothing is known: the interval is [0, 1].
 */
export function wilsonInterval(successes: number, n: number, confidence = 0.95): ProportionInterval {
  if (!Number.isInteger(n) || n < 0) throw new InputError(`interval sample size: expected an integer ≥ 0, got ${describe(n)}`);
  if (!Number.isInteger(successes) || successes < 0 || successes > n) {
    throw new InputError(`interval successes: expected an integer in [0, ${n}], got ${describe(successes)}`);
  }
  if (!(confidence > 0 && confidence < 1)) throw new InputError(`interval confidence: expected a number in (0, 1), got ${describe(confidence)}`);
  if (n === 0) return { estimate: Number.NaN, lower: 0, upper: 1, confidence };
  const z = normalQuantile(1 - (1 - confidence) / 2);
  // The upper bound is the mirror image of the lower bound for the failures.
  return { estimate: successes / n, lower: wilsonLower(successes, n, z), upper: 1 - wilsonLower(n - successes, n, z), confidence };
}
