import { describe, expect, it } from 'vitest';
import { DEFAULT_DECISION_CONFIG, decide, decideRequestLevel, foldSettings, formatP, nullDifference, type DecisionConfig, type DecisionInput } from '../../src/ab/decide.js';
import type { ArmSnapshot, FoldLook } from '../../src/ab/experiment-fold.js';
import { AB_DEFAULTS } from '../../src/config/config-schema.js';
import type { SequentialPoint } from '../../src/stats/msprt.js';

const config: DecisionConfig = { ...DEFAULT_DECISION_CONFIG, splitB: 0.5 };

function arm(labeled: number, correct: number, extra: Partial<ArmSnapshot> = {}): ArmSnapshot {
  return {
    users: 200,
    labeledUsers: 200,
    requests: labeled,
    failed: 0,
    labeled,
    correct,
    accuracy: correct / labeled,
    accuracyVariance: 0.0002,
    accuracyIidVariance: 0.0001,
    meanLatencyMs: 20,
    latencyP50: 18,
    latencyP99: 60,
    failureRate: 0,
    ...extra,
  };
}

const open: SequentialPoint = { pValue: 1, pBetter: 1, pWorse: 1, lower: Number.NEGATIVE_INFINITY, upper: Number.POSITIVE_INFINITY };
/** A guardrail shown to hold: harm well below its margin. */
const holds: SequentialPoint = { pValue: 0.001, pBetter: 1, pWorse: 0.001, lower: -0.1, upper: 0.05 };

function look(accuracy: Partial<SequentialPoint>, rest: Partial<FoldLook> = {}): FoldLook {
  return {
    labeledA: 1000,
    labeledB: 1000,
    correctA: 801,
    correctB: 912,
    usersA: 200,
    usersB: 200,
    requestsA: 1000,
    requestsB: 1000,
    difference: 0.111,
    counted: true,
    accuracy: { ...open, ...accuracy },
    requestLevel: { pValue: 1, pBetter: 1, pWorse: 1 },
    armIntervals: { A: { lower: 0.77, upper: 0.83 }, B: { lower: 0.89, upper: 0.93 } },
    latency: holds,
    failures: holds,
    latencyHarm: 0,
    failureHarm: 0,
    srmPValue: 1,
    ...rest,
  };
}

const A = arm(1000, 801);
const B = arm(1000, 912);
const input = (l: FoldLook | null, arms = { A, B }, srmPValue = 1): DecisionInput => ({ arms, look: l, srmPValue });
const win = { pBetter: 0.0031, lower: 0.05, upper: 0.17 };

