/**
 * The paired (shadow) evaluation as a fold over its events in arrival order. In shadow mode the
 * candidate B predicts on the same requests prod A answers, off the reply path, so every labelled
 * request is a pair (A right?, B right?) and the two models are compared on the same inputs.
 *
 * The test is on d = correctB − correctA per labelled pair: its mean is accuracy B − A, its variance
 * ClusteredMean's with users as clusters, and it goes through sequentialStep at a look every
 * checkpoint_every labelled pairs. Only discordant pairs move d (b: B right and A wrong, c: the
 * reverse), so this is the sequential McNemar (sign) test in its normal-mixture form, with the
 * cluster variance in place of McNemar's (b + c)/n². The concordant pairs, most of the noise of two
 * independent arms, drop out: that is why the paired design needs fewer labels than the split one.
 *
 * Guardrails as in the split fold (experiment-fold.ts), on the same margins and mixture spreads:
 * latency is log(B's mean / A's) over the pairs both answered, failures B's failure rate − A's.
 * Nothing is randomised, so there is no sample-ratio check.
 */
import { InputError, describe } from '../errors.js';
import { chiSquareTest, type ChiSquareTestResult } from '../stats/chi-square.js';
import { ClusteredMean } from '../stats/clustered-mean.js';
import { SEQUENTIAL_START, sequentialStep, type SequentialPoint } from '../stats/msprt.js';
import { ValueCountQuantiles } from '../stats/quantile.js';
import { FAILURE_TAU, LATENCY_TAU, LATENCY_VARIANCE_FLOOR, proportionFloor, type FoldSettings } from './experiment-fold.js';

/**
 * The split fold's settings, read for pairs: minLabeledPerArm is the labelled pairs and minUsersPerArm
 * the users with a labelled pair the test needs; a look every checkpointEvery labelled pairs.
 */
export type PairedSettings = FoldSettings;

/** A clustered variance, NaN (fewer than 2 users) read as 0, never below the floor. */
function flooredVariance(mean: ClusteredMean, floor: number): number {
  const v = mean.variance();
  return Math.max(Number.isNaN(v) ? 0 : v, floor);
}

class ModelState {
  /** Latency of each pair both models answered, ms; clusters are users. */
  readonly latency = new ClusteredMean();
  /** 1 for a failed request, 0 for an answered one. */
  readonly failures = new ClusteredMean();
  readonly latencyQuantiles = new ValueCountQuantiles();
  /** Predicted class → how often. */
  readonly predictions = new Map<string, number>();
  answered = 0;
  failed = 0;
  correct = 0;

  outcome(user: string, failed: boolean): void {
    if (failed) this.failed++;
    else this.answered++;
    this.failures.add(user, failed ? 1 : 0);
  }
}

/** One look of the always-valid path: the cumulative pair counts and every running sequential state. */
export interface PairedLook {
  /** Labelled pairs, and users with at least one. */
  pairs: number;
  users: number;
  correctA: number;
  correctB: number;
  /** Discordant pairs: b with B right and A wrong, c with A right and B wrong. */
  b: number;
  c: number;
  /** Requests (answered and failed) of both models so far. */
  requests: number;
  /** Mean of d = accuracy B − A; NaN before the first pair. */
  difference: number;
  /** Its variance with users as clusters, floored at one discordant pair in n; NaN before the first pair. */
  variance: number;
  /** False until min_labeled pairs from min_users users: the states stay at their start. */
  counted: boolean;
  accuracy: SequentialPoint;
  latency: SequentialPoint;
  failures: SequentialPoint;
  /** The guardrails' harm estimates (log latency ratio, failure-rate difference); null before their first step. */
  latencyHarm: number | null;
  failureHarm: number | null;
}

/** One model's numbers; the fields the guardrails read are named as in ArmSnapshot. */
export interface PairedModelSnapshot {
  /** Requests answered (for B: predicted in shadow) and failed. */
  requests: number;
  failed: number;
  /** Right on the labelled pairs; accuracy = correct / labelled pairs. */
  correct: number;
  accuracy: number;
  /** Over the pairs both models answered. */
  meanLatencyMs: number;
  latencyP50: number | null;
  latencyP99: number | null;
  failureRate: number;
  /** Predictions per class, classes sorted. */
  predictions: Record<string, number>;
}

export interface PairedCounts {
  labeled: number;
  labeledUsers: number;
  b: number;
  c: number;
  bothRight: number;
  bothWrong: number;
  /** Mean of d = accuracy B − A, and its variance with users as clusters (unfloored) and as if pairs were independent. */
  difference: number;
  variance: number;
  iidVariance: number;
}

