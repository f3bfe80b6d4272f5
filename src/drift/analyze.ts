/**
 * The drift math over whole columns: per feature PSI plus KS (numeric) or chi-square (categorical),
 * the feature verdicts and the data set verdict. Pure; numeric columns are sorted in place, once,
 * and both tests read the sorted arrays.
 */

import { decideDataset, decideFeature, type DatasetVerdict, type DriftPolicy } from './decide.js';
import { mean, standardDeviation } from 'simple-statistics';
import { quantileSorted } from '../stats/quantile.js';
import { ksTwoSample, type KsMethod } from '../stats/ks.js';
import { categoricalChiSquare, psiCategorical, psiNumeric, type CategoryCounts, type PsiBinKind, type PsiBinning } from './psi.js';

export type ValueCounts = ReadonlyMap<string, number>;

export type FeatureColumns =
  /** Both arrays are sorted in place by analyzeDrift: the caller hands them over. */
  | { name: string; type: 'numeric'; reference: Float64Array; current: Float64Array }
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

/** `clock` (milliseconds) times each step of each feature, for benchmarks. */
export function analyzeDrift(columns: readonly FeatureColumns[], settings: AnalyzeSettings, clock?: () => number): DriftAnalysis {
  const features = columns.map((column) =>
    column.type === 'numeric' ? analyzeNumeric(column, settings, clock) : analyzeCategorical(column, settings, clock),
  );
  const verdict = decideDataset(
    features.map((f) => f.drifted),
    settings,
  );
  return { features, verdict };
}

function analyzeNumeric(column: Extract<FeatureColumns, { type: 'numeric' }>, settings: AnalyzeSettings, clock?: () => number): FeatureAnalysis {
  const t0 = clock?.() ?? 0;
  const reference = column.reference.sort();
  const current = column.current.sort();
  const t1 = clock?.() ?? 0;
  const ks = ksTwoSample(reference, current, { sorted: true });
  const t2 = clock?.() ?? 0;
  const psi = psiNumeric(reference, current, { sorted: true, binning: settings.binning, quantileBins: settings.quantileBins });
  const t3 = clock?.() ?? 0;
  const referenceSummary = summarize(reference);
  const currentSummary = summarize(current);
  const t4 = clock?.() ?? 0;
  const verdict = decideFeature({ psi: psi.psi, pvalue: ks.pvalue }, settings);
  return {
    name: column.name,
    type: 'numeric',
    test: 'ks',
    statistic: ks.statistic,
    pvalue: ks.pvalue,
    ksMethod: ks.method,
    psi: psi.psi,
    ...verdict,
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

function analyzeCategorical(column: Extract<FeatureColumns, { type: 'categorical' }>, settings: AnalyzeSettings, clock?: () => number): FeatureAnalysis {
  const t0 = clock?.() ?? 0;
  const counts = categoryCounts(column.reference, column.current);
  const t1 = clock?.() ?? 0;
  const chi2 = categoricalChiSquare(counts);
  const t2 = clock?.() ?? 0;
  const psi = psiCategorical(counts);
  const t3 = clock?.() ?? 0;
  const verdict = decideFeature({ psi: psi.psi, pvalue: chi2.pvalue }, settings);
  return {
    name: column.name,
    type: 'categorical',
    test: 'chi2',
    statistic: chi2.statistic,
    pvalue: chi2.pvalue,
    ksMethod: null,
    psi: psi.psi,
    ...verdict,
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
