import { describe, expect, it } from 'vitest';

import { InputError } from '../../src/errors.js';
import { decideDataset, decideFeature, type DriftRule } from '../../src/drift/decide.js';

const thresholds = { psiThreshold: 0.2, ksAlpha: 0.05 };

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
    expect(decideFeature({ psi, pvalue }, { ...thresholds, rule })).toEqual({ psiDrifted, testDrifted, drifted });
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