export interface PairedSnapshot {
  models: { A: PairedModelSnapshot; B: PairedModelSnapshot };
  pairs: PairedCounts;
  /** Pairs (labelled and unlabelled) whose two predictions were compared, and how many agreed. */
  agreement: { compared: number; agreed: number; rate: number };
  /**
   * Pearson's chi-square of B's class counts against A's shares, over the classes either predicted;
   * null before both have a prediction. Descriptive: A's shares are taken as known and the pairs'
   * dependence is ignored, so no decision rests on it.
   */
  predictionShift: (ChiSquareTestResult & { classes: string[] }) | null;
  /** Looks so far, the current counts last (take one with look() before reading a snapshot). */
  path: PairedLook[];
}

export class PairedFold {
  private readonly models = { A: new ModelState(), B: new ModelState() };
  /** d = correctB − correctA per labelled pair; clusters are users. */
  private readonly d = new ClusteredMean();
  /** latencyA + latencyB per pair: its clustered variance minus the two models' gives their covariance. */
  private readonly latencySum = new ClusteredMean();
  private readonly labeledUsers = new Set<string>();
  private readonly looks: PairedLook[] = [];
  private b = 0;
  private c = 0;
  private bothRight = 0;
  private compared = 0;
  private agreed = 0;
  private mark: number;
  private accuracyState: SequentialPoint = SEQUENTIAL_START;
  private latencyState: SequentialPoint = SEQUENTIAL_START;
  private failureState: SequentialPoint = SEQUENTIAL_START;
  private latencyHarm: number | null = null;
  private failureHarm: number | null = null;

  constructor(private readonly settings: PairedSettings) {
    if (!Number.isInteger(settings.checkpointEvery) || settings.checkpointEvery < 1) {
      throw new InputError(`A/B checkpoint_every: expected an integer ≥ 1, got ${describe(settings.checkpointEvery)}`);
    }
    this.mark = settings.checkpointEvery;
  }

  /**
   * A labelled pair of `user`: was A right, was B right? `agree` says whether the two predictions were
   * the same class; by default correctA === correctB, exact unless both are wrong with 3+ classes.
   * Returns the look it made, if any.
   */
  pair(user: string, correctA: boolean, correctB: boolean, agree: boolean = correctA === correctB): PairedLook | null {
    if (typeof correctA !== 'boolean' || typeof correctB !== 'boolean') {
      throw new InputError(`paired label: expected two booleans, got ${describe(correctA)} and ${describe(correctB)}`);
    }
    const { A, B } = this.models;
    if (correctA) A.correct++;
    if (correctB) B.correct++;
    if (correctB && !correctA) this.b++;
    else if (correctA && !correctB) this.c++;
    else if (correctA) this.bothRight++;
    this.d.add(user, (correctB ? 1 : 0) - (correctA ? 1 : 0));
    this.labeledUsers.add(user);
    this.unlabelled(user, agree);
    const n = this.d.n;
    if (n < this.mark) return null;
    this.mark += this.settings.checkpointEvery;
    return this.look();
  }

  /** A pair without a label: only whether the two models predicted the same class. */
  unlabelled(_user: string, agree: boolean): void {
    this.compared++;
    if (agree) this.agreed++;
  }

  /** The pair's two inference latencies, ms, when both models answered. */
  latency(user: string, latencyA: number, latencyB: number): void {
    const { A, B } = this.models;
    A.latency.add(user, latencyA);
    B.latency.add(user, latencyB);
    this.latencySum.add(user, latencyA + latencyB);
    A.latencyQuantiles.add(latencyA);
    B.latencyQuantiles.add(latencyB);
  }

  /** Prod (A) answered a request of `user`, or failed it: a failed request as the split fold counts it. */
  prodOk(user: string): void {
    this.models.A.outcome(user, false);
  }

  prodFailure(user: string): void {
    this.models.A.outcome(user, true);
  }

  /** The shadow (B) predicted on a request of `user`, or failed to. */
  shadowOk(user: string): void {
    this.models.B.outcome(user, false);
  }

  shadowFailure(user: string): void {
    this.models.B.outcome(user, true);
  }

  /** Each model's predicted class on one request, for the prediction-distribution comparison. */
  predictions(classA: string, classB: string): void {
    for (const [model, label] of [
      [this.models.A, classA],
      [this.models.B, classB],
    ] as const) {
      if (typeof label !== 'string') throw new InputError(`paired prediction class: expected a string, got ${describe(label)}`);
      model.predictions.set(label, (model.predictions.get(label) ?? 0) + 1);
    }
  }

