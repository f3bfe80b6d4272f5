/**
 * One A/B evaluation as a record: what `ab evaluate --json` prints, report.json holds, the report
 * page shows and the MLflow run logs. evaluate.ts makes it; the others only read it.
 */
import type { Config } from '../config/index.js';
import type { MalformedRow } from '../prediction-log/index.js';
import type { AbDecisionKind } from './decide.js';
import type { Watch } from '../registry/index.js';

/** How this evaluation judged: the split test, the paired (shadow) test, both, or the watch after a promotion. */
export type AbDesign = 'split' | 'shadow' | 'both' | 'watch';

/** The paired (shadow) test: A's prediction and the shadow's on the same requests. */
export interface PairedReport {
  labeled_pairs: number;
  labeled_users: number;
  /** Discordant pairs: b with B right and A wrong, c the reverse; only they move B − A. */
  b: number;
  c: number;
  both_right: number;
  both_wrong: number;
  /** Pairs whose predictions were compared (labelled or not), and the share that agreed. */
  compared: number;
  agreement_rate: number | null;
  accuracy: { A: number | null; B: number | null };
  difference: number | null;
  /** Standard error of B − A with users as clusters. */
  standard_error: number | null;
  p_better: number;
  p_worse: number;
  interval: Interval | null;
  /** Chi-square of B's predicted class shares against A's (descriptive). */
  prediction_shift: { statistic: number; p_value: number; classes: string[] } | null;
  /** What the paired test alone says. */
  decision: AbDecisionKind;
  reason: string;
}

/** The watch after a promotion, when this evaluation judged one. */
export interface WatchReport {
  /** The new prod, and the prod it replaced (predicting in shadow). */
  version: string;
  previous: string;
  started_at: string;
  labels: number | null;
  hours: number | null;
  /** True when this evaluation ends the watch (it ran its course, or the new prod is shown better). */
  ends: boolean;
}

export interface Interval {
  lower: number;
  upper: number;
  confidence: number;
  /** 'always-valid': a confidence sequence, valid at every look; 'fixed-horizon': valid at one planned look only. */
  kind: 'always-valid' | 'fixed-horizon';
}

export interface VariantReport {
  version: string | null;
  alias: string;
  /** Answered requests (prediction rows). */
  requests: number;
  /** Failed requests (failure rows). */
  failed: number;
  /** failed / (requests + failed); null before any request. */
  failure_rate: number | null;
  /** Distinct users first seen in this arm, and those with a label. */
  users: number;
  labeled_users: number;
  labeled: number;
  correct: number;
  /** correct / labeled; null before any label. */
  accuracy: number | null;
  /** Always-valid (1 − alpha) confidence sequence of the accuracy, users as clusters; null before the first counted look. */
  ci: Interval | null;
  /** Misclassification rate 1 − accuracy on labelled requests, with the complement of that interval. */
  error_rate: number | null;
  error_ci: Interval | null;
  /** Share of the arm's answered requests that got a label. */
  label_coverage: number | null;
  latency_ms: { mean: number | null; p50: number | null; p99: number | null };
  /** The same arm with every request independent: the standard error, and the 95% Wilson interval (fixed horizon). */
  request_level: { standard_error: number | null; ci: Interval | null };
  /** The accuracy's standard error with users as clusters (delta method). */
  standard_error: number | null;
}

export interface PathPoint {
  labeled_A: number;
  labeled_B: number;
  correct_A: number;
  correct_B: number;
  users_A: number;
  users_B: number;
  difference: number;
  p_better: number;
  p_worse: number;
  /** Two-sided always-valid p (the paper's p_n), for reference. */
  p_value: number;
  /** Always-valid bounds of B − A so far (null before the first counted look). */
  lower: number | null;
  upper: number | null;
  /** The same test with every labelled request independent. */
  request_p_better: number;
  request_p_worse: number;
  srm_pvalue: number;
  /** False until both arms have min_labeled rows and min_users users: the p-values stay at 1 before that. */
  counted: boolean;
}

