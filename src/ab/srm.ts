/**
 * Sample-ratio-mismatch guardrail: Pearson's chi-square goodness-of-fit test of the observed A/B
 * request counts against the configured split. A mismatch means assignment or logging is broken,
 * so the A/B comparison is not trustworthy whatever it says.
 */

import { InputError, describe } from '../errors.js';
import { chiSquareTest } from '../stats/chi-square.js';

export interface SrmResult {
  requestsA: number;
  requestsB: number;
  /** Expected requests under the configured split, (1 − splitB)·N and splitB·N. */
  expectedA: number;
  expectedB: number;
  /** Pearson's X² with 1 degree of freedom. */
  statistic: number;
  pValue: number;
  /** pValue < alpha: the experiment is invalid. */
  mismatch: boolean;
}

function checkRequests(arm: string, n: number): void {
  if (!Number.isInteger(n) || n < 0) throw new InputError(`arm ${arm} requests: expected an integer ≥ 0, got ${describe(n)}`);
}

/** Chi-square goodness of fit of (requestsA, requestsB) to the split (1 − splitB, splitB); same as scipy.stats.chisquare. */
export function sampleRatioMismatch(requestsA: number, requestsB: number, splitB: number, alpha: number): SrmResult {
  checkRequests('A', requestsA);
  checkRequests('B', requestsB);
  if (!(splitB > 0 && splitB < 1)) throw new InputError(`ab_split_b: expected a number in (0, 1) while an A/B test runs, got ${describe(splitB)}`);
  const total = requestsA + requestsB;
  const expectedA = total * (1 - splitB);
  const expectedB = total * splitB;
  if (total === 0) return { requestsA, requestsB, expectedA, expectedB, statistic: 0, pValue: 1, mismatch: false };
  const { statistic, pvalue: pValue } = chiSquareTest([requestsA, requestsB], [expectedA, expectedB]);
  return { requestsA, requestsB, expectedA, expectedB, statistic, pValue, mismatch: pValue < alpha };
}
