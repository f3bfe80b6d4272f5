import { describe, expect, it } from 'vitest';
import { FAILURE_TAU, LATENCY_TAU, LATENCY_VARIANCE_FLOOR, proportionFloor } from '../../src/ab/experiment-fold.js';
import { PairedFold, type PairedSettings } from '../../src/ab/paired-fold.js';
import { InputError } from '../../src/errors.js';
import { chiSquareTest } from '../../src/stats/chi-square.js';
import { ClusteredMean } from '../../src/stats/clustered-mean.js';
import { SEQUENTIAL_START, sequentialStep } from '../../src/stats/msprt.js';
import { thrown } from '../helpers/thrown.js';

const settings: PairedSettings = {
  alpha: 0.05,
  tau: 0.08,
  theta0: 0,
  minLabeledPerArm: 4,
  minUsersPerArm: 2,
  checkpointEvery: 4,
  latencyMargin: 0.25,
  failureMargin: 0.01,
};
const accuracyOptions = { tau: 0.08, theta0: 0, alpha: 0.05 };

/** (user, A right, B right): b = 3 (B right, A wrong), c = 1, both right 3, both wrong 1. */
const STREAM: [string, 0 | 1, 0 | 1][] = [
  ['u1', 1, 1],
  ['u2', 1, 0],
  ['u3', 0, 1],
  ['u1', 0, 1],
  ['u2', 1, 1],
  ['u3', 1, 1],
  ['u1', 0, 1],
  ['u2', 0, 0],
];

/** ClusteredMean of d = B − A over the first n pairs of STREAM: the one variance the fold must use. */
function clusteredD(n: number): ClusteredMean {
  const mean = new ClusteredMean();
  for (const [user, a, b] of STREAM.slice(0, n)) mean.add(user, b - a);
  return mean;
}

