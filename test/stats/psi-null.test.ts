import { describe, expect, it } from 'vitest';
import { psiExpected, psiPValue } from '../../src/stats/psi-null.js';

describe('PSI under no drift', () => {
  it('expects (k − 1)(1/n + 1/m)', () => {
    expect(psiExpected(10, 1000, 1000)).toBeCloseTo(0.018, 15);
    expect(psiExpected(10, 100, 100)).toBeCloseTo(0.18, 15);
    expect(psiExpected(1, 5, 5)).toBe(0);
  });

  it('gives the chi-square p of PSI · nm/(n + m) on k − 1 degrees of freedom (scipy.stats.chi2.sf)', () => {
    // scipy 1.11.4: chi2.sf(0.02 * 1000 * 1000 / 2000, 9), chi2.sf(0.1 * 50 * 50 / 100, 9)
    expect(psiPValue(0.02, 10, 1000, 1000)).toBeCloseTo(0.3504852123233613, 12);
    expect(psiPValue(0.1, 10, 50, 50)).toBeCloseTo(0.9808834914028134, 12);
    expect(psiPValue(0, 1, 10, 10)).toBe(1);
  });

  it('refuses sizes and values that are not ones', () => {
    expect(() => psiExpected(0, 10, 10)).toThrow('bins: expected a whole number >= 1, got 0');
    expect(() => psiPValue(0.1, 10, 0, 10)).toThrow('sample sizes: expected two numbers > 0, got 0 and 10');
    expect(() => psiPValue(-1, 10, 10, 10)).toThrow('psi: expected a number >= 0, got -1');
  });
});
