/**
 * The A/B experiment as a fold over its events in arrival order: requests (answered or failed) and
 * labels. The CLI feeds it the log (experiment.ts), the benchmark feeds it simulated traffic, so both
 * judge by the same numbers. Users are the unit: accuracy, latency and failures are means over
 * requests with users as clusters (delta-method variance), the sample-ratio check counts first-seen
 * users against the split in force, and every sequential quantity is advanced at the same looks.
 * Request-level numbers (every request independent, the rule before users were the unit) are kept
 * beside them for the report and the benchmark.
 */
import { InputError, describe } from '../errors.js';
import { ClusteredMean } from '../stats/clustered-mean.js';
import { mixtureHalfWidth, MSPRT_START, msprtStep, SEQUENTIAL_START, sequentialStep, type MsprtPathPoint, type SequentialPoint } from '../stats/msprt.js';
import { ValueCountQuantiles } from '../stats/quantile.js';
import { SequentialSrm } from '../stats/sequential-srm.js';
import type { Variant } from '../prediction-log/index.js';

/** What the fold needs from the decision settings (decide.ts's DecisionConfig has all of it). */
export interface FoldSettings {
  alpha: number;
  tau: number;
  /** H0 of the success test: accuracy B − A ≤ theta0. */
  theta0: number;
  minLabeledPerArm: number;
  minUsersPerArm: number;
  /** A look each time the smaller arm's labelled count reaches a multiple of this. */
  checkpointEvery: number;
  /** Relative: B's mean latency may exceed A's by at most this share. */
  latencyMargin: number;
  /** Absolute: B's failure rate may exceed A's by at most this. */
  failureMargin: number;
}

/**
 * Mixture spreads of the guardrail tests, on their own scales (log latency ratio, failure-rate
 * difference); chosen with npm run bench:ab like ab.tau for accuracy.
 */
export const LATENCY_TAU = 0.1;
export const FAILURE_TAU = 0.02;
/** Variance of the log latency ratio never below this (a relative standard error of 1e-6). */
export const LATENCY_VARIANCE_FLOOR = 1e-12;

/** A 0/1 proportion's variance never below the one with one of n outcomes flipped: 0/n and n/n do not give V = 0. */
export function proportionFloor(n: number): number {
  return n > 0 ? (n - 1) / (n * n * n) : Number.NaN;
}

/** A 0/1 mean's clustered variance, floored; with fewer than 2 users (no clustered variance yet) the floor alone. */
function proportionVariance(mean: ClusteredMean): number {
  const v = mean.variance();
  return Math.max(Number.isNaN(v) ? 0 : v, proportionFloor(mean.n));
}

class ArmState {
  /** 1 for a correct labelled request, 0 for a wrong one; clusters are users. */
  readonly accuracy = new ClusteredMean();
  /** Latency of each answered request, ms. */
  readonly latency = new ClusteredMean();
  /** 1 for a failed request, 0 for an answered one. */
  readonly failures = new ClusteredMean();
  readonly latencyQuantiles = new ValueCountQuantiles();
  /** Users first seen in this arm (the sample-ratio unit). */
  users = 0;
  answered = 0;
  failed = 0;
  labeled = 0;
  correct = 0;

  accuracyVariance(): number {
    return proportionVariance(this.accuracy);
  }

  failureVariance(): number {
    return proportionVariance(this.failures);
  }
}

/** One look of the always-valid path: the cumulative numbers and every running sequential state. */
export interface FoldLook {
  labeledA: number;
  labeledB: number;
  correctA: number;
  correctB: number;
  usersA: number;
  usersB: number;
  /** Requests (answered and failed) per arm. */
  requestsA: number;
  requestsB: number;
  /** accuracy B − A, user-level (the same ratio estimate as request-level; only the variance differs). */
  difference: number;
  /** False until both arms have min_labeled labels and min_users labelled users: the states stay at their start. */
  counted: boolean;
  accuracy: SequentialPoint;
  /** Request-level mSPRT (independent Bernoulli requests), for reference. */
  requestLevel: Pick<MsprtPathPoint, 'pValue' | 'pBetter' | 'pWorse'>;
  /** Running always-valid intervals of each arm's accuracy (two-sided, 1 − alpha). */
  armIntervals: { A: Interval; B: Interval };
  latency: SequentialPoint;
  failures: SequentialPoint;
  /** The guardrails' harm estimates at this look (log latency ratio, failure-rate difference); null before their first step. */
  latencyHarm: number | null;
  failureHarm: number | null;
  srmPValue: number;
}

