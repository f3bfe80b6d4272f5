import { describe, expect, it } from 'vitest';

import { kolmogorovSf, smirnovSf } from '../../src/stats/kolmogorov.js';
import { driftVectors, type Num, expectProbability } from '../helpers/reference-vectors.js';

// Reference values from python/tools/gen_drift_vectors.py (numpy 1.26.4, scipy 1.11.4).
interface KolmogorovVectors {
  meta: { numpy: string; scipy: string };
  kstwo: { n: number; x: number; sf: Num }[];
  smirnov: { n: number; x: number; sf: Num }[];
}

const vectors = driftVectors<KolmogorovVectors>();

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
