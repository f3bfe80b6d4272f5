/** What the router's parts share: the HTTP app's dependencies, and the context its route plugins read. */
import type { FastifyServerOptions } from 'fastify';
import type { Config } from '../config/index.js';
import type { FailureRecord, FeedbackRecord, PredictionRecord, ShadowRecord, SplitRecord, Variant } from '../prediction-log/index.js';
import type { LabelIndex } from './label-index.js';
import type { RouterMetrics } from './metrics.js';
import type { ModelBackend } from './model-set.js';
import type { RequestIds } from './request-id.js';
import type { ShadowBackend } from './shadow.js';

/** The config as the router sees it while running: live values, and the one write it makes. */
/** Where the process is: `starting` says what it waits for before serving (null once it serves); `draining` once it stops. */
export interface Lifecycle {
  starting: string | null;
  draining: boolean;
}

export interface ConfigHolder {
  readonly current: Config;
  setSplit(split: number): Promise<Config>;
}

export interface Clock {
  /** Epoch milliseconds, for log timestamps. */
  now(): number;
}

/**
 * Where the router writes rows: the LogWriter in production, an array in tests. A promise settles
 * once the row is written (or rejects with LogWriteError when it cannot be).
 */
export interface LogSink {
  appendPrediction(record: PredictionRecord): Promise<void>;
  appendFeedback(record: FeedbackRecord): Promise<void>;
  /** A /predict request that failed after its variant was assigned. */
  appendFailure(record: FailureRecord): Promise<void>;
  /** The split in force from now on: at start and at each change. */
  appendSplit(record: SplitRecord): Promise<void>;
  /** A shadow model's prediction for a request prod answered, after that request's row. */
  appendShadow(record: ShadowRecord): Promise<void>;
}

export interface RouterDeps {
  config: ConfigHolder;
  models: ModelBackend;
  log: LogSink;
  /** Request ids that already carry a label (repeated feedback writes nothing). */
  labels: LabelIndex;
  /** Issues the signed request ids and verifies them on POST /feedback. */
  requestIds: RequestIds;
  metrics: RouterMetrics;
  clock?: Clock;
  /** Fastify's logger: options for pino, or false (tests). */
  logger?: FastifyServerOptions['logger'];
  /** Set `draining` when the process is stopping: new requests get 503 SHUTTING_DOWN. */
  lifecycle?: Lifecycle;
  /** A problem with the predictions log (a failing disk), reported by /ready; null when healthy. */
  logProblem?: () => string | null;
  /** Predicts beside prod off the reply path (router.shadow_share); none without it. */
  shadow?: ShadowBackend;
}

/** Everything the route plugins share. */
export interface RouterContext extends Required<Omit<RouterDeps, 'logger' | 'logProblem'>> {
  logProblem: () => string | null;
  counts: Record<Variant, number>;
  startedAt: number;
}
