import { describe, expect, it } from 'vitest';
import {
  DEFAULT_DECISION_CONFIG,
  decide,
  evaluateAb,
  formatP,
  msprtOptionsFor,
  nullDifference,
  type ArmCounts,
  type DecisionConfig,
} from '../../src/ab/decide.js';
import { AB_DEFAULTS } from '../../src/config/config-schema.js';
import { InputError } from '../../src/errors.js';

const config: DecisionConfig = { ...DEFAULT_DECISION_CONFIG, splitB: 0.5 };
const arm = (requests: number, labeled: number, correct: number): ArmCounts => ({ requests, labeled, correct });
const A = arm(1000, 1000, 801);
const B = arm(1000, 1000, 912);

describe('decide', () => {
  it('promotes when B wins, citing the numbers', () => {
    const d = decide({ A, B, sequential: { pBetter: 0.0031, pWorse: 1 } }, config);
    expect(d.decision).toBe('promote');
    expect(d.reason).toBe('B beats A: accuracy 0.912 vs 0.801, always-valid p = 0.0031 < alpha 0.05');
    expect(d.pValue).toBe(0.0031);
    expect(d.valid).toBe(true);
    expect(d.theta0).toBe(0);
    expect(d.difference).toBeCloseTo(0.111, 12);
    expect(d.arms.A).toMatchObject({ requests: 1000, labeled: 1000, correct: 801, accuracy: 0.801 });
    // 95% Wilson interval of 912/1000 (numpy, textbook formula)
    expect(d.arms.B.ci.lower).toBeCloseTo(0.8928277489502235, 13);
    expect(d.arms.B.ci.upper).toBeCloseTo(0.9280190020576792, 13);
  });

  it('rejects when B is significantly worse, citing that p', () => {
    const d = decide({ A: B, B: A, sequential: { pBetter: 1, pWorse: 2.1e-7 } }, config);
    expect(d.decision).toBe('reject');
    expect(d.reason).toBe('B is worse than A: accuracy 0.801 vs 0.912, always-valid p = 2.1e-7 < alpha 0.05');
    expect(d.pValue).toBe(2.1e-7);
  });

  it('rejects, never promotes, when both directions have crossed', () => {
    expect(decide({ A, B, sequential: { pBetter: 0.01, pWorse: 0.04 } }, config).decision).toBe('reject');
  });

  it('continues without a win, and rejects once the maximum per arm is reached', () => {
    const sequential = { pBetter: 0.3, pWorse: 0.6 };
    const a = arm(1000, 1000, 901);
    const b = arm(1000, 1000, 895);
    expect(decide({ A: a, B: b, sequential }, config)).toMatchObject({
      decision: 'continue',
      reason: 'no decision yet after 1000 (A) and 1000 (B) labelled rows: accuracy B 0.895 vs A 0.901, always-valid p = 0.3 ≥ alpha 0.05',
    });
    expect(decide({ A: a, B: b, sequential }, { ...config, maxLabeledPerArm: 1000 })).toMatchObject({
      decision: 'reject',
      reason: 'no win within the maximum of 1000 labelled rows per arm: accuracy B 0.895 vs A 0.901, always-valid p = 0.3 ≥ alpha 0.05',
    });
  });

  it('counts the maximum on the smaller arm', () => {
    const d = decide({ A: arm(3000, 2000, 1800), B: arm(1000, 600, 540), sequential: { pBetter: 0.3, pWorse: 0.6 } }, {
      ...config,
      splitB: 0.25,
      maxLabeledPerArm: 1000,
    });
    expect(d.decision).toBe('continue');
  });

  it('waits for the minimum labelled rows in both arms', () => {
    const d = decide({ A: arm(300, 57, 50), B: arm(290, 143, 140), sequential: { pBetter: 0.001, pWorse: 1 } }, config);
    expect(d.decision).toBe('continue');
    expect(d.reason).toBe('waiting for labels: A has 57 and B has 143 labelled rows, 100 per arm are needed');
  });

  it('never promotes on a sample ratio mismatch', () => {
    const d = decide({ A: arm(5400, 1000, 801), B: arm(4600, 1000, 912), sequential: { pBetter: 0.0001, pWorse: 1 } }, config);
    expect(d.decision).toBe('continue');
    expect(d.valid).toBe(false);
    expect(d.srm.statistic).toBe(64);
    expect(d.reason).toBe(
      'sample ratio mismatch: A got 5400 requests and B 4600, expected 5000.0 and 5000.0 at ab_split_b 0.5 ' +
        '(chi-square p = 1.2e-15 < 0.001); the test is invalid and nothing is promoted',
    );
    const atMax = decide({ A: arm(5400, 1000, 801), B: arm(4600, 1000, 912), sequential: { pBetter: 0.0001, pWorse: 1 } }, {
      ...config,
      maxLabeledPerArm: 1000,
    });
    expect(atMax.decision).toBe('reject');
    expect(atMax.reason).toMatch(/, and the maximum of 1000 labelled rows per arm is reached$/);
  });

  it('tests non-inferiority against −margin and says so', () => {
    const ni: DecisionConfig = { ...config, mode: 'non-inferiority', margin: 0.02 };
    expect(nullDifference(ni)).toBe(-0.02);
    expect(msprtOptionsFor(ni)).toEqual({ tau: AB_DEFAULTS.tau, theta0: -0.02, minPerArm: 100 });
    const a = arm(5000, 5000, 4550);
    const b = arm(5000, 5000, 4525);
    expect(decide({ A: a, B: b, sequential: { pBetter: 0.004, pWorse: 1 } }, ni).reason).toBe(
      'B is not worse than A by more than the margin 0.02: accuracy 0.905 vs 0.910, always-valid p = 0.004 < alpha 0.05',
    );
    expect(decide({ A: a, B: b, sequential: { pBetter: 1, pWorse: 0.01 } }, ni).reason).toBe(
      'B is worse than A by more than the margin 0.02: accuracy 0.905 vs 0.910, always-valid p = 0.01 < alpha 0.05',
    );
  });

  it('rejects impossible counts with what it expected (the settings are checked once, by the config schema)', () => {
    const sequential = { pBetter: 1, pWorse: 1 };
    expect(() => decide({ A: arm(10, 11, 5), B, sequential }, config)).toThrow(
      new InputError('arm A labelled rows: expected an integer in [0, 10] (its requests), got number 11'),
    );
    expect(() => decide({ A, B, sequential: { pBetter: Number.NaN, pWorse: 1 } }, config)).toThrow(
      new InputError('sequential pBetter: expected a probability in [0, 1], got number NaN'),
    );
  });
});