describe('PairedFold', () => {
  it('counts the discordant pairs, tests d = B − A with users as clusters, and looks every checkpoint_every pairs', () => {
    const fold = new PairedFold(settings);
    const looks = STREAM.map(([user, a, b], i) => fold.pair(user, a === 1, b === 1, i === 7 ? false : undefined));
    expect(looks.map((l) => (l === null ? null : l.pairs))).toEqual([null, null, null, 4, null, null, null, 8]);

    const { pairs, models, path } = fold.snapshot();
    expect(pairs).toEqual({
      labeled: 8,
      labeledUsers: 3,
      b: 3,
      c: 1,
      bothRight: 3,
      bothWrong: 1,
      difference: 0.25,
      variance: clusteredD(8).variance(),
      iidVariance: clusteredD(8).iidVariance(),
    });
    // Σ (S_i − m n_i)² / (K (K − 1) n̄²) = (1.25² + 1.75² + 0.5²) / (3 · 2 · (8/3)²) = 117/1024
    expect(pairs.variance).toBeCloseTo(117 / 1024, 15);
    expect([models.A.correct, models.A.accuracy, models.B.correct, models.B.accuracy]).toEqual([4, 0.5, 6, 0.75]);

    // Look 1: d = 0, −1, 1, 1 from three users; look 2: all eight. Each steps sequentialStep with the clustered variance.
    const v4 = clusteredD(4).variance();
    expect(v4).toBeCloseTo(0.22265625, 15);
    const first = sequentialStep(SEQUENTIAL_START, 0.25, v4, accuracyOptions);
    expect(path).toHaveLength(2);
    expect(path[0]).toMatchObject({ pairs: 4, users: 3, b: 2, c: 1, correctA: 2, correctB: 3, difference: 0.25, variance: v4, counted: true, accuracy: first });
    expect(path[1]).toMatchObject({ pairs: 8, users: 3, b: 3, c: 1, difference: 0.25, variance: pairs.variance });
    expect(path[1]!.accuracy).toEqual(sequentialStep(first, 0.25, pairs.variance, accuracyOptions));
    // A look at unchanged numbers is the same look, not a second one.
    expect(fold.look()).toBe(path[1]);
  });

  it('rates agreement over labelled and unlabelled pairs; a labelled pair agrees when both verdicts match unless told otherwise', () => {
    const fold = new PairedFold(settings);
    STREAM.forEach(([user, a, b], i) => fold.pair(user, a === 1, b === 1, i === 7 ? false : undefined));
    fold.unlabelled('u1', true);
    fold.unlabelled('u2', false);
    fold.unlabelled('u3', true);
    // Labelled: (1,1) ×3 agree, the both-wrong pair was told it did not (two different wrong classes); unlabelled 2 of 3.
    expect(fold.snapshot().agreement).toEqual({ compared: 11, agreed: 5, rate: 5 / 11 });
  });

  it('waits for min_labeled pairs and min_users users, and floors a variance of 0 at one discordant pair in n', () => {
    const fold = new PairedFold({ ...settings, minUsersPerArm: 3 });
    for (let i = 0; i < 4; i++) fold.pair(i < 2 ? 'x' : 'y', true, true);
    const early = fold.snapshot().path[0]!;
    expect(early).toMatchObject({ pairs: 4, users: 2, counted: false, accuracy: SEQUENTIAL_START });
    for (let i = 0; i < 4; i++) fold.pair('z', true, true);
    const look = fold.snapshot().path[1]!;
    // Every pair concordant: d ≡ 0, so the clustered variance is 0 and the floor (n − 1)/n³ = 7/512 stands in.
    expect([look.counted, look.difference, look.variance]).toEqual([true, 0, 7 / 512]);
    expect(proportionFloor(8)).toBe(7 / 512);
    expect(look.accuracy).toEqual(sequentialStep(SEQUENTIAL_START, 0, 7 / 512, accuracyOptions));
  });

  it('tests latency as log(mean B / mean A) with the pairs’ covariance: a B that tracks A exactly has only the floor', () => {
    const fold = new PairedFold(settings);
    const latencies = [10, 14, 9, 20, 12, 16, 11, 13];
    STREAM.forEach(([user, a, b], i) => {
      fold.latency(user, latencies[i]!, 1.1 * latencies[i]!);
      fold.pair(user, a === 1, b === 1);
    });
    const { path, models } = fold.snapshot();
    expect(models.A.meanLatencyMs).toBe(13.125);
    expect(models.B.meanLatencyMs).toBeCloseTo(14.4375, 12);
    const harm = Math.log(models.B.meanLatencyMs / models.A.meanLatencyMs);
    const latencyOptions = { tau: LATENCY_TAU, theta0: Math.log1p(0.25), alpha: 0.05 };
    // Unpaired, the two means' variances would add; paired, the ratio is exactly 1.1 and only the floor is left.
    const first = sequentialStep(SEQUENTIAL_START, path[0]!.latencyHarm!, LATENCY_VARIANCE_FLOOR, latencyOptions);
    expect(path[1]!.latencyHarm).toBe(harm);
    expect(harm).toBeCloseTo(Math.log(1.1), 12);
    expect(path[1]!.latency).toEqual(sequentialStep(first, harm, LATENCY_VARIANCE_FLOOR, latencyOptions));
  });

  it('keeps the covariance term of the delta method for latencies that do not track each other', () => {
    const fold = new PairedFold(settings);
    const pairs: [string, number, number][] = [
      ['u1', 10, 12],
      ['u2', 14, 13],
      ['u3', 9, 15],
      ['u1', 20, 18],
    ];
    const a = new ClusteredMean();
    const b = new ClusteredMean();
    const sum = new ClusteredMean();
    for (const [user, la, lb] of pairs) {
      fold.latency(user, la, lb);
      a.add(user, la);
      b.add(user, lb);
      sum.add(user, la + lb);
      fold.pair(user, true, true);
    }
    const covariance = (sum.variance() - a.variance() - b.variance()) / 2;
    const variance = a.variance() / a.mean ** 2 + b.variance() / b.mean ** 2 - (2 * covariance) / (a.mean * b.mean);
    const look = fold.snapshot().path[0]!;
    expect(look.latency).toEqual(sequentialStep(SEQUENTIAL_START, Math.log(b.mean / a.mean), variance, { tau: LATENCY_TAU, theta0: Math.log1p(0.25), alpha: 0.05 }));
  });

  it('tests B’s failure rate (shadow) against A’s (prod failures), each floored like the split fold’s', () => {
    const fold = new PairedFold(settings);
    const users = ['u1', 'u2', 'u3', 'u1'];
    users.forEach((user, i) => {
      fold.prodOk(user);
      if (i === 2) fold.shadowFailure(user);
      else fold.shadowOk(user);
    });
    fold.prodFailure('u2');
    fold.shadowOk('u2');
    users.forEach((user) => fold.pair(user, true, false));
    const { path, models } = fold.snapshot();
    expect([models.A.requests, models.A.failed, models.A.failureRate, models.B.requests, models.B.failed, models.B.failureRate]).toEqual([4, 1, 0.2, 4, 1, 0.2]);
    const prod = new ClusteredMean();
    const shadow = new ClusteredMean();
    for (const [user, fA, fB] of [['u1', 0, 0], ['u2', 0, 0], ['u3', 0, 1], ['u1', 0, 0], ['u2', 1, 0]] as const) {
      prod.add(user, fA);
      shadow.add(user, fB);
    }
    const variance = Math.max(prod.variance(), proportionFloor(5)) + Math.max(shadow.variance(), proportionFloor(5));
    expect(path[0]!.failureHarm).toBe(0);
    expect(path[0]!.failures).toEqual(sequentialStep(SEQUENTIAL_START, 0, variance, { tau: FAILURE_TAU, theta0: 0.01, alpha: 0.05 }));
  });

  it('compares B’s predicted classes against A’s shares with a chi-square, for the report', () => {
    const fold = new PairedFold(settings);
    expect(fold.snapshot().predictionShift).toBeNull();
    const classesA = ['x', 'x', 'x', 'x', 'x', 'y', 'y', 'y', 'y', 'y'];
    const classesB = ['x', 'x', 'x', 'y', 'y', 'y', 'y', 'y', 'y', 'y'];
    classesA.forEach((a, i) => fold.predictions(a, classesB[i]!));
    const { predictionShift, models } = fold.snapshot();
    // Observed B [3, 7] against A's shares (0.5, 0.5) of 10: (4 + 4)/5 = 1.6, df 1; scipy.stats.chi2.sf(1.6, 1).
    expect(predictionShift).toEqual({ ...chiSquareTest([3, 7], [5, 5]), classes: ['x', 'y'] });
    expect(predictionShift!.statistic).toBeCloseTo(1.6, 14);
    expect(predictionShift!.pvalue).toBeCloseTo(0.20590321073206834, 14);
    expect([models.A.predictions, models.B.predictions]).toEqual([{ x: 5, y: 5 }, { x: 3, y: 7 }]);
    // A class only B predicts: infinitely unlikely under A's shares.
    fold.predictions('x', 'z');
    expect(fold.snapshot().predictionShift).toMatchObject({ statistic: Infinity, pvalue: 0, df: 2, classes: ['x', 'y', 'z'] });
  });

  it('leaves p50 and p99 out when asked (the simulation’s looks), and nothing else', () => {
    const fold = new PairedFold(settings);
    STREAM.forEach(([user, a, b], i) => {
      fold.latency(user, 10 + i, 20 + i);
      fold.pair(user, a === 1, b === 1);
    });
    const full = fold.snapshot(false);
    const lean = fold.snapshot(false, false);
    expect([full.models.A.latencyP50, full.models.B.latencyP99]).toEqual([13.5, 26.93]);
    expect(lean).toEqual({ ...full, models: { A: { ...full.models.A, latencyP50: null, latencyP99: null }, B: { ...full.models.B, latencyP50: null, latencyP99: null } } });
  });

  it('rejects a bad checkpoint_every, a non-boolean verdict and a non-string class', () => {
    const error = thrown(() => new PairedFold({ ...settings, checkpointEvery: 0 }));
    expect(error).toBeInstanceOf(InputError);
    expect((error as InputError).message).toBe('A/B checkpoint_every: expected an integer ≥ 1, got number 0');
    const fold = new PairedFold(settings);
    expect((thrown(() => fold.pair('u', 1 as unknown as boolean, true)) as InputError).message).toBe('paired label: expected two booleans, got number 1 and boolean true');
    expect((thrown(() => fold.predictions('x', 3 as unknown as string)) as InputError).message).toBe('paired prediction class: expected a string, got number 3');
  });
});
