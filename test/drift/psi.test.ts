import { describe, expect, it } from 'vitest';

import { InputError } from '../../src/errors.js';
import {
  binIndex,
  histogram,
  histogramSorted,
  linspace,
  quantileEdges,
  sturgesEdges,
} from '../../src/drift/histogram.js';
import { categoricalChiSquare, countCategories, fillZeroShares, mergeSparseBins, psiCategorical, psiFromShares, psiNumeric, psiPermutationPValue } from '../../src/drift/psi.js';
import { psiPValue } from '../../src/stats/psi-null.js';
import { quantileSorted, ValueCountQuantiles } from '../../src/stats/quantile.js';
import { sortedCopy } from '../../src/stats/sorted-sample.js';
import { driftVectors, type Num, num, floats, expectProbability, expectClose } from '../helpers/reference-vectors.js';

// Reference values from python/tools/gen_drift_vectors.py (numpy 1.26.4, scipy 1.11.4, Evidently's PSI rules).
interface PsiVectors {
  histogram: { name: string; data: Num[]; edges: Num[]; counts: number[] }[];
  quantile: { name: string; data: Num[]; q: number[]; values: Num[] }[];
  psi: {
    name: string;
    ref: Num[];
    cur: Num[];
    binning: 'sturges' | 'quantile';
    quantileBins: number;
    psi: Num;
    kind: 'sturges' | 'quantile' | 'values';
    edges: Num[] | null;
    values: Num[] | null;
    referenceCounts: number[];
    currentCounts: number[];
    referenceShares: Num[];
    currentShares: Num[];
  }[];
  categorical: {
    name: string;
    ref: Record<string, number>;
    cur: Record<string, number>;
    categories: string[];
    psi: Num;
    statistic: Num;
    pvalue: Num;
  }[];
}

const vectors = driftVectors<PsiVectors>();

/** A category sample from counts, interleaved so nothing depends on input order. */
function expand(counts: Record<string, number>): string[] {
  const grouped = Object.entries(counts).flatMap(([category, count]) => Array<string>(count).fill(category));
  // Stepping by a prime that does not divide the length visits every index once.
  return grouped.map((_, i) => grouped[(i * 7919) % grouped.length]!);
}

describe('sturges edges and membership against np.histogram(data, bins="sturges")', () => {
  it.each(vectors.histogram.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const data = floats(c.data);
    const sorted = sortedCopy(data);
    const edges = sturgesEdges(sorted[0]!, sorted[sorted.length - 1]!, sorted.length);
    expect(edges).toEqual(c.edges.map(num));
    expect(histogramSorted(sorted, edges)).toEqual(c.counts);
    expect(histogram(data, edges)).toEqual(c.counts);
  });
});

describe('np.quantile (linear)', () => {
  it.each(vectors.quantile.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const sorted = sortedCopy(floats(c.data));
    expect(c.q.map((q) => quantileSorted(sorted, q))).toEqual(c.values.map(num));
  });

  // A streamed sample kept as value counts gives numpy's numbers too.
  it.each(vectors.quantile.map((c) => [c.name, c] as const))('%s, from value counts', (_name, c) => {
    const counts = new ValueCountQuantiles();
    for (const x of floats(c.data)) counts.add(x);
    expect(counts.quantiles(c.q)).toEqual(c.values.map(num));
  });
});

describe('histogram helpers', () => {
  it('linspace matches np.linspace, stop exact', () => {
    expect(linspace(0, 1, 4)).toEqual([0, 1 / 3, 2 / 3, 1]);
    expect(linspace(-0.5, 0.5, 2)).toEqual([-0.5, 0.5]);
  });

  it.each([
    ['below the first edge', -1, -1],
    ['on the first edge', 0, 0],
    ['on an inner edge: the upper bin', 1, 1],
    ['inside the last bin', 2.5, 2],
    ['on the last edge: the last bin is closed', 3, 2],
    ['above the last edge', 3.5, -1],
    ['NaN', Number.NaN, -1],
  ])('binIndex %s', (_name, x, bin) => {
    expect(binIndex(x, [0, 1, 2, 3])).toBe(bin);
  });

  it('quantile edges are open-ended and collapse duplicates', () => {
    const sorted = Float64Array.of(0, 0, 0, 0, 0, 0, 0, 1, 2, 3);
    expect(quantileEdges(sorted, 4)).toEqual([-Infinity, 0, 0.75, Infinity]);
    expect(() => quantileEdges(sorted, 1)).toThrow('quantile bins: expected an integer ≥ 2, got 1');
  });
});