export interface Interval {
  lower: number;
  upper: number;
}

export interface ArmSnapshot {
  users: number;
  /** Users with at least one labelled request. */
  labeledUsers: number;
  requests: number;
  failed: number;
  labeled: number;
  correct: number;
  accuracy: number;
  /** Delta-method variance of the accuracy with users as clusters, and as if requests were independent. */
  accuracyVariance: number;
  accuracyIidVariance: number;
  meanLatencyMs: number;
  latencyP50: number | null;
  latencyP99: number | null;
  failureRate: number;
}

export interface FoldSnapshot {
  arms: { A: ArmSnapshot; B: ArmSnapshot };
  /** Looks so far, the current counts last (take one with look() before reading a snapshot). */
  path: FoldLook[];
  srm: { pValue: number; users: { A: number; B: number }; skipped: number; periods: { shareB: number; usersA: number; usersB: number }[] };
}

const START_INTERVAL: Interval = { lower: Number.NEGATIVE_INFINITY, upper: Number.POSITIVE_INFINITY };

export class ExperimentFold {
  private readonly arms: Record<Variant, ArmState> = { A: new ArmState(), B: new ArmState() };
  /** Arm of each user at first sight; a later request of the user in the other arm (a split change) keeps it. */
  private readonly seen = new Map<string, Variant>();
  private readonly labeledUsers: Record<Variant, Set<string>> = { A: new Set(), B: new Set() };
  private readonly srm = new SequentialSrm();
  private readonly looks: FoldLook[] = [];
  private mark: number;
  private accuracyState: SequentialPoint = SEQUENTIAL_START;
  private requestState: Pick<MsprtPathPoint, 'pValue' | 'pBetter' | 'pWorse'> = MSPRT_START;
  private latencyState: SequentialPoint = SEQUENTIAL_START;
  private failureState: SequentialPoint = SEQUENTIAL_START;
  private latencyHarm: number | null = null;
  private failureHarm: number | null = null;
  private armIntervals: { A: Interval; B: Interval } = { A: START_INTERVAL, B: START_INTERVAL };

  constructor(private readonly settings: FoldSettings) {
    if (!Number.isInteger(settings.checkpointEvery) || settings.checkpointEvery < 1) {
      throw new InputError(`A/B checkpoint_every: expected an integer ≥ 1, got ${describe(settings.checkpointEvery)}`);
    }
    this.mark = settings.checkpointEvery;
  }

  /** A request of `user` in `variant`, answered in latencyMs or failed, while B's configured share was shareB. */
  request(variant: Variant, user: string, shareB: number, outcome: { failed: false; latencyMs: number } | { failed: true }): void {
    if (!this.seen.has(user)) {
      this.seen.set(user, variant);
      this.arms[variant].users++;
      this.srm.observe(variant, shareB);
    }
    const arm = this.arms[variant];
    if (outcome.failed) {
      arm.failed++;
      arm.failures.add(user, 1);
      return;
    }
    arm.answered++;
    arm.failures.add(user, 0);
    arm.latency.add(user, outcome.latencyMs);
    arm.latencyQuantiles.add(outcome.latencyMs);
  }

  /** The label of an answered request of `user` in `variant`: was its prediction right? Returns the look it made, if any. */
  label(variant: Variant, user: string, correct: boolean): FoldLook | null {
    const arm = this.arms[variant];
    arm.labeled++;
    if (correct) arm.correct++;
    arm.accuracy.add(user, correct ? 1 : 0);
    this.labeledUsers[variant].add(user);
    const smaller = Math.min(this.arms.A.labeled, this.arms.B.labeled);
    if (smaller < this.mark) return null;
    while (smaller >= this.mark) this.mark += this.settings.checkpointEvery;
    return this.look();
  }

