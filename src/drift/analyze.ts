/**
 * The drift math over whole columns: per feature PSI plus KS (numeric) or chi-square (categorical),
 * the feature verdicts and the data set verdict. Pure; numeric columns are sorted in place, once,
 * and both tests read the sorted arrays.
 */

import { adjustedPValues, decideDataset, decideFeature, type DatasetVerdict, type DriftPolicy } from './decide.js';
import { psiExpected, psiPValue } from '../stats/psi-null.js';
import { mean, standardDeviation } from 'simple-statistics';
import { quantileSorted } from '../stats/quantile.js';
import { sortFloat64 } from '../stats/radix-sort.js';
import { ksTwoSample, type KsMethod } from '../stats/ks.js';
import {
  categoricalChiSquare,
  fillZeroShares,
  mergeSparseBins,
  psiCategorical,
  psiFromShares,
  psiNumeric,
  psiPermutationPValue,
  PSI_PERMUTATION_MAX_ROWS,
  type CategoryCounts,
  type PsiBinKind,
  type PsiBinning,
} from './psi.js';

export type ValueCounts = ReadonlyMap<string, number>;

export type FeatureColumns =
  /**
   * Both arrays are sorted in place by analyzeDrift: the caller hands them over. A reference read sorted
   * (a profile, the reader thread) says so and is not sorted again; the tests check that in one pass.
   */
  | { name: string; type: 'numeric'; reference: Float64Array; current: Float64Array; referenceSorted?: boolean }
  | { name: string; type: 'categorical'; reference: ValueCounts; current: ValueCounts };

export interface AnalyzeSettings extends DriftPolicy {
  binning: PsiBinning;
  quantileBins: number;
}

export interface ColumnSummary {
  n: number;
  mean: number;
  std: number;
  min: number;
  median: number;
  max: number;
}

/** The bins behind a feature's PSI: what the report plots. */
export interface Distribution {
  kind: PsiBinKind | 'categories';
  /** Interval bins: bins + 1 edges (quantile outer edges are ±Infinity). */
  edges: number[] | null;
  /** Value bins (numbers) or categories (strings), one per bin. */
  labels: (number | string)[] | null;
  referenceCounts: number[];
  currentCounts: number[];
}

export interface FeatureAnalysis {
  name: string;
  type: 'numeric' | 'categorical';
  test: 'ks' | 'chi2';
  statistic: number;
  pvalue: number;
  /** KS only: scipy's exact or asymptotic p-value. */
  ksMethod: KsMethod | null;
  psi: number;
  /** The PSI sampling noise alone gives these sizes and bins, and PSI's chi-square p-value under no drift. */
  psiExpected: number;
  psiPvalue: number;
  /** chi2: the asymptotic p; permutation: PSI_PERMUTATIONS permutations on the same bins (below PSI_PERMUTATION_MAX_ROWS rows). */
  psiPvalueMethod: 'chi2' | 'permutation';
  /** The test's and PSI's p-values corrected across the features (drift.correction; equal to them with none). */
  pvalueAdjusted: number;
  psiPvalueAdjusted: number;
  psiDrifted: boolean;
  testDrifted: boolean;
  drifted: boolean;
  distribution: Distribution;
  /** Numeric features only. */
  reference: ColumnSummary | null;
  current: ColumnSummary | null;
  /** Milliseconds per step, when analyzeDrift was given a clock (benchmarks); else null. */
  timingsMs: { sort: number; test: number; psi: number; summary: number } | null;
}

export interface DriftAnalysis {
  features: FeatureAnalysis[];
  verdict: DatasetVerdict;
}

/** A feature's numbers before the decision, which needs every feature's p-values (the correction). */
export type MeasuredFeature = Omit<FeatureAnalysis, 'pvalueAdjusted' | 'psiPvalueAdjusted' | 'psiDrifted' | 'testDrifted' | 'drifted'>;

/** `clock` (milliseconds) times each step of each feature, for benchmarks. */
export function analyzeDrift(columns: readonly FeatureColumns[], settings: AnalyzeSettings, clock?: () => number): DriftAnalysis {
  return decideFeatures(
    columns.map((column) => measureFeature(column, settings, clock)),
    settings,
  );
}

/** One feature's numbers (sorting a numeric one's columns in place), before any decision. */
export function measureFeature(column: FeatureColumns, settings: AnalyzeSettings, clock?: () => number): MeasuredFeature {
  return column.type === 'numeric' ? analyzeNumeric(column, settings, clock) : analyzeCategorical(column, settings, clock);
}

/** The measured features corrected across one another and decided, each and as a data set. */
export function decideFeatures(measured: readonly MeasuredFeature[], settings: AnalyzeSettings): DriftAnalysis {
  const adjusted = adjustedPValues(measured, settings);
  const features: FeatureAnalysis[] = measured.map((f, i) => {
    const pvalueAdjusted = adjusted.pvalue[i]!;
    const psiPvalueAdjusted = adjusted.psiPvalue[i]!;
    return { ...f, pvalueAdjusted, psiPvalueAdjusted, ...decideFeature({ psi: f.psi, psiPvalueAdjusted, pvalueAdjusted, test: f.test, statistic: f.statistic }, settings) };
  });
  const verdict = decideDataset(
    features.map((f) => f.drifted),
    settings,
  );
  return { features, verdict };
}

/**
 * PSI's expected value under no drift (for the reported bins) and its p-value (on the bins merged to hold
 * PSI_TEST_MIN_POOLED rows each: mergeSparseBins).
 */
