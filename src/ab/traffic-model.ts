/**
 * Seeded, pure generator of realistic A/B traffic for the validity benchmark: users with a
 * geometric (or heavy-tailed) number of requests whose requests interleave in time, per-user
 * accuracy (difficulty) drawn from a Beta around the arm's accuracy, lognormal latency, failures and
 * partial labelling. Each request also carries the other model's answer to it (what a shadow
 * deployment sees), correlated as two models on the same input are. The random source is passed in,
 * so a seed pins every event.
 */

import { InputError, describe } from '../errors.js';
import { drawBeta, drawExponential, drawGeometric, drawLognormal, drawUniformInt, lognormalLogMean, seededRandom, type Random } from '../random.js';

export interface ArmModel {
  /** Mean accuracy of the arm; each user's own accuracy is Beta(mean·κ, (1 − mean)·κ). */
  accuracy: number;
  /** Mean request latency in ms; each request's latency is lognormal with this mean and log-sd `latencySigma`. */
  latencyMs: number;
  /** Probability that a request fails (no prediction, no label). */
  failureRate: number;
}

export interface TrafficModel {
  A: ArmModel;
  B: ArmModel;
  /** Share of users hashed to B. */
  splitB: number;
  /** Users' requests: geometric with this mean (support 1, 2, …) … */
  meanRequests: number;
  /** … except this share of heavy users, with a uniform integer number in [heavyMin, heavyMax]. */
  heavyShare: number;
  heavyMin: number;
  heavyMax: number;
  /** κ of the per-user Beta (difficulty); Infinity = every user has the arm's accuracy exactly. */
  userConcentration: number;
  latencySigma: number;
  /** Share of answered requests that get a label. */
  labelShare: number;
  /**
   * How the other model's verdict on a request follows this one's: with this probability both come
   * from one uniform draw u (each right iff u < its accuracy for the user: the request is as hard for
   * both), else from independent draws. Default DEFAULT_PAIR_COUPLING.
   */
  pairCoupling?: number;
}

export const DEFAULT_PAIR_COUPLING = 0.8;

export const REALISTIC_TRAFFIC: Readonly<Omit<TrafficModel, 'A' | 'B' | 'splitB'>> = Object.freeze({
  meanRequests: 5,
  heavyShare: 0.02,
  heavyMin: 30,
  heavyMax: 80,
  userConcentration: 10,
  latencySigma: 0.5,
  labelShare: 1,
  pairCoupling: DEFAULT_PAIR_COUPLING,
});

/** One request as the router logs it, in arrival order. */
export interface TrafficEvent {
  user: number;
  variant: 'A' | 'B';
  latencyMs: number;
  failed: boolean;
  /** null when the request got no label (or failed) */
  correct: boolean | null;
  /** When the request arrived, on the arrival clock: user i arrives (and sends its first request) at time i. */
  time: number;
  /** The other model's answer to the same request: B's for a user in A (the shadow in a paired test), A's for one in B. */
  other: OtherAnswer;
}

export interface OtherAnswer {
  latencyMs: number;
  failed: boolean;
  /** null when the request got no label, or either model failed */
  correct: boolean | null;
  /** Both models answered alike, two wrong answers counting as alike (as with two classes); null when either failed. */
  agree: boolean | null;
}

export interface TrafficOptions {
  /** Mean time between two requests of one user, in user arrivals; default 20. */
  meanGap?: number;
}

export const DEFAULT_MEAN_GAP = 20;

/** One user's accuracy: Beta(mean·κ, (1 − mean)·κ), or the mean itself when it is degenerate or κ = Infinity. */
export function drawUserAccuracy(random: Random, mean: number, concentration: number): number {
  if (concentration === Infinity || mean <= 0 || mean >= 1) return mean;
  return drawBeta(random, mean * concentration, (1 - mean) * concentration);
}

// ---- Validation: once, before the first event.

function inUnit(value: unknown): value is number {
  return typeof value === 'number' && value >= 0 && value <= 1;
}

function isFinitePositive(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0;
}

function validateArm(arm: unknown, name: 'A' | 'B'): void {
  if (typeof arm !== 'object' || arm === null || Array.isArray(arm)) {
    throw new InputError(`traffic model ${name}: expected a mapping, got ${describe(arm)}`);
  }
  const { accuracy, latencyMs, failureRate } = arm as Partial<Record<keyof ArmModel, unknown>>;
  if (!inUnit(accuracy)) throw new InputError(`traffic model accuracy of ${name}: expected a number in [0, 1], got ${describe(accuracy)}`);
  if (!isFinitePositive(latencyMs)) throw new InputError(`traffic model latencyMs of ${name}: expected a positive number, got ${describe(latencyMs)}`);
  if (!inUnit(failureRate)) throw new InputError(`traffic model failureRate of ${name}: expected a number in [0, 1], got ${describe(failureRate)}`);
}

