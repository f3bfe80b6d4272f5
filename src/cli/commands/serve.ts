import { existsSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Config } from '../../config/index.js';
import { ConfigError, DriftgateError } from '../../errors.js';
import { isGlob } from '../../fs-glob.js';
import { checkLogColumns, logColumns, logSchema, LogWriter, type LogWriterEvent } from '../../prediction-log/index.js';
import { ENVIRONMENTS, ensurePythonEnv } from '../../python/bootstrap.js';
import type { Logger } from '../../logger.js';
import { MlflowClient } from '../../registry/index.js';
import { createRouter, workerTimeoutMs } from '../../router/create-router.js';
import { ModelCache, WorkerPool } from '../../router/inference/index.js';
import { RouterMetrics } from '../../router/metrics.js';
import { LabelIndex } from '../../router/label-index.js';
import { RequestIds, requestKey } from '../../router/request-id.js';
import type { Command } from '../command.js';

/** In-flight requests get this long to finish on SIGTERM before the router stops anyway. */
const DRAIN_TIMEOUT_MS = 30_000;
/** Shadow predictions in flight at the stop get this long to finish; the rest are not logged. */
const SHADOW_DRAIN_MS = 2000;
/** The shadow workers' scheduling priority (nice): the lowest, below prod's workers and the router. */
const SHADOW_WORKER_NICE = 19;

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

/** A replica writes one file; router.log_path may be a glob for the readers, but then each replica needs its own path. */
function ownLogPath(config: Config): string {
  const file = config.router.log_path;
  if (isGlob(path.basename(file)) && !existsSync(file)) {
    throw new ConfigError(
      config.source.file,
      'router.log_path',
      `expected this replica's own log file to write, got the glob ${JSON.stringify(file)} (fine for the readers); set DRIFTGATE_LOG_PATH to this replica's file, e.g. predictions-$HOSTNAME.csv`,
    );
  }
  return file;
}

/** What the log writer reports, as a line for people and a counter for /metrics. */
function logEventLine(event: LogWriterEvent, file: string): string | null {
  switch (event.kind) {
    case 'opened':
      return event.repairedBytes > 0 ? `cut a torn last row (${event.repairedBytes} bytes) off ${file}, left by a crash` : null;
    case 'rotated':
      if (event.reason === 'headerless') return `${file} held rows without a header (cut by an older copytruncate); moved it to ${event.to} and started a new file`;
      if (event.reason === 'upgrade') return `${file} is in an earlier log layout (without some of the columns error_code, ab_split_b, probabilities); moved it to ${event.to} (still read with the log) and started a new file with the new header`;
      return `rotated the predictions log (${event.reason}): the rows so far are in ${event.to}`;
    case 'rotate_failed':
      return `could not rotate ${file} (${event.reason}); still writing to it`;
    case 'reopened':
      return `reopened ${file} (${event.reason === 'signal' ? 'SIGHUP' : `the file was ${event.reason}`})`;
    case 'truncated':
      return `${file} was truncated in place (copytruncate); rebuilt it with the header${event.copy ? ` and ${event.restoredBytes} bytes of rows its copy ${event.copy} missed` : ' (no copy of it was found: the rows before the truncation are wherever it was copied to)'}`;
    case 'foreign_append':
      return `another process appended ${event.bytes} bytes to ${file}; give every router its own log file (DRIFTGATE_LOG_PATH)`;
    case 'write_failed':
      return `writing the predictions log failed (${event.code}: ${event.message}); ${event.rows} rows not logged`;
    case 'recovered':
      return `the predictions log ${file} takes rows again after ${Math.round(event.afterMs / 100) / 10} s`;
  }
}

