import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import { chiSquareSf, regularizedGammaQ } from '../../src/stats/chi-square.js';
import vectors from '../fixtures/ab-vectors.json' with { type: 'json' };

// scipy's own chi2.sf is only good to ~3e-13 relative in the far tail at df ≥ 333 (checked against mpmath), so 1e-12.
const REL = 1e-12;

function relativeError(actual: number, expected: number): number {
  return Math.abs(actual - expected) / Math.abs(expected);
}

describe('chiSquareSf', () => {
  it.each(vectors.chiSquare)('sf($x, df $df) = $sf (scipy.stats.chi2.sf)', ({ x, df, sf }) => {
    expect(relativeError(chiSquareSf(x, df), sf)).toBeLessThan(REL);
  });

  it('keeps p-values around 1e-200 and 1e-300 in the table', () => {
    const tiny = vectors.chiSquare.filter((c) => c.sf < 1e-190);
    expect(tiny.length).toBeGreaterThanOrEqual(32);
  });

  it('matches closed forms: df 2 is exp(−x/2), df 4 is (1 + x/2) exp(−x/2)', () => {
    for (const x of [0.3, 7, 50, 1200]) {
      expect(relativeError(chiSquareSf(x, 2), Math.exp(-x / 2))).toBeLessThan(1e-14);
      expect(relativeError(chiSquareSf(x, 4), (1 + x / 2) * Math.exp(-x / 2))).toBeLessThan(1e-14);
    }
  });

  it('is 1 at x ≤ 0 and 0 at infinity', () => {
    expect(chiSquareSf(0, 3)).toBe(1);
    expect(chiSquareSf(-2, 3)).toBe(1);
    expect(chiSquareSf(Infinity, 3)).toBe(0);
  });

  it('underflows to 0 only beyond the double range', () => {
    expect(chiSquareSf(1500, 1)).toBe(0);
    expect(chiSquareSf(1300, 1)).toBeGreaterThan(0);
  });

  it('rejects a bad df or x with an InputError that says what it expected', () => {
    expect(() => chiSquareSf(1, 0)).toThrow(new InputError('chi-square df: expected a finite number > 0, got number 0'));
    expect(() => chiSquareSf(1, Number.NaN)).toThrow(InputError);
    expect(() => chiSquareSf(Number.NaN, 1)).toThrow(new InputError('gamma argument: expected a number, got number NaN'));
    expect(() => regularizedGammaQ(-1, 1)).toThrow(new InputError('gamma shape: expected a finite number > 0, got number -1'));
  });
});
