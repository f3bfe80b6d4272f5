/**
 * Two-sample, two-sided Kolmogorov–Smirnov test with the numbers of scipy.stats.ks_2samp
 * (scipy 1.11.4, method='auto'): the exact lattice-path p-value while both samples have at most
 * 10,000 values, else the one-sample Kolmogorov distribution kstwo.sf(D, round(n1·n2/(n1+n2)))
 * from stats/kolmogorov.ts.
 */

import { kolmogorovSf } from './kolmogorov.js';
import { prepareSample } from './sorted-sample.js';

export type KsMethod = 'exact' | 'asymp';

export interface KsResult {
  /** D; in exact mode rounded to a multiple of 1/lcm(n1, n2), as scipy reports it. */
  statistic: number;
  pvalue: number;
  /** 'asymp' also when the exact computation was attempted and failed (scipy warns and falls back). */
  method: KsMethod;
}

export interface KsOptions {
  /** Both samples are already ascending; skips the copy and sort (checked in one pass). */
  sorted?: boolean;
}

// scipy's 'auto' tries the exact distribution while max(n1, n2) is at most this.
const MAX_EXACT_N = 10_000;

/** scipy.stats.ks_2samp(reference, current) for finite, non-empty samples. */
export function ksTwoSample(reference: Float64Array, current: Float64Array, options: KsOptions = {}): KsResult {
  const sorted = options.sorted ?? false;
  const a = prepareSample(reference, 'reference', sorted);
  const b = prepareSample(current, 'current', sorted);
  const d = ksStatistic(a, b);
  const n1 = a.length;
  const n2 = b.length;
  if (Math.max(n1, n2) <= MAX_EXACT_N) {
    const exact = exactTwoSided(n1, n2, d);
    if (exact.ok) return { statistic: exact.statistic, pvalue: exact.pvalue, method: 'exact' };
    return { statistic: exact.statistic, pvalue: asymptoticPValue(n1, n2, exact.statistic), method: 'asymp' };
  }
  return { statistic: d, pvalue: asymptoticPValue(n1, n2, d), method: 'asymp' };
}

/**
 * Largest ECDF gap of two ascending samples, compared after all values equal to the current one are
 * consumed from both sides (so ties never count as a gap), with scipy's arithmetic: i/n1 - j/n2.
 */
export function ksStatistic(a: Float64Array, b: Float64Array): number {
  const n1 = a.length;
  const n2 = b.length;
  let i = 0;
  let j = 0;
  let maxDiff = 0;
  let minDiff = 0;
  // Once one sample is used up the gap only shrinks towards 0, so the walk can stop there.
  while (i < n1 && j < n2) {
    const x = a[i]!;
    const y = b[j]!;
    const value = x <= y ? x : y;
    if (x === value) {
      i++;
      while (i < n1 && a[i] === value) i++;
    }
    if (y === value) {
      j++;
      while (j < n2 && b[j] === value) j++;
    }
    const diff = i / n1 - j / n2;
    if (diff > maxDiff) maxDiff = diff;
    else if (diff < minDiff) minDiff = diff;
  }
  const minS = Math.min(-minDiff, 1);
  return minS > maxDiff ? minS : maxDiff;
}

export interface ExactResult {
  /** False where scipy's exact computation gives a probability outside [0, 1] and it falls back. */
  ok: boolean;
  statistic: number;
  pvalue: number;
}

/** scipy's _attempt_exact_2kssamp for the two-sided alternative: D snapped to h/lcm, then the path count. */
export function exactTwoSided(n1: number, n2: number, d: number): ExactResult {
  const g = gcd(n1, n2);
  const lcm = (n1 / g) * n2;
  const h = roundHalfEven(d * lcm);
  const statistic = h / lcm;
  if (h === 0) return { ok: true, statistic, pvalue: 1 };
  const p = n1 === n2 ? probOutsideSquare(n1, h) : probOutsideBand(n1, n2, g, h);
  if (!(p >= 0 && p <= 1)) return { ok: false, statistic, pvalue: p };
  return { ok: true, statistic, pvalue: p };
}

/** kstwo.sf(d, round(n1·n2/(n1+n2))), clipped to [0, 1]. */
export function asymptoticPValue(n1: number, n2: number, d: number): number {
  const m = Math.max(n1, n2);
  const n = Math.min(n1, n2);
  return clip01(kolmogorovSf(roundHalfEven((m * n) / (m + n)), d));
}

function gcd(a: number, b: number): number {
  let x = a;
  let y = b;
  while (y !== 0) [x, y] = [y, x % y];
  return x;
}

/** np.round: halves go to the even neighbour. */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

function clip01(p: number): number {
  return p < 0 ? 0 : p > 1 ? 1 : p;
}

/**
 * P(D ≥ h/n) for equal sizes n: 2·Σ(-1)^(k+1)·C(2n, n-kh)/C(2n, n), evaluated Horner-style from the
 * largest k as A0(1 - A1(1 - A2(…))) so the alternating sum does not cancel.
 */
function probOutsideSquare(n: number, h: number): number {
  let p = 0;
  for (let k = Math.floor(n / h); k >= 0; k--) {
    let term = 1;
    for (let j = 0; j < h; j++) term = ((n - k * h - j) * term) / (n + k * h + j + 1);
    p = term * (1 - p);
  }
  return 2 * p;
}

/**
 * P(D ≥ h/lcm) for unequal sizes: the share of lattice paths from (0,0) to (m,n) leaving the band
 * |x/m - y/n| < h/lcm, one column at a time over a sliding window (Hodges' inside method, carried
 * as 1 - p directly so small p-values keep their precision, per Viehmann 2021).
 */
function probOutsideBand(n1: number, n2: number, g: number, h: number): number {
  const m = Math.max(n1, n2);
  const n = Math.min(n1, n2);
  const mg = m / g;
  const ng = n / g;
  let minj = 0;
  let maxj = Math.min(Math.ceil(h / mg), n + 1);
  let curlen = maxj - minj;
  const a = new Float64Array(Math.min(2 * maxj + 2, n + 1)).fill(1);
  a.fill(0, minj, maxj);
  for (let i = 1; i <= m; i++) {
    const lastminj = minj;
    const lastlen = curlen;
    minj = Math.min(Math.max(Math.floor((ng * i - h) / mg) + 1, 0), n);
    maxj = Math.min(Math.ceil((ng * i + h) / mg), n + 1);
    if (maxj <= minj) return 1;
    let val = minj === 0 ? 0 : 1;
    const width = maxj - minj;
    const shift = minj - lastminj;
    for (let jj = 0; jj < width; jj++) {
      const j = jj + minj;
      val = (a[jj + shift]! * i + val * j) / (i + j);
      a[jj] = val;
    }
    curlen = width;
    // Cells that left the window are outside the band: probability 1 of having left it.
    if (lastlen > curlen) a.fill(1, curlen, lastlen);
  }
  return a[maxj - minj - 1]!;
}
