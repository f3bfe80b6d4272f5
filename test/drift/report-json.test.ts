import { describe, expect, it } from 'vitest';
import type { FeatureAnalysis } from '../../src/drift/analyze.js';
import { featureResult, reportDistribution, shares } from '../../src/drift/report-json.js';

describe('featureResult', () => {
  const base = { name: 'f', psi: 0.3, psiExpected: 0.018, psiPvalue: 1e-6, psiPvalueMethod: 'chi2', pvalueAdjusted: 0.4, psiPvalueAdjusted: 2e-6, psiDrifted: true, testDrifted: false, drifted: true } as const;
  it('numeric: the KS numbers twice, as the contract fields and as test/statistic/pvalue', () => {
    const numeric = { ...base, type: 'numeric', test: 'ks', statistic: 0.1, pvalue: 0.2 } as FeatureAnalysis;
    expect(featureResult(numeric)).toEqual({
      name: 'f', type: 'numeric', psi: 0.3, ks_statistic: 0.1, ks_pvalue: 0.2, test: 'ks', statistic: 0.1, pvalue: 0.2,
      psi_expected: 0.018, psi_pvalue: 1e-6, psi_pvalue_method: 'chi2', pvalue_adjusted: 0.4, psi_pvalue_adjusted: 2e-6,
      psi_drifted: true, test_drifted: false, drifted: true,
    });
    // A side without rows has no null distribution: null, not NaN, in the JSON.
    expect(featureResult({ ...numeric, psiExpected: Number.NaN, psiPvalue: Number.NaN })).toMatchObject({ psi_expected: null, psi_pvalue: null });
  });

  it('categorical: ks fields null, the chi-square numbers in statistic/pvalue', () => {
    const categorical = { ...base, type: 'categorical', test: 'chi2', statistic: 9, pvalue: 0.01 } as FeatureAnalysis;
    expect(featureResult(categorical)).toMatchObject({ ks_statistic: null, ks_pvalue: null, test: 'chi2', statistic: 9, pvalue: 0.01 });
  });
});

describe('shares', () => {
  it('config classes first (also at 0), then other values sorted', () => {
    expect(shares(new Map([['z', 1], ['b', 2], ['a', 1]]), ['b', 'c'])).toEqual({ b: 0.5, c: 0, a: 0.25, z: 0.25 });
    expect(Object.keys(shares(new Map([['z', 1], ['b', 2], ['a', 1]]), ['b', 'c']))).toEqual(['b', 'c', 'a', 'z']);
    expect(shares(new Map(), ['x'])).toEqual({ x: 0 });
  });
});

describe('reportDistribution', () => {
  it('adds shares and leaves small distributions alone', () => {
    expect(reportDistribution({ kind: 'quantile', edges: [-Infinity, 0, Infinity], labels: null, referenceCounts: [1, 3], currentCounts: [2, 2] }, 100)).toEqual({
      kind: 'quantile', edges: [-Infinity, 0, Infinity], labels: null, reference_counts: [1, 3], current_counts: [2, 2],
      reference_shares: [0.25, 0.75], current_shares: [0.5, 0.5], regrouped_from: null,
    });
  });

  it('merges neighbouring value buckets beyond the limit', () => {
    const d = reportDistribution({ kind: 'values', edges: null, labels: [1, 2, 3, 4, 5], referenceCounts: [1, 1, 1, 1, 1], currentCounts: [0, 0, 0, 0, 5] }, 2);
    expect(d).toMatchObject({ labels: ['1–3', '4–5'], reference_counts: [3, 2], current_counts: [0, 5], regrouped_from: 5 });
  });

  it('keeps interval edges at the group boundaries', () => {
    const d = reportDistribution({ kind: 'sturges', edges: [0, 1, 2, 3, 4], labels: null, referenceCounts: [1, 2, 3, 4], currentCounts: [4, 3, 2, 1] }, 2);
    expect(d).toMatchObject({ edges: [0, 2, 4], reference_counts: [3, 7], current_counts: [7, 3] });
  });

  it('pools the lightest categories as "other"', () => {
    const d = reportDistribution({ kind: 'categories', edges: null, labels: ['a', 'b', 'c', 'd'], referenceCounts: [50, 1, 40, 1], currentCounts: [40, 1, 50, 0] }, 3);
    expect(d).toMatchObject({ labels: ['a', 'c', 'other (2 categories)'], reference_counts: [50, 40, 2], current_counts: [40, 50, 1], regrouped_from: 4 });
  });
});
