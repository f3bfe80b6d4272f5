import { describe, expect, it } from 'vitest';
import { adjustPValues } from '../../src/stats/multiple-testing.js';

// statsmodels 0.15.0: multipletests([0.01, 0.04, 0.03, 0.005, 0.5, 0.2, 0.04], alpha=0.05, method=...)[1]
const P = [0.01, 0.04, 0.03, 0.005, 0.5, 0.2, 0.04];

describe('adjustPValues', () => {
  it('Benjamini–Hochberg as statsmodels fdr_bh', () => {
    const adjusted = adjustPValues(P, 'bh');
    [0.035, 0.056, 0.056, 0.035, 0.5, 0.23333333333333336, 0.056].forEach((x, i) => expect(adjusted[i]).toBeCloseTo(x, 15));
  });

  it('Holm as statsmodels holm', () => {
    const adjusted = adjustPValues(P, 'holm');
    [0.06, 0.16, 0.15, 0.035, 0.5, 0.4, 0.16].forEach((x, i) => expect(adjusted[i]).toBeCloseTo(x, 15));
  });

  it('none leaves the p-values; NaN stays NaN and is not counted', () => {
    expect(adjustPValues(P, 'none')).toEqual(P);
    expect(adjustPValues([0.01, Number.NaN, 0.04], 'bh')).toEqual([0.02, Number.NaN, 0.04]);
    expect(adjustPValues([0.01, Number.NaN, 0.04], 'holm')).toEqual([0.02, Number.NaN, 0.04]);
    expect(adjustPValues([], 'bh')).toEqual([]);
  });
});
