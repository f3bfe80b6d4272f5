/** Seeded randomness for data generation and simulations: same seed, same numbers, on every machine. */

/** Uniform numbers in [0, 1). */
export type Random = () => number;

/** SplitMix32-seeded xoshiro128** generator; returns floats in [0, 1). */
export function seededRandom(seed: number | string): Random {
  let h = typeof seed === 'number' ? seed >>> 0 : hashString(seed);
  const next32 = (): number => {
    h = (h + 0x9e3779b9) >>> 0;
    let z = h;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
  const s = [next32(), next32(), next32(), next32()] as [number, number, number, number];
  return () => {
    const result = Math.imul(rotl(Math.imul(s[1], 5) >>> 0, 7), 9) >>> 0;
    const t = (s[1] << 9) >>> 0;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result / 4294967296;
  };
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

function hashString(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619) >>> 0;
  return h;
}

/** Standard normal draws by Box–Muller from a uniform source. */
export function gaussian(random: Random): () => number {
  return () => drawNormal(random);
}

// Samplers: each a pure function of a Random. `1 - random()` is in (0, 1], safe under a log.

/** Uniform integer in [min, max] (integers, min ≤ max). */
export function drawUniformInt(random: Random, min: number, max: number): number {
  return min + Math.floor(random() * (max - min + 1));
}

/** Exponential with the given mean. */
export function drawExponential(random: Random, mean: number): number {
  return -mean * Math.log(1 - random());
}

/** Geometric on 1, 2, … with the given mean (≥ 1): the trial of the first success at p = 1 / mean. */
export function drawGeometric(random: Random, mean: number): number {
  if (mean <= 1) return 1;
  return 1 + Math.floor(Math.log(1 - random()) / Math.log(1 - 1 / mean));
}

/** Standard normal by Box–Muller (the second variate of the pair is dropped to keep this stateless). */
export function drawNormal(random: Random): number {
  return Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

/** Lognormal exp(N(logMean, logSd²)), numpy's parametrisation; see `lognormalLogMean` for a given mean. */
export function drawLognormal(random: Random, logMean: number, logSd: number): number {
  return Math.exp(logMean + logSd * drawNormal(random));
}

/** The log-mean μ that gives a lognormal with log-sd `logSd` the arithmetic mean `mean`: ln(mean) − σ²/2. */
export function lognormalLogMean(mean: number, logSd: number): number {
  return Math.log(mean) - (logSd * logSd) / 2;
}

/** Gamma(shape, 1) by Marsaglia–Tsang; shapes below 1 via Gamma(shape + 1)·U^(1/shape). */
export function drawGamma(random: Random, shape: number): number {
  if (shape < 1) return drawGamma(random, shape + 1) * Math.pow(1 - random(), 1 / shape);
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number;
    let v: number;
    do {
      x = drawNormal(random);
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = 1 - random();
    const x2 = x * x;
    if (u < 1 - 0.0331 * x2 * x2) return d * v;
    if (Math.log(u) < 0.5 * x2 + d * (1 - v + Math.log(v))) return d * v;
  }
}

/** Beta(a, b) as X / (X + Y) with X ~ Gamma(a), Y ~ Gamma(b); a, b > 0. */
export function drawBeta(random: Random, a: number, b: number): number {
  const x = drawGamma(random, a);
  const y = drawGamma(random, b);
  // Both underflow only for tiny shapes, where the Beta is all but a Bernoulli(a / (a + b)).
  if (x + y === 0) return random() < a / (a + b) ? 1 : 0;
  return x / (x + y);
}

