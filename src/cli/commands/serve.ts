import { setTimeout as sleep } from 'node:timers/promises';
import type { Config } from '../../config/index.js';
import { DriftgateError } from '../../errors.js';
import { ENVIRONMENTS, ensurePythonEnv } from '../../python/bootstrap.js';
import { WorkerPool } from '../../python/worker-pool.js';
import { MlflowClient } from '../../registry/index.js';
import { buildApp } from '../../router/app.js';
import { LiveConfig } from '../../router/live-config.js';
import { RouterMetrics } from '../../router/metrics.js';
import { ModelSet } from '../../router/model-set.js';
import { checkLogColumns, logColumns, PredictionLog } from '../../router/prediction-log.js';
import { RecentRequests } from '../../router/recent-requests.js';
import type { Command } from '../command.js';

/** In-flight requests get this long to finish on SIGTERM before the router stops anyway. */
const DRAIN_TIMEOUT_MS = 30_000;

/** Environment of the inference workers. */
function workerEnv(config: Config): Record<string, string> {
  return {
    MLFLOW_TRACKING_URI: config.mlflow.tracking_uri,
    // MLflow refuses to deserialize any model without this; the router loads only the versions
    // that the configured registry's aliases name.
    MLFLOW_ALLOW_PICKLE_DESERIALIZATION: 'true',
    MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR: 'false',
    MLFLOW_DISABLE_TELEMETRY: 'true',
    PYTHONUNBUFFERED: '1',
    // One thread per worker: the pool is the parallelism; BLAS threads would fight over the cores.
    OMP_NUM_THREADS: '1',
    OPENBLAS_NUM_THREADS: '1',
    MKL_NUM_THREADS: '1',
  };
}

function waitForAbort(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
}

const command: Command = {
  summary: 'Run the A/B router: POST /predict and /feedback, GET|PUT /ab, /ready, /metrics',
  details: [
    'Serves prod (A) and staging (B) from a pool of Python inference workers, assigning users by a',
    'versioned hash of user_id against router.ab_split_b. Edit ab_split_b in the YAML (or PUT /ab) and the',
    'router follows within 2 s. Aliases are polled every router.registry_poll_s; POST /admin/reload re-reads',
    'them now. One CSV row per prediction and feedback goes to router.log_path, flushed every',
    'router.flush_interval_ms. SIGTERM or Ctrl-C: stop accepting, finish in-flight requests, flush, exit 0.',
    'Listens on router.host:router.port (DRIFTGATE_ROUTER_HOST, DRIFTGATE_ROUTER_PORT); admin routes need',
    'DRIFTGATE_ADMIN_TOKEN. Logs are JSON lines on stderr (DRIFTGATE_LOG_LEVEL, default info).',
  ].join('\n'),
  async run({ config, env, log, signal }) {
    checkLogColumns(config);
    const { python } = await ensurePythonEnv(ENVIRONMENTS.train, { log });
    const columns = logColumns(config);
    const recent = new RecentRequests();
    await recent.preload(config.router.log_path, columns);
    let logProblem: string | null = null;
    const predictionLog = await PredictionLog.open(config.router.log_path, columns, {
      flushIntervalMs: config.router.flush_interval_ms,
      onError: (error) => {
        logProblem = `the predictions log ${config.router.log_path} cannot be written (${error.message}); rows are kept in memory and retried`;
      },
    });
    if (predictionLog.opened.repairedBytes > 0) {
      log(`[serve] cut a torn last row (${predictionLog.opened.repairedBytes} bytes) off ${config.router.log_path}, left by a crash`);
    }
    const metrics = new RouterMetrics({ processMetrics: true });
    const live = new LiveConfig(config, env);
    const pool = new WorkerPool({
      size: config.router.workers,
      python,
      env: workerEnv(config),
      onRestart: () => metrics.workerRestarts.inc(),
    });
    const models = new ModelSet({
      pool,
      registry: new MlflowClient(config.mlflow.tracking_uri, 5000),
      registryUri: config.mlflow.tracking_uri,
      modelName: config.mlflow.model_name,
      aliases: { prod: config.mlflow.prod_alias, staging: config.mlflow.staging_alias },
      features: config.dataset.features,
      classes: config.dataset.classes,
      batch: { maxSize: config.router.batch_max_size, maxWaitMs: config.router.batch_max_wait_ms },
      pollMs: config.router.registry_poll_s * 1000,
      workers: config.router.workers,
      onBatch: (alias, size) => metrics.batchSize.observe({ alias }, size),
      onVersionChange: (alias, version) => metrics.setModelVersion(alias === 'prod' ? config.mlflow.prod_alias : config.mlflow.staging_alias, version),
    });
    const lifecycle = { draining: false };
    const app = buildApp({
      config: live,
      models,
      log: predictionLog,
      recent,
      metrics,
      lifecycle,
      logger: { level: env.DRIFTGATE_LOG_LEVEL ?? 'info', stream: process.stderr },
      logProblem: () => (predictionLog.stats.lastError ? logProblem : null),
    });
    metrics.split.set(config.router.ab_split_b);

    // Listen first: a taken port fails in a second, before any Python starts; /health answers
    // at once and /ready says why it is not ready while the workers load the models.
    let address: string;
    try {
      address = await app.listen({ host: config.router.host, port: config.router.port });
    } catch (error) {
      await app.close();
      await predictionLog.close();
      if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
        throw new DriftgateError('PORT_IN_USE', `cannot listen on ${config.router.host}:${config.router.port}: the port is taken; stop that program or set router.port (DRIFTGATE_ROUTER_PORT)`, {
          exitCode: 2,
          cause: error,
        });
      }
      throw error;
    }
    live.start(app.log.child({ component: 'config' }));
    pool.start(app.log.child({ component: 'workers' }));
    models.start(app.log.child({ component: 'models' }));
    const started = Date.now();
    log(`[serve] listening on ${address}; predictions log ${config.router.log_path} (flushed every ${config.router.flush_interval_ms} ms); ${config.router.workers} inference workers starting`);
    if (config.adminToken === null) log('[serve] admin routes (PUT /ab, POST /admin/reload) are disabled: DRIFTGATE_ADMIN_TOKEN is not set');

    await waitForAbort(signal);
    log('[serve] stopping: no new requests; finishing the ones in flight');
    lifecycle.draining = true;
    const drained = await Promise.race([app.close().then(() => true), sleep(DRAIN_TIMEOUT_MS, false, { ref: false })]);
    if (!drained) log(`[serve] in-flight requests did not finish within ${DRAIN_TIMEOUT_MS} ms; stopping anyway`);
    models.stop();
    live.stop();
    await predictionLog.close();
    await pool.close();
    const stats = predictionLog.stats;
    const result = {
      stopped: true,
      address,
      uptime_s: Math.round((Date.now() - started) / 1000),
      predictions: metricsTotal(await metrics.predictions.get()),
      feedback: metricsTotal(await metrics.feedback.get()),
      log_path: config.router.log_path,
      log_rows_written: stats.rowsWritten,
      worker_restarts: pool.restarts,
    };
    return { result, human: `router stopped after ${result.uptime_s} s: ${result.predictions} predictions, ${result.feedback} feedback rows, all flushed to ${result.log_path}` };
  },
};

function metricsTotal(metric: { values: { value: number }[] }): number {
  return metric.values.reduce((sum, v) => sum + v.value, 0);
}

export default command;