  /** A look at the current numbers (the grid's looks come from label(); the CLI adds one at the end). */
  look(): FoldLook {
    const last = this.looks.at(-1);
    const { A, B } = this.arms;
    if (last && last.labeledA === A.labeled && last.labeledB === B.labeled && last.requestsA === A.answered + A.failed && last.requestsB === B.answered + B.failed) return last;
    const s = this.settings;
    const counted =
      A.labeled >= s.minLabeledPerArm &&
      B.labeled >= s.minLabeledPerArm &&
      this.labeledUsers.A.size >= Math.max(2, s.minUsersPerArm) &&
      this.labeledUsers.B.size >= Math.max(2, s.minUsersPerArm);
    const difference = A.labeled > 0 && B.labeled > 0 ? B.accuracy.mean - A.accuracy.mean : Number.NaN;
    if (counted) {
      const options = { tau: s.tau, theta0: s.theta0, alpha: s.alpha };
      this.accuracyState = sequentialStep(this.accuracyState, difference, A.accuracyVariance() + B.accuracyVariance(), options);
      this.requestState = msprtStep(this.requestState, { nA: A.labeled, successesA: A.correct, nB: B.labeled, successesB: B.correct }, { tau: s.tau, theta0: s.theta0, minPerArm: s.minLabeledPerArm });
      for (const variant of ['A', 'B'] as const) {
        const arm = this.arms[variant];
        const half = mixtureHalfWidth(arm.accuracyVariance(), s.tau, s.alpha);
        const before = this.armIntervals[variant];
        this.armIntervals = { ...this.armIntervals, [variant]: { lower: Math.max(before.lower, arm.accuracy.mean - half), upper: Math.min(before.upper, arm.accuracy.mean + half) } };
      }
      this.guardrailSteps();
    }
    const look: FoldLook = {
      labeledA: A.labeled,
      labeledB: B.labeled,
      correctA: A.correct,
      correctB: B.correct,
      usersA: A.users,
      usersB: B.users,
      requestsA: A.answered + A.failed,
      requestsB: B.answered + B.failed,
      difference,
      counted,
      accuracy: this.accuracyState,
      requestLevel: this.requestState,
      armIntervals: this.armIntervals,
      latency: this.latencyState,
      failures: this.failureState,
      latencyHarm: this.latencyHarm,
      failureHarm: this.failureHarm,
      srmPValue: this.srm.pValue,
    };
    this.looks.push(look);
    return look;
  }

  /** Latency: log of B's mean over A's against log(1 + margin); failures: B's rate − A's against the margin. Harm is positive. */
  private guardrailSteps(): void {
    const { A, B } = this.arms;
    const s = this.settings;
    const mA = A.latency.mean;
    const mB = B.latency.mean;
    // Floored: latencies logged to the microsecond may all be equal, and the test still needs a variance.
    const vLatency = Math.max(A.latency.variance() / (mA * mA) + B.latency.variance() / (mB * mB), LATENCY_VARIANCE_FLOOR);
    if (A.latency.clusters > 1 && B.latency.clusters > 1 && mA > 0 && mB > 0) {
      this.latencyHarm = Math.log(mB / mA);
      this.latencyState = sequentialStep(this.latencyState, this.latencyHarm, vLatency, { tau: LATENCY_TAU, theta0: Math.log1p(s.latencyMargin), alpha: s.alpha });
    }
    if (A.failures.clusters > 1 && B.failures.clusters > 1) {
      this.failureHarm = B.failures.mean - A.failures.mean;
      this.failureState = sequentialStep(this.failureState, this.failureHarm, A.failureVariance() + B.failureVariance(), {
        tau: FAILURE_TAU,
        theta0: s.failureMargin,
        alpha: s.alpha,
      });
    }
  }

  /** The numbers so far; withPath false leaves the path out (a simulation reads a snapshot at every look). */
  snapshot(withPath = true): FoldSnapshot {
    const arm = (variant: Variant): ArmSnapshot => {
      const a = this.arms[variant];
      const [p50, p99] = a.latencyQuantiles.quantiles([0.5, 0.99]);
      return {
        users: a.users,
        labeledUsers: this.labeledUsers[variant].size,
        requests: a.answered,
        failed: a.failed,
        labeled: a.labeled,
        correct: a.correct,
        accuracy: a.labeled > 0 ? a.accuracy.mean : Number.NaN,
        accuracyVariance: a.labeled > 0 ? a.accuracyVariance() : Number.NaN,
        accuracyIidVariance: a.labeled > 0 ? (a.accuracy.mean * (1 - a.accuracy.mean)) / a.labeled : Number.NaN,
        meanLatencyMs: a.latency.mean,
        latencyP50: p50 ?? null,
        latencyP99: p99 ?? null,
        failureRate: a.failures.n > 0 ? a.failures.mean : Number.NaN,
      };
    };
    return {
      arms: { A: arm('A'), B: arm('B') },
      path: withPath ? [...this.looks] : [],
      srm: {
        pValue: this.srm.pValue,
        users: this.srm.users,
        skipped: this.srm.skipped,
        periods: this.srm.periods.map((p) => ({ shareB: p.shareB, usersA: p.users.A, usersB: p.users.B })),
      },
    };
  }
}
