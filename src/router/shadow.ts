/**
 * Shadow mode: for a share of the requests prod answers, a second model (staging at
 * router.shadow_share, or the replaced prod at ab.watch.share during a post-promotion watch) predicts
 * the same row off the reply path, on a worker pool of its own, and its answer becomes a `shadow` log
 * row after the request's prod row.
 *
 * Nothing here can touch a reply: offer() is synchronous, cheap and never throws; the work waits in a
 * bounded queue (router.shadow_queue, counting rows waiting and rows in a running batch) and a request
 * that finds it full is dropped and counted. A batch goes only to an idle shadow worker, so a slow or
 * hung shadow model fills its own queue and nothing else; the pool kills a worker silent for half the
 * request deadline and starts another. Failures are counted and logged (a shadow row with its error
 * code, for the paired failure guardrail), never answered.
 */
import type { Feature } from '../config/index.js';
import type { Logger } from '../logger.js';
import { WorkerPoolError, type BatchTiming, type Row, type RowResult, type WorkerInfo } from './inference/index.js';
import { classProbabilities, LogWriteError } from '../prediction-log/index.js';
import { shadowChosen } from './assign.js';
import type { LogSink } from './context.js';
import type { RouterMetrics } from './metrics.js';
import { checkLoadedModel, type ModelPool } from './model-set.js';

/** Which version shadows prod now, and for which alias it stands. */
export interface ShadowTarget {
  /** staging: the candidate under test; watch: the replaced prod after a promotion. */
  kind: 'staging' | 'watch';
  /** The alias name the shadow rows carry: mlflow.staging_alias, or previous_<prod alias>. */
  alias: string;
  version: string;
}

/** A request prod answered, as the /predict route hands it over once its row is in the log. */
export interface ShadowRequest {
  requestId: string;
  userId: string;
  features: Row;
  /** Prod's answer, for the agreement count. */
  prediction: string;
  /** Prod's latency as its row logged it, and its model's own time for its batch: see shadowLatencyMs. */
  latencyMs: number;
  inferenceMs: number;
}

/**
 * The latency a shadowed request would have had with the shadow's model: prod's logged latency with
 * prod's model time for its batch replaced by the shadow model's for its batch, both measured inside
 * the worker (python/worker.py's compute_ms: no pipe, no JSON, no wait for a worker at nice 19). The
 * paired latency guardrail then compares like with like: the HTTP, queueing and logging parts are the
 * same request's, and the difference is the models' own. A shadow batch holds more rows than prod's
 * (shadowBatchSize), so where a model's time grows with its rows the estimate leans against the
 * shadow: the guardrail can only be stricter for it.
 */
export function shadowLatencyMs(request: Pick<ShadowRequest, 'latencyMs' | 'inferenceMs'>, shadowComputeMs: number): number {
  return Math.max(0, request.latencyMs - request.inferenceMs) + shadowComputeMs;
}

export type ShadowState = 'off' | 'serving' | 'loading' | 'failed' | 'absent';

export interface ShadowStatus {
  /** The share in force for the target: router.shadow_share, or ab.watch.share during a watch. */
  share: number;
  kind: ShadowTarget['kind'] | null;
  alias: string | null;
  /** The version predicting in shadow now. */
  version: string | null;
  /** The version that should (differs from `version` while it loads, or after a failed load). */
  wanted: string | null;
  state: ShadowState;
  error: string | null;
  /** Shadow predictions waiting or in a running batch, and at most how many. */
  queue: { length: number; limit: number };
  workers: WorkerInfo[];
}

/** What the /predict route and /ready need from the shadow. */
export interface ShadowBackend {
  /** Shadow this request if it is among the share; returns at once and never throws. */
  offer(request: ShadowRequest): void;
  status(): ShadowStatus;
}

/** No shadow at all (tests, or a router built without a shadow pool). */
export const NO_SHADOW: ShadowBackend = {
  offer: () => undefined,
  status: () => ({ share: 0, kind: null, alias: null, version: null, wanted: null, state: 'off', error: null, queue: { length: 0, limit: 0 }, workers: [] }),
};

