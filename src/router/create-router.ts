/**
 * The router assembled from its parts: the live config, the model set over a worker pool and a
 * registry, the metrics and the HTTP app. `driftgate serve` hands in the real parts (Python workers,
 * MLflow, the log file); the tests hand in stand-ins for the pool, the registry and the log.
 */
import type { FastifyInstance, FastifyServerOptions } from 'fastify';
import type { Config, Env } from '../config/index.js';
import { previousAlias } from '../registry/vocabulary.js';
import { buildApp } from './app.js';
import type { Clock, Lifecycle, LogSink } from './context.js';
import type { LabelIndex } from './label-index.js';
import { LiveConfig } from './live-config.js';
import { RouterMetrics } from './metrics.js';
import { ModelSet, type ModelPool, type ServedRecord } from './model-set.js';
import type { AliasRegistry } from './registry-poller.js';
import type { RequestIds } from './request-id.js';
import { shadowBatchSize, ShadowRunner } from './shadow.js';

export interface RouterParts {
  pool: ModelPool;
  /** The versions served last, kept across restarts (serve hands in the pool's ModelCache). */
  served?: ServedRecord;
  registry: AliasRegistry;
  log: LogSink;
  labels: LabelIndex;
  requestIds: RequestIds;
  metrics: RouterMetrics;
  /** Why the log cannot take rows now, or null (the writer's problem()). */
  logProblem?: () => string | null;
  clock?: Clock;
  /** Fastify's logger: options for pino, or false (tests). */
  logger?: FastifyServerOptions['logger'];
  /** How many workers the pool should have (fewer ready is reported as degraded). */
  workers?: number;
  /**
   * The shadow's own worker pool (router.shadow_workers processes), so a slow shadow model never holds
   * prod's workers; `start` starts its processes, once, when a shadow is first needed. Without it no
   * request is shadowed.
   */
  shadow?: { pool: ModelPool; start?: () => void };
}

export interface Router {
  app: FastifyInstance;
  live: LiveConfig;
  models: ModelSet;
  /** The shadow predictions (null without a shadow pool). */
  shadow: ShadowRunner | null;
  metrics: RouterMetrics;
  /** Set `draining` when the process stops: new requests get 503 SHUTTING_DOWN. */
  lifecycle: Lifecycle;
  /** Follow the config file and the registry (logging through the app's logger). */
  start(): void;
  stop(): void;
}

/**
 * How long a worker may take over one batch before it is taken for hung: half the request deadline,
 * so the retry on another worker still fits inside router.request_timeout_ms.
 */
export function workerTimeoutMs(config: Pick<Config, 'router'>): number {
  return Math.ceil(config.router.request_timeout_ms / 2);
}

export function createRouter(config: Config, env: Env, parts: RouterParts): Router {
  const { metrics } = parts;
  const clock = parts.clock ?? { now: Date.now };
  const live = new LiveConfig(config, env);
  const shadow = parts.shadow
    ? new ShadowRunner({
        pool: parts.shadow.pool,
        ...(parts.shadow.start ? { startPool: parts.shadow.start } : {}),
        modelName: config.mlflow.model_name,
        features: config.dataset.features,
        classes: config.dataset.classes,
        share: (kind) => (kind === 'watch' ? live.current.ab.watch.share : live.current.router.shadow_share),
        queueLimit: config.router.shadow_queue,
        workers: config.router.shadow_workers,
        maxBatch: shadowBatchSize(config.router),
        log: parts.log,
        metrics,
        now: clock.now,
      })
    : null;
  const models = new ModelSet({
    pool: parts.pool,
    ...(parts.served ? { served: parts.served } : {}),
    registry: parts.registry,
    registryUri: config.mlflow.tracking_uri,
    modelName: config.mlflow.model_name,
    aliases: { prod: config.mlflow.prod_alias, staging: config.mlflow.staging_alias },
    features: config.dataset.features,
    classes: config.dataset.classes,
    batch: { maxSize: config.router.batch_max_size, maxWaitMs: config.router.batch_max_wait_ms },
    pollMs: config.router.registry_poll_s * 1000,
    workers: parts.workers ?? config.router.workers,
    onBatch: (alias, size) => metrics.batchSize.observe({ alias }, size),
    onVersionChange: (alias, version) => metrics.setModelVersion(alias === 'prod' ? config.mlflow.prod_alias : config.mlflow.staging_alias, version),
    previousAlias: previousAlias(config),
    ...(shadow ? { onShadowTarget: (target) => void shadow.setTarget(target) } : {}),
  });
  const lifecycle: Lifecycle = { starting: null, draining: false };
  const app = buildApp({
    config: live,
    models,
    log: parts.log,
    labels: parts.labels,
    requestIds: parts.requestIds,
    metrics,
    lifecycle,
    clock,
    ...(parts.logger === undefined ? {} : { logger: parts.logger }),
    ...(parts.logProblem ? { logProblem: parts.logProblem } : {}),
    ...(shadow ? { shadow } : {}),
  });
  metrics.split.set(config.router.ab_split_b);
  // The log says which split was in force when: a split row when the app starts serving, and one at
  // each change (PUT /ab and a file edit both arrive as the live config's change). The row is queued
  // in the same turn as the change, so it precedes every row assigned by the new split. A row that
  // cannot be written is counted and logged; the split applies either way.
  const logSplit = (splitB: number): Promise<void> =>
    parts.log.appendSplit({ ts: clock.now(), splitB }).then(
      () => {
        metrics.logRows.inc({ event: 'split' });
      },
      (error: unknown) => {
        metrics.logRowsFailed.inc({ event: 'split' });
        app.log.warn({ event: 'log_split_failed', ab_split_b: splitB, err: (error as Error).message }, `the split row (ab_split_b ${splitB}) could not be logged: ${(error as Error).message}`);
      },
    );
  app.addHook('onReady', () => logSplit(live.current.router.ab_split_b));
  live.on('change', (next, previous) => {
    if (next.router.ab_split_b !== previous.router.ab_split_b) void logSplit(next.router.ab_split_b);
    // A share raised from 0 loads the shadow that was waiting for one.
    if (shadow && (next.router.shadow_share !== previous.router.shadow_share || next.ab.watch.share !== previous.ab.watch.share)) void shadow.sync();
  });
  return {
    app,
    live,
    models,
    shadow,
    metrics,
    lifecycle,
    start() {
      live.start(app.log.child({ component: 'config' }));
      shadow?.start(app.log.child({ component: 'shadow' }));
      models.start(app.log.child({ component: 'models' }));
    },
    stop() {
      models.stop();
      live.stop();
    },
  };
}
