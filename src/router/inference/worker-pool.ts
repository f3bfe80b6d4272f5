/**
 * A pool of Python inference workers, each holding every model version the router serves. A batch
 * goes to the least busy worker that has its version. A worker that dies is restarted with backoff
 * and reloads its models; its in-flight batches are retried once on another worker, or fail with a
 * WorkerPoolError, never hang.
 */
import os from 'node:os';
import path from 'node:path';
import type { Logger } from '../../logger.js';
import { PROJECT_ROOT } from '../../project.js';
import type { ModelCache } from './model-cache.js';
import { WorkerPoolError, type BatchTiming, type LoadedModel, type ModelSpec, type Row, type RowResult, type WorkerInfo } from './protocol.js';
import { PythonWorker } from './worker-process.js';

export const WORKER_SCRIPT = path.join(PROJECT_ROOT, 'python', 'worker.py');

export interface WorkerPoolOptions {
  size: number;
  /** Where workers keep the models' files (a restarted worker, or router, loads them without MLflow). */
  cache: ModelCache;
  script?: string;
  /** Extra environment for the workers (MLFLOW_TRACKING_URI, …). */
  env?: Record<string, string>;
  /** Imports done and the ready line written. */
  startTimeoutMs?: number;
  loadTimeoutMs?: number;
  /** A worker that does not answer a batch in this time is taken for hung, killed and replaced; the batch is retried once elsewhere. */
  predictTimeoutMs?: number;
  restartDelayMs?: { initial: number; max: number };
  /** Called for every restart of a worker that died (metrics). */
  onRestart?: (slot: number) => void;
  /**
   * Scheduling priority of the workers (nice, 0 to 19; 0 by default): the shadow's pool runs at a lower
   * one, so on a busy machine the kernel gives the CPU to prod's workers and the router first.
   */
  nice?: number;
}

// A worker that served this long before dying starts the backoff over.
const HEALTHY_AFTER_MS = 30_000;

export class WorkerPool {
  private readonly workers: (PythonWorker | null)[];
  private readonly desired = new Map<string, ModelSpec>();
  private readonly inflight = new Map<string, number>();
  private readonly drainWaiters = new Map<string, (() => void)[]>();
  private readonly restartTimers = new Set<NodeJS.Timeout>();
  private readonly failures: number[];
  private readyWaiters: (() => void)[] = [];
  private logger: Logger | null = null;
  private closing = false;
  private roundRobin = 0;
  private restartCount = 0;
  private readonly idleListeners: (() => void)[] = [];
  private readonly options: Required<Omit<WorkerPoolOptions, 'onRestart' | 'env' | 'nice'>> & Pick<WorkerPoolOptions, 'onRestart' | 'nice'> & { env: Record<string, string> };
  private python = '';

  constructor(options: WorkerPoolOptions) {
    this.options = {
      script: WORKER_SCRIPT,
      env: {},
      startTimeoutMs: 180_000,
      loadTimeoutMs: 300_000,
      predictTimeoutMs: 30_000,
      restartDelayMs: { initial: 200, max: 10_000 },
      ...options,
    };
    this.workers = new Array<PythonWorker | null>(options.size).fill(null);
    this.failures = new Array<number>(options.size).fill(0);
  }

  get restarts(): number {
    return this.restartCount;
  }

  /** Start the workers on `python`, the pinned environment's interpreter (known once it is built). */
  start(logger: Logger, python: string): void {
    this.logger = logger;
    this.python = python;
    for (let slot = 0; slot < this.workers.length; slot++) this.spawn(slot);
  }

  private spawn(slot: number): void {
    const logger = this.logger!;
    const worker = new PythonWorker(slot, { python: this.python, script: this.options.script, startTimeoutMs: this.options.startTimeoutMs, env: this.options.env }, logger);
    this.workers[slot] = worker;
    // At once, before the interpreter starts any thread (threads inherit it); a failure only costs the priority.
    if (this.options.nice && worker.pid !== null) {
      try {
        os.setPriority(worker.pid, this.options.nice);
      } catch (error) {
        logger.warn({ event: 'worker_nice_failed', worker: slot, pid: worker.pid, err: (error as Error).message }, `could not lower the priority of worker ${slot}: ${(error as Error).message}`);
      }
    }
    logger.info({ event: 'worker_spawned', worker: slot, pid: worker.pid }, `inference worker ${slot} starting (pid ${worker.pid})`);
    void worker.started.then(
      () => {
        logger.info({ event: 'worker_ready', worker: slot, pid: worker.pid }, `inference worker ${slot} is up (pid ${worker.pid})`);
        this.wakeReadyWaiters();
        for (const spec of this.desired.values()) {
          this.loadOn(worker, spec).catch((error: Error) =>
            logger.warn({ event: 'worker_load_failed', worker: slot, model: spec.key, err: error.message }, `inference worker ${slot} could not load ${spec.uri}: ${error.message}`),
          );
        }
      },
      () => undefined,
    );
    void worker.exited.then((why) => this.onExit(slot, worker, why));
  }

