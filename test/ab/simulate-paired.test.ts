import { describe, expect, it } from 'vitest';
import { DEFAULT_DECISION_CONFIG, type DecisionConfig } from '../../src/ab/decide.js';
import { simulatePairedExperiment, simulatePairedExperiments } from '../../src/ab/simulate.js';
import { REALISTIC_TRAFFIC, type ArmModel, type TrafficModel } from '../../src/ab/traffic-model.js';
import { InputError } from '../../src/errors.js';
import { seededRandom } from '../../src/random.js';

const MAX = 1000;
const config: DecisionConfig = { ...DEFAULT_DECISION_CONFIG, maxLabeledPerArm: MAX, splitB: 0.5 };
const limits = { maxLabeledPerArm: MAX };
const arm = (accuracy: number, latencyMs = 20, failureRate = 0.002): ArmModel => ({ accuracy, latencyMs, failureRate });
/** The benchmark's traffic; splitB 0.5 as the split design has it, which the paired simulation does not use. */
const model = (A: ArmModel, B: ArmModel): TrafficModel => ({ ...REALISTIC_TRAFFIC, A, B, splitB: 0.5 });

describe('simulatePairedExperiment', () => {
  // Pinned from these seeds: a change here changes the paired benchmark's outcomes.
  it('promotes a better B through the fold and decidePaired, with the final reason’s numbers (p99 included)', () => {
    expect(simulatePairedExperiment(seededRandom(1), model(arm(0.8), arm(0.9)), config, limits)).toEqual({
      decision: 'promote',
      labeledPairs: 250,
      users: 101,
      reason:
        'B beats A in the paired (shadow) test: accuracy 0.856 vs 0.780 on 250 labelled pairs (B right and A wrong 28, the reverse 9), ' +
        'always-valid p = 0.027 < alpha 0.05, always-valid interval of B − A [0.006, 0.146]; the failures guardrail holds (latency is reported, not judged, in shadow)',
      guardrail: null,
    });
  });

  it('does not judge a 50% slower shadow on latency (reported, not judged, in shadow); rejects a failing one on the failure guardrail', () => {
    expect(simulatePairedExperiment(seededRandom(2), model(arm(0.8), arm(0.9, 30)), config, limits)).toEqual({
      decision: 'promote',
      labeledPairs: 200,
      users: 87,
      reason:
        'B beats A in the paired (shadow) test: accuracy 0.890 vs 0.785 on 200 labelled pairs (B right and A wrong 23, the reverse 2), always-valid p = 6.0e-5 < alpha 0.05, ' +
        'always-valid interval of B − A [0.043, 0.129]; the failures guardrail holds (latency is reported, not judged, in shadow)',
      guardrail: null,
    });
    expect(simulatePairedExperiment(seededRandom(3), model(arm(0.8), arm(0.9, 20, 0.05)), config, limits)).toMatchObject({
      decision: 'reject',
      labeledPairs: 600,
      reason: 'the failures guardrail is breached in the paired (shadow) test: failure rate B 4.45% (28 of 629) vs A 0.159% (1 of 629), margin +2%, always-valid p = 0.047 < alpha 0.05',
      guardrail: 'failures',
    });
  });

  it('runs an A/A test to the maximum of labelled pairs and rejects it there', () => {
    const outcomes = simulatePairedExperiments(seededRandom(4), model(arm(0.9), arm(0.9)), config, limits, 20);
    expect(outcomes.map((o) => [o.decision, o.labeledPairs])).toEqual(Array.from({ length: 20 }, () => ['reject', MAX]));
    expect(outcomes[0]!.reason).toMatch(/^no win in the paired \(shadow\) test within the maximum of 1000 labelled pairs: /);
  });

  it('rejects a maximum below checkpoint_every and a count below 1', () => {
    expect(() => simulatePairedExperiment(seededRandom(1), model(arm(0.8), arm(0.9)), config, { maxLabeledPerArm: 10 })).toThrow(
      new InputError('simulation maxLabeledPerArm: expected an integer ≥ checkpoint_every (50), got number 10'),
    );
    expect(() => simulatePairedExperiments(seededRandom(1), model(arm(0.8), arm(0.9)), config, limits, 0)).toThrow(
      new InputError('simulation count: expected an integer ≥ 1, got number 0'),
    );
  });
});