describe('psiNumeric against Evidently get_binned_data + psi', () => {
  it.each(vectors.psi.map((c) => [c.name, c] as const))('%s', (name, c) => {
    const ref = floats(c.ref);
    const cur = floats(c.cur);
    const result = psiNumeric(ref, cur, { binning: c.binning, quantileBins: c.quantileBins });
    expectClose(result.psi, c.psi, `${name} psi`);
    expect(result.kind).toBe(c.kind);
    expect(result.edges).toEqual(c.edges === null ? null : c.edges.map(num));
    expect(result.values).toEqual(c.values === null ? null : c.values.map(num));
    expect(result.referenceCounts).toEqual(c.referenceCounts);
    expect(result.currentCounts).toEqual(c.currentCounts);
    result.referenceShares.forEach((s, i) => expectClose(s, c.referenceShares[i]!, `${name} reference share ${i}`, 1e-15));
    result.currentShares.forEach((s, i) => expectClose(s, c.currentShares[i]!, `${name} current share ${i}`, 1e-15));
    const presorted = psiNumeric(sortedCopy(ref), sortedCopy(cur), { binning: c.binning, quantileBins: c.quantileBins, sorted: true });
    expect(presorted).toEqual(result);
  });

  it('rejects empty and non-finite samples', () => {
    expect(() => psiNumeric(new Float64Array(0), Float64Array.of(1))).toThrow(InputError);
    expect(() => psiNumeric(Float64Array.of(1), Float64Array.of(Number.NaN))).toThrow('current: expected finite numbers, got NaN');
  });
});

describe('categorical PSI and chi-square against Evidently + scipy.stats.chisquare', () => {
  it.each(vectors.categorical.map((c) => [c.name, c] as const))('%s', (name, c) => {
    const counts = countCategories(expand(c.ref), expand(c.cur));
    expect(counts.categories).toEqual(c.categories);
    expectClose(psiCategorical(counts).psi, c.psi, `${name} psi`);
    const test = categoricalChiSquare(counts);
    const statistic = num(c.statistic);
    if (Number.isFinite(statistic)) expect(Math.abs(test.statistic - statistic)).toBeLessThanOrEqual(1e-9 * Math.max(1, statistic));
    else expect(test.statistic).toBe(statistic);
    expectProbability(test.pvalue, c.pvalue, `${name} pvalue`);
    expect(test.df).toBe(c.categories.length - 1);
  });

  it('one shared category cannot drift: p = 1 where scipy answers NaN (df = 0)', () => {
    const test = categoricalChiSquare(countCategories(['a', 'a'], ['a']));
    expect(test).toEqual({ statistic: 0, pvalue: 1, df: 0 });
  });

  it('counts every category of either side', () => {
    expect(countCategories(['b', 'a', 'b'], ['c', 'a'])).toEqual({
      categories: ['a', 'b', 'c'],
      referenceCounts: [1, 2, 0],
      currentCounts: [1, 0, 1],
      nReference: 3,
      nCurrent: 2,
    });
    expect(() => countCategories([], ['a'])).toThrow('reference: expected at least one value, got none');
  });
});

describe('zero shares and the PSI sum', () => {
  it.each([
    ['fills with 1e-4 when the smallest share is larger', [0, 5, 5], 10, [1e-4, 0.5, 0.5]],
    ['fills with min/1e6 when the smallest share is ≤ 1e-4', [0, 1, 9999], 10000, [1e-4 / 1e6, 1e-4, 0.9999]],
    ['leaves nonzero shares alone', [2, 2], 4, [0.5, 0.5]],
  ])('%s', (_name, counts, total, shares) => {
    expect(fillZeroShares(counts, total)).toEqual(shares);
  });

  it('is zero for equal shares and symmetric', () => {
    expect(psiFromShares([0.2, 0.8], [0.2, 0.8])).toBe(0);
    expect(psiFromShares([0.2, 0.8], [0.5, 0.5])).toBeCloseTo(psiFromShares([0.5, 0.5], [0.2, 0.8]), 15);
    expect(() => psiFromShares([1], [0.5, 0.5])).toThrow('PSI shares: expected equal bin counts, got 1 and 2');
  });
});

describe('mergeSparseBins', () => {
  it('merges neighbours until each bin holds 10 rows of both sides; a short remainder joins the last bin', () => {
    expect(mergeSparseBins([1, 0, 3, 20, 30, 2, 1], [0, 1, 6, 25, 28, 1, 0])).toEqual({ referenceCounts: [4, 20, 33], currentCounts: [7, 25, 29] });
    expect(mergeSparseBins([1, 2], [0, 3])).toEqual({ referenceCounts: [3], currentCounts: [3] });
    expect(mergeSparseBins([], [])).toEqual({ referenceCounts: [], currentCounts: [] });
  });
});

describe('psiPermutationPValue', () => {
  it('is 1 for identical counts and 1/1000 for a split no permutation reaches', () => {
    expect(psiPermutationPValue([10, 20, 30], [10, 20, 30])).toBe(1);
    // All reference rows in bin 0, all current rows in bin 1: only the identity deal is as extreme.
    expect(psiPermutationPValue([50, 0], [0, 50])).toBe(1 / 1000);
  });

  it('is seeded: the same counts give the same p every time', () => {
    const counts: [number[], number[]] = [[12, 30, 41, 17], [18, 33, 35, 14]];
    expect(psiPermutationPValue(...counts)).toBe(psiPermutationPValue(...counts));
  });

  it('agrees with the chi-square p where the approximation is good (many rows per bin)', () => {
    const reference = [120, 250, 260, 240, 130];
    const current = [140, 230, 250, 230, 150];
    const psi = psiFromShares(fillZeroShares(reference, 1000), fillZeroShares(current, 1000));
    const chi2 = psiPValue(psi, 5, 1000, 1000);
    expect(Math.abs(psiPermutationPValue(reference, current, 4999) - chi2)).toBeLessThan(0.03);
  });
});
