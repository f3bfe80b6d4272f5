import { describe, expect, it } from 'vitest';
import { DEFAULT_DECISION_CONFIG, decidePaired, foldSettings, type DecisionConfig, type PairedDecisionInput } from '../../src/ab/decide.js';
import { PairedFold, type PairedLook, type PairedModelSnapshot } from '../../src/ab/paired-fold.js';
import type { SequentialPoint } from '../../src/stats/msprt.js';

const config: DecisionConfig = { ...DEFAULT_DECISION_CONFIG, splitB: 0.5 };

const open: SequentialPoint = { pValue: 1, pBetter: 1, pWorse: 1, lower: Number.NEGATIVE_INFINITY, upper: Number.POSITIVE_INFINITY };
/** A guardrail shown to hold: harm well below its margin. */
const holds: SequentialPoint = { pValue: 0.001, pBetter: 1, pWorse: 0.001, lower: -0.1, upper: 0.05 };

function model(correct: number, extra: Partial<PairedModelSnapshot> = {}): PairedModelSnapshot {
  return {
    requests: 1000,
    failed: 0,
    correct,
    accuracy: correct / 400,
    meanLatencyMs: 20,
    latencyP50: 18,
    latencyP99: 60,
    failureRate: 0,
    predictions: {},
    ...extra,
  };
}

function look(accuracy: Partial<SequentialPoint>, rest: Partial<PairedLook> = {}): PairedLook {
  return {
    pairs: 400,
    users: 120,
    correctA: 320,
    correctB: 360,
    b: 52,
    c: 12,
    requests: 2000,
    difference: 0.1,
    variance: 0.0004,
    counted: true,
    accuracy: { ...open, ...accuracy },
    latency: holds,
    failures: holds,
    latencyHarm: 0,
    failureHarm: 0,
    ...rest,
  };
}

/** 400 labelled pairs from 120 users: A right 320, B right 360, b = 52, c = 12. */
function input(l: PairedLook | null, extra: Partial<PairedDecisionInput> = {}): PairedDecisionInput {
  return {
    models: { A: model(320), B: model(360) },
    pairs: { labeled: 400, labeledUsers: 120, b: 52, c: 12, bothRight: 308, bothWrong: 28, difference: 0.1, variance: 0.0004, iidVariance: 0.0003 },
    agreement: { compared: 1000, agreed: 900, rate: 0.9 },
    predictionShift: null,
    look: l,
    ...extra,
  };
}