export interface ShadowOptions {
  pool: ModelPool;
  /** Starts the pool's processes; called once, when a shadow is first needed (share > 0 and a target). */
  startPool?: () => void;
  modelName: string;
  features: readonly Feature[];
  classes: readonly string[];
  /**
   * The share in force now (live) for a target of this kind: router.shadow_share for staging,
   * ab.watch.share for a watch (a promotion resets router.shadow_share to 0).
   */
  share: (kind: ShadowTarget['kind']) => number;
  /** router.shadow_queue. */
  queueLimit: number;
  /** router.shadow_workers: batches in flight at most (one per worker). */
  workers: number;
  /** Rows per shadow batch at most (shadowBatchSize). */
  maxBatch: number;
  /**
   * A shadow batch smaller than maxBatch leaves once its first row has waited this long (default
   * SHADOW_BATCH_WAIT_MS): no reply waits for it, and fewer, fuller batches cost the machine less.
   */
  maxWaitMs?: number;
  log: LogSink;
  metrics: RouterMetrics;
  /** Epoch ms for the rows' ts. */
  now: () => number;
  /** Monotonic ms for the shadow's own inference time. */
  monotonic?: () => number;
}

interface Waiting {
  request: ShadowRequest;
  /** Monotonic ms when it was taken. */
  at: number;
}

/**
 * Rows per shadow batch: half the queue (a running batch leaves room for as many waiting), at least
 * router.batch_max_size. One predict call costs about the same for 1 row as for 100, so the shadow,
 * which nobody waits for, takes big ones: less of the machine for the same rows.
 */
export function shadowBatchSize(router: { batch_max_size: number; shadow_queue: number }): number {
  return Math.min(4096, Math.max(router.batch_max_size, Math.floor(router.shadow_queue / 2)));
}

// A version that failed to load is tried again after this long (as the prod and staging slots are).
const RETRY_FAILED_MS = 30_000;
export const SHADOW_BATCH_WAIT_MS = 50;
/** Shadow rows logged per turn of the event loop. */
const RECORD_SLICE = 16;

export class ShadowRunner implements ShadowBackend {
  private wanted: ShadowTarget | null = null;
  private serving: ShadowTarget | null = null;
  private loading: string | null = null;
  private error: string | null = null;
  private failedVersion: string | null = null;
  private retryAt = 0;
  private started = false;
  private poolStarted = false;
  private closed = false;
  private queue: Waiting[] = [];
  /** Rows waiting plus rows in running batches: what router.shadow_queue bounds. */
  private pending = 0;
  private running = 0;
  private pumpQueued = false;
  private pumpTimer: NodeJS.Timeout | null = null;
  private readonly maxWaitMs: number;
  private logger: Logger | null = null;
  private readonly monotonic: () => number;
  private idleWaiters: (() => void)[] = [];
  private chain: Promise<void> = Promise.resolve();

  constructor(private readonly options: ShadowOptions) {
    this.monotonic = options.monotonic ?? (() => performance.now());
    this.maxWaitMs = options.maxWaitMs ?? SHADOW_BATCH_WAIT_MS;
    options.pool.onIdle(() => this.schedulePump());
  }

  /** Begin loading targets (the router has started; the pool may be started when needed). */
  start(logger: Logger): void {
    this.logger = logger;
    this.started = true;
    void this.sync();
  }

  /** The version that should shadow prod now (from the model set after each registry answer). */
  setTarget(target: ShadowTarget | null): Promise<void> {
    const same = target?.version === this.wanted?.version && target?.alias === this.wanted?.alias;
    this.wanted = target;
    if (!same) this.retryAt = 0;
    return this.sync();
  }

