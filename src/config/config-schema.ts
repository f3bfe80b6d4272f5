/** The shape of config/driftgate.yaml, with every default in one place. */
import { describe } from '../errors.js';
import { boolean, list, number, object, oneOf, optional, SchemaIssue, string, type Schema } from './schema.js';

export interface Feature {
  name: string;
  type: 'numeric' | 'categorical';
}

const featureTypes = ['numeric', 'categorical'] as const;
const namePattern = /^[A-Za-z_][A-Za-z0-9_.-]*$/;
const nameText = 'a column name (letters, digits, _ . -, not starting with a digit)';

/** `- petal_length` is shorthand for `- {name: petal_length, type: numeric}`. */
const feature: Schema<Feature> = {
  expected: 'a column name or {name, type}',
  hasDefault: false,
  parse(value, keyPath) {
    if (typeof value === 'string') return { name: string({ pattern: namePattern, patternText: nameText }).parse(value, keyPath), type: 'numeric' };
    return object({
      name: string({ pattern: namePattern, patternText: nameText }),
      type: oneOf(featureTypes, { default: 'numeric' }),
    }).parse(value, keyPath);
  },
};

/** Class labels may be written as numbers in YAML (0/1); they are compared as strings everywhere. */
const classLabel: Schema<string> = {
  expected: 'a class label (string or number)',
  hasDefault: false,
  parse(value, keyPath) {
    if (typeof value === 'number' && Number.isFinite(value)) return String(value);
    if (typeof value === 'string' && value.trim() !== '') return value;
    throw new SchemaIssue(keyPath, `expected a class label (string or number), got ${describe(value)}`);
  },
};

/** The A/B test's defaults: the config's, and the benchmark's (npm run bench:ab), from one place. */
export const AB_DEFAULTS = {
  alpha: 0.05,
  tau: 0.08,
  mode: 'superiority',
  margin: 0,
  min_labeled: 100,
  min_users: 30,
  max_labeled: 5000,
  checkpoint_every: 50,
  srm_alpha: 0.001,
  max_malformed_share: 0.01,
  guardrails: { latency_margin: 0.25, failure_margin: 0.02 },
} as const;

const share = (fallback: number) => number({ min: 0, max: 1, default: fallback });
const positiveInt = (fallback: number) => number({ integer: true, min: 1, default: fallback });

