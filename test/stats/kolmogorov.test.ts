import { readFileSync } from 'node:fs';

import { describe, expect, it } from 'vitest';

import { kolmogorovSf, smirnovSf } from '../../src/stats/kolmogorov.js';

/** JSON has no infinities: the generator writes them as strings. */
type Num = number | 'Infinity' | '-Infinity';

// Reference values from python/tools/gen_drift_vectors.py (numpy 1.26.4, scipy 1.11.4).
interface KolmogorovVectors {
  meta: { numpy: string; scipy: string };
  kstwo: { n: number; x: number; sf: Num }[];
  smirnov: { n: number; x: number; sf: Num }[];
}

const vectors = JSON.parse(readFileSync(new URL('../fixtures/drift-vectors.json', import.meta.url), 'utf8')) as KolmogorovVectors;

function num(value: Num): number {
  return value === 'Infinity' ? Infinity : value === '-Infinity' ? -Infinity : value;
}

/** Probabilities to 1e-6 relative; exact 0 and 1 must match exactly. */
function expectProbability(actual: number, expected: Num, label: string): void {
  const e = num(expected);
  if (e === 0 || e === 1 || !Number.isFinite(e)) {
    expect(actual, label).toBe(e);
    return;
  }
  expect(Math.abs(actual - e), `${label}: got ${actual}, expected ${e}`).toBeLessThanOrEqual(1e-6 * Math.abs(e));
}

it('uses vectors from numpy 1.26.4 / scipy 1.11.4', () => {
  expect(vectors.meta).toMatchObject({ numpy: '1.26.4', scipy: '1.11.4' });
});

describe('kolmogorovSf against scipy.stats.kstwo.sf', () => {
  it.each(vectors.kstwo.map((r) => [`n=${r.n} x=${r.x}`, r] as const))('%s', (label, r) => {
    expectProbability(kolmogorovSf(r.n, r.x), r.sf, label);
  });

  it('is 1 at and below the support start 0.5/n and 0 from 1 on', () => {
    expect(kolmogorovSf(10, 0.05)).toBe(1);
    expect(kolmogorovSf(10, 0)).toBe(1);
    expect(kolmogorovSf(10, 1)).toBe(0);
    expect(kolmogorovSf(10, 1.5)).toBe(0);
  });

  it('is NaN for a non-integral or non-positive n, as scipy', () => {
    expect(kolmogorovSf(0, 0.3)).toBeNaN();
    expect(kolmogorovSf(2.5, 0.3)).toBeNaN();
  });
});

describe('smirnovSf against scipy.special.smirnov', () => {
  it.each(vectors.smirnov.map((r) => [`n=${r.n} x=${r.x}`, r] as const))('%s', (label, r) => {
    expectProbability(smirnovSf(r.n, r.x), r.sf, label);
  });
});
