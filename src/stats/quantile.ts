/**
 * The one quantile: NumPy's default `np.quantile(x, q)` ('linear', Hyndman–Fan 7). It takes the
 * sample through an accessor, so a sorted array and a sorted table of value counts give the same
 * answer for the same sample.
 */

/** The q-quantile of n sorted values, `valueAt(i)` being the i-th smallest. */
export function quantileAt(n: number, q: number, valueAt: (i: number) => number): number {
  const virtual = (n - 1) * q;
  if (virtual >= n - 1) return valueAt(n - 1);
  if (virtual < 0) return valueAt(0);
  const below = Math.floor(virtual);
  const a = valueAt(below);
  const b = valueAt(below + 1);
  const gamma = virtual - below;
  const diff = b - a;
  // NumPy's _lerp interpolates from the nearer end, so gamma ≥ 0.5 counts back from b.
  return gamma >= 0.5 ? b - diff * (1 - gamma) : a + diff * gamma;
}

/** np.quantile(sample, q) on a sorted sample. */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  return quantileAt(sorted.length, q, (i) => sorted[i]!);
}

/**
 * np.quantile over a sample given as value → count (a streamed sample that repeats its values,
 * e.g. latencies logged to the microsecond): memory grows with distinct values, not with the sample.
 */
export class ValueCountQuantiles {
  private readonly counts = new Map<number, number>();
  private total = 0;

  get size(): number {
    return this.total;
  }

  add(value: number): void {
    this.counts.set(value, (this.counts.get(value) ?? 0) + 1);
    this.total++;
  }

  /** The quantiles at each q, null for an empty sample. */
  quantiles(qs: readonly number[]): (number | null)[] {
    if (this.total === 0) return qs.map(() => null);
    const values = Float64Array.from(this.counts.keys()).sort();
    const upTo = new Float64Array(values.length);
    let running = 0;
    values.forEach((value, i) => {
      running += this.counts.get(value)!;
      upTo[i] = running;
    });
    // The i-th smallest of the whole sample: the first distinct value whose running count passes i.
    const valueAt = (i: number): number => {
      let lo = 0;
      let hi = values.length - 1;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (upTo[mid]! > i) hi = mid;
        else lo = mid + 1;
      }
      return values[lo]!;
    };
    return qs.map((q) => quantileAt(this.total, q, valueAt));
  }
}
