/**
 * Population Stability Index with Evidently's defaults (legacy stattests get_binned_data + psi):
 * a numeric feature with more than 20 distinct reference values is cut into Sturges bins over the
 * pooled range; otherwise every value seen on either side is its own bucket. Zero shares are filled,
 * then PSI = Σ (ref - cur)·ln(ref/cur).
 */

import { InputError } from '../errors.js';
import { chiSquareTest, type ChiSquareTestResult } from '../stats/chi-square.js';
import { prepareSample } from '../stats/sorted-sample.js';
import { seededRandom } from '../random.js';
import { histogramSorted, quantileEdges, sturgesEdges } from './histogram.js';

/** Evidently bins a numeric feature only above this many distinct reference values. */
export const MAX_VALUE_BINS = 20;

export type PsiBinning = 'sturges' | 'quantile';

export interface PsiOptions {
  /** 'sturges' (default, Evidently) or 'quantile': N reference-quantile bins, classic credit-risk PSI. */
  binning?: PsiBinning;
  /** Number of quantile bins before duplicate edges collapse; default 10. */
  quantileBins?: number;
  /** Both samples are already ascending; skips the copy and sort (checked in one pass). */
  sorted?: boolean;
}

export type PsiBinKind = PsiBinning | 'values';

/** Per-bin numbers behind a PSI value, for plotting reference against current. */
export interface PsiBins {
  referenceCounts: number[];
  currentCounts: number[];
  /** count/n with zero shares filled: exactly what the PSI sum used. */
  referenceShares: number[];
  currentShares: number[];
}

export interface NumericPsiResult extends PsiBins {
  psi: number;
  kind: PsiBinKind;
  /** Interval bins (kind 'sturges' | 'quantile'): bins + 1 edges; quantile outer edges are ±Infinity. */
  edges: number[] | null;
  /** Value bins (kind 'values'): the distinct values of both samples, ascending. */
  values: number[] | null;
}

export interface CategoryCounts {
  /** Every category seen in either sample, in code-unit order. */
  categories: string[];
  referenceCounts: number[];
  currentCounts: number[];
  nReference: number;
  nCurrent: number;
}

export interface CategoricalPsiResult extends PsiBins {
  psi: number;
  categories: string[];
}

/**
 * Shares count/total, zeros replaced as Evidently does so ln() stays finite: by min(nonzero share)/1e6
 * when that minimum is ≤ 1e-4, else by 1e-4.
 */
export function fillZeroShares(counts: readonly number[], total: number): number[] {
  const shares = counts.map((count) => count / total);
  let min = Infinity;
  for (const share of shares) if (share !== 0 && share < min) min = share;
  const fill = min <= 1e-4 ? min / 1e6 : 1e-4;
  return shares.map((share) => (share === 0 ? fill : share));
}

/** Σ (ref - cur)·ln(ref/cur) over matching bins. */
export function psiFromShares(referenceShares: readonly number[], currentShares: readonly number[]): number {
  if (referenceShares.length !== currentShares.length) {
    throw new InputError(`PSI shares: expected equal bin counts, got ${referenceShares.length} and ${currentShares.length}`);
  }
  let psi = 0;
  for (let i = 0; i < referenceShares.length; i++) {
    const r = referenceShares[i]!;
    const c = currentShares[i]!;
    psi += (r - c) * Math.log(r / c);
  }
  return psi;
}

/** A bin of PSI's significance test holds at least this many rows of both sides together. */
export const PSI_TEST_MIN_POOLED = 10;

/**
 * Neighbouring bins merged, in order, until each holds at least `minPooled` rows of both sides together
 * (a short remainder joins the last bin). A chi-square needs filled bins: a tail bin with 1 row on one side
 * and 0 on the other, its zero share filled as Evidently does, adds far more to PSI than noise should,
 * and at 100,000 rows a side that alone flags a fifth of the no-drift runs.
 */
export function mergeSparseBins(referenceCounts: readonly number[], currentCounts: readonly number[], minPooled = PSI_TEST_MIN_POOLED): { referenceCounts: number[]; currentCounts: number[] } {
  const ref: number[] = [];
  const cur: number[] = [];
  let r = 0;
  let c = 0;
  for (let i = 0; i < referenceCounts.length; i++) {
    r += referenceCounts[i]!;
    c += currentCounts[i]!;
    if (r + c >= minPooled) {
      ref.push(r);
      cur.push(c);
      r = 0;
      c = 0;
    }
  }
  if (r + c > 0) {
    if (ref.length === 0) {
      ref.push(r);
      cur.push(c);
    } else {
      ref[ref.length - 1]! += r;
      cur[cur.length - 1]! += c;
    }
  }
  return { referenceCounts: ref, currentCounts: cur };
}

/** Below this many rows on both sides together PSI's p-value is a permutation test's (the chi-square is poor with sparse bins). */
export const PSI_PERMUTATION_MAX_ROWS = 2000;
export const PSI_PERMUTATIONS = 999;

/**
 * PSI's p-value under no drift by permutation, on the same bins: the pooled rows' bins are dealt at
 * random into a reference of its size and a current of the rest, `permutations` times (seeded, so a
 * report is reproducible); p = (1 + #{PSI ≥ observed}) / (1 + permutations).
 */
