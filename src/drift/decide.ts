/**
 * Drift decisions, pure: a feature drifts by its PSI, its test p-value (KS for numeric features,
 * chi-square for categorical ones) or both, per the configured rule; the data set drifts when the
 * share of drifted features reaches the configured share.
 *
 * Honest at every sample size: PSI can be judged by its threshold, by its chi-square p-value under no
 * drift (src/stats/psi-null.ts), or both (drift.psi_rule); a KS test needs a statistic of at least
 * drift.ks_min_statistic as well as its p-value, so a million rows do not flag a shift of 0.001; and the
 * p-values can be corrected across the features (drift.correction: Benjamini–Hochberg or Holm).
 */

import { InputError } from '../errors.js';
import { adjustPValues, type Correction } from '../stats/multiple-testing.js';

export type DriftRule = 'psi' | 'ks' | 'any' | 'all';
export type PsiRule = 'threshold' | 'significant' | 'both';

export interface DriftPolicy {
  /** A feature's PSI at or above this counts as drift. */
  psiThreshold: number;
  /** A feature's test p-value at or below this counts as drift. */
  ksAlpha: number;
  rule: DriftRule;
  /** The data set drifts when drifted features / all features ≥ share. */
  share: number;
  /** PSI drifts at its threshold, when significant (its corrected p-value ≤ ksAlpha), or both. */
  psiRule: PsiRule;
  /** A KS test drifts only with a statistic at least this large (0: any). */
  ksMinStatistic: number;
  /** How the test p-values (and PSI's) are corrected across the features. */
  correction: Correction;
}

export interface FeatureEvidence {
  psi: number;
  /** PSI's chi-square p-value under no drift, corrected across the features. */
  psiPvalueAdjusted: number;
  /** KS p-value for a numeric feature, chi-square p-value for a categorical one, corrected across the features. */
  pvalueAdjusted: number;
  test: 'ks' | 'chi2';
  statistic: number;
}

export interface FeatureVerdict {
  psiDrifted: boolean;
  testDrifted: boolean;
  drifted: boolean;
}

export interface DatasetVerdict {
  driftDetected: boolean;
  shareDrifted: number;
  nDrifted: number;
  nFeatures: number;
}

/** Whether one feature drifted under the policy's rule. */
export function decideFeature(evidence: FeatureEvidence, policy: Pick<DriftPolicy, 'psiThreshold' | 'ksAlpha' | 'rule' | 'psiRule' | 'ksMinStatistic'>): FeatureVerdict {
  const overThreshold = evidence.psi >= policy.psiThreshold;
  const significant = evidence.psiPvalueAdjusted <= policy.ksAlpha;
  const psiDrifted = policy.psiRule === 'threshold' ? overThreshold : policy.psiRule === 'significant' ? significant : overThreshold && significant;
  const bigEnough = evidence.test !== 'ks' || evidence.statistic >= policy.ksMinStatistic;
  const testDrifted = evidence.pvalueAdjusted <= policy.ksAlpha && bigEnough;
  const drifted =
    policy.rule === 'psi'
      ? psiDrifted
      : policy.rule === 'ks'
        ? testDrifted
        : policy.rule === 'any'
          ? psiDrifted || testDrifted
          : psiDrifted && testDrifted;
  return { psiDrifted, testDrifted, drifted };
}

/** Each feature's p-values corrected across the features, as the policy says: [tests, PSI]. */
export function adjustedPValues(features: readonly { pvalue: number; psiPvalue: number }[], policy: Pick<DriftPolicy, 'correction'>): { pvalue: number[]; psiPvalue: number[] } {
  return {
    pvalue: adjustPValues(
      features.map((f) => f.pvalue),
      policy.correction,
    ),
    psiPvalue: adjustPValues(
      features.map((f) => f.psiPvalue),
      policy.correction,
    ),
  };
}

/** Whether the data set drifted, given each feature's verdict. */
export function decideDataset(drifted: readonly boolean[], policy: Pick<DriftPolicy, 'share'>): DatasetVerdict {
  const nFeatures = drifted.length;
  if (nFeatures === 0) throw new InputError('drift decision: expected at least one feature, got none');
  const nDrifted = drifted.filter(Boolean).length;
  const shareDrifted = nDrifted / nFeatures;
  return { driftDetected: shareDrifted >= policy.share, shareDrifted, nDrifted, nFeatures };
}