function validateModel(model: TrafficModel, meanGap: unknown): void {
  if (typeof model !== 'object' || model === null || Array.isArray(model)) throw new InputError(`traffic model: expected a mapping, got ${describe(model)}`);
  validateArm(model.A, 'A');
  validateArm(model.B, 'B');
  const { splitB, meanRequests, heavyShare, heavyMin, heavyMax, userConcentration, latencySigma, labelShare } = model;
  const fail = (key: string, expected: string, got: unknown): never => {
    throw new InputError(`traffic model ${key}: expected ${expected}, got ${describe(got)}`);
  };
  if (!inUnit(splitB)) fail('splitB', 'a number in [0, 1]', splitB);
  if (!(typeof meanRequests === 'number' && Number.isFinite(meanRequests) && meanRequests >= 1)) fail('meanRequests', 'a number ≥ 1', meanRequests);
  if (!inUnit(heavyShare)) fail('heavyShare', 'a number in [0, 1]', heavyShare);
  if (!(Number.isSafeInteger(heavyMin) && heavyMin >= 1)) fail('heavyMin', 'an integer ≥ 1', heavyMin);
  if (!(Number.isSafeInteger(heavyMax) && heavyMax >= heavyMin)) fail('heavyMax', `an integer ≥ heavyMin (${heavyMin})`, heavyMax);
  if (!(userConcentration === Infinity || isFinitePositive(userConcentration))) {
    fail('userConcentration', 'a positive number or Infinity', userConcentration);
  }
  if (!(typeof latencySigma === 'number' && Number.isFinite(latencySigma) && latencySigma >= 0)) fail('latencySigma', 'a number ≥ 0', latencySigma);
  if (!inUnit(labelShare)) fail('labelShare', 'a number in [0, 1]', labelShare);
  if (model.pairCoupling !== undefined && !inUnit(model.pairCoupling)) fail('pairCoupling', 'a number in [0, 1]', model.pairCoupling);
  if (!isFinitePositive(meanGap)) throw new InputError(`traffic meanGap: expected a positive number, got ${describe(meanGap)}`);
}

// ---- The pending requests: a 4-ary min-heap of (time, slot) in typed arrays, one entry per active user.
// 4-ary rather than binary: nearly every operation is a sift-down, and it has half the levels to walk.

class TimeHeap {
  size = 0;
  times = new Float64Array(256);
  slots = new Int32Array(256);

  push(time: number, slot: number): void {
    if (this.size === this.times.length) this.grow();
    const { times, slots } = this;
    let i = this.size++;
    while (i > 0) {
      const parent = (i - 1) >> 2;
      const parentTime = times[parent]!;
      if (parentTime <= time) break;
      times[i] = parentTime;
      slots[i] = slots[parent]!;
      i = parent;
    }
    times[i] = time;
    slots[i] = slot;
  }

  /** Gives the earliest entry a new time and restores the order (the user's next request). */
  replaceTopTime(time: number): void {
    this.siftDown(time, this.slots[0]!);
  }

  /** Drops the earliest entry. */
  pop(): void {
    const last = --this.size;
    if (last > 0) this.siftDown(this.times[last]!, this.slots[last]!);
  }

  private siftDown(time: number, slot: number): void {
    const { times, slots, size } = this;
    let i = 0;
    for (;;) {
      const first = 4 * i + 1;
      if (first >= size) break;
      let child = first;
      let childTime = times[first]!;
      const end = Math.min(first + 4, size);
      for (let c = first + 1; c < end; c++) {
        const t = times[c]!;
        if (t < childTime) {
          child = c;
          childTime = t;
        }
      }
      if (childTime >= time) break;
      times[i] = childTime;
      slots[i] = slots[child]!;
      i = child;
    }
    times[i] = time;
    slots[i] = slot;
  }

  private grow(): void {
    this.times = doubled(this.times);
    this.slots = doubled(this.slots);
  }
}

/** A copy of `array` in one twice as long (the rest zero). */
function doubled<T extends Float64Array | Int32Array | Uint8Array>(array: T): T {
  const out = new (array.constructor as new (length: number) => T)(array.length * 2);
  out.set(array);
  return out;
}

/** Per-user state of the active users, in typed arrays indexed by slot; freed slots are reused. */
class UserSlots {
  ids = new Float64Array(256);
  isB = new Uint8Array(256);
  accuracy = new Float64Array(256);
  /** The other model's accuracy for the user. */
  otherAccuracy = new Float64Array(256);
  remaining = new Int32Array(256);
  private free = new Int32Array(256);
  private freeCount = 0;
  private used = 0;

  allocate(): number {
    if (this.freeCount > 0) return this.free[--this.freeCount]!;
    if (this.used === this.ids.length) this.grow();
    return this.used++;
  }

