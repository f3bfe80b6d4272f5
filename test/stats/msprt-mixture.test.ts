import { describe, expect, it } from 'vitest';
import {
  mixtureBounds,
  mixtureHalfWidth,
  mixtureStatistic,
  msprtStatistic,
  SEQUENTIAL_START,
  sequentialStep,
  type SequentialPoint,
} from '../../src/stats/msprt.js';
import { InputError } from '../../src/errors.js';
import abVectors from '../fixtures/ab-vectors.json' with { type: 'json' };
import vectors from '../fixtures/ab-stats-vectors.json' with { type: 'json' };

const TOL = 1e-12;

// ln Λ's absolute error scales with its exponent d²/V, so compare relative to max(1, |ln Λ|).
function closeLog(actual: number, expected: number, label: string): void {
  expect(Math.abs(actual - expected), `${label}: ${actual} vs ${expected}`).toBeLessThan(TOL * Math.max(1, Math.abs(expected)));
}

// p = exp(−ln Λ): the relative error of p is the absolute error of ln Λ.
function closeP(actual: number, expected: number, label: string): void {
  if (expected === 1) expect(actual, label).toBe(1);
  else expect(Math.abs(actual - expected) / expected, `${label}: ${actual} vs ${expected}`).toBeLessThan(TOL * Math.max(1, Math.abs(Math.log(expected))));
}

// A bound is θ̂ − d: relative to the larger of the two, since a bound near 0 keeps only their absolute precision.
function closeBound(actual: number, expected: number, estimate: number, label: string): void {
  const scale = Math.max(Math.abs(expected), Math.abs(estimate - expected));
  expect(Math.abs(actual - expected), `${label}: ${actual} vs ${expected}`).toBeLessThan(TOL * scale);
}

describe('mixtureStatistic', () => {
  it.each(vectors.mixture)('θ̂ $estimate, V $variance, τ $tau, θ0 $theta0 (numpy, scipy logcdf)', (c) => {
    const stat = mixtureStatistic(c.estimate, c.variance, { tau: c.tau, theta0: c.theta0 });
    expect([stat.estimate, stat.variance]).toEqual([c.estimate, c.variance]);
    closeLog(stat.logLambda, c.logLambda, 'ln Λ');
    closeLog(stat.logLambdaBetter, c.logLambdaBetter, 'ln Λ+');
    closeLog(stat.logLambdaWorse, c.logLambdaWorse, 'ln Λ−');
  });

  it('is what msprtStatistic computes from counts with the Bernoulli variance', () => {
    for (const c of abVectors.msprt) {
      const options = { tau: c.tau, theta0: c.theta0 };
      const fromCounts = msprtStatistic(c, options);
      expect(mixtureStatistic(fromCounts.estimate, fromCounts.variance, options)).toEqual(fromCounts);
    }
  });

  it('takes any finite θ0 but keeps the accuracy range for counts', () => {
    expect(mixtureStatistic(12.5, 16, { tau: 10, theta0: -5 }).logLambdaBetter).toBeGreaterThan(0);
    const counts = { nA: 10, successesA: 5, nB: 10, successesB: 5 };
    expect(() => msprtStatistic(counts, { tau: 0.1, theta0: 1 })).toThrow(new InputError('mSPRT theta0: expected a number in (−1, 1), got number 1'));
  });

  it('rejects what no normal approximation has', () => {
    const options = { tau: 0.08, theta0: 0 };
    expect(() => mixtureStatistic(Number.NaN, 1e-3, options)).toThrow(new InputError('mSPRT estimate: expected a finite number, got number NaN'));
    expect(() => mixtureStatistic(0.01, 0, options)).toThrow(new InputError('mSPRT variance: expected a finite number > 0, got number 0'));
    expect(() => mixtureStatistic(0.01, Infinity, options)).toThrow(new InputError('mSPRT variance: expected a finite number > 0, got number Infinity'));
    expect(() => mixtureStatistic(0.01, 1e-3, { tau: -1, theta0: 0 })).toThrow(new InputError('mSPRT tau: expected a finite number > 0, got number -1'));
    expect(() => mixtureStatistic(0.01, 1e-3, { tau: 0.08, theta0: Infinity })).toThrow(
      new InputError('mSPRT theta0: expected a finite number, got number Infinity'),
    );
  });
});