/** The startup line when labels are not guarded by a token: open to anyone, or refused for want of one. */
function labelLine(config: Config): string | null {
  if (config.router.labels === 'open') {
    return '[serve] WARNING: router.labels is open: anyone who reaches the router can send labels (POST /feedback, a label on POST /predict) and so sway the A/B test; set router.labels: token and DRIFTGATE_LABEL_TOKEN';
  }
  if (config.labelToken === null) return '[serve] labels (POST /feedback, a label on POST /predict) are refused with 401 LABELS_DISABLED: DRIFTGATE_LABEL_TOKEN is not set';
  return null;
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
    'them now. One CSV row per prediction and feedback goes to router.log_path (an answer waits for its row:',
    'router.log_ack), synced by router.log_fsync, rotated by router.log_rotate; SIGHUP reopens it (after an',
    'outside mv). SIGTERM or Ctrl-C: stop accepting, finish in-flight requests, flush, exit 0.',
    'Listens on router.host:router.port (DRIFTGATE_ROUTER_HOST, DRIFTGATE_ROUTER_PORT); admin routes need',
    'DRIFTGATE_ADMIN_TOKEN. Labels (POST /feedback, a label on POST /predict) need DRIFTGATE_LABEL_TOKEN as a',
    'bearer token (router.labels: token, the default; open takes them from anyone). Logs are JSON lines on',
    'stderr (DRIFTGATE_LOG_LEVEL, default info). Shadow mode: router.shadow_share of the requests prod answers',
    'are also predicted, off the reply path, by staging (or the replaced prod during a watch) on',
    'router.shadow_workers workers of their own, and logged as shadow rows (live, like ab_split_b).',
  ].join('\n'),
  async run({ config, env, log, signal }) {
    checkLogColumns(config);
    const logPath = ownLogPath(config);
    const schema = logSchema(config);
    const key = await requestKey(config.requestKey, logPath);
    const labels = new LabelIndex();
    await labels.preload(logPath, schema);
    const metrics = new RouterMetrics({ processMetrics: true });
    // Until the HTTP app's JSON logger exists (the file is opened first), events go to stderr as plain lines.
    let logLogger: Logger | null = null;
    const onLogEvent = (event: LogWriterEvent): void => {
      if (event.kind === 'write_failed') {
        metrics.logWriteErrors.inc({ code: event.code });
        if (event.rows > 0) metrics.logWritable.set(0);
      }
      if (event.kind === 'recovered') metrics.logWritable.set(1);
      if (event.kind === 'rotated' || event.kind === 'reopened') metrics.logRotations.inc({ reason: event.reason });
      if (event.kind === 'truncated') metrics.logRotations.inc({ reason: 'truncated' });
      const line = logEventLine(event, logPath);
      if (line === null) return;
      const warn = event.kind === 'write_failed' || event.kind === 'rotate_failed' || event.kind === 'foreign_append';
      if (!logLogger) log(`[serve] ${line}`);
      else if (warn) logLogger.warn({ event: `log_${event.kind}` }, line);
      else logLogger.info({ event: `log_${event.kind}` }, line);
    };
    const predictionLog = await LogWriter.open({
      file: logPath,
      columns: logColumns(config),
      schema,
      fsync: config.router.log_fsync,
      ack: config.router.log_ack,
      intervalMs: config.router.flush_interval_ms,
      rotate: { maxBytes: Math.round(config.router.log_rotate.max_size_mb * 1024 * 1024), every: config.router.log_rotate.every },
      onEvent: onLogEvent,
    });
    const cache = openModelCache(config);
    const pool = new WorkerPool({
      size: config.router.workers,
      cache,
      env: workerEnv(config),
      predictTimeoutMs: workerTimeoutMs(config),
      onRestart: () => metrics.workerRestarts.inc(),
    });
    // The shadow's own pool: a slow or hung shadow model holds only these processes, never prod's.
    // Its processes start the first time a shadow is needed (a version to shadow with, at a share above 0).
    let startShadowPool: () => void = () => undefined;
    const shadowPool = new WorkerPool({
      size: config.router.shadow_workers,
      cache,
      env: workerEnv(config),
      predictTimeoutMs: workerTimeoutMs(config),
      onRestart: () => metrics.shadowWorkerRestarts.inc(),
      // On a busy machine the kernel serves prod's workers and the router first; the shadow falls behind (its queue drops) instead.
      nice: SHADOW_WORKER_NICE,
    });
    const router = createRouter(config, env, {
      pool,
      shadow: { pool: shadowPool, start: () => startShadowPool() },
      served: cache,
      registry: new MlflowClient(config.mlflow.tracking_uri, 5000),
      log: predictionLog,
      logProblem: () => predictionLog.problem(),
      labels,
      requestIds: new RequestIds({ key: key.key }),
      metrics,
      logger: { level: env.DRIFTGATE_LOG_LEVEL ?? 'info', stream: process.stderr },
    });
    const { app } = router;
    logLogger = app.log.child({ component: 'log' });

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
    const started = Date.now();
    const reopen = (): void => void predictionLog.reopen('signal');
    process.on('SIGHUP', reopen);
    const { log_ack: ack, log_fsync: fsync } = config.router;
    log(
      `[serve] listening on ${address}; predictions log ${logPath} (${ack === 'written' ? 'answers wait for their row' : `rows written every ${config.router.flush_interval_ms} ms`}, fsync ${fsync}; SIGHUP reopens it); request ids signed with ${key.source}; ${config.router.workers} inference workers starting`,
    );
    if (config.adminToken === null) log('[serve] admin routes (PUT /ab, POST /admin/reload) are disabled: DRIFTGATE_ADMIN_TOKEN is not set');
    const labelWarning = labelLine(config);
    if (labelWarning !== null) log(labelWarning);

    // The environment is checked (and built, when the pins changed) while the router listens: /health
    // answers at once, so a liveness probe does not kill a router whose build takes minutes, over and over.
    router.lifecycle.starting = 'the pinned Python environment is being checked (or built: first use or the pins changed); the inference workers start when it is ready';
    const environment = ensurePythonEnv(ENVIRONMENTS.train, { log, signal }).then((built) => built.python);
    const python = await Promise.race([environment, waitForAbort(signal).then(() => null)]).catch(async (error: unknown) => {
      await app.close();
      await predictionLog.close();
      throw error;
    });
    router.lifecycle.starting = null;
    if (python !== null) {
      pool.start(app.log.child({ component: 'workers' }), python);
      startShadowPool = () => shadowPool.start(app.log.child({ component: 'shadow-workers' }), python);
      router.start();
    }
    await waitForAbort(signal);
    log('[serve] stopping: no new requests; finishing the ones in flight');
    router.lifecycle.draining = true;
    const drained = await Promise.race([app.close().then(() => true), sleep(DRAIN_TIMEOUT_MS, false, { ref: false })]);
    if (!drained) log(`[serve] in-flight requests did not finish within ${DRAIN_TIMEOUT_MS} ms; stopping anyway`);
    process.off('SIGHUP', reopen);
    router.stop();
    // Shadow predictions already taken get a moment to reach the log; a hung shadow does not hold the stop.
    await router.shadow?.close(SHADOW_DRAIN_MS);
    await predictionLog.close();
    await Promise.all([pool.close(), shadowPool.close(SHADOW_DRAIN_MS)]);
    const stats = predictionLog.stats;
    const result = {
      stopped: true,
      address,
      uptime_s: Math.round((Date.now() - started) / 1000),
      predictions: metricsTotal(await metrics.predictions.get()),
      feedback: metricsTotal(await metrics.feedback.get()),
      log_path: logPath,
      log_rows_written: Object.values(stats.rowsWritten).reduce((sum, n) => sum + n, 0),
      log_rows_failed: Object.values(stats.rowsFailed).reduce((sum, n) => sum + n, 0),
      worker_restarts: pool.restarts,
    };
    return { result, human: `router stopped after ${result.uptime_s} s: ${result.predictions} predictions, ${result.feedback} feedback rows, all flushed to ${result.log_path}` };
  },
};

/** The model files and last served versions, kept across restarts; a folder that cannot be made exits 2 naming it. */
function openModelCache(config: Config): ModelCache {
  const cache = new ModelCache(config.router.model_cache_dir, config.mlflow.tracking_uri, config.mlflow.model_name);
  try {
    cache.open();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new ConfigError(config.source.file, 'router.model_cache_dir', `cannot use ${cache.dir} for the model files (${code})`, { cause: error });
  }
  return cache;
}

function metricsTotal(metric: { values: { value: number }[] }): number {
  return metric.values.reduce((sum, v) => sum + v.value, 0);
}

export default command;
