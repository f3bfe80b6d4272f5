import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../src/random.js';
import {
  DEFAULT_PAIR_COUPLING,
  REALISTIC_TRAFFIC,
  drawUserAccuracy,
  traffic,
  type TrafficEvent,
  type TrafficModel,
} from '../../src/ab/traffic-model.js';
import { InputError } from '../../src/errors.js';
import { thrown } from '../helpers/thrown.js';

const MODEL: TrafficModel = {
  ...REALISTIC_TRAFFIC,
  A: { accuracy: 0.8, latencyMs: 120, failureRate: 0.01 },
  B: { accuracy: 0.85, latencyMs: 90, failureRate: 0.02 },
  splitB: 0.5,
};

function take(stream: Iterator<TrafficEvent>, n: number): TrafficEvent[] {
  const events: TrafficEvent[] = [];
  for (let i = 0; i < n; i++) {
    const next = stream.next();
    if (next.done) throw new Error('the traffic stream ended');
    events.push(next.value);
  }
  return events;
}

/**
 * Across users with at least `minLabeled` labels: the variance of their observed accuracy around
 * their arm's, over the variance binomial noise alone would give (about 1 when users do not differ).
 */
function userAccuracyDispersion(events: TrafficEvent[], minLabeled: number): { ratio: number; users: number } {
  const labeled = new Map<number, { variant: 'A' | 'B'; n: number; correct: number }>();
  for (const e of events) {
    if (e.correct === null) continue;
    const u = labeled.get(e.user) ?? { variant: e.variant, n: 0, correct: 0 };
    u.n++;
    if (e.correct) u.correct++;
    labeled.set(e.user, u);
  }
  const kept = [...labeled.values()].filter((u) => u.n >= minLabeled);
  const armMean = (variant: 'A' | 'B'): number => {
    const arm = kept.filter((u) => u.variant === variant);
    return arm.reduce((s, u) => s + u.correct, 0) / arm.reduce((s, u) => s + u.n, 0);
  };
  const mean = { A: armMean('A'), B: armMean('B') };
  let observed = 0;
  let binomial = 0;
  for (const u of kept) {
    const p = mean[u.variant];
    observed += (u.correct / u.n - p) ** 2;
    binomial += (p * (1 - p)) / u.n;
  }
  return { ratio: observed / binomial, users: kept.length };
}

describe('drawUserAccuracy', () => {
  it('gives every user the arm accuracy when κ is Infinity or the accuracy is 0 or 1, without drawing', () => {
    const random = seededRandom(8);
    const before = seededRandom(8)();
    expect(drawUserAccuracy(random, 0.8, Infinity)).toBe(0.8);
    expect(drawUserAccuracy(random, 0, 10)).toBe(0);
    expect(drawUserAccuracy(random, 1, 10)).toBe(1);
    expect(random()).toBe(before);
  });
});

/** The first five events of seed 7 on MODEL. */
const PINNED: TrafficEvent[] = [
  { user: 0, variant: 'B', latencyMs: 45.16778086861775, failed: false, correct: true, time: 0, other: { latencyMs: 76.35087792369417, failed: false, correct: true, agree: true } },
  { user: 1, variant: 'B', latencyMs: 67.69064287476627, failed: false, correct: true, time: 1, other: { latencyMs: 29.939549910261157, failed: false, correct: true, agree: true } },
  { user: 2, variant: 'B', latencyMs: 63.207476166198134, failed: false, correct: true, time: 2, other: { latencyMs: 64.52941416898436, failed: false, correct: true, agree: true } },
  { user: 3, variant: 'B', latencyMs: 81.000338812574, failed: false, correct: true, time: 3, other: { latencyMs: 67.10397403566785, failed: false, correct: true, agree: true } },
  { user: 3, variant: 'B', latencyMs: 49.69579685513577, failed: false, correct: true, time: 3.6470345352892144, other: { latencyMs: 127.67564551299516, failed: false, correct: true, agree: true } },
];