  /**
   * Load or retire to match the wanted target; a shadow is loaded only once the share asks for one.
   * One sync at a time; resolves when this one (and those before it) are done.
   */
  sync(): Promise<void> {
    this.chain = this.chain.then(() => this.syncNow()).catch((error: unknown) => {
      this.logger?.error({ event: 'shadow_sync_failed', err: (error as Error).message }, `updating the shadow failed: ${(error as Error).message}`);
    });
    return this.chain;
  }

  private async syncNow(): Promise<void> {
    if (!this.started || this.closed) return;
    const wanted = this.wanted;
    if (!wanted) {
      this.error = null;
      this.failedVersion = null;
      if (this.serving) this.retire(this.serving, null);
      return;
    }
    if (this.serving?.version === wanted.version) {
      // The same files under another name (a watch's previous that was staging a moment ago): rename only.
      if (this.serving.alias !== wanted.alias || this.serving.kind !== wanted.kind) this.serving = wanted;
      this.error = null;
      this.failedVersion = null;
      return;
    }
    if (this.options.share(wanted.kind) <= 0 && !this.serving) return;
    if (this.failedVersion === wanted.version && this.options.now() < this.retryAt) return;
    if (!this.poolStarted) {
      this.poolStarted = true;
      this.options.startPool?.();
    }
    const { version } = wanted;
    this.loading = version;
    this.logger?.info({ event: 'shadow_loading', alias: wanted.alias, version }, `loading version ${version} of ${this.options.modelName} as the shadow (${wanted.alias}) on the shadow workers`);
    let problem: string | null = null;
    try {
      const loaded = await this.options.pool.load({
        key: version,
        uri: `models:/${this.options.modelName}/${version}`,
        columns: this.options.features.map((f) => ({ name: f.name, type: f.type })),
      });
      problem = checkLoadedModel(loaded, version, this.options);
    } catch (error) {
      problem = (error as Error).message.split('\n')[0]!;
    }
    this.loading = null;
    if (this.closed) return;
    if (this.wanted?.version !== version) {
      // Retargeted while it loaded: take the new one now.
      if (this.serving?.version !== version) void this.options.pool.unload(version).catch(() => undefined);
      return this.syncNow();
    }
    if (problem !== null) {
      this.failedVersion = version;
      this.retryAt = this.options.now() + RETRY_FAILED_MS;
      this.error = `version ${version} of ${this.options.modelName} (shadow, ${wanted.alias}) could not be loaded: ${problem}`;
      this.logger?.error({ event: 'shadow_load_failed', alias: wanted.alias, version, err: problem }, this.error);
      if (this.serving?.version !== version) void this.options.pool.unload(version).catch(() => undefined);
      return;
    }
    const previous = this.serving;
    this.serving = this.wanted;
    this.error = null;
    this.failedVersion = null;
    this.logger?.info(
      { event: 'shadow_serving', alias: this.serving.alias, version, previous: previous?.version ?? null },
      `the shadow is now version ${version} (${this.serving.alias})${previous ? ` (was ${previous.version})` : ''}`,
    );
    if (previous) this.retire(previous, version);
    this.schedulePump();
  }

  private retire(old: ShadowTarget, next: string | null): void {
    if (this.serving?.version === old.version && next === null) {
      this.serving = null;
      // What still waits for it is dropped (no_model) by the next pump.
      this.schedulePump();
    }
    this.logger?.info({ event: 'shadow_retired', version: old.version }, `version ${old.version} no longer shadows prod`);
    void this.options.pool.unload(old.version).catch((error: Error) =>
      this.logger?.warn({ event: 'shadow_retire_failed', version: old.version, err: error.message }, `version ${old.version} could not be unloaded from the shadow workers: ${error.message}`),
    );
  }

