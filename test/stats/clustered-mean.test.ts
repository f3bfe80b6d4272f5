import { describe, expect, it } from 'vitest';
import { ClusteredMean } from '../../src/stats/clustered-mean.js';
import { InputError } from '../../src/errors.js';
import vectors from '../fixtures/ab-stats-vectors.json' with { type: 'json' };

const REL = 1e-12;

function close(actual: number, expected: number | null, label: string): void {
  if (expected === null) {
    expect(actual, label).toBeNaN();
    return;
  }
  expect(Math.abs(actual - expected), `${label}: ${actual} vs ${expected}`).toBeLessThanOrEqual(REL * Math.abs(expected));
}

describe('ClusteredMean', () => {
  it.each(vectors.clustered)('$name (numpy per cluster, checked in exact arithmetic)', ({ keys, values, prefixes }) => {
    const mean = new ClusteredMean();
    let added = 0;
    for (const prefix of prefixes) {
      for (; added < prefix.length; added++) mean.add(`u${keys[added]}`, values[added] ?? Number.NaN);
      const at = `after ${prefix.length}`;
      expect(mean.n, at).toBe(prefix.n);
      expect(mean.clusters, at).toBe(prefix.clusters);
      close(mean.sum, prefix.sum, `${at}: sum`);
      close(mean.mean, prefix.mean, `${at}: mean`);
      close(mean.variance(), prefix.variance, `${at}: variance`);
      close(mean.iidVariance(), prefix.iidVariance, `${at}: iid variance`);
    }
  });

  it('gives Σ(x − m)²/(n(n − 1)) = iidVariance exactly when every cluster has one observation', () => {
    const { values, mean: m, variance, iidVariance } = vectors.clusteredSingletons;
    const mean = new ClusteredMean();
    values.forEach((x, i) => mean.add(`u${i}`, x));
    expect(mean.clusters).toBe(values.length);
    close(mean.mean, m, 'mean');
    close(mean.variance(), variance, 'variance');
    close(mean.iidVariance(), iidVariance, 'iid variance');
    expect(mean.variance()).toBe(mean.iidVariance());
  });

  it('is NaN until there is something to measure', () => {
    const mean = new ClusteredMean();
    expect([mean.mean, mean.variance(), mean.iidVariance()]).toEqual([Number.NaN, Number.NaN, Number.NaN]);
    mean.add('u1', 2);
    mean.add('u1', 4);
    // One cluster: no variance between units; two observations: an i.i.d. one.
    expect([mean.n, mean.sum, mean.clusters, mean.mean]).toEqual([2, 6, 1, 3]);
    expect(mean.variance()).toBeNaN();
    expect(mean.iidVariance()).toBe(1);
  });

  it('is 0, never negative, when every cluster sits at the mean', () => {
    const mean = new ClusteredMean();
    // Unclamped, these sums leave −2.2e-16 after rounding.
    for (const key of ['a', 'b', 'c']) for (const x of [0.1, 0.9]) mean.add(key, x);
    expect(mean.variance()).toBe(0);
  });

  it('rejects values that would poison the running sums', () => {
    const mean = new ClusteredMean();
    expect(() => mean.add('u1', Number.NaN)).toThrow(new InputError('clustered mean value: expected a finite number, got number NaN'));
    expect(() => mean.add('u1', Infinity)).toThrow(new InputError('clustered mean value: expected a finite number, got number Infinity'));
    expect(mean.n).toBe(0);
  });
});
