/**
 * Seeded A/B experiment simulation: Bernoulli-correct predictions per arm, checked after every
 * batch of labelled rows with the same mSPRT step and `decide` the CLI uses. Pure: the random
 * source is passed in, so a seed pins every outcome.
 */

import { InputError, describe } from '../errors.js';
import { decide, msprtOptionsFor, type AbDecisionKind, type DecisionConfig } from './decide.js';
import { MSPRT_START, msprtStep } from '../stats/msprt.js';

/** Uniform numbers in [0, 1). */
export type Random = () => number;

/** Mulberry32: a tiny 32-bit-state generator, plenty for ~10^8 Bernoulli draws and fully reproducible. */
export function createRandom(seed: number): Random {
  if (!Number.isInteger(seed)) throw new InputError(`simulation seed: expected an integer, got ${describe(seed)}`);
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Number of successes in n Bernoulli(p) trials. */
export function drawBinomial(random: Random, n: number, p: number): number {
  let successes = 0;
  for (let i = 0; i < n; i++) if (random() < p) successes++;
  return successes;
}

export interface ExperimentScenario {
  /** True accuracy of A (prod) and B (staging). */
  accuracyA: number;
  accuracyB: number;
  /** Labelled rows added to each arm between two evaluations. */
  batchPerArm: number;
  /** The experiment stops here at the latest (config.maxLabeledPerArm should match to force reject). */
  maxPerArm: number;
}

export interface ExperimentOutcome {
  decision: AbDecisionKind;
  /** Labelled rows per arm when the decision was made (maxPerArm when none was). */
  rowsPerArm: number;
  reason: string;
  pBetter: number;
  pWorse: number;
}

/** One experiment: batches arrive, the always-valid state advances incrementally, `decide` runs after each. */
export function simulateExperiment(random: Random, scenario: ExperimentScenario, config: DecisionConfig): ExperimentOutcome {
  const { accuracyA, accuracyB, batchPerArm, maxPerArm } = scenario;
  if (!Number.isInteger(batchPerArm) || batchPerArm < 1) throw new InputError(`simulation batchPerArm: expected an integer ≥ 1, got ${describe(batchPerArm)}`);
  if (!Number.isInteger(maxPerArm) || maxPerArm < batchPerArm) {
    throw new InputError(`simulation maxPerArm: expected an integer ≥ batchPerArm (${batchPerArm}), got ${describe(maxPerArm)}`);
  }
  const options = msprtOptionsFor(config);
  let state = MSPRT_START;
  let n = 0;
  let successesA = 0;
  let successesB = 0;
  let last: ExperimentOutcome = { decision: 'continue', rowsPerArm: 0, reason: 'not started', pBetter: 1, pWorse: 1 };
  while (n < maxPerArm) {
    const batch = Math.min(batchPerArm, maxPerArm - n);
    n += batch;
    successesA += drawBinomial(random, batch, accuracyA);
    successesB += drawBinomial(random, batch, accuracyB);
    state = msprtStep(state, { nA: n, successesA, nB: n, successesB }, options);
    const result = decide(
      {
        A: { requests: n, labeled: n, correct: successesA },
        B: { requests: n, labeled: n, correct: successesB },
        sequential: { pBetter: state.pBetter, pWorse: state.pWorse },
      },
      config,
    );
    last = { decision: result.decision, rowsPerArm: n, reason: result.reason, pBetter: state.pBetter, pWorse: state.pWorse };
    if (result.decision !== 'continue') return last;
  }
  return last;
}

/** `count` independent experiments drawn from one random stream. */
export function simulateExperiments(
  random: Random,
  scenario: ExperimentScenario,
  config: DecisionConfig,
  count: number,
): ExperimentOutcome[] {
  if (!Number.isInteger(count) || count < 1) throw new InputError(`simulation count: expected an integer ≥ 1, got ${describe(count)}`);
  return Array.from({ length: count }, () => simulateExperiment(random, scenario, config));
}
