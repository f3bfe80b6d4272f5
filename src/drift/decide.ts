/**
 * Drift decisions, pure: a feature drifts by its PSI, its test p-value (KS for numeric features,
 * chi-square for categorical ones) or both, per the configured rule; the data set drifts when the
 * share of drifted features reaches the configured share.
 */

import { InputError } from '../errors.js';

export type DriftRule = 'psi' | 'ks' | 'any' | 'all';

export interface DriftPolicy {
  /** A feature's PSI at or above this counts as drift. */
  psiThreshold: number;
  /** A feature's test p-value at or below this counts as drift. */
  ksAlpha: number;
  rule: DriftRule;
  /** The data set drifts when drifted features / all features ≥ share. */
  share: number;
}

export interface FeatureEvidence {
  psi: number;
  /** KS p-value for a numeric feature, chi-square p-value for a categorical one. */
  pvalue: number;
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
export function decideFeature(evidence: FeatureEvidence, policy: Pick<DriftPolicy, 'psiThreshold' | 'ksAlpha' | 'rule'>): FeatureVerdict {
  const psiDrifted = evidence.psi >= policy.psiThreshold;
  const testDrifted = evidence.pvalue <= policy.ksAlpha;
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

/** Whether the data set drifted, given each feature's verdict. */
export function decideDataset(drifted: readonly boolean[], policy: Pick<DriftPolicy, 'share'>): DatasetVerdict {
  const nFeatures = drifted.length;
  if (nFeatures === 0) throw new InputError('drift decision: expected at least one feature, got none');
  const nDrifted = drifted.filter(Boolean).length;
  const shareDrifted = nDrifted / nFeatures;
  return { driftDetected: shareDrifted >= policy.share, shareDrifted, nDrifted, nFeatures };
}
