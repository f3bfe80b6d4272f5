import { describe, expect, it } from 'vitest';
import { MSPRT_START, msprtStatistic, msprtStep, type MsprtPathOptions, type MsprtPathPoint, type TwoArmCounts } from '../../src/stats/msprt.js';
import { AB_DEFAULTS } from '../../src/config/config-schema.js';
import { InputError } from '../../src/errors.js';
import vectors from '../fixtures/ab-vectors.json' with { type: 'json' };

// ln Λ reaches ~200 in the table; its absolute error scales with it (the exponent d²/V), so compare relative to max(1, |ln Λ|).
const TOL = 1e-12;

/** The always-valid path over cumulative checkpoints: the fold of msprtStep the A/B fold makes. */
function msprtPath(points: readonly TwoArmCounts[], options: MsprtPathOptions): MsprtPathPoint[] {
  let state: Pick<MsprtPathPoint, 'pValue' | 'pBetter' | 'pWorse'> = MSPRT_START;
  return points.map((counts) => {
    const point = msprtStep(state, counts, options);
    state = point;
    return point;
  });
}

function closeLog(actual: number, expected: number): void {
  expect(Math.abs(actual - expected)).toBeLessThan(TOL * Math.max(1, Math.abs(expected)));
}

function closeP(actual: number, expected: number): void {
  if (expected === 1 || expected === 0) expect(actual).toBe(expected);
  // p = exp(−ln Λ): the relative error of p is the absolute error of ln Λ.
  else expect(Math.abs(actual - expected) / expected).toBeLessThan(TOL * Math.max(1, Math.abs(Math.log(expected))));
}

describe('msprtStatistic', () => {
  it.each(vectors.msprt)(
    'A $successesA/$nA, B $successesB/$nB, tau $tau, theta0 $theta0 (numpy closed form, checked by quadrature)',
    (c) => {
      const stat = msprtStatistic(c, { tau: c.tau, theta0: c.theta0 });
      expect(Math.abs(stat.estimate - c.estimate)).toBeLessThan(1e-15);
      expect(Math.abs(stat.variance - c.variance) / c.variance).toBeLessThan(1e-14);
      closeLog(stat.logLambda, c.logLambda);
      closeLog(stat.logLambdaBetter, c.logLambdaBetter);
      closeLog(stat.logLambdaWorse, c.logLambdaWorse);
      const path = msprtPath([c], { tau: c.tau, theta0: c.theta0, minPerArm: 1 });
      closeP(path[0]?.pValue ?? Number.NaN, c.pValue);
      closeP(path[0]?.pBetter ?? Number.NaN, c.pBetter);
      closeP(path[0]?.pWorse ?? Number.NaN, c.pWorse);
    },
  );

  it('splits the symmetric mixture into its two halves: Λ+ + Λ− = 2Λ', () => {
    for (const c of vectors.msprt.filter((v) => v.logLambda < 100)) {
      const s = msprtStatistic(c, { tau: c.tau, theta0: c.theta0 });
      const halves = Math.exp(s.logLambdaBetter) + Math.exp(s.logLambdaWorse);
      expect(Math.abs(halves / (2 * Math.exp(s.logLambda)) - 1)).toBeLessThan(1e-13);
    }
  });

  it('floors the variance of an arm that is all right or all wrong', () => {
    // 100/100 and 99/100: floor 99/100² for A, 0.99·0.01 for B.
    const s = msprtStatistic({ nA: 100, successesA: 100, nB: 100, successesB: 99 }, { tau: 0.08, theta0: 0 });
    expect(s.variance).toBeCloseTo(0.0099 / 100 + 0.0099 / 100, 15);
  });

  it('rejects impossible counts and options', () => {
    const counts = { nA: 10, successesA: 11, nB: 10, successesB: 5 };
    expect(() => msprtStatistic(counts, { tau: 0.1, theta0: 0 })).toThrow(
      new InputError('arm A correct predictions: expected an integer in [0, 10], got number 11'),
    );
    expect(() => msprtStatistic({ nA: 0, successesA: 0, nB: 1, successesB: 1 }, { tau: 0.1, theta0: 0 })).toThrow(
      new InputError('arm A labelled rows: expected an integer ≥ 1, got number 0'),
    );
    expect(() => msprtStatistic({ ...counts, successesA: 5 }, { tau: 0, theta0: 0 })).toThrow(
      new InputError('mSPRT tau: expected a finite number > 0, got number 0'),
    );
  });
});

describe('msprtPath', () => {
  const fixture = vectors.msprtPath;

  it('reproduces the numpy running minima over a seeded path', () => {
    const path = msprtPath(fixture.points, { tau: fixture.tau, theta0: fixture.theta0, minPerArm: fixture.minPerArm });
    expect(path).toHaveLength(fixture.points.length);
    fixture.points.forEach((expected, i) => {
      const point = path[i];
      expect(point?.counted).toBe(expected.nA >= fixture.minPerArm);
      closeP(point?.pValue ?? Number.NaN, expected.pValue);
      closeP(point?.pBetter ?? Number.NaN, expected.pBetter);
      closeP(point?.pWorse ?? Number.NaN, expected.pWorse);
    });
  });

  it('never increases, and stays at 1 before both arms reach minPerArm', () => {
    const path = msprtPath(fixture.points, { tau: AB_DEFAULTS.tau, theta0: 0, minPerArm: 100 });
    expect(path[0]).toMatchObject({ counted: false, pValue: 1, pBetter: 1, pWorse: 1 });
    for (let i = 1; i < path.length; i++) {
      expect(path[i]?.pBetter).toBeLessThanOrEqual(path[i - 1]?.pBetter ?? 1);
      expect(path[i]?.pWorse).toBeLessThanOrEqual(path[i - 1]?.pWorse ?? 1);
    }
  });

  it('is path-dependent: a later weaker checkpoint keeps the earlier minimum', () => {
    const options = { tau: 0.08, theta0: 0, minPerArm: 100 };
    const strong = { nA: 200, successesA: 160, nB: 200, successesB: 185 };
    const weak = { nA: 400, successesA: 330, nB: 400, successesB: 345 };
    const [first, second] = msprtPath([strong, weak], options);
    const alone = msprtPath([weak], options)[0];
    expect(second?.pBetter).toBe(first?.pBetter);
    expect(alone?.pBetter).toBeGreaterThan(first?.pBetter ?? 1);
  });
});
