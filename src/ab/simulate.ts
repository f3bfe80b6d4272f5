/**
 * Seeded A/B experiments on realistic traffic (traffic-model.ts): every request and label goes
 * through the same fold and the same decisions the CLI uses, so the benchmark measures the real rule.
 * Both rules run on the same stream: the user-level rule (decide) and the request-level rule
 * before it (decideRequestLevel). The paired (shadow) design runs on the same traffic model with B
 * answering every request in shadow (paired-fold.ts, decidePaired). Pure: the random source is passed
 * in, so a seed pins every outcome.
 */

import { InputError, describe } from '../errors.js';
import { decide, decidePaired, decideRequestLevel, foldSettings, type AbDecisionKind, type DecisionConfig } from './decide.js';
import { ExperimentFold } from './experiment-fold.js';
import { PairedFold } from './paired-fold.js';
import type { Random } from '../random.js';
import { traffic, type TrafficModel } from './traffic-model.js';

export interface RuleOutcome {
  decision: AbDecisionKind;
  /** Labelled rows and labelled users of the smaller arm when the rule decided (or when the test ended). */
  labeledPerArm: number;
  usersPerArm: number;
  reason: string;
  /** The guardrail whose breach rejected, if one did. */
  guardrail: string | null;
  /** The sample-ratio check flagged a mismatch at some look before the rule decided. */
  srmFlagged: boolean;
}

export interface SimulatedExperiment {
  userLevel: RuleOutcome;
  requestLevel: RuleOutcome;
}

export interface SimulationLimits {
  /** The test ends when the smaller arm has this many labels (config.maxLabeledPerArm should match). */
  maxLabeledPerArm: number;
}

/** One experiment: requests arrive, the fold looks every checkpoint_every labels, both rules decide at each look. */
export function simulateExperiment(random: Random, model: TrafficModel, config: DecisionConfig, limits: SimulationLimits): SimulatedExperiment {
  if (!Number.isInteger(limits.maxLabeledPerArm) || limits.maxLabeledPerArm < config.checkpointEvery) {
    throw new InputError(`simulation maxLabeledPerArm: expected an integer ≥ checkpoint_every (${config.checkpointEvery}), got ${describe(limits.maxLabeledPerArm)}`);
  }
  const fold = new ExperimentFold(foldSettings(config));
  const open = (): RuleOutcome => ({ decision: 'continue', labeledPerArm: 0, usersPerArm: 0, reason: 'not started', guardrail: null, srmFlagged: false });
  const user = open();
  const request = open();
  let userDone = false;
  let requestDone = false;
  for (const event of traffic(random, model)) {
    const id = String(event.user);
    if (event.failed) {
      fold.request(event.variant, id, model.splitB, { failed: true });
      continue;
    }
    fold.request(event.variant, id, model.splitB, { failed: false, latencyMs: event.latencyMs });
    if (event.correct === null) continue;
    const look = fold.label(event.variant, id, event.correct);
    if (!look) continue;
    const { arms, srm } = fold.snapshot(false);
    const input = { arms, look, srmPValue: srm.pValue };
    const labeled = Math.min(arms.A.labeled, arms.B.labeled);
    const users = Math.min(arms.A.labeledUsers, arms.B.labeledUsers);
    if (!userDone) {
      const d = decide(input, config);
      user.srmFlagged ||= !d.valid;
      Object.assign(user, { decision: d.decision, reason: d.reason, labeledPerArm: labeled, usersPerArm: users });
      user.guardrail = d.breached;
      userDone = d.decision !== 'continue';
    }
    if (!requestDone) {
      const d = decideRequestLevel(input, config);
      request.srmFlagged ||= d.srm.mismatch;
      Object.assign(request, { decision: d.decision, reason: d.reason, labeledPerArm: labeled, usersPerArm: users });
      requestDone = d.decision !== 'continue';
    }
    if ((userDone && requestDone) || labeled >= limits.maxLabeledPerArm) break;
  }
  return { userLevel: user, requestLevel: request };
}

/** `count` independent experiments drawn from one random stream. */
export function simulateExperiments(random: Random, model: TrafficModel, config: DecisionConfig, limits: SimulationLimits, count: number): SimulatedExperiment[] {
  if (!Number.isInteger(count) || count < 1) throw new InputError(`simulation count: expected an integer ≥ 1, got ${describe(count)}`);
  return Array.from({ length: count }, () => simulateExperiment(random, model, config, limits));
}

export interface PairedOutcome {
  decision: AbDecisionKind;
  /** Labelled pairs (= labels: one label judges both models) and users with them when the rule decided (or when the test ended). */
  labeledPairs: number;
  users: number;
  reason: string;
  /** The guardrail whose breach rejected, if one did. */
  guardrail: string | null;
}

/**
 * One paired (shadow) experiment: prod A answers every request and B predicts on each in shadow, so
 * model.splitB is not used (every user is A's); the fold looks every checkpoint_every labelled pairs
 * and decidePaired decides at each look. The test ends at limits.maxLabeledPerArm labelled pairs.
 */
export function simulatePairedExperiment(random: Random, model: TrafficModel, config: DecisionConfig, limits: SimulationLimits): PairedOutcome {
  if (!Number.isInteger(limits.maxLabeledPerArm) || limits.maxLabeledPerArm < config.checkpointEvery) {
    throw new InputError(`simulation maxLabeledPerArm: expected an integer ≥ checkpoint_every (${config.checkpointEvery}), got ${describe(limits.maxLabeledPerArm)}`);
  }
  const fold = new PairedFold(foldSettings(config));
  const outcome: PairedOutcome = { decision: 'continue', labeledPairs: 0, users: 0, reason: 'not started', guardrail: null };
  for (const event of traffic(random, { ...model, splitB: 0 })) {
    const id = String(event.user);
    const { other } = event;
    if (event.failed) fold.prodFailure(id);
    else fold.prodOk(id);
    if (other.failed) fold.shadowFailure(id);
    else fold.shadowOk(id);
    if (event.failed || other.failed) continue;
    fold.latency(id, event.latencyMs, other.latencyMs);
    if (event.correct === null || other.correct === null) {
      fold.unlabelled(id, other.agree === true);
      continue;
    }
    const look = fold.pair(id, event.correct, other.correct);
    if (!look) continue;
    // Without the latency quantiles, which only the sentence reads: the last decision is taken again with them.
    const d = decidePaired({ ...fold.snapshot(false, false), look }, config);
    const last = d.decision !== 'continue' || look.pairs >= limits.maxLabeledPerArm;
    const reason = last ? decidePaired({ ...fold.snapshot(false), look }, config).reason : d.reason;
    Object.assign(outcome, { decision: d.decision, reason, labeledPairs: look.pairs, users: look.users, guardrail: d.breached });
    if (last) break;
  }
  return outcome;
}

/** `count` independent paired experiments drawn from one random stream. */
export function simulatePairedExperiments(random: Random, model: TrafficModel, config: DecisionConfig, limits: SimulationLimits, count: number): PairedOutcome[] {
  if (!Number.isInteger(count) || count < 1) throw new InputError(`simulation count: expected an integer ≥ 1, got ${describe(count)}`);
  return Array.from({ length: count }, () => simulatePairedExperiment(random, model, config, limits));
}