describe('evaluateAb', () => {
  const checkpoints = [50, 100, 150, 200, 250, 300].map((n) => ({
    nA: n,
    successesA: Math.round(0.801 * n),
    nB: n,
    successesB: Math.round(0.912 * n),
  }));

  it('runs the path and decides at its end', () => {
    const { decision, path } = evaluateAb({ A: arm(310, 300, 240), B: arm(305, 300, 274), checkpoints }, config);
    expect(path.map((p) => p.counted)).toEqual([false, true, true, true, true, true]);
    expect(path[2]?.pBetter).toBeCloseTo(0.04477203227333615, 12);
    expect(decision.pValue).toBeCloseTo(0.0011630720236982758, 12);
    expect(decision.reason).toBe('B beats A: accuracy 0.913 vs 0.800, always-valid p = 0.0012 < alpha 0.05');
  });

  it('insists that the last checkpoint is the arms’ current counts', () => {
    expect(() => evaluateAb({ A: arm(310, 301, 241), B: arm(305, 300, 274), checkpoints }, config)).toThrow(
      new InputError(
        "A/B checkpoints: expected the last one to equal the arms' labelled counts (A 241/301, B 274/300), got A 240/300, B 274/300",
      ),
    );
  });

  it('continues with p = 1 before any label', () => {
    const { decision, path } = evaluateAb({ A: arm(3, 0, 0), B: arm(2, 0, 0), checkpoints: [] }, config);
    expect(path).toEqual([]);
    expect(decision).toMatchObject({ decision: 'continue', pValue: 1, pBetter: 1, pWorse: 1 });
  });
});

describe('formatP', () => {
  it.each([
    [1, '1'],
    [0.41234, '0.41'],
    [0.05, '0.05'],
    [0.0031, '0.0031'],
    [0.00012345, '0.00012'],
    [2.1e-7, '2.1e-7'],
  ])('%d → %s', (p, text) => {
    expect(formatP(p)).toBe(text);
  });
});
