/** The router's Prometheus metrics (prom-client), on a registry of its own. */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { ASSIGNMENT_HASH_VERSION, type Variant } from './assign.js';

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const BATCH_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096];

export class RouterMetrics {
  readonly registry = new Registry();
  readonly httpRequests = new Counter({
    name: 'driftgate_router_http_requests_total',
    help: 'HTTP requests answered, by route and status',
    labelNames: ['route', 'method', 'status'] as const,
    registers: [this.registry],
  });
  readonly predictions = new Counter({
    name: 'driftgate_router_predictions_total',
    help: 'Predictions answered, by variant and the model version that answered',
    labelNames: ['variant', 'alias', 'model_version'] as const,
    registers: [this.registry],
  });
  readonly predictionErrors = new Counter({
    name: 'driftgate_router_prediction_errors_total',
    help: 'POST /predict requests that failed after validation, by assigned variant and error code',
    labelNames: ['variant', 'code'] as const,
    registers: [this.registry],
  });
  readonly rejected = new Counter({
    name: 'driftgate_router_rejected_requests_total',
    help: 'Requests refused before reaching a model (validation, size, rate limit, auth), by code',
    labelNames: ['code'] as const,
    registers: [this.registry],
  });
  readonly latency = new Histogram({
    name: 'driftgate_router_prediction_latency_seconds',
    help: 'Time from request received to prediction answered, by variant',
    labelNames: ['variant'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  readonly batchSize = new Histogram({
    name: 'driftgate_router_batch_size',
    help: 'Rows per predict call sent to an inference worker, by alias',
    labelNames: ['alias'] as const,
    buckets: BATCH_BUCKETS,
    registers: [this.registry],
  });
  readonly workerRestarts = new Counter({
    name: 'driftgate_router_worker_restarts_total',
    help: 'Inference workers restarted after they died',
    registers: [this.registry],
  });
  readonly feedback = new Counter({
    name: 'driftgate_router_feedback_total',
    help: 'Feedback labels accepted',
    registers: [this.registry],
  });
  readonly split = new Gauge({
    name: 'driftgate_router_ab_split_b',
    help: 'Share of users assigned to B (staging) in force now',
    registers: [this.registry],
  });
  readonly hashVersion = new Gauge({
    name: 'driftgate_router_assignment_hash_version',
    help: 'Version of the user-id hash used for A/B assignment',
    registers: [this.registry],
  });
  readonly modelVersion = new Gauge({
    name: 'driftgate_router_model_version',
    help: 'The registry version serving each alias (absent when none)',
    labelNames: ['alias'] as const,
    registers: [this.registry],
  });
  readonly labelsRefused = new Counter({
    name: 'driftgate_router_labels_refused_total',
    help: 'Labels refused for want of the label token (POST /feedback, or a label on POST /predict), by reason: no_header, not_bearer, wrong_token, disabled',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly feedbackDuplicates = new Counter({
    name: 'driftgate_router_feedback_duplicates_total',
    help: 'Feedback for a request that already had a label here: answered "duplicate", nothing written',
    registers: [this.registry],
  });
  readonly logRows = new Counter({
    name: 'driftgate_router_log_rows_total',
    help: 'Rows written to the predictions log, by event',
    labelNames: ['event'] as const,
    registers: [this.registry],
  });
  readonly logRowsFailed = new Counter({
    name: 'driftgate_router_log_rows_failed_total',
    help: 'Rows the predictions log could not take (refused requests, or answered unlogged with log_failure: serve), by event',
    labelNames: ['event'] as const,
    registers: [this.registry],
  });
  readonly logWriteErrors = new Counter({
    name: 'driftgate_router_log_write_errors_total',
    help: 'Failed writes (or syncs) of the predictions log, by error code (ENOSPC, EIO, EFBIG, ...)',
    labelNames: ['code'] as const,
    registers: [this.registry],
  });
  readonly logRotations = new Counter({
    name: 'driftgate_router_log_rotations_total',
    help: 'New log files started, by reason (size, interval, headerless, upgrade, signal, moved, deleted, truncated)',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly logWritable = new Gauge({
    name: 'driftgate_router_log_writable',
    help: '1 while the predictions log takes rows, 0 after a failed write until one succeeds',
    registers: [this.registry],
  });

  readonly shadowPredictions = new Counter({
    name: 'driftgate_router_shadow_predictions_total',
    help: 'Shadow predictions made (off the reply path, for router.shadow_share of the requests prod answered, or ab.watch.share during a watch), by the shadowed alias and version',
    labelNames: ['alias', 'model_version'] as const,
    registers: [this.registry],
  });
  readonly shadowDropped = new Counter({
    name: 'driftgate_router_shadow_dropped_total',
    help: 'Requests chosen for the shadow that got no shadow prediction, by reason: queue_full (router.shadow_queue), failed (the shadow model or its worker failed), no_model (no shadow version loaded)',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly shadowAgreement = new Counter({
    name: 'driftgate_router_shadow_agreement_total',
    help: 'Shadow predictions by whether they equal the prediction prod answered',
    labelNames: ['agree'] as const,
    registers: [this.registry],
  });
  readonly shadowQueue = new Gauge({
    name: 'driftgate_router_shadow_queue_length',
    help: 'Shadow predictions waiting or in a running batch now (at most router.shadow_queue)',
    registers: [this.registry],
  });
  readonly shadowShare = new Gauge({
    name: 'driftgate_router_shadow_share',
    help: 'Share of the requests prod answers that the shadow model also predicts in force now (router.shadow_share, or ab.watch.share during a watch)',
    registers: [this.registry],
  });
  readonly shadowWorkerRestarts = new Counter({
    name: 'driftgate_router_shadow_worker_restarts_total',
    help: "Shadow inference workers restarted after they died or hung (prod's workers are not among them)",
    registers: [this.registry],
  });

  readonly registryUp = new Gauge({
    name: 'driftgate_router_registry_up',
    help: '1 when the last poll of the model registry got an answer, 0 while it is unreachable (the last known versions keep serving)',
    registers: [this.registry],
  });
  readonly registryLastSuccess = new Gauge({
    name: 'driftgate_router_registry_last_success_timestamp_seconds',
    help: 'Unix time of the last poll the model registry answered (0: none since the router started)',
    registers: [this.registry],
  });

  constructor(options: { processMetrics?: boolean } = {}) {
    this.hashVersion.set(ASSIGNMENT_HASH_VERSION);
    this.logWritable.set(1);
    if (options.processMetrics) collectDefaultMetrics({ register: this.registry, prefix: 'driftgate_router_' });
  }

  setModelVersion(alias: string, version: string | null): void {
    if (version === null) this.modelVersion.remove({ alias });
    else this.modelVersion.set({ alias }, Number(version));
  }

  /** Set at scrape time from the registry poller's status. */
  setRegistryStatus(status: { ok: boolean; last_success: string | null }): void {
    this.registryUp.set(status.ok ? 1 : 0);
    this.registryLastSuccess.set(status.last_success === null ? 0 : Date.parse(status.last_success) / 1000);
  }

  observePrediction(variant: Variant, alias: string, version: string, seconds: number): void {
    this.predictions.inc({ variant, alias, model_version: version });
    this.latency.observe({ variant }, seconds);
  }
}
