import { describe, expect, it } from 'vitest';
import { drawBeta, drawExponential, drawGamma, drawGeometric, drawLognormal, drawNormal, drawUniformInt, lognormalLogMean, seededRandom, type Random } from '../src/random.js';

function moments(random: Random, n: number, draw: (random: Random) => number): { mean: number; variance: number; min: number; max: number } {
  let sum = 0;
  let sumSq = 0;
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < n; i++) {
    const x = draw(random);
    sum += x;
    sumSq += x * x;
    min = Math.min(min, x);
    max = Math.max(max, x);
  }
  const mean = sum / n;
  return { mean, variance: (sumSq - n * mean * mean) / (n - 1), min, max };
}

describe('samplers', () => {
  const N = 200_000;

  it('draws uniform integers over the whole closed range', () => {
    const m = moments(seededRandom(1), N, (r) => drawUniformInt(r, 30, 80));
    expect(m.min).toBe(30);
    expect(m.max).toBe(80);
    expect(m.mean).toBeCloseTo(55, 0);
    // (51² − 1) / 12
    expect(m.variance / 216.6667).toBeCloseTo(1, 1);
  });

  it('draws geometric counts on 1, 2, … with the given mean and variance (1 − p) / p²', () => {
    const m = moments(seededRandom(2), N, (r) => drawGeometric(r, 5));
    expect(m.min).toBe(1);
    expect(Math.abs(m.mean / 5 - 1)).toBeLessThan(0.01);
    expect(Math.abs(m.variance / 20 - 1)).toBeLessThan(0.03);
    expect(moments(seededRandom(2), 1000, (r) => drawGeometric(r, 1))).toMatchObject({ min: 1, max: 1 });
  });

  it('draws exponentials, normals and lognormals with the stated moments', () => {
    const exp = moments(seededRandom(3), N, (r) => drawExponential(r, 20));
    expect(Math.abs(exp.mean / 20 - 1)).toBeLessThan(0.01);
    expect(exp.min).toBeGreaterThanOrEqual(0);
    const normal = moments(seededRandom(4), N, drawNormal);
    expect(Math.abs(normal.mean)).toBeLessThan(0.01);
    expect(Math.abs(normal.variance - 1)).toBeLessThan(0.01);
    const mu = lognormalLogMean(120, 0.5);
    expect(mu).toBe(Math.log(120) - 0.125);
    const logn = moments(seededRandom(5), N, (r) => drawLognormal(r, mu, 0.5));
    expect(Math.abs(logn.mean / 120 - 1)).toBeLessThan(0.01);
    // Var = mean² (e^{σ²} − 1)
    expect(Math.abs(logn.variance / (120 ** 2 * Math.expm1(0.25)) - 1)).toBeLessThan(0.03);
  });

  it.each([0.3, 1, 2.5, 8])('draws Gamma(%d) with mean and variance equal to the shape', (shape) => {
    const m = moments(seededRandom(6), N, (r) => drawGamma(r, shape));
    expect(m.min).toBeGreaterThan(0);
    expect(Math.abs(m.mean / shape - 1)).toBeLessThan(0.01);
    expect(Math.abs(m.variance / shape - 1)).toBeLessThan(0.03);
  });

  it.each([
    [8, 2],
    [0.5, 0.5],
    [85, 15],
  ])('draws Beta(%d, %d) with mean a / (a + b) and variance ab / ((a + b)²(a + b + 1))', (a, b) => {
    const m = moments(seededRandom(7), N, (r) => drawBeta(r, a, b));
    const s = a + b;
    expect(m.min).toBeGreaterThanOrEqual(0);
    expect(m.max).toBeLessThanOrEqual(1);
    expect(Math.abs(m.mean - a / s)).toBeLessThan(0.003);
    expect(Math.abs(m.variance / ((a * b) / (s * s * (s + 1))) - 1)).toBeLessThan(0.03);
  });

});