  release(slot: number): void {
    this.free[this.freeCount++] = slot;
  }

  private grow(): void {
    this.ids = doubled(this.ids);
    this.isB = doubled(this.isB);
    this.accuracy = doubled(this.accuracy);
    this.otherAccuracy = doubled(this.otherAccuracy);
    this.remaining = doubled(this.remaining);
    this.free = doubled(this.free);
  }
}

/**
 * A lazy, infinite stream of requests: users arrive one after another (each assigned to B with
 * probability splitB, as honest hashing does), and their requests interleave in time: user i arrives
 * at time i (a unit-rate process) with its first request, and its later requests follow after
 * exponential gaps of mean `meanGap` (default 20 arrivals). A min-heap of pending requests yields them
 * in time order with memory proportional to the users still active, not to the whole stream.
 *
 * The model is validated here, at the call, not at the first `next()`.
 */
export function traffic(random: Random, model: TrafficModel, options: TrafficOptions = {}): Generator<TrafficEvent> {
  const meanGap = options.meanGap ?? DEFAULT_MEAN_GAP;
  validateModel(model, meanGap);
  return generate(random, model, meanGap);
}

function* generate(random: Random, model: TrafficModel, meanGap: number): Generator<TrafficEvent> {
  const { A, B, splitB, meanRequests, heavyShare, heavyMin, heavyMax, userConcentration: kappa, latencySigma, labelShare } = model;
  const coupling = model.pairCoupling ?? DEFAULT_PAIR_COUPLING;
  const logMeanA = lognormalLogMean(A.latencyMs, latencySigma);
  const logMeanB = lognormalLogMean(B.latencyMs, latencySigma);
  const heap = new TimeHeap();
  const users = new UserSlots();
  let nextUser = 0;
  for (;;) {
    // The next user arrives, with its first request, once no pending request comes before it; that
    // request is the earliest, so it is emitted at once and only the user's later ones enter the heap.
    const arrival = heap.size === 0 || heap.times[0]! >= nextUser;
    let slot: number;
    let time: number;
    if (arrival) {
      slot = users.allocate();
      time = nextUser;
      const toB = random() < splitB;
      users.ids[slot] = nextUser;
      users.isB[slot] = toB ? 1 : 0;
      users.remaining[slot] = random() < heavyShare ? drawUniformInt(random, heavyMin, heavyMax) : drawGeometric(random, meanRequests);
      // Common random numbers: the user's two accuracies come from one sub-stream, so a user hard for
      // one model is hard for the other (the same accuracy when the two means are equal).
      const difficulty = Math.floor(random() * 4294967296);
      users.accuracy[slot] = drawUserAccuracy(seededRandom(difficulty), toB ? B.accuracy : A.accuracy, kappa);
      users.otherAccuracy[slot] = drawUserAccuracy(seededRandom(difficulty), toB ? A.accuracy : B.accuracy, kappa);
      nextUser++;
    } else {
      slot = heap.slots[0]!;
      time = heap.times[0]!;
    }
    const toB = users.isB[slot] === 1;
    const arm = toB ? B : A;
    const otherArm = toB ? A : B;
    const failed = arm.failureRate > 0 && random() < arm.failureRate;
    const latencyMs = latencySigma > 0 ? drawLognormal(random, toB ? logMeanB : logMeanA, latencySigma) : arm.latencyMs;
    const labeled = !failed && (labelShare >= 1 || random() < labelShare);
    // The request's difficulty: this model is right iff u < its accuracy for the user.
    const u = failed ? 1 : random();
    const otherFailed = otherArm.failureRate > 0 && random() < otherArm.failureRate;
    const otherLatencyMs = latencySigma > 0 ? drawLognormal(random, toB ? logMeanA : logMeanB, latencySigma) : otherArm.latencyMs;
    const right = u < users.accuracy[slot]!;
    let otherRight: boolean | null = null;
    if (!failed && !otherFailed) {
      const shared = coupling >= 1 || (coupling > 0 && random() < coupling);
      otherRight = (shared ? u : random()) < users.otherAccuracy[slot]!;
    }
    const event: TrafficEvent = {
      user: users.ids[slot]!,
      variant: toB ? 'B' : 'A',
      latencyMs,
      failed,
      correct: labeled ? right : null,
      time,
      other: {
        latencyMs: otherLatencyMs,
        failed: otherFailed,
        correct: labeled && otherRight !== null ? otherRight : null,
        agree: otherRight === null ? null : right === otherRight,
      },
    };
    const left = users.remaining[slot]! - 1;
    users.remaining[slot] = left;
    if (left > 0) {
      const next = time + drawExponential(random, meanGap);
      if (arrival) heap.push(next, slot);
      else heap.replaceTopTime(next);
    } else {
      if (!arrival) heap.pop();
      users.release(slot);
    }
    yield event;
  }
}
