/**
 * The drift result (the `--json` line, DESIGN.md's contract plus explicit test fields) and
 * report.json (the result plus the bins and summaries behind each chart). Quantile bins' outer edges
 * and a chi-square statistic can be infinite: src/report/json.ts writes them as "Infinity".
 */

import type { ProfileUse } from './reference-profile.js';
import type { LogQuality } from './live-log.js';
import type { DriftRule, PsiRule } from './decide.js';
import type { Correction } from '../stats/multiple-testing.js';
import type { Distribution, DriftAnalysis, FeatureAnalysis, ColumnSummary } from './analyze.js';
import type { PsiBinning } from './psi.js';

export const REPORT_FORMAT = 'driftgate.drift-report/1';

/** Bins beyond this are merged for report.json and the charts (a value-bucketed column can have millions). */
export const MAX_REPORT_BINS = 100;

export interface FeatureResult {
  name: string;
  type: 'numeric' | 'categorical';
  psi: number;
  /** KS for numeric features; null for categorical ones, whose test is chi-square. */
  ks_statistic: number | null;
  ks_pvalue: number | null;
  test: 'ks' | 'chi2';
  statistic: number;
  pvalue: number;
  /** The PSI sampling noise alone gives at these sizes and bins, and PSI's chi-square p-value under no drift (null: a side without rows). */
  psi_expected: number | null;
  psi_pvalue: number | null;
  psi_pvalue_method: 'chi2' | 'permutation';
  /** The test's and PSI's p-values corrected across the features (thresholds.correction; equal to them with none). */
  pvalue_adjusted: number | null;
  psi_pvalue_adjusted: number | null;
  psi_drifted: boolean;
  test_drifted: boolean;
  drifted: boolean;
}

export interface TargetResult {
  name: string;
  /** Share per class (config's classes first, then any other value); null where the side has no such column. */
  reference: Record<string, number> | null;
  current: Record<string, number> | null;
  /** 'target': the current data's target column; 'prediction': the log's predictions (live traffic has no labels up front). */
  current_source: 'target' | 'prediction' | null;
  n_reference: number;
  n_current: number;
  /**
   * The target's drift test, as a categorical feature's: prediction drift when current_source is 'prediction'
   * (the predicted classes against the reference's labels), label drift for a data set. Its own verdict, never
   * counted in drift.share; null when a side has no values or nothing was tested (insufficient data).
   */
  drift: FeatureResult | null;
}

export interface Thresholds {
  psi_threshold: number;
  ks_alpha: number;
  rule: DriftRule;
  psi_rule: PsiRule;
  ks_min_statistic: number;
  correction: Correction;
  share: number;
  binning: PsiBinning;
  quantile_bins: number;
  min_rows: number;
}

export interface SourceResult {
  kind: 'file' | 'log';
  /** The path or glob as given (resolved), and the files it matched. */
  pattern: string;
  files: string[];
  /** Log only: the window asked for, the --since bound, and the window's first and last ts. */
  window: number | null;
  since: string | null;
  first_ts: string | null;
  last_ts: string | null;
  /** Log only: rows read, malformed rows left out (the first ones with file, line and problem), files not read. */
  quality: LogQuality | null;
  /** Reference only: the reference profile drift looked for (drift profile), whether it was used and why not; null when there was none. */
  profile: ProfileUse | null;
}

export interface DriftResult {
  id: string;
  /** 'insufficient_data': fewer live rows than drift.min_rows; nothing was tested and drift_detected is false. */
  status: 'ok' | 'insufficient_data';
  reason: string | null;
  drift_detected: boolean;
  share_drifted: number;
  n_drifted: number;
  n_features: number;
  n_reference: number;
  n_current: number;
  features: FeatureResult[];
  target: TargetResult | null;
  thresholds: Thresholds;
  reference: SourceResult;
  current: SourceResult;
  report_dir: string | null;
  timings_ms: Record<string, number>;
}

export interface ReportDistribution {
  kind: Distribution['kind'];
  edges: number[] | null;
  labels: (number | string)[] | null;
  reference_counts: number[];
  current_counts: number[];
  /** count / rows, without the zero fill PSI applies. */
  reference_shares: number[];
  current_shares: number[];
  /** The bin count before merging, when there were more than MAX_REPORT_BINS; else null. */
  regrouped_from: number | null;
}

export interface ReportFeature extends FeatureResult {
  ks_method: 'exact' | 'asymp' | null;
  distribution: ReportDistribution;
  reference_summary: ColumnSummary | null;
  current_summary: ColumnSummary | null;
}

export interface DriftReport extends Omit<DriftResult, 'features' | 'timings_ms'> {
  format: typeof REPORT_FORMAT;
  created_at: string;
  config_file: string;
  features: ReportFeature[];
}

function orNull(x: number): number | null {
  return Number.isFinite(x) ? x : null;
}