function psiNull(referenceCounts: readonly number[], currentCounts: readonly number[]): Pick<FeatureAnalysis, 'psiExpected' | 'psiPvalue' | 'psiPvalueMethod'> {
  let bins = 0;
  let n = 0;
  let m = 0;
  for (let i = 0; i < referenceCounts.length; i++) {
    if (referenceCounts[i]! + currentCounts[i]! > 0) bins++;
    n += referenceCounts[i]!;
    m += currentCounts[i]!;
  }
  if (bins === 0 || n === 0 || m === 0) return { psiExpected: Number.NaN, psiPvalue: Number.NaN, psiPvalueMethod: 'chi2' };
  const merged = mergeSparseBins(referenceCounts, currentCounts);
  // Few rows make the chi-square approximation poor: small samples get a permutation test on the same bins.
  if (n + m <= PSI_PERMUTATION_MAX_ROWS) return { psiExpected: psiExpected(bins, n, m), psiPvalue: psiPermutationPValue(merged.referenceCounts, merged.currentCounts), psiPvalueMethod: 'permutation' };
  const mergedPsi = psiFromShares(fillZeroShares(merged.referenceCounts, n), fillZeroShares(merged.currentCounts, m));
  return { psiExpected: psiExpected(bins, n, m), psiPvalue: psiPValue(mergedPsi, merged.referenceCounts.length, n, m), psiPvalueMethod: 'chi2' };
}

function analyzeNumeric(column: Extract<FeatureColumns, { type: 'numeric' }>, settings: AnalyzeSettings, clock?: () => number): MeasuredFeature {
  const t0 = clock?.() ?? 0;
  const reference = column.referenceSorted ? column.reference : sortFloat64(column.reference);
  const current = sortFloat64(column.current);
  const t1 = clock?.() ?? 0;
  const ks = ksTwoSample(reference, current, { sorted: true });
  const t2 = clock?.() ?? 0;
  const psi = psiNumeric(reference, current, { sorted: true, binning: settings.binning, quantileBins: settings.quantileBins });
  const t3 = clock?.() ?? 0;
  const referenceSummary = summarize(reference);
  const currentSummary = summarize(current);
  const t4 = clock?.() ?? 0;
  return {
    name: column.name,
    type: 'numeric',
    test: 'ks',
    statistic: ks.statistic,
    pvalue: ks.pvalue,
    ksMethod: ks.method,
    psi: psi.psi,
    ...psiNull(psi.referenceCounts, psi.currentCounts),
    distribution: {
      kind: psi.kind,
      edges: psi.edges,
      labels: psi.values,
      referenceCounts: psi.referenceCounts,
      currentCounts: psi.currentCounts,
    },
    reference: referenceSummary,
    current: currentSummary,
    timingsMs: clock ? { sort: t1 - t0, test: t2 - t1, psi: t3 - t2, summary: t4 - t3 } : null,
  };
}

function analyzeCategorical(column: Extract<FeatureColumns, { type: 'categorical' }>, settings: AnalyzeSettings, clock?: () => number): MeasuredFeature {
  const t0 = clock?.() ?? 0;
  const counts = categoryCounts(column.reference, column.current);
  const t1 = clock?.() ?? 0;
  const chi2 = categoricalChiSquare(counts);
  const t2 = clock?.() ?? 0;
  const psi = psiCategorical(counts);
  const t3 = clock?.() ?? 0;
  return {
    name: column.name,
    type: 'categorical',
    test: 'chi2',
    statistic: chi2.statistic,
    pvalue: chi2.pvalue,
    ksMethod: null,
    psi: psi.psi,
    ...psiNull(counts.referenceCounts, counts.currentCounts),
    distribution: {
      kind: 'categories',
      edges: null,
      labels: counts.categories,
      referenceCounts: counts.referenceCounts,
      currentCounts: counts.currentCounts,
    },
    reference: null,
    current: null,
    timingsMs: clock ? { sort: t1 - t0, test: t2 - t1, psi: t3 - t2, summary: 0 } : null,
  };
}

/** Counted categories as countCategories would count the raw values: every category of either side, code-unit order. */
export function categoryCounts(reference: ValueCounts, current: ValueCounts): CategoryCounts {
  const categories = [...new Set([...reference.keys(), ...current.keys()])].sort();
  const total = (counts: ValueCounts): number => {
    let sum = 0;
    for (const count of counts.values()) sum += count;
    return sum;
  };
  return {
    categories,
    referenceCounts: categories.map((c) => reference.get(c) ?? 0),
    currentCounts: categories.map((c) => current.get(c) ?? 0),
    nReference: total(reference),
    nCurrent: total(current),
  };
}

/**
 * Mean, standard deviation and quartile points of a sorted, non-empty sample. The mean and the
 * population standard deviation (numpy's default, ddof=0) are simple-statistics' (compensated sums);
 * the median is the one quantile (src/stats/quantile.ts), numpy's linear, which simple-statistics'
 * quantileSorted is not.
 */
export function summarize(sorted: Float64Array): ColumnSummary {
  // simple-statistics reads any array-like by index; its types only say number[].
  const values = sorted as unknown as number[];
  return { n: sorted.length, mean: mean(values), std: standardDeviation(values), min: sorted[0]!, median: quantileSorted(sorted, 0.5), max: sorted[sorted.length - 1]! };
}