export const configSchema = object({
  dataset: object({
    name: string({ default: 'dataset' }),
    /** Reference data: what the model was trained on and drift is measured against. */
    reference: string(),
    /** Labelled recent data added to the reference for retraining (the demo's drifted batch). */
    current: optional(string()),
    target: string({ pattern: namePattern, patternText: nameText }),
    features: list(feature, { minLength: 1, uniqueBy: (f) => f.name }),
    classes: list(classLabel, { minLength: 2, uniqueBy: (c) => c }),
  }),
  drift: object({
    psi_threshold: number({ above: 0, default: 0.2 }),
    ks_alpha: number({ above: 0, max: 1, default: 0.05 }),
    rule: oneOf(['psi', 'ks', 'any', 'all'] as const, { default: 'any' }),
    /** PSI drifts at psi_threshold, when its chi-square p-value under no drift is at most ks_alpha (significant), or both. */
    psi_rule: oneOf(['threshold', 'significant', 'both'] as const, { default: 'threshold' }),
    /** A KS test drifts only with a statistic at least this large too (0: any), so a million rows do not flag a tiny shift. */
    ks_min_statistic: number({ min: 0, max: 1, default: 0 }),
    /** The test (and PSI) p-values corrected across the features: none, bh (Benjamini–Hochberg) or holm. */
    correction: oneOf(['none', 'bh', 'holm'] as const, { default: 'none' }),
    share: share(0.5),
    binning: oneOf(['sturges', 'quantile'] as const, { default: 'sturges' }),
    quantile_bins: number({ integer: true, min: 2, default: 10 }),
    /** Live drift reads the feature columns of the last N prediction rows of the router log. */
    log_window: positiveInt(1000),
    min_rows: positiveInt(30),
    reports_dir: string({ default: '../reports/drift' }),
    /** The reference profile `driftgate drift profile` writes and drift reads; default <dataset.reference>.profile (a glob reference needs the key). */
    reference_profile: optional(string()),
  }),
  training: object({
    train_size: number({ above: 0, max: 0.95, default: 0.7 }),
    folds: number({ integer: true, min: 2, max: 20, default: 5 }),
    session_id: number({ integer: true, min: 0, default: 42 }),
    sort: oneOf(['Accuracy', 'AUC', 'Recall', 'Prec.', 'F1', 'Kappa', 'MCC'] as const, { default: 'Accuracy' }),
    include: list(string(), { default: [] }),
    exclude: list(string(), { default: [] }),
    timeout_s: number({ above: 0, default: 900 }),
    min_holdout_accuracy: share(0.8),
  }),
  mlflow: object({
    tracking_uri: string({ default: 'http://127.0.0.1:5000' }),
    experiment: string({ default: 'driftgate' }),
    model_name: string({ default: 'driftgate-model' }),
    prod_alias: string({ default: 'prod', pattern: namePattern, patternText: nameText }),
    staging_alias: string({ default: 'staging', pattern: namePattern, patternText: nameText }),
    /** Where the embedded server keeps its SQLite store, artifacts, pid and log. */
    state_dir: string({ default: '../.driftgate/mlflow' }),
  }),
  router: object({
    host: string({ default: '127.0.0.1' }),
    port: number({ integer: true, min: 0, max: 65535, default: 8000 }),
    ab_split_b: share(0),
    /** The split the monitor DAG opens an A/B test with. */
    ab_start_split: share(0.5),
    /** The shadow share an A/B test opens with when ab.design is shadow or both. */
    ab_start_shadow_share: number({ above: 0, max: 1, default: 1 }),
    assignment_seed: string({ default: 'driftgate' }),
    /** token: labels (POST /feedback, an inline label) need the label token (DRIFTGATE_LABEL_TOKEN); open: anyone may send them. */
    labels: oneOf(['token', 'open'] as const, { default: 'token' }),
    log_path: string({ default: '../.driftgate/predictions.csv' }),
    /** Downloaded model files by version, and the last versions served, so a restart serves without MLflow. */
    model_cache_dir: string({ default: '../.driftgate/models' }),
    /** written: a reply waits until its row is in the file (kill -9 loses none); buffered: rows are written every flush_interval_ms. */
    log_ack: oneOf(['written', 'buffered'] as const, { default: 'written' }),
    /** What a machine crash may lose: never (what the OS had not written), interval (flush_interval_ms), always (nothing). */
    log_fsync: oneOf(['never', 'interval', 'always'] as const, { default: 'interval' }),
    /** While the log cannot be written: refuse predictions (503 LOG_UNAVAILABLE) or serve them unlogged. */
    log_failure: oneOf(['refuse', 'serve'] as const, { default: 'refuse' }),
    log_rotate: object({
      /** Start a new file before this one passes this size; 0: never by size. */
      max_size_mb: number({ min: 0, default: 0 }),
      /** Start a new file at each UTC hour or day. */
      every: oneOf(['none', 'hourly', 'daily'] as const, { default: 'none' }),
    }),
    flush_interval_ms: number({ integer: true, min: 1, max: 60_000, default: 200 }),
    /** Feedback is accepted for predictions at most this old (the request id carries its time). */
    feedback_max_age_s: positiveInt(7 * 24 * 3600),
    body_limit_bytes: number({ integer: true, min: 256, default: 16_384 }),
    /**
     * Bounds receiving a request, and answering it (queue, batch, worker); a worker silent for half of
     * it is taken for hung, killed and replaced, and its batch retried once on another.
     */
    request_timeout_ms: number({ integer: true, min: 100, max: 600_000, default: 10_000 }),
    /** An idle keep-alive connection is closed after this long (longer than a load balancer's idle timeout). */
    keep_alive_timeout_ms: number({ integer: true, min: 1000, max: 3_600_000, default: 72_000 }),
    rate_limit: object({
      max: positiveInt(5000),
      window_ms: positiveInt(1000),
    }),
    workers: number({ integer: true, min: 1, max: 64, default: 2 }),
    batch_max_size: number({ integer: true, min: 1, max: 4096, default: 64 }),
    batch_max_wait_ms: number({ min: 0, max: 1000, default: 2 }),
    registry_poll_s: number({ above: 0, default: 10 }),
    /**
     * Share of the requests prod answers that the shadow model (staging, or the replaced prod during a
     * watch) also predicts, off the reply path; applied live, like ab_split_b.
     */
    shadow_share: share(0),
    /** Shadow predictions waiting or running at most; one more is dropped and counted. */
    shadow_queue: number({ integer: true, min: 1, max: 1_000_000, default: 256 }),
    /** Python workers of the shadow's own pool: a slow shadow never occupies prod's workers. */
    shadow_workers: number({ integer: true, min: 1, max: 64, default: 1 }),
  }),
  ab: object({
    alpha: number({ above: 0, max: 0.5, default: AB_DEFAULTS.alpha }),
    /** mSPRT mixture spread on the accuracy-difference scale, tuned with npm run bench:ab. */
    tau: number({ above: 0, default: AB_DEFAULTS.tau }),
    mode: oneOf(['superiority', 'non-inferiority'] as const, { default: AB_DEFAULTS.mode }),
    margin: number({ min: 0, below: 1, default: AB_DEFAULTS.margin }),
    min_labeled: positiveInt(AB_DEFAULTS.min_labeled),
    /** Users with labels each arm needs before any decision: users are the unit, and the variance needs enough of them. */
    min_users: number({ integer: true, min: 2, default: AB_DEFAULTS.min_users }),
    max_labeled: positiveInt(AB_DEFAULTS.max_labeled),
    /** The p-value path gets a checkpoint each time the smaller arm gains this many labelled rows. */
    checkpoint_every: positiveInt(AB_DEFAULTS.checkpoint_every),
    srm_alpha: number({ above: 0, below: 1, default: AB_DEFAULTS.srm_alpha }),
    max_malformed_share: share(AB_DEFAULTS.max_malformed_share),
    /**
     * How a candidate is tested: split (users sent to B by router.ab_split_b), shadow (B predicts
     * beside prod on prod's requests, router.shadow_share, judged by the paired test), or both.
     */
    design: oneOf(['split', 'shadow', 'both'] as const, { default: 'split' }),
    /**
     * After a promotion the replaced prod predicts in shadow beside the new one until this many
     * labelled pairs or hours (whichever comes first; both 0: no watch); a new prod found worse is
     * rolled back.
     */
    watch: object({
      labels: number({ integer: true, min: 0, default: 1000 }),
      hours: number({ min: 0, default: 24 }),
      /** Share of prod's requests the previous prod also predicts during the watch. */
      share: number({ above: 0, max: 1, default: 1 }),
    }),
    /** Promotion also needs each of these shown to hold; one shown breached rejects. */
    guardrails: object({
      /** B's mean latency may exceed A's by at most this share (0.25: 25% slower). */
      latency_margin: number({ above: 0, max: 100, default: AB_DEFAULTS.guardrails.latency_margin }),
      /** B's failure rate may exceed A's by at most this (0.02: two percentage points). */
      failure_margin: number({ above: 0, below: 1, default: AB_DEFAULTS.guardrails.failure_margin }),
    }),
    reports_dir: string({ default: '../reports/ab' }),
  }),
  /** `driftgate performance`: accuracy estimated from the logged probabilities (CBPE). */
  performance: object({
    window_hours: positiveInt(24),
    /** The monitor retrains when prod's estimated accuracy is this far below its held-out accuracy; nothing: never. */
    max_drop: optional(number({ above: 0, max: 1 })),
  }),
  airflow: object({
    dag_id: string({ default: 'driftgate_monitor', pattern: /^[A-Za-z0-9_.-]+$/, patternText: 'a DAG id (letters, digits, _ . -)' }),
    ab_dag_id: string({ default: 'driftgate_ab', pattern: /^[A-Za-z0-9_.-]+$/, patternText: 'a DAG id (letters, digits, _ . -)' }),
    schedule: string({ default: '@hourly' }),
    ab_schedule: string({ default: '@hourly' }),
    retries: number({ integer: true, min: 0, max: 10, default: 1 }),
    retry_delay_s: number({ min: 0, default: 60 }),
    catchup: boolean({ default: false }),
    /** `driftgate airflow up --profile celery`: the CeleryExecutor on PostgreSQL and Redis (README "Scaling out"). */
    celery: object({
      /** The metadata DB (SQLAlchemy URL); AIRFLOW__DATABASE__SQL_ALCHEMY_CONN in the environment wins (keep passwords there). */
      database_url: string({ default: 'postgresql+psycopg2://postgres@127.0.0.1:5432/airflow' }),
      /** The Celery broker; AIRFLOW__CELERY__BROKER_URL wins. */
      broker_url: string({ default: 'redis://127.0.0.1:6379/0' }),
      /** Celery's result store; nothing: `db+` and the database_url. AIRFLOW__CELERY__RESULT_BACKEND wins. */
      result_backend: optional(string()),
      /** `airflow celery worker` processes this host runs (0: the control components only). */
      workers: number({ integer: true, min: 0, max: 32, default: 2 }),
      /** Tasks each worker runs at once ([celery] worker_concurrency); training is CPU-heavy, keep it near the cores. */
      worker_concurrency: number({ integer: true, min: 1, max: 256, default: 1 }),
      api_host: string({ default: '127.0.0.1' }),
      api_port: number({ integer: true, min: 1, max: 65_535, default: 8080 }),
      /** Where workers reach the Execution API; nothing: http://api_host:api_port. */
      base_url: optional(string()),
      /** Worker i (from 0) serves its task logs on this port + i. */
      log_server_port: number({ integer: true, min: 1, max: 65_000, default: 8793 }),
    }),
  }),
});

export type RawConfig = ReturnType<typeof configSchema.parse>;
