/**
 * Categorical drift test as Evidently's chisquare stattest runs it: scipy.stats.chisquare of the
 * current counts against the reference counts scaled to the current total.
 */

import { chiSquareSf } from '../stats/chi-square.js';
import type { CategoryCounts } from './psi.js';

export interface ChiSquareTestResult {
  /** Pearson's Σ (observed - expected)²/expected; Infinity when current has a category reference lacks. */
  statistic: number;
  pvalue: number;
  /** Categories - 1. */
  df: number;
  /** Reference counts × nCurrent/nReference, per category of `counts.categories`. */
  expected: number[];
}

/** scipy.stats.chisquare(f_obs=current counts, f_exp=reference counts · nCurrent/nReference). */
export function chiSquareTest(counts: CategoryCounts): ChiSquareTestResult {
  const scale = counts.nCurrent / counts.nReference;
  const expected = counts.referenceCounts.map((count) => count * scale);
  let statistic = 0;
  for (let i = 0; i < expected.length; i++) {
    const diff = counts.currentCounts[i]! - expected[i]!;
    statistic += (diff * diff) / expected[i]!;
  }
  const df = expected.length - 1;
  // scipy answers NaN for one category (chi2 with df = 0); a single shared category cannot drift.
  if (df === 0) return { statistic, pvalue: 1, df, expected };
  return { statistic, pvalue: chiSquareSf(statistic, df), df, expected };
}