export function psiPermutationPValue(referenceCounts: readonly number[], currentCounts: readonly number[], permutations = PSI_PERMUTATIONS): number {
  const k = referenceCounts.length;
  let n = 0;
  let total = 0;
  for (let i = 0; i < k; i++) {
    n += referenceCounts[i]!;
    total += referenceCounts[i]! + currentCounts[i]!;
  }
  const m = total - n;
  const observed = fromCounts([...referenceCounts], [...currentCounts], n, m).psi;
  const pooled = new Int32Array(total);
  for (let i = 0, at = 0; i < k; i++) for (let c = referenceCounts[i]! + currentCounts[i]!; c > 0; c--) pooled[at++] = i;
  const random = seededRandom('psi-permutation');
  const ref = new Array<number>(k);
  const cur = new Array<number>(k);
  let atLeast = 0;
  for (let p = 0; p < permutations; p++) {
    // A partial Fisher–Yates: the first n places are the permuted reference.
    for (let i = 0; i < n; i++) {
      const j = i + Math.floor(random() * (total - i));
      const t = pooled[i]!;
      pooled[i] = pooled[j]!;
      pooled[j] = t;
    }
    ref.fill(0);
    cur.fill(0);
    for (let i = 0; i < n; i++) ref[pooled[i]!]! += 1;
    for (let i = n; i < total; i++) cur[pooled[i]!]! += 1;
    // A relative tolerance: the same counts give the same PSI up to rounding.
    if (psiFromShares(fillZeroShares(ref, n), fillZeroShares(cur, m)) >= observed * (1 - 1e-12)) atLeast++;
  }
  return (1 + atLeast) / (1 + permutations);
}

function fromCounts(referenceCounts: number[], currentCounts: number[], nReference: number, nCurrent: number): PsiBins & { psi: number } {
  const referenceShares = fillZeroShares(referenceCounts, nReference);
  const currentShares = fillZeroShares(currentCounts, nCurrent);
  return { psi: psiFromShares(referenceShares, currentShares), referenceCounts, currentCounts, referenceShares, currentShares };
}

/** Distinct values of an ascending sample, stopping once there are more than `limit`. */
function distinctUpTo(sorted: Float64Array, limit: number): number {
  let distinct = 1;
  for (let i = 1; i < sorted.length && distinct <= limit; i++) if (sorted[i] !== sorted[i - 1]) distinct++;
  return distinct;
}

/** One bucket per distinct value of either ascending sample, with both samples' counts. */
function valueBuckets(a: Float64Array, b: Float64Array): { values: number[]; referenceCounts: number[]; currentCounts: number[] } {
  const values: number[] = [];
  const referenceCounts: number[] = [];
  const currentCounts: number[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    const value = j >= b.length || (i < a.length && a[i]! <= b[j]!) ? a[i]! : b[j]!;
    const i0 = i;
    const j0 = j;
    while (i < a.length && a[i] === value) i++;
    while (j < b.length && b[j] === value) j++;
    values.push(value);
    referenceCounts.push(i - i0);
    currentCounts.push(j - j0);
  }
  return { values, referenceCounts, currentCounts };
}

/** PSI of a numeric feature; finite, non-empty samples. */
export function psiNumeric(reference: Float64Array, current: Float64Array, options: PsiOptions = {}): NumericPsiResult {
  const sorted = options.sorted ?? false;
  const a = prepareSample(reference, 'reference', sorted);
  const b = prepareSample(current, 'current', sorted);
  const n1 = a.length;
  const n2 = b.length;
  // Interval bins over a handful of values are arbitrary, so both binnings bucket by value here.
  if (distinctUpTo(a, MAX_VALUE_BINS) <= MAX_VALUE_BINS) {
    const buckets = valueBuckets(a, b);
    const result = fromCounts(buckets.referenceCounts, buckets.currentCounts, n1, n2);
    return { ...result, kind: 'values', edges: null, values: buckets.values };
  }
  const binning = options.binning ?? 'sturges';
  const edges =
    binning === 'quantile'
      ? quantileEdges(a, options.quantileBins ?? 10)
      : sturgesEdges(Math.min(a[0]!, b[0]!), Math.max(a[n1 - 1]!, b[n2 - 1]!), n1 + n2);
  const result = fromCounts(histogramSorted(a, edges), histogramSorted(b, edges), n1, n2);
  return { ...result, kind: binning, edges, values: null };
}

/** Counts per category over both samples; the input of psiCategorical and categoricalChiSquare. */
export function countCategories(reference: readonly string[], current: readonly string[]): CategoryCounts {
  if (reference.length === 0) throw new InputError('reference: expected at least one value, got none');
  if (current.length === 0) throw new InputError('current: expected at least one value, got none');
  const counts = new Map<string, [number, number]>();
  for (const value of reference) {
    const entry = counts.get(value);
    if (entry) entry[0]++;
    else counts.set(value, [1, 0]);
  }
  for (const value of current) {
    const entry = counts.get(value);
    if (entry) entry[1]++;
    else counts.set(value, [0, 1]);
  }
  const categories = [...counts.keys()].sort();
  return {
    categories,
    referenceCounts: categories.map((c) => counts.get(c)![0]),
    currentCounts: categories.map((c) => counts.get(c)![1]),
    nReference: reference.length,
    nCurrent: current.length,
  };
}

/** PSI of a categorical feature: one bucket per category, new categories in current included. */
export function psiCategorical(counts: CategoryCounts): CategoricalPsiResult {
  const result = fromCounts(counts.referenceCounts, counts.currentCounts, counts.nReference, counts.nCurrent);
  return { ...result, categories: counts.categories };
}

/**
 * The categorical drift test as Evidently's chisquare stattest runs it: scipy.stats.chisquare of the
 * current counts against the reference counts scaled to the current total.
 */
export function categoricalChiSquare(counts: CategoryCounts): ChiSquareTestResult {
  const scale = counts.nCurrent / counts.nReference;
  return chiSquareTest(counts.currentCounts, counts.referenceCounts.map((count) => count * scale));
}