  offer(request: ShadowRequest): void {
    const serving = this.serving;
    const share = this.options.share(serving?.kind ?? this.wanted?.kind ?? 'staging');
    if (!shadowChosen(request.requestId, share)) return;
    if (this.closed) return;
    const { metrics } = this.options;
    // Nothing to shadow with: no target, its load still running or failed, or its workers restarting.
    if (!serving || !this.options.pool.serves(serving.version)) {
      metrics.shadowDropped.inc({ reason: 'no_model' });
      return;
    }
    if (this.pending >= this.options.queueLimit) {
      metrics.shadowDropped.inc({ reason: 'queue_full' });
      return;
    }
    this.queue.push({ request, at: this.monotonic() });
    this.pending += 1;
    // A full batch goes at the end of this turn; a smaller one when its first row has waited maxWaitMs.
    if (this.queue.length >= this.options.maxBatch) this.schedulePump();
    else if (this.pumpTimer === null && this.queue.length === 1) this.pumpTimer = setTimeout(() => this.onPumpTimer(), this.maxWaitMs);
  }

  private onPumpTimer(): void {
    this.pumpTimer = null;
    this.pump();
  }

  /** Look at the queue at the end of this turn (a worker came free, a batch filled up, a target changed). */
  private schedulePump(): void {
    if (this.pumpQueued) return;
    this.pumpQueued = true;
    setImmediate(() => {
      this.pumpQueued = false;
      this.pump();
    });
  }

  /**
   * Send batches to idle shadow workers only: a busy one is never handed more, so its queue is this
   * one. A batch leaves full, or once its first row has waited maxWaitMs.
   */
  private pump(): void {
    while (this.queue.length > 0 && this.running < this.options.workers) {
      const serving = this.serving;
      if (!serving || !this.options.pool.serves(serving.version)) {
        // Retired (or its workers restarting) while these waited: nothing can answer them now.
        if (!serving) this.dropQueued('no_model');
        return;
      }
      if (!this.options.pool.hasIdle(serving.version)) return;
      const waited = this.monotonic() - this.queue[0]!.at;
      if (!this.closed && this.queue.length < this.options.maxBatch && waited < this.maxWaitMs) {
        if (this.pumpTimer === null) this.pumpTimer = setTimeout(() => this.onPumpTimer(), Math.max(1, this.maxWaitMs - waited));
        return;
      }
      const batch = this.queue.splice(0, this.options.maxBatch);
      void this.run(serving, batch);
    }
  }

  private dropQueued(reason: 'no_model'): void {
    const n = this.queue.length;
    this.queue = [];
    this.settle(n);
    this.options.metrics.shadowDropped.inc({ reason }, n);
  }

