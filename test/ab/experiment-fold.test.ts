import { describe, expect, it } from 'vitest';
import { ExperimentFold, FAILURE_TAU, LATENCY_TAU, type FoldSettings } from '../../src/ab/experiment-fold.js';
import { InputError } from '../../src/errors.js';
import { MSPRT_START, msprtStep, SEQUENTIAL_START, sequentialStep } from '../../src/stats/msprt.js';
import { SequentialSrm } from '../../src/stats/sequential-srm.js';

const settings: FoldSettings = {
  alpha: 0.05,
  tau: 0.08,
  theta0: 0,
  minLabeledPerArm: 4,
  minUsersPerArm: 2,
  checkpointEvery: 10,
  latencyMargin: 0.25,
  failureMargin: 0.01,
};

/** n answered, labelled requests of one user: `right` of them correct, all with this latency. */
function send(fold: ExperimentFold, variant: 'A' | 'B', user: string, n: number, right: number, latencyMs = 10, shareB = 0.5): void {
  for (let i = 0; i < n; i++) {
    fold.request(variant, user, shareB, { failed: false, latencyMs });
    fold.label(variant, user, i < right);
  }
}

describe('ExperimentFold', () => {
  it('measures accuracy with users as clusters: two users who disagree count as two observations, not twenty', () => {
    const fold = new ExperimentFold(settings);
    send(fold, 'A', 'a1', 10, 0);
    send(fold, 'A', 'a2', 10, 10);
    const { A } = fold.snapshot().arms;
    expect(A).toMatchObject({ users: 2, labeledUsers: 2, requests: 20, labeled: 20, correct: 10, accuracy: 0.5 });
    // Σ(c_i − p n_i)² / (K (K − 1) n̄²) = (25 + 25) / (2 · 1 · 100)
    expect(A.accuracyVariance).toBe(0.25);
    // p(1 − p)/n: what the request-level rule assumes, 20× too small here
    expect(A.accuracyIidVariance).toBe(0.0125);
  });

  it('floors a 0/1 variance at one flipped outcome, so a perfect arm still has a variance', () => {
    const fold = new ExperimentFold(settings);
    send(fold, 'B', 'b1', 3, 3);
    send(fold, 'B', 'b2', 2, 2);
    expect(fold.snapshot().arms.B.accuracyVariance).toBe(4 / 125);
  });

  it('looks every checkpoint_every labels of the smaller arm, steps only counted looks, and agrees with the stats it folds', () => {
    const fold = new ExperimentFold({ ...settings, minLabeledPerArm: 20 });
    for (let u = 0; u < 6; u++) {
      send(fold, 'A', `a${u}`, 5, 4, 10 + u);
      send(fold, 'B', `b${u}`, 5, 5, 12 + u);
    }
    const { path, arms } = fold.snapshot();
    expect(path.map((p) => [p.labeledA, p.labeledB, p.counted])).toEqual([
      [10, 10, false],
      [20, 20, true],
      [30, 30, true],
    ]);
    expect(path[0]!.accuracy).toEqual(SEQUENTIAL_START);
    // The last look, recomputed from the statistics the fold is built on.
    const variance = arms.A.accuracyVariance + arms.B.accuracyVariance;
    const expected = sequentialStep(path[1]!.accuracy, arms.B.accuracy - arms.A.accuracy, variance, { tau: 0.08, theta0: 0, alpha: 0.05 });
    expect(path[2]!.accuracy).toEqual(expected);
    expect(path[2]!.requestLevel).toEqual(
      msprtStep(path[1]!.requestLevel, { nA: 30, successesA: 24, nB: 30, successesB: 30 }, { tau: 0.08, theta0: 0, minPerArm: 20 }),
    );
    expect(path[1]!.requestLevel).toEqual(msprtStep(MSPRT_START, { nA: 20, successesA: 16, nB: 20, successesB: 20 }, { tau: 0.08, theta0: 0, minPerArm: 20 }));
    expect(path[2]!.latencyHarm).toBe(Math.log(arms.B.meanLatencyMs / arms.A.meanLatencyMs));
    expect(arms.A.meanLatencyMs).toBe(12.5);
    expect(arms.B.meanLatencyMs).toBe(14.5);
    expect([LATENCY_TAU, FAILURE_TAU]).toEqual([0.1, 0.02]);
    // A look at unchanged numbers is the same look, not a second one.
    expect(fold.look()).toBe(path[2]);
  });

  it('counts failures per arm as requests without a latency or a label', () => {
    const fold = new ExperimentFold(settings);
    send(fold, 'B', 'b1', 3, 3, 20);
    fold.request('B', 'b1', 0.5, { failed: true });
    fold.request('B', 'b2', 0.5, { failed: true });
    const { B } = fold.snapshot().arms;
    expect(B).toMatchObject({ users: 2, requests: 3, failed: 2, labeled: 3, meanLatencyMs: 20, failureRate: 0.4 });
  });

  it('checks the sample ratio over first-seen users against the split in force when each arrived', () => {
    const fold = new ExperimentFold(settings);
    const arrivals: ['A' | 'B', string, number][] = [
      ['B', 'u1', 0.5],
      ['A', 'u2', 0.5],
      ['A', 'u3', 0.5],
      ['B', 'u1', 0.2], // seen before: not a new user, whatever the split says now
      ['A', 'u4', 0.2],
      ['A', 'u5', 0.2],
      ['B', 'u6', 0.2],
      ['A', 'u7', 0],
    ];
    for (const [variant, user, shareB] of arrivals) {
      fold.request(variant, user, shareB, { failed: false, latencyMs: 5 });
    }
    const snap = fold.snapshot();
    expect(snap.srm.periods).toEqual([
      { shareB: 0.5, usersA: 2, usersB: 1 },
      { shareB: 0.2, usersA: 2, usersB: 1 },
    ]);
    expect(snap.srm.skipped).toBe(1);
    expect(snap.arms.A.users + snap.arms.B.users).toBe(7);
    // The same users at first sight, fed to the statistic itself.
    const reference = new SequentialSrm();
    for (const [variant, , shareB] of [arrivals[0]!, arrivals[1]!, arrivals[2]!, arrivals[4]!, arrivals[5]!, arrivals[6]!, arrivals[7]!]) reference.observe(variant, shareB);
    expect(snap.srm.pValue).toBe(reference.pValue);
  });

  it('refuses a checkpoint_every that is not a positive integer', () => {
    expect(() => new ExperimentFold({ ...settings, checkpointEvery: 0 })).toThrow(new InputError('A/B checkpoint_every: expected an integer ≥ 1, got number 0'));
  });
});
