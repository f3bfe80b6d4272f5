import { describe, expect, it } from 'vitest';
import { analyzeDrift, categoryCounts, summarize, type AnalyzeSettings } from '../../src/drift/analyze.js';
import { ksTwoSample } from '../../src/stats/ks.js';
import { categoricalChiSquare, countCategories, psiCategorical, psiNumeric } from '../../src/drift/psi.js';

const settings: AnalyzeSettings = { psiThreshold: 0.2, ksAlpha: 0.05, rule: 'any', share: 0.5, binning: 'sturges', quantileBins: 10, psiRule: 'threshold', ksMinStatistic: 0, correction: 'none' };

function ramp(n: number, scale: number, offset: number): Float64Array {
  // A deterministic, unsorted sample: a permuted ramp.
  return Float64Array.from({ length: n }, (_, i) => ((i * 7919) % n) * scale + offset);
}

describe('analyzeDrift', () => {
  it('numeric features: the KS and PSI of the tested library functions, on arrays it sorts in place', () => {
    const reference = ramp(500, 0.01, 0);
    const current = ramp(400, 0.012, 0.5);
    const expectedKs = ksTwoSample(reference, current);
    const expectedPsi = psiNumeric(reference, current);
    const { features, verdict } = analyzeDrift([{ name: 'x', type: 'numeric', reference, current }], settings);
    const [x] = features;
    expect(x).toMatchObject({
      name: 'x',
      type: 'numeric',
      test: 'ks',
      statistic: expectedKs.statistic,
      pvalue: expectedKs.pvalue,
      ksMethod: 'exact',
      psi: expectedPsi.psi,
      psiDrifted: true,
      testDrifted: true,
      drifted: true,
      distribution: { kind: 'sturges', edges: expectedPsi.edges, labels: null, referenceCounts: expectedPsi.referenceCounts, currentCounts: expectedPsi.currentCounts },
      timingsMs: null,
    });
    expect(reference[0]).toBe(0);
    expect(reference[499]).toBeCloseTo(4.99, 12);
    expect(verdict).toEqual({ driftDetected: true, shareDrifted: 1, nDrifted: 1, nFeatures: 1 });
  });

  it('categorical features: chi-square p in pvalue, PSI over the categories, counts as countCategories makes them', () => {
    const reference = new Map([['b', 40], ['a', 60]]);
    const current = new Map([['a', 30], ['c', 5], ['b', 25]]);
    const expectedCounts = countCategories(
      [...Array(60).fill('a'), ...Array(40).fill('b')],
      [...Array(30).fill('a'), ...Array(25).fill('b'), ...Array(5).fill('c')],
    );
    expect(categoryCounts(reference, current)).toEqual(expectedCounts);
    const { features } = analyzeDrift([{ name: 'colour', type: 'categorical', reference, current }], settings);
    const chi2 = categoricalChiSquare(expectedCounts);
    expect(features[0]).toMatchObject({
      test: 'chi2',
      statistic: chi2.statistic,
      pvalue: chi2.pvalue,
      ksMethod: null,
      psi: psiCategorical(expectedCounts).psi,
      distribution: { kind: 'categories', edges: null, labels: ['a', 'b', 'c'], referenceCounts: [60, 40, 0], currentCounts: [30, 25, 5] },
      reference: null,
      current: null,
    });
    // A category that reference never had makes the statistic infinite and the p-value 0.
    expect(features[0]!.statistic).toBe(Infinity);
    expect(features[0]!.pvalue).toBe(0);
  });

  it('a constant column is well defined: identical constants do not drift, different ones do', () => {
    const same = analyzeDrift([{ name: 'k', type: 'numeric', reference: new Float64Array(50).fill(3), current: new Float64Array(40).fill(3) }], settings);
    expect(same.features[0]).toMatchObject({ statistic: 0, pvalue: 1, psi: 0, drifted: false, distribution: { kind: 'values', labels: [3] } });
    const moved = analyzeDrift([{ name: 'k', type: 'numeric', reference: new Float64Array(50).fill(3), current: new Float64Array(40).fill(4) }], settings);
    expect(moved.features[0]).toMatchObject({ statistic: 1, drifted: true, distribution: { kind: 'values', labels: [3, 4], referenceCounts: [50, 0], currentCounts: [0, 40] } });
  });

  it('applies the rule and the share', () => {
    const columns = () => [
      { name: 'moved', type: 'numeric' as const, reference: ramp(300, 1, 0), current: ramp(300, 1, 150) },
      { name: 'still', type: 'numeric' as const, reference: ramp(300, 1, 0), current: ramp(300, 1, 0) },
    ];
    expect(analyzeDrift(columns(), settings).verdict).toEqual({ driftDetected: true, shareDrifted: 0.5, nDrifted: 1, nFeatures: 2 });
    expect(analyzeDrift(columns(), { ...settings, share: 0.75 }).verdict.driftDetected).toBe(false);
  });

  it('times each step when given a clock', () => {
    let t = 0;
    const { features } = analyzeDrift([{ name: 'x', type: 'numeric', reference: ramp(10, 1, 0), current: ramp(10, 1, 1) }], settings, () => (t += 1));
    expect(features[0]!.timingsMs).toEqual({ sort: 1, test: 1, psi: 1, summary: 1 });
  });
});

describe('summarize', () => {
  it('mean, population std, min, median, max of a sorted sample', () => {
    expect(summarize(Float64Array.of(1, 2, 3, 4))).toEqual({ n: 4, mean: 2.5, std: Math.sqrt(1.25), min: 1, median: 2.5, max: 4 });
  });
});
