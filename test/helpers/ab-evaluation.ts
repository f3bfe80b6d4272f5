/**
 * One whole A/B evaluation record, as `ab evaluate` writes it, for the tests that render or read one
 * (the report, the status page): B more accurate but slower than the latency margin allows, rejected,
 * after a split change (0.5, then 0.2). Overrides replace fields; `versions` renames the arms' versions.
 */
import type { AbEvaluation, GuardrailReport, VariantReport } from '../../src/ab/evaluation.js';

export const LATENCY_SUMMARY = 'mean latency B 20.0 ms vs A 12.5 ms (+60%, margin +25%; p99 B 45.0 ms vs A 30.0 ms)';
export const LATENCY_REASON = `the latency guardrail is breached: ${LATENCY_SUMMARY}, always-valid p = 0.00012 < alpha 0.05`;

/** One arm's numbers: nothing seen yet, with `over` applied. */
export function arm(over: Partial<VariantReport>): VariantReport {
  return {
    version: '3',
    alias: 'prod',
    requests: 0,
    failed: 0,
    failure_rate: null,
    users: 0,
    labeled_users: 0,
    labeled: 0,
    correct: 0,
    accuracy: null,
    ci: null,
    error_rate: null,
    error_ci: null,
    label_coverage: null,
    latency_ms: { mean: null, p50: null, p99: null },
    request_level: { standard_error: null, ci: null },
    standard_error: null,
    ...over,
  };
}

const latency: GuardrailReport = {
  state: 'breached',
  estimate: Math.log(1.6),
  threshold: Math.log(1.25),
  margin: 0.25,
  p_holds: 1,
  p_breached: 0.00012,
  lower: 0.3,
  upper: 0.62,
  summary: LATENCY_SUMMARY,
};

const failures: GuardrailReport = {
  state: 'holds',
  estimate: 0,
  threshold: 0.01,
  margin: 0.01,
  p_holds: 0.003,
  p_breached: 1,
  lower: -0.012,
  upper: 0.008,
  summary: 'failure rate B 1.67% (10 of 600) vs A 1.67% (20 of 1200), margin +1%',
};