export interface GuardrailReport {
  state: 'holds' | 'breached' | 'undecided';
  /** B's harm (log of the mean-latency ratio; failure-rate difference), the margin on that scale, the always-valid p's and bounds. */
  estimate: number | null;
  threshold: number;
  margin: number;
  p_holds: number;
  p_breached: number;
  lower: number | null;
  upper: number | null;
  summary: string;
}

export interface AppliedResult {
  action: 'promoted' | 'rejected' | 'rolled-back' | 'watch-ended' | 'cleaned-up' | 'none';
  message: string;
  steps: string[];
}

export interface AbEvaluation {
  id: string;
  evaluated_at: string;
  model_name: string;
  decision: AbDecisionKind;
  reason: string;
  design: AbDesign;
  paired: PairedReport | null;
  watch: WatchReport | null;
  /** What the statistics alone say, when a data-quality guard overrides them (else equal to decision). */
  statistical_decision: AbDecisionKind | null;
  /** The always-valid p the decision cites (p_worse for a "B is worse" reject, else p_better). */
  p_value: number | null;
  p_better: number | null;
  p_worse: number | null;
  srm_pvalue: number | null;
  /** accuracy B − accuracy A. */
  difference: number | null;
  /** Always-valid bounds of B − A: promote ⇔ lower > theta0; each bound one-sided at 1 − alpha, the pair 1 − 2·alpha. */
  interval: Interval | null;
  /** Who may label: 'token' (a label token) or 'open' (any client; the report says so in its banner). */
  labels: 'token' | 'open';
  variants: { A: VariantReport; B: VariantReport };
  guardrails: {
    /** Users are the unit: first-seen users per arm against the split in force, an always-valid test. */
    srm: {
      passed: boolean | null;
      p_value: number | null;
      alpha: number;
      users: { A: number; B: number };
      /** One entry per split in force during the test, with the users first seen under it. */
      periods: { ab_split_b: number; users_A: number; users_B: number }[];
    };
    min_labeled: { passed: boolean; required: number };
    min_users: { passed: boolean; required: number };
    malformed: { passed: boolean; rows: number; share: number; max_share: number };
    latency: GuardrailReport | null;
    failures: GuardrailReport | null;
  };
  /** What the rule before users were the unit says on the same rows: requests as independent trials, chi-square SRM, no guardrails. */
  request_level: {
    decision: AbDecisionKind | null;
    reason: string | null;
    p_better: number | null;
    p_worse: number | null;
    srm: { p_value: number | null; statistic: number | null; observed: { A: number; B: number }; expected: { A: number; B: number } | null };
  };
  test: {
    mode: Config['ab']['mode'];
    alpha: number;
    tau: number;
    margin: number;
    theta0: number;
    min_labeled: number;
    min_users: number;
    max_labeled: number;
    checkpoint_every: number;
    latency_margin: number;
    failure_margin: number;
    /** The split configured now; the split in force over time is in guardrails.srm.periods and log.split_changes. */
    ab_split_b: number;
  };
  log: {
    pattern: string;
    files: string[];
    rows: number;
    malformed_rows: number;
    malformed: MalformedRow[];
    unknown_labels: Record<string, number>;
    /** Files of the set that are not this config's log, with why; files read without a header. */
    unreadable: { path: string; reason: string }[];
    headerless: string[];
    excluded_predictions: number;
    orphan_feedback: number;
    excluded_feedback: number;
    duplicate_labels: number;
    experiment_started_at: string | null;
    /** Split rows read while the experiment ran. */
    split_changes: { ts: string; ab_split_b: number }[];
  };
  path: PathPoint[];
  report_dir: string;
  mlflow_run_id: string | null;
  applied: AppliedResult | null;
  /** A transition an interrupted earlier command had started, completed before this evaluation. */
  recovered: { kind: string; version: string; steps: string[] } | null;
}

/** What the registry and the config say before the log is read. */
export interface EvaluationContext {
  config: Config;
  prod: string | null;
  staging: string | null;
  split: number;
  /** router.shadow_share now. */
  shadowShare: number;
  /** The watch after the last promotion, while prod is the version it watches. */
  watch: Watch | null;
  logPattern: string;
  /** True when the log path came from --log: then a path that matches nothing is bad input. */
  explicitLog: boolean;
  now: Date;
  id: string;
  reportDir: string;
  log: (line: string) => void;
}
