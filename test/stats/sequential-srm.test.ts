import { describe, expect, it } from 'vitest';
import { SequentialSrm, SRM_PRIOR_CONCENTRATION } from '../../src/stats/sequential-srm.js';
import { InputError } from '../../src/errors.js';
import vectors from '../fixtures/ab-stats-vectors.json' with { type: 'json' };

// One log term per user: rounding (ours, and betaln's on arguments ~10^4) grows with the users, so ln BF
// is compared to 1e-14 per user (measured: ≤ 2.2e-15 per user).
function closeLogBf(actual: number, expected: number, users: number): void {
  expect(Math.abs(actual - expected), `ln BF ${actual} vs ${expected}`).toBeLessThanOrEqual(1e-14 * Math.max(1, users));
}

// p = exp(−ln BF): its relative error is the absolute error of ln BF.
function closeP(actual: number, expected: number, users: number): void {
  if (expected === 1) expect(actual).toBe(1);
  else expect(Math.abs(actual - expected) / expected, `p ${actual} vs ${expected}`).toBeLessThanOrEqual(1e-14 * Math.max(1, users));
}

type Segment = { shareB: number; arms: string };

function run(segments: readonly Segment[], concentration: number, onUser?: (srm: SequentialSrm, index: number) => void): SequentialSrm {
  const srm = new SequentialSrm(concentration);
  let index = 0;
  for (const { shareB, arms } of segments) {
    for (const arm of arms) {
      srm.observe(arm === 'B' ? 'B' : 'A', shareB);
      onUser?.(srm, index++);
    }
  }
  return srm;
}

describe('SequentialSrm', () => {
  it.each(vectors.srmClosedForm)(
    '$usersA A and $usersB B at share $shareB, k $concentration (scipy betaln)',
    ({ usersA, usersB, shareB, concentration, logBayesFactor }) => {
      const srm = new SequentialSrm(concentration);
      // The Bayes factor is exchangeable: any order of the same users gives the closed form.
      for (let i = 0; i < Math.max(usersA, usersB); i++) {
        if (i < usersA) srm.observe('A', shareB);
        if (i < usersB) srm.observe('B', shareB);
      }
      closeLogBf(srm.logBayesFactor, logBayesFactor, usersA + usersB);
      expect(srm.users).toEqual({ A: usersA, B: usersB });
      expect(srm.periods).toHaveLength(usersA + usersB > 0 ? 1 : 0);
    },
  );

  it('keeps p = 1 over 1,000 alternating users at 50/50', () => {
    const { balanced } = vectors.srmStreams;
    const srm = run(balanced.segments, balanced.concentration);
    expect(balanced.pValue.at(-1)).toBe(1);
    expect(srm.pValue).toBe(1);
    closeLogBf(srm.logBayesFactor, balanced.logBayesFactor.at(-1) ?? Number.NaN, 1000);
  });

  it('finds 600 A / 400 B at 50/50 below 0.001', () => {
    const { skewed } = vectors.srmStreams;
    const srm = run(skewed.segments, skewed.concentration);
    const expected = skewed.pValue.at(-1) ?? Number.NaN;
    closeP(srm.pValue, expected, 1000);
    expect(srm.pValue).toBeLessThan(0.001);
    expect(srm.users).toEqual({ A: 600, B: 400 });
  });

  it('reproduces ln BF and the running-min p after every user across split changes and pauses', () => {
    const { periods: stream } = vectors.srmStreams;
    const srm = run(stream.segments, stream.concentration, (s, i) => {
      closeLogBf(s.logBayesFactor, stream.logBayesFactor[i] ?? Number.NaN, i + 1);
      closeP(s.pValue, stream.pValue[i] ?? Number.NaN, i + 1);
    });
    const users = stream.logBayesFactor.length;
    expect(srm.periods.map((p) => ({ shareB: p.shareB, users: p.users }))).toEqual(stream.periods.map((p) => ({ shareB: p.shareB, users: p.users })));
    srm.periods.forEach((p, i) => closeLogBf(p.logBayesFactor, stream.periods[i]?.logBayesFactor ?? Number.NaN, users));
    expect(srm.skipped).toBe(25);
    expect(srm.users.A + srm.users.B + srm.skipped).toBe(users);
    // The running minimum holds the early evidence the healthy periods later diluted.
    expect(Math.exp(-srm.logBayesFactor)).toBeGreaterThan(srm.pValue);
  });

  it('skips shares 0 and 1 without ending the period, and starts one at every other change', () => {
    const srm = new SequentialSrm();
    srm.observe('B', 0.5);
    srm.observe('A', 0);
    srm.observe('B', 1);
    srm.observe('A', 0.5);
    expect(srm.periods).toHaveLength(1);
    srm.observe('A', 0.2);
    srm.observe('B', 0.5);
    expect(srm.periods.map((p) => [p.shareB, p.users.A, p.users.B])).toEqual([
      [0.5, 1, 1],
      [0.2, 1, 0],
      [0.5, 0, 1],
    ]);
    expect(srm.skipped).toBe(2);
    // The total is the sum of the periods' factors.
    expect(srm.logBayesFactor).toBeCloseTo(srm.periods.reduce((t, p) => t + p.logBayesFactor, 0), 15);
  });

  it('starts at p = 1 with nothing seen and hands out copies of its periods', () => {
    const srm = new SequentialSrm();
    expect([srm.pValue, srm.logBayesFactor, srm.skipped, srm.periods.length]).toEqual([1, 0, 0, 0]);
    expect(SRM_PRIOR_CONCENTRATION).toBe(100);
    srm.observe('A', 0.5);
    const [period] = srm.periods;
    if (period) period.users.A = 99;
    expect(srm.periods[0]?.users.A).toBe(1);
  });

  it('rejects unknown arms, shares outside [0, 1] and a bad concentration', () => {
    const srm = new SequentialSrm();
    expect(() => srm.observe('C' as unknown as 'A', 0.5)).toThrow(new InputError('SRM arm: expected "A" or "B", got "C"'));
    expect(() => srm.observe('A', 1.5)).toThrow(new InputError('SRM share of B: expected a number in [0, 1], got number 1.5'));
    expect(() => srm.observe('A', Number.NaN)).toThrow(new InputError('SRM share of B: expected a number in [0, 1], got number NaN'));
    expect(() => new SequentialSrm(0)).toThrow(new InputError('SRM prior concentration: expected a finite number > 0, got number 0'));
    expect(srm.users).toEqual({ A: 0, B: 0 });
  });
});