/** The evaluation (labels open, versions 3 and 4 unless `versions` says otherwise), with `over` applied. */
export function rejectedForLatency(over: Partial<AbEvaluation> & { versions?: { A: string; B: string } } = {}): AbEvaluation {
  const { versions, ...fields } = over;
  const e: AbEvaluation = {
    id: '20250917T130000000Z',
    evaluated_at: '2025-09-17T13:00:00.000Z',
    model_name: 'iris-classifier',
    decision: 'reject',
    reason: LATENCY_REASON,
    design: 'split',
    paired: null,
    watch: null,
    statistical_decision: 'reject',
    p_value: 0.00012,
    p_better: 0.0004,
    p_worse: 1,
    srm_pvalue: 0.62,
    difference: 0.15,
    interval: { lower: 0.08, upper: 0.22, confidence: 0.9, kind: 'always-valid' },
    labels: 'open',
    variants: {
      A: arm({
        requests: 1180,
        failed: 20,
        failure_rate: 20 / 1200,
        users: 300,
        labeled_users: 290,
        labeled: 1100,
        correct: 825,
        accuracy: 0.75,
        ci: { lower: 0.7, upper: 0.8, confidence: 0.95, kind: 'always-valid' },
        error_rate: 0.25,
        error_ci: { lower: 0.2, upper: 0.3, confidence: 0.95, kind: 'always-valid' },
        label_coverage: 1100 / 1180,
        latency_ms: { mean: 12.5, p50: 11, p99: 30 },
        request_level: { standard_error: 0.0131, ci: { lower: 0.7237, upper: 0.7746, confidence: 0.95, kind: 'fixed-horizon' } },
        standard_error: 0.0182,
      }),
      B: arm({
        version: '4',
        alias: 'staging',
        requests: 590,
        failed: 10,
        failure_rate: 10 / 600,
        users: 150,
        labeled_users: 145,
        labeled: 550,
        correct: 495,
        accuracy: 0.9,
        ci: { lower: 0.85, upper: 0.94, confidence: 0.95, kind: 'always-valid' },
        error_rate: 0.1,
        error_ci: { lower: 0.06, upper: 0.15, confidence: 0.95, kind: 'always-valid' },
        label_coverage: 550 / 590,
        latency_ms: { mean: 20, p50: 18, p99: 45 },
        request_level: { standard_error: 0.0128, ci: { lower: 0.8724, upper: 0.9216, confidence: 0.95, kind: 'fixed-horizon' } },
        standard_error: 0.0201,
      }),
    },
    guardrails: {
      srm: {
        passed: true,
        p_value: 0.62,
        alpha: 0.001,
        users: { A: 300, B: 150 },
        periods: [
          { ab_split_b: 0.5, users_A: 100, users_B: 100 },
          { ab_split_b: 0.2, users_A: 200, users_B: 50 },
        ],
      },
      min_labeled: { passed: true, required: 100 },
      min_users: { passed: true, required: 30 },
      malformed: { passed: true, rows: 0, share: 0, max_share: 0.01 },
      latency,
      failures,
    },
    request_level: {
      decision: 'continue',
      reason: 'request sample ratio mismatch: 1180 vs 590 requests (chi-square p = 1.2e-44)',
      p_better: 2.1e-9,
      p_worse: 1,
      srm: { p_value: 1.2e-44, statistic: 196.667, observed: { A: 1180, B: 590 }, expected: { A: 1416, B: 354 } },
    },
    test: {
      mode: 'superiority',
      alpha: 0.05,
      tau: 0.08,
      margin: 0.02,
      theta0: 0,
      min_labeled: 100,
      min_users: 30,
      max_labeled: 20000,
      checkpoint_every: 50,
      latency_margin: 0.25,
      failure_margin: 0.01,
      ab_split_b: 0.2,
    },
    log: {
      pattern: '/var/log/driftgate/predictions*.csv',
      files: ['/var/log/driftgate/predictions.csv'],
      rows: 3000,
      malformed_rows: 0,
      malformed: [],
      unknown_labels: {},
      unreadable: [],
      headerless: [],
      excluded_predictions: 12,
      orphan_feedback: 0,
      excluded_feedback: 0,
      duplicate_labels: 1,
      experiment_started_at: '2025-09-17T08:00:00.000Z',
      split_changes: [{ ts: '2025-09-17T10:00:00.000Z', ab_split_b: 0.2 }],
    },
    path: [
      { labeled_A: 60, labeled_B: 40, correct_A: 45, correct_B: 36, users_A: 20, users_B: 15, difference: 0.15, p_better: 1, p_worse: 1, p_value: 1, lower: null, upper: null, request_p_better: 1, request_p_worse: 1, srm_pvalue: 1, counted: false },
      { labeled_A: 600, labeled_B: 300, correct_A: 450, correct_B: 270, users_A: 160, users_B: 80, difference: 0.15, p_better: 0.02, p_worse: 1, p_value: 0.04, lower: 0.01, upper: 0.29, request_p_better: 1e-5, request_p_worse: 1, srm_pvalue: 0.7, counted: true },
      { labeled_A: 1100, labeled_B: 550, correct_A: 825, correct_B: 495, users_A: 290, users_B: 145, difference: 0.15, p_better: 0.0004, p_worse: 1, p_value: 0.0008, lower: 0.08, upper: 0.22, request_p_better: 2.1e-9, request_p_worse: 1, srm_pvalue: 0.62, counted: true },
    ],
    report_dir: '/tmp/reports/ab/20250917T130000000Z',
    mlflow_run_id: 'run-1',
    applied: null,
    recovered: null,
  };
  if (versions) {
    e.variants = { A: { ...e.variants.A, version: versions.A }, B: { ...e.variants.B, version: versions.B } };
  }
  return { ...e, ...fields };
}
