/**
 * Mean of per-observation values with clusters (users) as the unit of randomisation, and its
 * delta-method variance: the ratio-metric estimator m = Σ S_i / Σ n_i that GrowthBook and Eppo use,
 *   Var(m) ≈ Σ_i (S_i − m n_i)² / (K (K − 1) n̄²),  n̄ = n / K,
 * which stays honest when one user's rows are correlated (the i.i.d. s²/n understates it then).
 *
 * Running sums keep add() and variance() O(1). They are taken of the values minus the first one, so
 * Σ S_i² − 2m Σ S_i n_i + m² Σ n_i² does not cancel when the spread is small next to the mean.
 */

import { InputError, describe } from '../errors.js';

export class ClusteredMean {
  /** Per cluster: its observation count and the sum of its shifted values. */
  private readonly byKey = new Map<string, { n: number; s: number }>();
  /** The first value: every running sum below is of value − shift. */
  private shift = 0;
  private count = 0;
  private total = 0;
  private sumX = 0;
  private sumX2 = 0;
  private sumN2 = 0;
  private sumS2 = 0;
  private sumSN = 0;

  /** One observation `value` of cluster `key` (a user id). */
  add(key: string, value: number): void {
    if (typeof value !== 'number' || !Number.isFinite(value)) throw new InputError(`clustered mean value: expected a finite number, got ${describe(value)}`);
    if (this.count === 0) this.shift = value;
    const x = value - this.shift;
    const cluster = this.byKey.get(key);
    const n = cluster?.n ?? 0;
    const s = cluster?.s ?? 0;
    // The cluster's new contribution minus its old one, expanded so the large squares never cancel:
    // (n + 1)² − n², (S + x)² − S², (S + x)(n + 1) − S n.
    this.sumN2 += 2 * n + 1;
    this.sumS2 += x * (2 * s + x);
    this.sumSN += s + x * (n + 1);
    if (cluster) {
      cluster.n = n + 1;
      cluster.s = s + x;
    } else {
      this.byKey.set(key, { n: 1, s: x });
    }
    this.count++;
    this.total += value;
    this.sumX += x;
    this.sumX2 += x * x;
  }

  /** Observations. */
  get n(): number {
    return this.count;
  }

  get sum(): number {
    return this.total;
  }

  /** K, distinct keys. */
  get clusters(): number {
    return this.byKey.size;
  }

  /** Σ values / n; NaN when n = 0. */
  get mean(): number {
    return this.total / this.count;
  }

  /** Var of the mean with clusters as units: Σ_i (S_i − m n_i)² / (K (K − 1) n̄²); NaN when K < 2. */
  variance(): number {
    const k = this.byKey.size;
    if (k < 2) return Number.NaN;
    const m = this.sumX / this.count;
    const squares = this.sumS2 - m * (2 * this.sumSN - m * this.sumN2);
    const nbar = this.count / k;
    // Rounding can leave a hair below 0 when every cluster sits at the mean.
    return Math.max(0, squares / (k * (k - 1) * nbar * nbar));
  }

  /** The variance if every observation were independent: s²/n, s² with the n − 1 denominator; NaN when n < 2. */
  iidVariance(): number {
    const n = this.count;
    if (n < 2) return Number.NaN;
    const m = this.sumX / n;
    // The same expression as variance() with every n_i = 1, so clusters of one give the same number.
    const squares = this.sumX2 - m * (2 * this.sumX - m * n);
    return Math.max(0, squares / (n * (n - 1)));
  }
}