  /** A look at the current numbers (the grid's looks come from pair(); a caller may add one at the end). */
  look(): PairedLook {
    const { A, B } = this.models;
    const requests = A.answered + A.failed + B.answered + B.failed;
    const last = this.looks.at(-1);
    if (last && last.pairs === this.d.n && last.requests === requests) return last;
    const s = this.settings;
    const n = this.d.n;
    const counted = n >= s.minLabeledPerArm && this.labeledUsers.size >= Math.max(2, s.minUsersPerArm);
    const variance = n > 0 ? flooredVariance(this.d, proportionFloor(n)) : Number.NaN;
    if (counted) {
      this.accuracyState = sequentialStep(this.accuracyState, this.d.mean, variance, { tau: s.tau, theta0: s.theta0, alpha: s.alpha });
      this.guardrailSteps();
    }
    const look: PairedLook = {
      pairs: n,
      users: this.labeledUsers.size,
      correctA: A.correct,
      correctB: B.correct,
      b: this.b,
      c: this.c,
      requests,
      difference: n > 0 ? this.d.mean : Number.NaN,
      variance,
      counted,
      accuracy: this.accuracyState,
      latency: this.latencyState,
      failures: this.failureState,
      latencyHarm: this.latencyHarm,
      failureHarm: this.failureHarm,
    };
    this.looks.push(look);
    return look;
  }

  /** The split fold's guardrails on paired data; the latency ratio's variance keeps the pairs' covariance. */
  private guardrailSteps(): void {
    const { A, B } = this.models;
    const s = this.settings;
    const mA = A.latency.mean;
    const mB = B.latency.mean;
    if (A.latency.clusters > 1 && mA > 0 && mB > 0) {
      const vA = A.latency.variance();
      const vB = B.latency.variance();
      // Var(x̄A + x̄B) = vA + vB + 2 Cov: the delta method for log(x̄B / x̄A) then needs no variance of its own.
      const covariance = (this.latencySum.variance() - vA - vB) / 2;
      const vLatency = Math.max(vA / (mA * mA) + vB / (mB * mB) - (2 * covariance) / (mA * mB), LATENCY_VARIANCE_FLOOR);
      this.latencyHarm = Math.log(mB / mA);
      this.latencyState = sequentialStep(this.latencyState, this.latencyHarm, vLatency, { tau: LATENCY_TAU, theta0: Math.log1p(s.latencyMargin), alpha: s.alpha });
    }
    if (A.failures.clusters > 1 && B.failures.clusters > 1) {
      // The two models' failures are summed as independent: prod and shadow fail for their own reasons.
      this.failureHarm = B.failures.mean - A.failures.mean;
      const variance = flooredVariance(A.failures, proportionFloor(A.failures.n)) + flooredVariance(B.failures, proportionFloor(B.failures.n));
      this.failureState = sequentialStep(this.failureState, this.failureHarm, variance, { tau: FAILURE_TAU, theta0: s.failureMargin, alpha: s.alpha });
    }
  }

  /** Pearson's chi-square of B's class counts against A's shares; null until both have predicted. */
  private predictionShift(): PairedSnapshot['predictionShift'] {
    const { A, B } = this.models;
    const classes = [...new Set([...A.predictions.keys(), ...B.predictions.keys()])].sort();
    const total = (m: ModelState): number => [...m.predictions.values()].reduce((s, k) => s + k, 0);
    const nA = total(A);
    const nB = total(B);
    if (nA === 0 || nB === 0) return null;
    const observed = classes.map((k) => B.predictions.get(k) ?? 0);
    const expected = classes.map((k) => ((A.predictions.get(k) ?? 0) / nA) * nB);
    return { ...chiSquareTest(observed, expected), classes };
  }

  /**
   * The numbers so far. withPath false leaves the path out, withQuantiles false leaves p50 and p99 null
   * (sorting every latency is most of a look's cost, and no decision reads them, only its sentence).
   */
  snapshot(withPath = true, withQuantiles = true): PairedSnapshot {
    const n = this.d.n;
    const model = (m: ModelState): PairedModelSnapshot => {
      const [p50, p99] = withQuantiles ? m.latencyQuantiles.quantiles([0.5, 0.99]) : [];
      const classes = [...m.predictions.keys()].sort();
      return {
        requests: m.answered,
        failed: m.failed,
        correct: m.correct,
        accuracy: n > 0 ? m.correct / n : Number.NaN,
        meanLatencyMs: m.latency.mean,
        latencyP50: p50 ?? null,
        latencyP99: p99 ?? null,
        failureRate: m.failures.n > 0 ? m.failures.mean : Number.NaN,
        predictions: Object.fromEntries(classes.map((k) => [k, m.predictions.get(k)!])),
      };
    };
    return {
      models: { A: model(this.models.A), B: model(this.models.B) },
      pairs: {
        labeled: n,
        labeledUsers: this.labeledUsers.size,
        b: this.b,
        c: this.c,
        bothRight: this.bothRight,
        bothWrong: n - this.b - this.c - this.bothRight,
        difference: n > 0 ? this.d.mean : Number.NaN,
        variance: this.d.variance(),
        iidVariance: this.d.iidVariance(),
      },
      agreement: { compared: this.compared, agreed: this.agreed, rate: this.compared > 0 ? this.agreed / this.compared : Number.NaN },
      predictionShift: this.predictionShift(),
      path: withPath ? [...this.looks] : [],
    };
  }
}