describe('mixtureBounds and mixtureHalfWidth', () => {
  it.each(vectors.mixtureBounds)('θ̂ $estimate, V $variance, τ $tau, α $alpha (scipy brentq on the mixture)', (c) => {
    const { lower, upper } = mixtureBounds(c.estimate, c.variance, c.tau, c.alpha);
    closeBound(lower, c.lower, c.estimate, 'lower');
    closeBound(upper, c.upper, c.estimate, 'upper');
    expect(Math.abs(mixtureHalfWidth(c.variance, c.tau, c.alpha) - c.halfWidth)).toBeLessThan(TOL * c.halfWidth);
    // At θ0 = lower, Λ+ is 1/α: the bound is the root of the same formula the p-value uses.
    closeLog(mixtureStatistic(c.estimate, c.variance, { tau: c.tau, theta0: lower }).logLambdaBetter, -Math.log(c.alpha), 'ln Λ+ at lower');
    closeLog(mixtureStatistic(c.estimate, c.variance, { tau: c.tau, theta0: upper }).logLambdaWorse, -Math.log(c.alpha), 'ln Λ− at upper');
  });

  it('excludes θ0 exactly when the p-value of that direction is below α, at one look', () => {
    const tau = 0.08;
    let rejections = 0;
    let cases = 0;
    for (const estimate of [-0.2, -0.05, -0.012, 0, 0.003, 0.02, 0.07, 0.3]) {
      for (const variance of [1e-7, 1e-5, 1e-4, 4e-4, 1e-3, 0.01, 0.5]) {
        for (const theta0 of [-0.1, -0.02, -0.005, 0, 0.01, 0.05]) {
          for (const alpha of [0.001, 0.01, 0.05, 0.2]) {
            const point = sequentialStep(SEQUENTIAL_START, estimate, variance, { tau, theta0, alpha });
            const label = `θ̂ ${estimate}, V ${variance}, θ0 ${theta0}, α ${alpha}`;
            expect(point.pBetter < alpha, label).toBe(point.lower > theta0);
            expect(point.pWorse < alpha, label).toBe(point.upper < theta0);
            rejections += Number(point.pBetter < alpha) + Number(point.pWorse < alpha);
            cases++;
          }
        }
      }
    }
    // The grid exercises both sides of the equivalence.
    expect(rejections).toBeGreaterThan(cases / 4);
    expect(rejections).toBeLessThan(cases);
  });

  it('lies inside the two-sided half width: one direction spends all of α', () => {
    for (const c of vectors.mixtureBounds) {
      expect(c.estimate - mixtureBounds(c.estimate, c.variance, c.tau, c.alpha).lower).toBeLessThan(mixtureHalfWidth(c.variance, c.tau, c.alpha));
    }
  });

  it('rejects an alpha outside (0, 1)', () => {
    expect(() => mixtureBounds(0, 1e-3, 0.08, 1)).toThrow(new InputError('mSPRT alpha: expected a number in (0, 1), got number 1'));
    expect(() => mixtureHalfWidth(1e-3, 0.08, 0)).toThrow(new InputError('mSPRT alpha: expected a number in (0, 1), got number 0'));
    expect(() => mixtureHalfWidth(-1, 0.08, 0.05)).toThrow(new InputError('mSPRT variance: expected a finite number > 0, got number -1'));
  });
});

describe('sequentialStep', () => {
  const path = vectors.sequentialPath;

  function fold(theta0: number): SequentialPoint[] {
    let state = SEQUENTIAL_START;
    return path.points.map((p) => (state = sequentialStep(state, p.estimate, p.variance, { tau: path.tau, theta0, alpha: path.alpha })));
  }

  it('reproduces the numpy running p-values and the scipy running bounds over a seeded path', () => {
    fold(path.theta0).forEach((point, i) => {
      const expected = path.points[i];
      if (!expected) throw new Error(`no reference point ${i}`);
      closeP(point.pValue, expected.pValue, `step ${i} p`);
      closeP(point.pBetter, expected.pBetter, `step ${i} pBetter`);
      closeP(point.pWorse, expected.pWorse, `step ${i} pWorse`);
      closeBound(point.lower, expected.lower, expected.estimate, `step ${i} lower`);
      closeBound(point.upper, expected.upper, expected.estimate, `step ${i} upper`);
    });
  });

  it('at every step: pBetter < α ⇔ lower > θ0 and pWorse < α ⇔ upper < θ0', () => {
    let crossed = 0;
    for (const theta0 of [-0.05, -0.02, 0, 0.02, 0.04, 0.06, 0.1]) {
      const points = fold(theta0);
      points.forEach((point, i) => {
        expect(point.pBetter < path.alpha, `θ0 ${theta0}, step ${i}`).toBe(point.lower > theta0);
        expect(point.pWorse < path.alpha, `θ0 ${theta0}, step ${i}`).toBe(point.upper < theta0);
      });
      crossed += Number((points[0]?.pBetter ?? 0) >= path.alpha && (points.at(-1)?.pBetter ?? 1) < path.alpha);
    }
    // Some θ0 are crossed along the path, so the equivalence is seen flipping, not just held.
    expect(crossed).toBeGreaterThan(0);
  });

  it('starts with nothing rejected and nothing bounded, and never loosens', () => {
    expect(SEQUENTIAL_START).toEqual({ pValue: 1, pBetter: 1, pWorse: 1, lower: -Infinity, upper: Infinity });
    expect(Object.isFrozen(SEQUENTIAL_START)).toBe(true);
    const points = fold(0);
    for (let i = 1; i < points.length; i++) {
      const [before, now] = [points[i - 1], points[i]];
      expect(now?.pBetter).toBeLessThanOrEqual(before?.pBetter ?? 1);
      expect(now?.lower).toBeGreaterThanOrEqual(before?.lower ?? Infinity);
      expect(now?.upper).toBeLessThanOrEqual(before?.upper ?? -Infinity);
    }
  });
});