describe('decide', () => {
  it('promotes when B wins and every guardrail holds, citing the numbers and the always-valid interval', () => {
    const d = decide(input(look(win)), config);
    expect(d.decision).toBe('promote');
    expect(d.reason).toBe('B beats A: accuracy 0.912 vs 0.801, always-valid p = 0.0031 < alpha 0.05, always-valid interval of B − A [0.050, 0.170]; guardrails hold');
    expect(d).toMatchObject({ pValue: 0.0031, valid: true, theta0: 0, lower: 0.05, upper: 0.17, breached: null });
    expect(d.difference).toBeCloseTo(0.111, 12);
    expect(d.guardrails.map((g) => [g.name, g.state])).toEqual([
      ['latency', 'holds'],
      ['failures', 'holds'],
    ]);
  });

  it('waits while a guardrail is not yet shown to hold, and rejects so at the maximum', () => {
    const d = decide(input(look(win, { latency: open, latencyHarm: null })), config);
    expect(d.decision).toBe('continue');
    expect(d.reason).toBe(
      'B beats A (accuracy 0.912 vs 0.801, always-valid p = 0.0031) but a guardrail is not yet shown to hold: ' +
        'latency (mean latency B 20.0 ms vs A 20.0 ms (+0%, margin +25%; p99 B 60.0 ms vs A 60.0 ms), always-valid p = 1)',
    );
    expect(decide(input(look(win, { latency: open })), { ...config, maxLabeledPerArm: 1000 }).decision).toBe('reject');
  });

  it('rejects a slower B on the latency guardrail, with both arms’ numbers', () => {
    const slowB = arm(1000, 912, { meanLatencyMs: 31.5, latencyP99: 96.25 });
    const breached: SequentialPoint = { pValue: 0.0001, pBetter: 0.00012, pWorse: 1, lower: 0.3, upper: 0.6 };
    const d = decide(input(look(win, { latency: breached, latencyHarm: Math.log(31.5 / 20) }), { A, B: slowB }), config);
    expect(d.decision).toBe('reject');
    expect(d.breached).toBe('latency');
    expect(d.pValue).toBe(0.00012);
    expect(d.reason).toBe(
      'the latency guardrail is breached: mean latency B 31.5 ms vs A 20.0 ms (+57.5%, margin +25%; p99 B 96.3 ms vs A 60.0 ms), always-valid p = 0.00012 < alpha 0.05',
    );
    expect(d.guardrails[0]).toMatchObject({ state: 'breached', estimate: Math.log(31.5 / 20), threshold: Math.log1p(0.25), pBreached: 0.00012, pHolds: 1 });
  });

  it('rejects a failing B on the failure guardrail', () => {
    const failingB = arm(970, 885, { requests: 970, failed: 30, failureRate: 0.03 });
    const failingA = arm(1000, 801, { failed: 2, failureRate: 2 / 1002 });
    const breached: SequentialPoint = { pValue: 0.001, pBetter: 0.002, pWorse: 1, lower: 0.015, upper: 0.04 };
    const d = decide(input(look(win, { failures: breached, failureHarm: 0.028 }), { A: failingA, B: failingB }), config);
    expect(d.reason).toBe('the failures guardrail is breached: failure rate B 3% (30 of 1000) vs A 0.2% (2 of 1002), margin +2%, always-valid p = 0.002 < alpha 0.05');
    expect(d.breached).toBe('failures');
  });

  it('rejects when B is significantly worse, citing that p; never promotes when both directions crossed', () => {
    const worse = decide(input(look({ pWorse: 2.1e-7, lower: -0.17, upper: -0.05 }), { A: B, B: A }), config);
    expect(worse.decision).toBe('reject');
    expect(worse.reason).toBe('B is worse than A: accuracy 0.801 vs 0.912, always-valid p = 2.1e-7 < alpha 0.05, always-valid interval of B − A [-0.170, -0.050]');
    expect(worse.pValue).toBe(2.1e-7);
    expect(decide(input(look({ pBetter: 0.01, pWorse: 0.04 })), config).decision).toBe('reject');
  });

  it('continues without a win, and rejects once the maximum per arm is reached', () => {
    const a = arm(1000, 901);
    const b = arm(1000, 895);
    const l = look({ pBetter: 0.3, pWorse: 0.6, lower: -0.04, upper: 0.03 });
    expect(decide(input(l, { A: a, B: b }), config).reason).toBe(
      'no decision yet after 1000 (A) and 1000 (B) labelled rows from 200 and 200 users: accuracy B 0.895 vs A 0.901, always-valid p = 0.3 ≥ alpha 0.05, always-valid interval of B − A [-0.040, 0.030]',
    );
    expect(decide(input(l, { A: a, B: b }), { ...config, maxLabeledPerArm: 1000 })).toMatchObject({
      decision: 'reject',
      reason: 'no win within the maximum of 1000 labelled rows per arm: accuracy B 0.895 vs A 0.901, always-valid p = 0.3 ≥ alpha 0.05, always-valid interval of B − A [-0.040, 0.030]',
    });
  });

  it('waits for the minimum labelled rows, then for the minimum labelled users, in both arms', () => {
    expect(decide(input(null, { A: arm(57, 50), B: arm(143, 140) }), config).reason).toBe(
      'waiting for labels: A has 57 and B has 143 labelled rows, 100 per arm are needed',
    );
    const few = decide(input(look(win), { A: arm(400, 320, { labeledUsers: 12 }), B }), config);
    expect(few.decision).toBe('continue');
    expect(few.reason).toBe('waiting for users: A has 12 and B has 200 users with labels, 30 per arm are needed (users are the unit of the test)');
  });

  it('never promotes on a sample ratio mismatch over users', () => {
    const arms = { A: arm(1000, 801, { users: 1150 }), B: arm(1000, 912, { users: 850 }) };
    const d = decide(input(look(win), arms, 0.00004), config);
    expect(d.decision).toBe('continue');
    expect(d.valid).toBe(false);
    expect(d.reason).toBe(
      'sample ratio mismatch: 1150 users in A and 850 in B against the split in force (always-valid p = 4.0e-5 < 0.001); the test is invalid and nothing is promoted',
    );
    const atMax = decide(input(look(win), arms, 0.00004), { ...config, maxLabeledPerArm: 1000 });
    expect(atMax.decision).toBe('reject');
    expect(atMax.reason).toMatch(/, and the maximum of 1000 labelled rows per arm is reached$/);
  });

  it('tests non-inferiority against −margin and says so', () => {
    const ni: DecisionConfig = { ...config, mode: 'non-inferiority', margin: 0.02 };
    expect(nullDifference(ni)).toBe(-0.02);
    expect(foldSettings(ni)).toMatchObject({ tau: AB_DEFAULTS.tau, theta0: -0.02, minLabeledPerArm: 100, minUsersPerArm: 30 });
    const arms = { A: arm(5000, 4550), B: arm(5000, 4525) };
    expect(decide(input(look({ pBetter: 0.004, lower: -0.015, upper: 0.005 }), arms), ni).reason).toBe(
      'B is not worse than A by more than the margin 0.02: accuracy 0.905 vs 0.910, always-valid p = 0.004 < alpha 0.05, always-valid interval of B − A [-0.015, 0.005]; guardrails hold',
    );
    expect(decide(input(look({ pWorse: 0.01, lower: -0.05, upper: -0.021 }), arms), ni).reason).toBe(
      'B is worse than A by more than the margin 0.02: accuracy 0.905 vs 0.910, always-valid p = 0.01 < alpha 0.05, always-valid interval of B − A [-0.050, -0.021]',
    );
  });

  it('continues with p = 1 before any look', () => {
    expect(decide(input(null, { A: arm(0, 0, { accuracy: Number.NaN }), B: arm(0, 0, { accuracy: Number.NaN }) }), config)).toMatchObject({
      decision: 'continue',
      pValue: 1,
      pBetter: 1,
      pWorse: 1,
    });
  });
});