describe('traffic', () => {
  it('yields a pinned stream for a pinned seed', () => {
    // Regression vector: printed once from this seed and model, then pinned. A change here changes every
    // simulated benchmark outcome; re-pin only on purpose. (Re-pinned when each request got the other
    // model's answer: its draws and the users' common-random-number accuracies shift the stream.)
    expect(take(traffic(seededRandom(7), MODEL), 5)).toEqual(PINNED);
  });

  describe('over 200,000 events with κ = Infinity', () => {
    const model: TrafficModel = {
      ...REALISTIC_TRAFFIC,
      userConcentration: Infinity,
      A: { accuracy: 0.8, latencyMs: 120, failureRate: 0.01 },
      B: { accuracy: 0.9, latencyMs: 80, failureRate: 0.03 },
      splitB: 0.3,
    };
    const events = take(traffic(seededRandom(20250917), model), 200_000);
    const last = events[events.length - 1]!;

    it('is in time order, each user arriving at time = its id with its first request, users in order', () => {
      let ordered = true;
      let seen = -1;
      let arrivalsAtId = true;
      for (let i = 1; i < events.length; i++) if (events[i]!.time < events[i - 1]!.time) ordered = false;
      for (const e of events) {
        if (e.user > seen) {
          if (e.user !== seen + 1 || e.time !== e.user) arrivalsAtId = false;
          seen = e.user;
        }
      }
      expect(ordered).toBe(true);
      expect(arrivalsAtId).toBe(true);
    });

    it('assigns splitB of the users to B, each user to one arm for good', () => {
      const variantOf = new Map<number, 'A' | 'B'>();
      let stable = true;
      for (const e of events) {
        const v = variantOf.get(e.user);
        if (v === undefined) variantOf.set(e.user, e.variant);
        else if (v !== e.variant) stable = false;
      }
      const shareB = [...variantOf.values()].filter((v) => v === 'B').length / variantOf.size;
      expect(stable).toBe(true);
      // User i arrives at time i with its first request, so every user up to the last event's time has been seen.
      expect(variantOf.size).toBe(Math.floor(last.time) + 1);
      expect(Math.abs(shareB - 0.3)).toBeLessThan(0.01);
    });

    it('gives users 0.98·5 + 0.02·55 = 6.0 requests on average', () => {
      // Only users that arrived long enough before the end to have sent all their requests: a heavy user's
      // 80 requests span Gamma(79, 20) ≈ 1,580 ± 180 time units.
      const complete = Math.floor(last.time - 4000);
      let requests = 0;
      for (const e of events) if (e.user < complete) requests++;
      expect(Math.abs(requests / complete / 6 - 1)).toBeLessThan(0.02);
    });

    it('matches each arm’s accuracy, failure rate and mean latency; every answered request is labelled', () => {
      for (const variant of ['A', 'B'] as const) {
        const arm = events.filter((e) => e.variant === variant);
        const failed = arm.filter((e) => e.failed);
        const answered = arm.filter((e) => !e.failed);
        const accuracy = answered.filter((e) => e.correct === true).length / answered.length;
        const latency = arm.reduce((s, e) => s + e.latencyMs, 0) / arm.length;
        expect(failed.every((e) => e.correct === null)).toBe(true);
        expect(answered.every((e) => e.correct !== null)).toBe(true);
        expect(Math.abs(accuracy - model[variant].accuracy)).toBeLessThan(0.01);
        expect(Math.abs(failed.length / arm.length - model[variant].failureRate)).toBeLessThan(0.005);
        expect(Math.abs(latency / model[variant].latencyMs - 1)).toBeLessThan(0.02);
      }
    });

    it('has per-user accuracies no more spread than binomial noise', () => {
      const { ratio, users } = userAccuracyDispersion(events, 30);
      expect(users).toBeGreaterThan(300);
      expect(ratio).toBeGreaterThan(0.8);
      expect(ratio).toBeLessThan(1.25);
    });
  });

  it('with κ = 10, spreads per-user accuracy well beyond binomial noise', () => {
    const events = take(traffic(seededRandom(11), { ...MODEL, userConcentration: 10 }), 200_000);
    const { ratio, users } = userAccuracyDispersion(events, 30);
    expect(users).toBeGreaterThan(300);
    // Expected ≈ 1 + (n − 1)/(κ + 1) ≈ 5 for n ≈ 50 labels a user.
    expect(ratio).toBeGreaterThan(1.5);
  });

  it('labels labelShare of the answered requests, constant latency when latencySigma is 0', () => {
    const events = take(traffic(seededRandom(12), { ...MODEL, labelShare: 0.3, latencySigma: 0 }), 100_000);
    const answered = events.filter((e) => !e.failed);
    const labeled = answered.filter((e) => e.correct !== null).length;
    expect(Math.abs(labeled / answered.length - 0.3)).toBeLessThan(0.01);
    expect(events.every((e) => e.latencyMs === MODEL[e.variant].latencyMs)).toBe(true);
  });

  it('stays in time order with thousands of users active at once (heap and slots grow)', () => {
    const events = take(traffic(seededRandom(13), MODEL, { meanGap: 2000 }), 100_000);
    let ordered = true;
    for (let i = 1; i < events.length; i++) if (events[i]!.time < events[i - 1]!.time) ordered = false;
    expect(ordered).toBe(true);
    // ≈ 100,000 / 6 users in all, against ≈ 2,000 · 5 active at once.
    expect(events[events.length - 1]!.user).toBeGreaterThan(5000);
  });

  it('draws only from the random source: same seed, same stream', () => {
    expect(take(traffic(seededRandom(14), MODEL), 1000)).toEqual(take(traffic(seededRandom(14), MODEL), 1000));
  });

  it.each<[string, (m: TrafficModel) => unknown, string]>([
    ['accuracy of B', (m) => ({ ...m, B: { ...m.B, accuracy: 1.5 } }), 'traffic model accuracy of B: expected a number in [0, 1], got number 1.5'],
    ['accuracy of A', (m) => ({ ...m, A: { ...m.A, accuracy: Number.NaN } }), 'traffic model accuracy of A: expected a number in [0, 1], got number NaN'],
    ['latencyMs', (m) => ({ ...m, A: { ...m.A, latencyMs: 0 } }), 'traffic model latencyMs of A: expected a positive number, got number 0'],
    ['failureRate', (m) => ({ ...m, B: { ...m.B, failureRate: '0.1' } }), 'traffic model failureRate of B: expected a number in [0, 1], got "0.1"'],
    ['arm', (m) => ({ ...m, B: undefined }), 'traffic model B: expected a mapping, got nothing'],
    ['splitB', (m) => ({ ...m, splitB: -0.1 }), 'traffic model splitB: expected a number in [0, 1], got number -0.1'],
    ['meanRequests', (m) => ({ ...m, meanRequests: 0.5 }), 'traffic model meanRequests: expected a number ≥ 1, got number 0.5'],
    ['heavyShare', (m) => ({ ...m, heavyShare: 2 }), 'traffic model heavyShare: expected a number in [0, 1], got number 2'],
    ['heavyMin', (m) => ({ ...m, heavyMin: 2.5 }), 'traffic model heavyMin: expected an integer ≥ 1, got number 2.5'],
    ['heavyMax', (m) => ({ ...m, heavyMax: 20 }), 'traffic model heavyMax: expected an integer ≥ heavyMin (30), got number 20'],
    ['userConcentration', (m) => ({ ...m, userConcentration: 0 }), 'traffic model userConcentration: expected a positive number or Infinity, got number 0'],
    ['latencySigma', (m) => ({ ...m, latencySigma: Infinity }), 'traffic model latencySigma: expected a number ≥ 0, got number Infinity'],
    ['labelShare', (m) => ({ ...m, labelShare: null }), 'traffic model labelShare: expected a number in [0, 1], got null'],
  ])('rejects a bad %s at the call, before the first event', (_key, mutate, message) => {
    const error = thrown(() => traffic(seededRandom(1), mutate(MODEL) as TrafficModel));
    expect(error).toBeInstanceOf(InputError);
    expect((error as InputError).message).toBe(message);
  });

  it('rejects a bad meanGap', () => {
    const error = thrown(() => traffic(seededRandom(1), MODEL, { meanGap: 0 }));
    expect(error).toBeInstanceOf(InputError);
    expect((error as InputError).message).toBe('traffic meanGap: expected a positive number, got number 0');
  });
});

