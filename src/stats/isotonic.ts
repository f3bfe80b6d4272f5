/**
 * Isotonic regression (pool adjacent violators): the non-decreasing step function closest, in squared
 * error, to points (x, y). It is how confidence-based performance estimation (CBPE, as NannyML does it)
 * calibrates a model's probabilities: x the probability of the predicted class, y 1 when that prediction
 * was right, on held-out rows; the fit then says how often a prediction made with that probability is
 * right. Equal to scikit-learn's IsotonicRegression(increasing=True, out_of_bounds='clip') at the
 * points, with a step (not a line) between them.
 */

import { InputError } from '../errors.js';

export interface IsotonicFit {
  /** Ascending block starts: the smallest x of each pooled block. */
  x: number[];
  /** The block's fitted value, non-decreasing. */
  y: number[];
}

/** The fit to `points`; weights are all 1, equal x are pooled first. */
export function fitIsotonic(xs: readonly number[], ys: readonly number[]): IsotonicFit {
  if (xs.length !== ys.length) throw new InputError(`isotonic fit: expected as many x as y, got ${xs.length} and ${ys.length}`);
  if (xs.length === 0) throw new InputError('isotonic fit: expected at least one point, got none');
  const order = xs.map((_, i) => i).sort((a, b) => xs[a]! - xs[b]!);
  // Blocks of equal x first (their mean), then pooled while a block is above the next.
  const start: number[] = [];
  const sum: number[] = [];
  const weight: number[] = [];
  // The last block always holds the previous point (pooling only merges backwards), so a tie joins it.
  let previous = Number.NaN;
  for (const i of order) {
    const x = xs[i]!;
    const y = ys[i]!;
    if (!Number.isFinite(x) || !Number.isFinite(y)) throw new InputError(`isotonic fit: expected finite points, got (${x}, ${y})`);
    const last = start.length - 1;
    const tie = x === previous;
    previous = x;
    if (tie) {
      sum[last]! += y;
      weight[last]! += 1;
    } else {
      start.push(x);
      sum.push(y);
      weight.push(1);
    }
    // Pool adjacent violators: merge the last block into the one before while it is lower.
    while (start.length > 1 && sum[sum.length - 1]! / weight[weight.length - 1]! < sum[sum.length - 2]! / weight[weight.length - 2]!) {
      const s = sum.pop()!;
      const w = weight.pop()!;
      start.pop();
      sum[sum.length - 1]! += s;
      weight[weight.length - 1]! += w;
    }
  }
  return { x: start, y: sum.map((s, k) => s / weight[k]!) };
}

/** The fitted value at `x`: the value of the last block starting at or below x (the first block's below all). */
export function predictIsotonic(fit: IsotonicFit, x: number): number {
  let lo = 0;
  let hi = fit.x.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (fit.x[mid]! <= x) lo = mid + 1;
    else hi = mid;
  }
  return fit.y[Math.max(0, lo - 1)]!;
}