  private settle(rows: number): void {
    this.pending -= rows;
    if (this.pending === 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const wake of waiters) wake();
    }
  }

  private async run(target: ShadowTarget, batch: Waiting[]): Promise<void> {
    const { metrics, pool } = this.options;
    this.running += 1;
    const started = this.monotonic();
    let results: RowResult[] | null = null;
    let batchCode = 'WORKER_FAILED';
    const timing: BatchTiming = { computeMs: Number.NaN };
    try {
      results = await pool.predict(target.version, batch.map((w) => w.request.features), timing);
      if (results.length !== batch.length) results = null;
    } catch (error) {
      if (error instanceof WorkerPoolError && error.kind === 'model-error') batchCode = 'MODEL_UNAVAILABLE';
      this.logger?.warn(
        { event: 'shadow_batch_failed', version: target.version, rows: batch.length, err: (error as Error).message.split('\n')[0] },
        `a shadow batch of ${batch.length} on version ${target.version} failed: ${(error as Error).message.split('\n')[0]}`,
      );
    } finally {
      this.running -= 1;
    }
    const batchMs = Number.isFinite(timing.computeMs) ? timing.computeMs : this.monotonic() - started;
    const ts = this.options.now();
    // Counted per batch, not per row, and logged a slice per turn: this runs on the router's thread,
    // and replies waiting meanwhile should never sit behind a whole big batch of rows. A failed batch
    // is a failure row for each of its requests: the paired failure guardrail counts them.
    const tally = { failed: 0, agree: 0, disagree: 0 };
    for (let from = 0; from < batch.length; from += RECORD_SLICE) {
      if (from > 0) await new Promise<void>((resolve) => setImmediate(resolve));
      for (let i = from; i < Math.min(batch.length, from + RECORD_SLICE); i++) {
        const result: RowResult | string = results === null ? batchCode : results[i]!;
        this.record(target, batch[i]!.request, result, ts, batchMs, tally);
      }
    }
    if (tally.failed > 0) metrics.shadowDropped.inc({ reason: 'failed' }, tally.failed);
    const made = tally.agree + tally.disagree;
    if (made > 0) metrics.shadowPredictions.inc({ alias: target.alias, model_version: target.version }, made);
    if (tally.agree > 0) metrics.shadowAgreement.inc({ agree: 'true' }, tally.agree);
    if (tally.disagree > 0) metrics.shadowAgreement.inc({ agree: 'false' }, tally.disagree);
    this.settle(batch.length);
    this.schedulePump();
  }

  /**
   * One shadow answer, or the error code of its failure (a string: the batch failed; a row failure:
   * PREDICTION_FAILED): tallied, compared with prod's, and logged (a row the log cannot take is counted).
   */
  private record(target: ShadowTarget, request: ShadowRequest, result: RowResult | string, ts: number, batchMs: number, tally: { failed: number; agree: number; disagree: number }): void {
    const { metrics } = this.options;
    const errorCode = typeof result === 'string' ? result : 'error' in result ? 'PREDICTION_FAILED' : null;
    const prediction = typeof result === 'string' || 'error' in result ? null : result.prediction;
    if (prediction === null) tally.failed += 1;
    else if (prediction === request.prediction) tally.agree += 1;
    else tally.disagree += 1;
    this.options.log
      .appendShadow({
        ts,
        requestId: request.requestId,
        userId: request.userId,
        alias: target.alias,
        version: target.version,
        features: request.features,
        prediction,
        errorCode,
        latencyMs: shadowLatencyMs(request, batchMs),
        ...(typeof result === 'string' || 'error' in result ? {} : { probabilities: classProbabilities(result.probabilities, this.options.classes) }),
      })
      .then(
        () => metrics.logRows.inc({ event: 'shadow' }),
        (error: unknown) => {
          metrics.logRowsFailed.inc({ event: 'shadow' });
          if (!(error instanceof LogWriteError)) this.logger?.error({ event: 'shadow_log_failed', err: (error as Error).message }, `a shadow row could not be written: ${(error as Error).message}`);
        },
      );
  }

  status(): ShadowStatus {
    const serving = this.serving;
    const wanted = this.wanted;
    const target = serving ?? wanted;
    const share = this.options.share(target?.kind ?? 'staging');
    let state: ShadowState;
    if (this.loading) state = 'loading';
    else if (this.error) state = 'failed';
    else if (serving) state = 'serving';
    else if (wanted && share <= 0) state = 'off';
    else state = 'absent';
    return {
      share,
      kind: target?.kind ?? null,
      alias: target?.alias ?? null,
      version: serving?.version ?? null,
      wanted: wanted?.version ?? null,
      state,
      error: this.error,
      queue: { length: this.pending, limit: this.options.queueLimit },
      workers: this.poolStarted ? this.options.pool.info() : [],
    };
  }

  /** Resolves once no shadow prediction waits or runs (their rows handed to the log), or after `timeoutMs`; true when idle. */
  whenIdle(timeoutMs: number): Promise<boolean> {
    if (this.pending === 0) return Promise.resolve(true);
    return new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      timer.unref();
      this.idleWaiters.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  /** Take no more; wait (at most `graceMs`) for the shadow predictions already taken to finish and reach the log. */
  async close(graceMs: number): Promise<void> {
    this.closed = true;
    // What still waits for a batch goes now rather than after its wait.
    this.pump();
    await this.whenIdle(graceMs);
    if (this.pumpTimer !== null) clearTimeout(this.pumpTimer);
    this.pumpTimer = null;
  }
}