describe('decideRequestLevel (the rule before users were the unit)', () => {
  it('counts requests against the split with a chi-square, and ignores the guardrails', () => {
    const arms = { A: arm(1000, 801, { requests: 5400 }), B: arm(1000, 912, { requests: 4600, meanLatencyMs: 90 }) };
    const d = decideRequestLevel(input(look(win, { requestLevel: { pValue: 0.001, pBetter: 0.0005, pWorse: 1 } }), arms), config);
    expect(d.srm.statistic).toBe(64);
    expect(d).toMatchObject({ decision: 'continue', reason: 'request sample ratio mismatch: 5400 vs 4600 requests (chi-square p = 1.2e-15)' });
    const balanced = { A: arm(1000, 801), B: arm(1000, 912, { meanLatencyMs: 90 }) };
    expect(decideRequestLevel(input(look(win, { requestLevel: { pValue: 0.001, pBetter: 0.0005, pWorse: 1 } }), balanced), config)).toMatchObject({
      decision: 'promote',
      reason: 'B beats A (request-level p = 0.0005)',
    });
  });
});

describe('formatP', () => {
  it.each([
    [1, '1'],
    [0, '0'],
    [0.41234, '0.41'],
    [0.05, '0.05'],
    [0.0031, '0.0031'],
    [0.00012345, '0.00012'],
    [2.1e-7, '2.1e-7'],
  ])('%d → %s', (p, text) => {
    expect(formatP(p)).toBe(text);
  });
});
