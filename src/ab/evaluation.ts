/**
 * One A/B evaluation as a record: what `ab evaluate --json` prints, report.json holds, the report
 * page shows and the MLflow run logs. evaluate.ts makes it; the others only read it.
 */
import type { Config } from '../config/index.js';
import type { MalformedRow } from '../prediction-log/index.js';
import type { AbDecisionKind } from './decide.js';

export interface Interval {
  lower: number;
  upper: number;
  confidence: number;
}

export interface VariantReport {
  version: string | null;
  alias: string;
  requests: number;
  labeled: number;
  correct: number;
  /** correct / labeled; null before any label. */
  accuracy: number | null;
  /** 95% Wilson score interval of the accuracy. */
  ci: Interval | null;
  /**
   * Misclassification rate 1 − accuracy on labelled requests, with its own Wilson interval. The router
   * logs only answered predictions (failed requests never reach the log; see GET /metrics), so this is
   * the only error the log can measure.
   */
  error_rate: number | null;
  error_ci: Interval | null;
  /** Share of the arm's requests that got a label. */
  label_coverage: number | null;
  latency_ms: { p50: number | null; p99: number | null };
}

export interface PathPoint {
  labeled_A: number;
  labeled_B: number;
  correct_A: number;
  correct_B: number;
  difference: number;
  p_better: number;
  p_worse: number;
  /** Two-sided always-valid p (the paper's p_n), for reference. */
  p_value: number;
  /** False until both arms have min_labeled rows: the p-values stay at 1 before that. */
  counted: boolean;
}

export interface AppliedResult {
  action: 'promoted' | 'rejected' | 'cleaned-up' | 'none';
  message: string;
  steps: string[];
}

export interface AbEvaluation {
  id: string;
  evaluated_at: string;
  model_name: string;
  decision: AbDecisionKind;
  reason: string;
  /** What the statistics alone say, when a data-quality guard overrides them (else equal to decision). */
  statistical_decision: AbDecisionKind | null;
  /** The always-valid p the decision cites (p_worse for a "B is worse" reject, else p_better). */
  p_value: number | null;
  p_better: number | null;
  p_worse: number | null;
  srm_pvalue: number | null;
  /** accuracy B − accuracy A. */
  difference: number | null;
  variants: { A: VariantReport; B: VariantReport };
  guardrails: {
    srm: { passed: boolean | null; p_value: number | null; alpha: number; statistic: number | null; observed: { A: number; B: number }; expected: { A: number; B: number } | null };
    min_labeled: { passed: boolean; required: number };
    malformed: { passed: boolean; rows: number; share: number; max_share: number };
  };
  test: {
    mode: Config['ab']['mode'];
    alpha: number;
    tau: number;
    margin: number;
    theta0: number;
    min_labeled: number;
    max_labeled: number;
    checkpoint_every: number;
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
  logPattern: string;
  /** True when the log path came from --log: then a path that matches nothing is bad input. */
  explicitLog: boolean;
  now: Date;
  id: string;
  reportDir: string;
  log: (line: string) => void;
}