describe('decidePaired', () => {
  it('promotes when B wins the paired (shadow) test and every guardrail holds, naming b and c and the interval', () => {
    const d = decidePaired(input(look({ pBetter: 0.0031, lower: 0.05, upper: 0.15 })), config);
    expect(d.decision).toBe('promote');
    expect(d.reason).toBe(
      'B beats A in the paired (shadow) test: accuracy 0.900 vs 0.800 on 400 labelled pairs (B right and A wrong 52, the reverse 12), ' +
        'always-valid p = 0.0031 < alpha 0.05, always-valid interval of B − A [0.050, 0.150]; the failures guardrail holds (latency is reported, not judged, in shadow)',
    );
    expect(d).toMatchObject({ pValue: 0.0031, pBetter: 0.0031, theta0: 0, difference: 0.1, lower: 0.05, upper: 0.15, labeledPairs: 400, b: 52, c: 12, agreementRate: 0.9, breached: null });
    expect(d).not.toHaveProperty('srmPValue');
  });

  it('rejects a B the paired test finds worse, citing p_worse', () => {
    const worse = input(look({ pWorse: 0.002, lower: -0.16, upper: -0.04 }, { b: 12, c: 52 }), {
      models: { A: model(360), B: model(320) },
      pairs: { labeled: 400, labeledUsers: 120, b: 12, c: 52, bothRight: 308, bothWrong: 28, difference: -0.1, variance: 0.0004, iidVariance: 0.0003 },
    });
    const d = decidePaired(worse, config);
    expect(d.decision).toBe('reject');
    expect(d.pValue).toBe(0.002);
    expect(d.reason).toBe(
      'B is worse than A in the paired (shadow) test: accuracy 0.800 vs 0.900 on 400 labelled pairs (B right and A wrong 12, the reverse 52), ' +
        'always-valid p = 0.002 < alpha 0.05, always-valid interval of B − A [-0.160, -0.040]',
    );
  });

  it('continues without any label, with the agreement rate and the prediction-distribution chi-square p', () => {
    const none = input(null, {
      models: { A: model(0, { accuracy: Number.NaN }), B: model(0, { accuracy: Number.NaN }) },
      pairs: { labeled: 0, labeledUsers: 0, b: 0, c: 0, bothRight: 0, bothWrong: 0, difference: Number.NaN, variance: Number.NaN, iidVariance: Number.NaN },
      agreement: { compared: 1234, agreed: 1149, rate: 1149 / 1234 },
      predictionShift: { statistic: 1.7, pvalue: 0.4274, df: 2, classes: ['a', 'b', 'c'] },
    });
    const d = decidePaired(none, config);
    expect(d.decision).toBe('continue');
    expect(d.reason).toBe(
      'waiting for labels in the paired (shadow) test: no labelled pairs yet, 100 are needed; A and B agree on 93.1% of 1234 requests; ' +
        "prediction distribution of B against A's: chi-square p = 0.43",
    );
    expect([d.pValue, d.predictionPValue, d.agreementRate]).toEqual([1, 0.4274, 1149 / 1234]);
  });

  it('waits below min_labeled pairs naming b and c, then for min_users users', () => {
    const few = input(null, { pairs: { labeled: 40, labeledUsers: 20, b: 5, c: 3, bothRight: 30, bothWrong: 2, difference: 0.05, variance: 0.001, iidVariance: 0.001 } });
    expect(decidePaired(few, config).reason).toBe(
      'waiting for labels in the paired (shadow) test: 40 labelled pairs (B right and A wrong 5, the reverse 3), 100 are needed; ' +
        'A and B agree on 90% of 1000 requests; no predicted classes recorded',
    );
    const users = input(look({ pBetter: 0.001 }), { pairs: { labeled: 400, labeledUsers: 12, b: 52, c: 12, bothRight: 308, bothWrong: 28, difference: 0.1, variance: 0.0004, iidVariance: 0.0003 } });
    const d = decidePaired(users, config);
    expect(d.decision).toBe('continue');
    expect(d.reason).toBe('waiting for users in the paired (shadow) test: 12 users with labelled pairs, 30 are needed (users are the unit of the test)');
  });

  it('rejects on a breached failures guardrail before the accuracy test; a latency shown breached is reported, not judged', () => {
    const slow = input(look({ pBetter: 0.0031, lower: 0.05, upper: 0.15 }, { latency: { pValue: 1e-5, pBetter: 2e-5, pWorse: 1, lower: 0.3, upper: 0.5 }, latencyHarm: 0.405 }), {
      models: { A: model(320), B: model(360, { meanLatencyMs: 30, latencyP99: 90 }) },
    });
    const d = decidePaired(slow, config);
    expect(d.decision).toBe('promote');
    expect(d.breached).toBeNull();
    expect(d.guardrails[0]).toMatchObject({
      name: 'latency',
      state: 'breached',
      text:
        'mean latency B 30.0 ms vs A 20.0 ms (+50%, margin +25%; p99 B 90.0 ms vs A 60.0 ms); ' +
        "reported, not judged, in shadow: the shadow's times are of its own batches; ab.design split or both judges latency",
    });
    const failing = input(look({ pBetter: 0.0031, lower: 0.05, upper: 0.15 }, { failures: { pValue: 1e-5, pBetter: 2e-5, pWorse: 1, lower: 0.03, upper: 0.06 }, failureHarm: 0.045 }), {
      models: { A: model(320), B: model(360, { failed: 45, failureRate: 0.045 }) },
    });
    const f = decidePaired(failing, config);
    expect(f.decision).toBe('reject');
    expect(f.breached).toBe('failures');
    expect(f.pValue).toBe(2e-5);
    expect(f.reason).toBe('the failures guardrail is breached in the paired (shadow) test: failure rate B 4.5% (45 of 1045) vs A 0% (0 of 1000), margin +2%, always-valid p = 2.0e-5 < alpha 0.05');
  });

  it('waits for a guardrail not yet shown to hold, and rejects so at the maximum of labelled pairs', () => {
    const pending = look({ pBetter: 0.0031, lower: 0.05, upper: 0.15 }, { failures: { ...open, pWorse: 0.2 } });
    const d = decidePaired(input(pending), config);
    expect(d.decision).toBe('continue');
    expect(d.reason).toBe(
      'B beats A in the paired (shadow) test (accuracy 0.900 vs 0.800 on 400 labelled pairs (B right and A wrong 52, the reverse 12), always-valid p = 0.0031) ' +
        'but a guardrail is not yet shown to hold: failures (failure rate B 0% (0 of 1000) vs A 0% (0 of 1000), margin +2%, always-valid p = 0.2)',
    );
    expect(decidePaired(input(pending), { ...config, maxLabeledPerArm: 400 }).reason).toMatch(/, and the maximum of 400 labelled pairs is reached$/);
    expect(decidePaired(input(pending), { ...config, maxLabeledPerArm: 400 }).decision).toBe('reject');
  });

  it('continues without a win, and rejects once max_labeled pairs are reached', () => {
    const none = look({ pBetter: 0.3, lower: -0.02, upper: 0.2 });
    expect(decidePaired(input(none), config).reason).toBe(
      'no decision yet in the paired (shadow) test after 400 labelled pairs from 120 users: accuracy 0.900 vs 0.800 on 400 labelled pairs ' +
        '(B right and A wrong 52, the reverse 12), always-valid p = 0.3 ≥ alpha 0.05, always-valid interval of B − A [-0.020, 0.200]',
    );
    const d = decidePaired(input(none), { ...config, maxLabeledPerArm: 400 });
    expect(d.decision).toBe('reject');
    expect(d.reason).toMatch(/^no win in the paired \(shadow\) test within the maximum of 400 labelled pairs: accuracy 0.900 vs 0.800/);
  });

  it('tests non-inferiority against −margin and says so', () => {
    const ni = { ...config, mode: 'non-inferiority' as const, margin: 0.02 };
    const d = decidePaired(input(look({ pBetter: 0.01, lower: -0.01, upper: 0.15 })), ni);
    expect(d.theta0).toBe(-0.02);
    expect(d.reason).toMatch(/^B is not worse than A by more than the margin 0.02 in the paired \(shadow\) test: /);
  });

  it('decides on a real fold’s snapshot: a B right on every pair A gets wrong', () => {
    const fold = new PairedFold(foldSettings(config));
    for (let i = 0; i < 400; i++) {
      const user = `u${i % 80}`;
      fold.prodOk(user);
      fold.shadowOk(user);
      fold.latency(user, 20, 20);
      fold.pair(user, i % 2 === 0, true);
    }
    const d = decidePaired({ ...fold.snapshot(false), look: fold.look() }, config);
    expect([d.decision, d.b, d.c, d.labeledPairs, d.difference]).toEqual(['promote', 200, 0, 400, 0.5]);
    expect(d.reason).toMatch(/^B beats A in the paired \(shadow\) test: accuracy 1.000 vs 0.500 on 400 labelled pairs \(B right and A wrong 200, the reverse 0\), always-valid p = /);
  });
});
