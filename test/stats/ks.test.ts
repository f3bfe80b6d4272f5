import { describe, expect, it } from 'vitest';

import { InputError } from '../../src/errors.js';
import { ENVIRONMENTS } from '../../src/python/bootstrap.js';
import { readPins } from '../../src/python/pins.js';
import { exactTwoSided, ksStatistic, ksTwoSample } from '../../src/stats/ks.js';
import { sortedCopy } from '../../src/stats/sorted-sample.js';
import { driftVectors, type Num, num, floats, expectProbability, expectClose } from '../helpers/reference-vectors.js';

// Reference values from python/tools/gen_drift_vectors.py (numpy 1.26.4, scipy 1.11.4).
interface KsVectors {
  meta: { numpy: string; scipy: string; seed: number };
  ks: { name: string; ref: Num[]; cur: Num[]; statistic: Num; pvalue: Num; method: 'exact' | 'asymp' }[];
  ksExact: { n1: number; n2: number; d: number; ok: boolean; statistic: Num; pvalue: Num }[];
}

const vectors = driftVectors<KsVectors>();

describe('ksTwoSample against scipy.stats.ks_2samp', () => {
  it('compares against the scipy and numpy that python/requirements.txt pins (regenerate the vectors when a pin moves)', () => {
    const pins = readPins(ENVIRONMENTS.train.requirements);
    expect({ numpy: vectors.meta.numpy, scipy: vectors.meta.scipy }).toEqual({ numpy: pins.get('numpy'), scipy: pins.get('scipy') });
  });

  it.each(vectors.ks.map((c) => [c.name, c] as const))('%s', (name, c) => {
    const ref = floats(c.ref);
    const cur = floats(c.cur);
    const result = ksTwoSample(ref, cur);
    expectClose(result.statistic, c.statistic, `${name} statistic`);
    expectProbability(result.pvalue, c.pvalue, `${name} pvalue`);
    expect(result.method).toBe(c.method);
  });

  it.each(vectors.ks.filter((c) => c.ref.length > 1000).map((c) => [c.name, c] as const))('%s, pre-sorted input', (name, c) => {
    const sorted = ksTwoSample(sortedCopy(floats(c.ref)), sortedCopy(floats(c.cur)), { sorted: true });
    expect(sorted).toEqual(ksTwoSample(floats(c.ref), floats(c.cur)));
  });

  it('does not reorder the caller’s arrays', () => {
    const ref = Float64Array.of(3, 1, 2);
    ksTwoSample(ref, Float64Array.of(0.5, 4));
    expect([...ref]).toEqual([3, 1, 2]);
  });
});

describe('exact two-sided p-value against scipy _attempt_exact_2kssamp', () => {
  it.each(vectors.ksExact.map((r) => [`${r.n1}x${r.n2} d=${r.d}`, r] as const))('%s', (label, r) => {
    const result = exactTwoSided(r.n1, r.n2, r.d);
    expect(result.ok, `${label} ok`).toBe(r.ok);
    expect(result.statistic, `${label} statistic`).toBe(num(r.statistic));
    if (r.ok) expectProbability(result.pvalue, r.pvalue, label);
    else expect(result.pvalue, label).toBe(num(r.pvalue));
  });
});

describe('ksStatistic', () => {
  it.each([
    ['disjoint', [1, 2], [3, 4], 1],
    ['identical', [1, 2, 3], [1, 2, 3], 0],
    ['ties consumed on both sides before comparing', [1, 1, 2], [1, 2, 2], 1 / 3],
    ['-0 and +0 are one value', [-0, 1], [0, 1], 0],
    ['the negative side wins', [2, 3], [1, 2], 0.5],
  ])('%s', (_name, a, b, d) => {
    expect(ksStatistic(Float64Array.from(a), Float64Array.from(b))).toBe(d);
  });
});

describe('input checks', () => {
  it.each([
    ['empty reference', [], [1], 'reference: expected at least one value, got none'],
    ['empty current', [1], [], 'current: expected at least one value, got none'],
    ['NaN', [1, Number.NaN], [1], 'reference: expected finite numbers, got NaN'],
    ['Infinity', [1], [-Infinity, 2], 'current: expected finite numbers, got -Infinity'],
  ])('%s', (_name, a, b, message) => {
    const run = () => ksTwoSample(Float64Array.from(a), Float64Array.from(b));
    expect(run).toThrow(InputError);
    expect(run).toThrow(message);
  });

  it('rejects unsorted input that claims to be sorted', () => {
    const run = () => ksTwoSample(Float64Array.of(1, 3, 2), Float64Array.of(1), { sorted: true });
    expect(run).toThrow('reference: expected ascending values (sorted: true), got 2 after 3 at index 2');
  });
});