export function featureResult(feature: FeatureAnalysis): FeatureResult {
  const ks = feature.test === 'ks';
  return {
    name: feature.name,
    type: feature.type,
    psi: feature.psi,
    ks_statistic: ks ? feature.statistic : null,
    ks_pvalue: ks ? feature.pvalue : null,
    test: feature.test,
    statistic: feature.statistic,
    pvalue: feature.pvalue,
    psi_expected: orNull(feature.psiExpected),
    psi_pvalue: orNull(feature.psiPvalue),
    psi_pvalue_method: feature.psiPvalueMethod,
    pvalue_adjusted: orNull(feature.pvalueAdjusted),
    psi_pvalue_adjusted: orNull(feature.psiPvalueAdjusted),
    psi_drifted: feature.psiDrifted,
    test_drifted: feature.testDrifted,
    drifted: feature.drifted,
  };
}

/** Shares of each value, `order` first (also at 0), then any other value in code-unit order. */
export function shares(counts: ReadonlyMap<string, number>, order: readonly string[]): Record<string, number> {
  let total = 0;
  for (const count of counts.values()) total += count;
  const keys = [...order, ...[...counts.keys()].filter((k) => !order.includes(k)).sort()];
  const out: Record<string, number> = {};
  for (const key of keys) out[key] = total === 0 ? 0 : (counts.get(key) ?? 0) / total;
  return out;
}

export function buildReport(result: DriftResult, analysis: DriftAnalysis, meta: { createdAt: Date; configFile: string }): DriftReport {
  const { features, timings_ms: _timings, ...rest } = result;
  return {
    format: REPORT_FORMAT,
    created_at: meta.createdAt.toISOString(),
    config_file: meta.configFile,
    ...rest,
    features: features.map((feature, i) => {
      const detail = analysis.features[i]!;
      return {
        ...feature,
        ks_method: detail.ksMethod,
        distribution: reportDistribution(detail.distribution, MAX_REPORT_BINS),
        reference_summary: detail.reference,
        current_summary: detail.current,
      };
    }),
  };
}

/** JSON text with non-finite numbers as strings (see the module comment). */
function sum(values: readonly number[]): number {
  let total = 0;
  for (const v of values) total += v;
  return total;
}

/** The distribution with shares, at most `maxBins` bins: neighbours merged, or rare categories pooled as "other". */
export function reportDistribution(distribution: Distribution, maxBins: number): ReportDistribution {
  const nReference = sum(distribution.referenceCounts);
  const nCurrent = sum(distribution.currentCounts);
  const bins = distribution.referenceCounts.length;
  let { edges, labels, referenceCounts, currentCounts } = distribution;
  let regroupedFrom: number | null = null;
  if (bins > maxBins) {
    regroupedFrom = bins;
    if (distribution.kind === 'categories') {
      // Keep the categories that weigh most on either side, in their order; pool the rest.
      const weight = (i: number): number => Math.max(referenceCounts[i]! / nReference, currentCounts[i]! / nCurrent);
      const keep = new Set(
        Array.from({ length: bins }, (_, i) => i)
          .sort((a, b) => weight(b) - weight(a) || a - b)
          .slice(0, maxBins - 1),
      );
      const kept = Array.from({ length: bins }, (_, i) => i).filter((i) => keep.has(i));
      const pooled = Array.from({ length: bins }, (_, i) => i).filter((i) => !keep.has(i));
      labels = [...kept.map((i) => labels![i]!), `other (${pooled.length} categories)`];
      referenceCounts = [...kept.map((i) => distribution.referenceCounts[i]!), sum(pooled.map((i) => distribution.referenceCounts[i]!))];
      currentCounts = [...kept.map((i) => distribution.currentCounts[i]!), sum(pooled.map((i) => distribution.currentCounts[i]!))];
    } else {
      const size = Math.ceil(bins / maxBins);
      const groups = Math.ceil(bins / size);
      const group = <T>(pick: (from: number, to: number) => T): T[] =>
        Array.from({ length: groups }, (_, g) => pick(g * size, Math.min(bins, (g + 1) * size)));
      const fromCounts = distribution.referenceCounts;
      const toCounts = distribution.currentCounts;
      referenceCounts = group((a, b) => sum(fromCounts.slice(a, b)));
      currentCounts = group((a, b) => sum(toCounts.slice(a, b)));
      if (edges !== null) {
        const all = edges;
        edges = [...group((a) => all[a]!), all[bins]!];
      }
      if (labels !== null) {
        const all = labels;
        labels = group((a, b) => (b - a === 1 ? all[a]! : `${all[a]}–${all[b - 1]}`));
      }
    }
  }
  return {
    kind: distribution.kind,
    edges,
    labels,
    reference_counts: referenceCounts,
    current_counts: currentCounts,
    reference_shares: referenceCounts.map((c) => (nReference === 0 ? 0 : c / nReference)),
    current_shares: currentCounts.map((c) => (nCurrent === 0 ? 0 : c / nCurrent)),
    regrouped_from: regroupedFrom,
  };
}
