import { describe, expect, it } from 'vitest';

import { InputError } from '../../src/errors.js';
import { adjustedPValues, decideDataset, decideFeature, type DriftRule } from '../../src/drift/decide.js';

const thresholds = { psiThreshold: 0.2, ksAlpha: 0.05, psiRule: 'threshold' as const, ksMinStatistic: 0 };

describe('decideFeature', () => {
  // [rule, psi, pvalue, psiDrifted, testDrifted, drifted]
  const table: [DriftRule, number, number, boolean, boolean, boolean][] = [
    ['psi', 0.3, 0.5, true, false, true],
    ['psi', 0.1, 0.001, false, true, false],
    ['psi', 0.2, 1, true, false, true],
    ['ks', 0.3, 0.5, true, false, false],
    ['ks', 0.1, 0.001, false, true, true],
    ['ks', 0, 0.05, false, true, true],
    ['ks', 0, 0.0500001, false, false, false],
    ['any', 0.3, 0.5, true, false, true],
    ['any', 0.1, 0.001, false, true, true],
    ['any', 0.1, 0.5, false, false, false],
    ['all', 0.3, 0.5, true, false, false],
    ['all', 0.1, 0.001, false, true, false],
    ['all', 0.3, 0.001, true, true, true],
    ['all', 0.19999, 0, false, true, false],
  ];

  it.each(table)('rule %s, psi %s, p %s', (rule, psi, pvalue, psiDrifted, testDrifted, drifted) => {
    expect(decideFeature({ psi, psiPvalueAdjusted: 1, pvalueAdjusted: pvalue, test: 'ks', statistic: 0.5 }, { ...thresholds, rule })).toEqual({ psiDrifted, testDrifted, drifted });
  });

  it('psi_rule: the threshold, the p-value under no drift (≤ ks_alpha), or both', () => {
    const evidence = (psi: number, psiPvalueAdjusted: number) => ({ psi, psiPvalueAdjusted, pvalueAdjusted: 1, test: 'ks' as const, statistic: 0 });
    const psiDrifted = (psiRule: 'threshold' | 'significant' | 'both', psi: number, p: number) => decideFeature(evidence(psi, p), { ...thresholds, rule: 'psi', psiRule }).psiDrifted;
    // 100 rows a side, 10 bins: PSI 0.25 is over the threshold yet p = 0.3 (noise); 1e6 rows: PSI 0.01 under it yet p ≈ 0.
    expect([psiDrifted('threshold', 0.25, 0.3), psiDrifted('significant', 0.25, 0.3), psiDrifted('both', 0.25, 0.3)]).toEqual([true, false, false]);
    expect([psiDrifted('threshold', 0.01, 1e-9), psiDrifted('significant', 0.01, 1e-9), psiDrifted('both', 0.01, 1e-9)]).toEqual([false, true, false]);
    expect([psiDrifted('threshold', 0.3, 0.05), psiDrifted('significant', 0.3, 0.05), psiDrifted('both', 0.3, 0.05)]).toEqual([true, true, true]);
  });

  it('ks_min_statistic: a KS test drifts only with a large enough statistic as well; chi-square is not held to it', () => {
    const verdict = (test: 'ks' | 'chi2', statistic: number) =>
      decideFeature({ psi: 0, psiPvalueAdjusted: 1, pvalueAdjusted: 1e-12, test, statistic }, { ...thresholds, rule: 'ks', ksMinStatistic: 0.05 }).testDrifted;
    expect([verdict('ks', 0.001), verdict('ks', 0.05), verdict('ks', 0.2), verdict('chi2', 0.001)]).toEqual([false, true, true, true]);
  });
});

describe('adjustedPValues', () => {
  it('corrects the tests and PSI each across the features', () => {
    const features = [
      { pvalue: 0.01, psiPvalue: 0.04 },
      { pvalue: 0.04, psiPvalue: 0.5 },
    ];
    expect(adjustedPValues(features, { correction: 'none' })).toEqual({ pvalue: [0.01, 0.04], psiPvalue: [0.04, 0.5] });
    expect(adjustedPValues(features, { correction: 'bh' })).toEqual({ pvalue: [0.02, 0.04], psiPvalue: [0.08, 0.5] });
    expect(adjustedPValues(features, { correction: 'holm' })).toEqual({ pvalue: [0.02, 0.04], psiPvalue: [0.08, 0.5] });
  });
});

describe('decideDataset', () => {
  // [drifted flags, share, driftDetected, shareDrifted]
  const table: [boolean[], number, boolean, number][] = [
    [[true, false, false, false], 0.5, false, 0.25],
    [[true, true, false, false], 0.5, true, 0.5],
    [[true, true, true, false], 0.5, true, 0.75],
    [[false, false], 0.5, false, 0],
    [[false, false], 0, true, 0],
    [[true], 1, true, 1],
    [[true, false, false], 1 / 3, true, 1 / 3],
    [[true, true, true, false], 1, false, 0.75],
  ];

  it.each(table)('%j with share %s', (drifted, share, driftDetected, shareDrifted) => {
    expect(decideDataset(drifted, { share })).toEqual({
      driftDetected,
      shareDrifted,
      nDrifted: drifted.filter(Boolean).length,
      nFeatures: drifted.length,
    });
  });

  it('needs at least one feature', () => {
    expect(() => decideDataset([], { share: 0.5 })).toThrow(InputError);
    expect(() => decideDataset([], { share: 0.5 })).toThrow('drift decision: expected at least one feature, got none');
  });
});
