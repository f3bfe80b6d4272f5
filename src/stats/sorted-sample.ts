/**
 * Sorted samples, the form every rank statistic here works on (KS, quantiles, histogram counts):
 * a sorted copy, the check that a caller-sorted sample really is sorted and finite, and the two
 * binary searches (np.searchsorted left and right).
 */

import { InputError } from '../errors.js';
import { sortFloat64 } from './radix-sort.js';

/** A sorted copy, in Float64Array.prototype.sort's order (numeric, NaN last). */
export function sortedCopy(values: Float64Array): Float64Array {
  return sortFloat64(values.slice());
}

/**
 * Checks that a sample is non-empty, finite and ascending; returns it. One O(n) pass: `!(a >= b)`
 * also catches NaN, which compares false with everything.
 */
export function requireSortedFinite(sorted: Float64Array, label: string): Float64Array {
  const n = sorted.length;
  if (n === 0) throw new InputError(`${label}: expected at least one value, got none`);
  const first = sorted[0]!;
  if (!Number.isFinite(first)) throw new InputError(`${label}: expected finite numbers, got ${first}`);
  for (let i = 1; i < n; i++) {
    if (!(sorted[i]! >= sorted[i - 1]!)) {
      const value = sorted[i]!;
      if (!Number.isFinite(value)) throw new InputError(`${label}: expected finite numbers, got ${value}`);
      throw new InputError(`${label}: expected ascending values (sorted: true), got ${value} after ${sorted[i - 1]} at index ${i}`);
    }
  }
  const last = sorted[n - 1]!;
  if (!Number.isFinite(last)) throw new InputError(`${label}: expected finite numbers, got ${last}`);
  return sorted;
}

/** Sorts a copy of a sample, or checks a caller-sorted one, and rejects empty or non-finite input. */
export function prepareSample(values: Float64Array, label: string, sorted: boolean): Float64Array {
  return requireSortedFinite(sorted ? values : sortedCopy(values), label);
}

/** Index of the first element ≥ value (np.searchsorted side='left'). */
export function lowerBound(sorted: Float64Array, value: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Index of the first element > value (np.searchsorted side='right'). */
export function upperBound(sorted: Float64Array, value: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! <= value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
