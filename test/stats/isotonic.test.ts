import { describe, expect, it } from 'vitest';

import { fitIsotonic, predictIsotonic } from '../../src/stats/isotonic.js';

// scikit-learn 1.4.2 (the pinned training environment): x = round(uniform(0.3, 1), 2) and y = 1 with
// probability x, seed 3 (numpy default_rng), 40 points with ties; IsotonicRegression(increasing=True,
// out_of_bounds='clip').fit(x, y).predict(x).
const X = [0.36, 0.47, 0.86, 0.71, 0.37, 0.6, 0.64, 0.41, 0.81, 0.38, 0.57, 0.66, 0.6, 0.71, 0.82, 0.97, 0.5, 0.75, 0.79, 0.5, 0.3, 0.98, 0.51, 0.52, 0.92, 0.71, 0.63, 0.84, 0.32, 0.79, 0.56, 0.36, 0.76, 0.95, 0.45, 0.74, 0.51, 0.82, 0.81, 0.45];
const Y = [0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 1.0, 1.0, 0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.0];
const FITTED = [0.16666666666666666, 0.3333333333333333, 0.6875, 0.6875, 0.16666666666666666, 0.3333333333333333, 0.3333333333333333, 0.3333333333333333, 0.6875, 0.16666666666666666, 0.3333333333333333, 0.6875, 0.3333333333333333, 0.6875, 0.6875, 1.0, 0.3333333333333333, 0.6875, 0.6875, 0.3333333333333333, 0.16666666666666666, 1.0, 0.3333333333333333, 0.3333333333333333, 0.6875, 0.6875, 0.3333333333333333, 0.6875, 0.16666666666666666, 0.6875, 0.3333333333333333, 0.16666666666666666, 0.6875, 1.0, 0.3333333333333333, 0.6875, 0.3333333333333333, 0.6875, 0.6875, 0.3333333333333333];

describe('isotonic regression', () => {
  it("fits scikit-learn's values at the points, ties pooled", () => {
    const fit = fitIsotonic(X, Y);
    X.forEach((x, i) => expect(predictIsotonic(fit, x)).toBeCloseTo(FITTED[i]!, 15));
  });

  it('is a non-decreasing step function, clipped at both ends', () => {
    const fit = fitIsotonic([0.2, 0.4, 0.6, 0.8], [1, 0, 0, 1]);
    expect(fit).toEqual({ x: [0.2, 0.8], y: [1 / 3, 1] });
    expect(predictIsotonic(fit, 0)).toBe(1 / 3);
    expect(predictIsotonic(fit, 0.79)).toBe(1 / 3);
    expect(predictIsotonic(fit, 0.8)).toBe(1);
    expect(predictIsotonic(fit, 2)).toBe(1);
  });

  it('refuses mismatched, empty or non-finite input, naming the problem', () => {
    expect(() => fitIsotonic([1], [])).toThrow('isotonic fit: expected as many x as y, got 1 and 0');
    expect(() => fitIsotonic([], [])).toThrow('isotonic fit: expected at least one point, got none');
    expect(() => fitIsotonic([0.5, Number.NaN], [1, 0])).toThrow('isotonic fit: expected finite points, got (NaN, 0)');
  });
});