  private onExit(slot: number, worker: PythonWorker, why: string): void {
    if (this.workers[slot] !== worker) return;
    this.workers[slot] = null;
    if (this.closing) return;
    const healthy = worker.readyAt > 0 && Date.now() - worker.readyAt > HEALTHY_AFTER_MS;
    this.failures[slot] = healthy ? 0 : (this.failures[slot] ?? 0) + 1;
    const { initial, max } = this.options.restartDelayMs;
    const delay = Math.min(max, initial * 2 ** Math.max(0, (this.failures[slot] ?? 1) - 1));
    this.restartCount += 1;
    this.options.onRestart?.(slot);
    this.logger?.error({ event: 'worker_exited', worker: slot, pid: worker.pid, restart_in_ms: delay }, `${why}; restarting it in ${delay} ms`);
    const timer = setTimeout(() => {
      this.restartTimers.delete(timer);
      if (!this.closing) this.spawn(slot);
    }, delay);
    this.restartTimers.add(timer);
  }

  private wakeReadyWaiters(): void {
    const waiters = this.readyWaiters;
    this.readyWaiters = [];
    for (const wake of waiters) wake();
  }

  private waitForReadyWorker(deadline: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        const tails = this.workers.map((w) => w?.stderrTail()).filter(Boolean).join('\n');
        reject(new WorkerPoolError('no-worker', `no inference worker came up in time${tails ? `; last stderr lines:\n${tails}` : ''}`));
      }, Math.max(0, deadline - Date.now()));
      this.readyWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  private loadOn(worker: PythonWorker, spec: ModelSpec): Promise<LoadedModel> {
    const existing = worker.loads.get(spec.key);
    if (existing) return existing;
    const load = (async (): Promise<LoadedModel> => {
      const reply = await worker.request(
        { op: 'load', key: spec.key, uri: spec.uri, cache: this.options.cache.versionDir(spec.key), columns: spec.columns },
        this.options.loadTimeoutMs,
      );
      if (!reply.ok) {
        throw new WorkerPoolError('model-error', `loading ${spec.uri} failed: ${reply.error?.type ?? 'Error'}: ${reply.error?.message ?? 'no detail'}`);
      }
      if (!this.desired.has(spec.key)) {
        // Unloaded while it was loading: drop it again.
        worker.loads.delete(spec.key);
        void worker.request({ op: 'unload', key: spec.key }, 10_000).catch(() => undefined);
      } else {
        worker.loaded.add(spec.key);
        this.notifyIdle();
      }
      return { key: spec.key, classes: reply.classes ?? [], features: reply.features ?? null, loadMs: reply.load_ms ?? 0, source: reply.source ?? 'registry' };
    })();
    worker.loads.set(spec.key, load);
    load.catch(() => {
      if (worker.loads.get(spec.key) === load) worker.loads.delete(spec.key);
    });
    return load;
  }

  /**
   * Load a model on every worker that is up (workers that start later load it too) and resolve
   * once all of them have it. A model the worker cannot load rejects with kind 'model-error'.
   */
  async load(spec: ModelSpec): Promise<LoadedModel> {
    this.desired.set(spec.key, spec);
    const deadline = Date.now() + this.options.loadTimeoutMs;
    for (;;) {
      if (this.closing) throw new WorkerPoolError('closed', 'the worker pool is closing');
      const ready = this.workers.filter((w): w is PythonWorker => w?.state === 'ready');
      if (ready.length === 0) {
        await this.waitForReadyWorker(deadline);
        continue;
      }
      const results = await Promise.allSettled(ready.map((w) => this.loadOn(w, spec)));
      const modelError = results.find((r): r is PromiseRejectedResult => r.status === 'rejected' && r.reason instanceof WorkerPoolError && r.reason.kind === 'model-error');
      if (modelError) {
        await this.unload(spec.key);
        throw modelError.reason as WorkerPoolError;
      }
      const loaded = results.find((r): r is PromiseFulfilledResult<LoadedModel> => r.status === 'fulfilled');
      if (loaded) return loaded.value;
      if (Date.now() > deadline) throw new WorkerPoolError('timeout', `loading ${spec.uri} did not finish within ${this.options.loadTimeoutMs} ms`);
      // Every worker died while loading; their replacements load it when they come up.
    }
  }

  /** Stop serving a model: wait for its in-flight batches, then drop it from every worker. */
  async unload(key: string): Promise<void> {
    this.desired.delete(key);
    await this.drain(key);
    if (this.desired.has(key)) return;
    for (const worker of this.workers) {
      if (!worker || !worker.loads.has(key)) continue;
      worker.loaded.delete(key);
      worker.loads.delete(key);
      if (worker.state === 'ready') void worker.request({ op: 'unload', key }, 10_000).catch(() => undefined);
    }
  }

  /** Resolves when no batch for this model is in flight. */
  drain(key: string): Promise<void> {
    if ((this.inflight.get(key) ?? 0) === 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const list = this.drainWaiters.get(key) ?? [];
      list.push(resolve);
      this.drainWaiters.set(key, list);
    });
  }

  /** True when the model's files are on disk, so it loads without the registry. */
  cached(key: string): boolean {
    return this.options.cache.has(key);
  }

  /** True when some worker can serve the model now. */
  serves(key: string): boolean {
    return this.workers.some((w) => w?.state === 'ready' && w.loaded.has(key));
  }

  /** True when a worker that has the model is doing nothing: a batch sent now starts at once. */
  hasIdle(key: string): boolean {
    return this.workers.some((w) => w?.state === 'ready' && w.loaded.has(key) && w.predicts === 0);
  }

  /** Called whenever a worker becomes idle (a batch finished, a worker or a model came up). */
  onIdle(listener: () => void): void {
    this.idleListeners.push(listener);
  }

  private notifyIdle(): void {
    for (const listener of this.idleListeners) listener();
  }

  /** Predict a batch; the rows' values are in the model's column order. */
  /** One result per row: a prediction, or why the model could not predict that row. */
  predict(key: string, rows: readonly Row[], timing?: BatchTiming): Promise<RowResult[]> {
    // Counted synchronously, so an unload that starts after this call waits for it.
    this.inflight.set(key, (this.inflight.get(key) ?? 0) + 1);
    return this.predictWithRetry(key, rows, timing).finally(() => {
      const left = (this.inflight.get(key) ?? 1) - 1;
      if (left > 0) {
        this.inflight.set(key, left);
        return;
      }
      this.inflight.delete(key);
      const waiters = this.drainWaiters.get(key) ?? [];
      this.drainWaiters.delete(key);
      for (const wake of waiters) wake();
    });
  }

  private async predictWithRetry(key: string, rows: readonly Row[], timing?: BatchTiming): Promise<RowResult[]> {
    const first = this.pick(key, null);
    if (!first) throw new WorkerPoolError('no-worker', `no inference worker has model ${key} loaded`);
    try {
      return await this.predictOn(first, key, rows, timing);
    } catch (error) {
      if (!(error instanceof WorkerPoolError) || (error.kind !== 'worker-died' && error.kind !== 'timeout')) throw error;
      const second = this.pick(key, first);
      if (!second) throw new WorkerPoolError(error.kind, `${error.message.split('\n')[0]}; no other worker could take the retry`, { cause: error });
      this.logger?.warn({ event: 'batch_retry', worker: second.slot, model: key, rows: rows.length }, `retrying a batch of ${rows.length} on inference worker ${second.slot}`);
      return await this.predictOn(second, key, rows, timing);
    }
  }

  private async predictOn(worker: PythonWorker, key: string, rows: readonly Row[], timing?: BatchTiming): Promise<RowResult[]> {
    worker.predicts += 1;
    try {
      const reply = await worker.request({ op: 'predict', key, rows }, this.options.predictTimeoutMs);
      if (!reply.ok || !reply.predictions || reply.predictions.length !== rows.length) {
        throw new WorkerPoolError('model-error', `model ${key} failed to predict: ${reply.error?.type ?? 'Error'}: ${reply.error?.message ?? `expected ${rows.length} predictions`}`);
      }
      if (timing) timing.computeMs = typeof reply.compute_ms === 'number' && Number.isFinite(reply.compute_ms) && reply.compute_ms >= 0 ? reply.compute_ms : Number.NaN;
      return reply.predictions;
    } finally {
      worker.predicts -= 1;
      if (worker.predicts === 0) this.notifyIdle();
    }
  }

  /** The least busy worker that has the model, other than `exclude`; ties go round-robin. */
  private pick(key: string, exclude: PythonWorker | null): PythonWorker | null {
    let best: PythonWorker | null = null;
    const n = this.workers.length;
    this.roundRobin = (this.roundRobin + 1) % n;
    for (let i = 0; i < n; i++) {
      const worker = this.workers[(this.roundRobin + i) % n];
      if (!worker || worker === exclude || worker.state !== 'ready' || !worker.loaded.has(key)) continue;
      if (!best || worker.predicts < best.predicts) best = worker;
    }
    return best;
  }

  info(): WorkerInfo[] {
    return this.workers.map((worker, slot) => ({
      slot,
      pid: worker?.pid ?? null,
      state: worker?.state ?? 'exited',
      models: worker ? [...worker.loaded] : [],
      inflight: worker?.predicts ?? 0,
    }));
  }

  /** Stop every worker after it has answered what it was sent. */
  async close(graceMs = 10_000): Promise<void> {
    this.closing = true;
    for (const timer of this.restartTimers) clearTimeout(timer);
    this.restartTimers.clear();
    for (const wake of this.readyWaiters) wake();
    this.readyWaiters = [];
    await Promise.all(this.workers.map((worker) => worker?.close(graceMs)));
  }
}