describe('the other model’s answer to each request (what a shadow sees)', () => {
  const agreement = (events: TrafficEvent[]): { rate: number; n: number } => {
    const both = events.filter((e) => e.other.agree !== null);
    return { rate: both.filter((e) => e.other.agree).length / both.length, n: both.length };
  };
  const exact: TrafficModel = { ...MODEL, userConcentration: Infinity };

  it('with coupling 1 and equal accuracies always agrees, per-user difficulty (κ = 10) included', () => {
    const events = take(traffic(seededRandom(21), { ...MODEL, B: { ...MODEL.B, accuracy: 0.8 }, pairCoupling: 1 }), 50_000);
    const { rate, n } = agreement(events);
    expect(n).toBeGreaterThan(48_000);
    expect(rate).toBe(1);
    expect(events.every((e) => e.correct === null || e.other.correct === null || e.correct === e.other.correct)).toBe(true);
  });

  it('with coupling 0 agrees at the independent rate pA pB + (1 − pA)(1 − pB) = 0.71', () => {
    const { rate } = agreement(take(traffic(seededRandom(22), { ...exact, pairCoupling: 0 }), 100_000));
    expect(Math.abs(rate - (0.8 * 0.85 + 0.2 * 0.15))).toBeLessThan(0.005);
  });

  it('with coupling 1 disagrees only on the requests between the two accuracies: 1 − |pA − pB| = 0.95', () => {
    const { rate } = agreement(take(traffic(seededRandom(23), { ...exact, pairCoupling: 1 }), 100_000));
    expect(Math.abs(rate - 0.95)).toBeLessThan(0.005);
  });

  it('mixes the two by default (coupling 0.8): 0.8 · 0.95 + 0.2 · 0.71 = 0.902', () => {
    expect(REALISTIC_TRAFFIC.pairCoupling).toBe(DEFAULT_PAIR_COUPLING);
    expect(DEFAULT_PAIR_COUPLING).toBe(0.8);
    const { rate } = agreement(take(traffic(seededRandom(24), exact), 100_000));
    expect(Math.abs(rate - 0.902)).toBeLessThan(0.005);
  });

  it('gives the other model its own accuracy, latency and failure rate; no verdict when either failed or without a label', () => {
    const events = take(traffic(seededRandom(25), { ...MODEL, splitB: 0, labelShare: 0.5 }), 200_000);
    expect(events.every((e) => e.variant === 'A')).toBe(true);
    const answered = events.filter((e) => !e.failed && !e.other.failed);
    const labelled = answered.filter((e) => e.other.correct !== null);
    const shadowAccuracy = labelled.filter((e) => e.other.correct).length / labelled.length;
    const latency = events.reduce((s, e) => s + e.other.latencyMs, 0) / events.length;
    const failures = events.filter((e) => e.other.failed).length / events.length;
    expect(Math.abs(shadowAccuracy - 0.85)).toBeLessThan(0.01);
    expect(Math.abs(latency / 90 - 1)).toBeLessThan(0.02);
    expect(Math.abs(failures - 0.02)).toBeLessThan(0.002);
    expect(events.every((e) => (e.correct === null) === (e.other.correct === null) || e.other.failed)).toBe(true);
    expect(events.filter((e) => e.failed || e.other.failed).every((e) => e.other.agree === null && e.other.correct === null)).toBe(true);
    expect(answered.every((e) => e.other.agree !== null)).toBe(true);
  });

  it('rejects a bad pairCoupling at the call', () => {
    const error = thrown(() => traffic(seededRandom(1), { ...MODEL, pairCoupling: 1.5 }));
    expect(error).toBeInstanceOf(InputError);
    expect((error as InputError).message).toBe('traffic model pairCoupling: expected a number in [0, 1], got number 1.5');
  });
});
