/**
 * The models behind the aliases. When the registry poller says which versions prod and staging
 * are, a new version is loaded into the worker pool before the old one retires; predictions are
 * batched per alias; every prediction names the version that actually answered it.
 */
import type { Feature } from '../config/index.js';
import type { Logger } from '../logger.js';
import type { ModelVersion, Watch } from '../registry/index.js';
import { Batcher } from './batcher.js';
import { RouterError } from './errors.js';
import { WorkerPoolError, type BatchTiming, type LastKnown, type LoadedModel, type ModelSpec, type Row, type RowPrediction, type RowResult, type WorkerInfo } from './inference/index.js';
import { ALIAS_KEYS, RegistryPoller, type AliasKey, type AliasRegistry, type RegistryStatus, type WatchReading } from './registry-poller.js';
import type { ShadowTarget } from './shadow.js';

export { ALIAS_KEYS, type AliasKey } from './registry-poller.js';

/** What the model set needs from the worker pool (the real WorkerPool, or a stub in tests). */
export interface ModelPool {
  load(spec: ModelSpec): Promise<LoadedModel>;
  unload(key: string): Promise<void>;
  /** One result per row: a prediction, or why the model could not predict that row; `timing` gets the model's own time for the batch. */
  predict(key: string, rows: readonly Row[], timing?: BatchTiming): Promise<RowResult[]>;
  /** True when the model's files are on disk, so it loads without the registry. */
  cached(key: string): boolean;
  serves(key: string): boolean;
  /** True when a worker holding the model is idle. */
  hasIdle(key: string): boolean;
  onIdle(listener: () => void): void;
  info(): WorkerInfo[];
}

export interface ServedPrediction extends RowPrediction {
  /** The alias whose model answered (staging falls back to prod only if it was retired meanwhile). */
  alias: AliasKey;
  aliasName: string;
  version: string;
  /** The model's own time for the batch that answered it (ms, measured in the worker; the round trip if it did not say). */
  inferenceMs: number;
}

export type AliasState = 'serving' | 'loading' | 'failed' | 'absent' | 'unknown';

export interface AliasStatus {
  alias: string;
  /** The version answering requests now. */
  version: string | null;
  /** The version the registry names (differs from `version` while a new one loads or after a failed load). */
  resolved: string | null;
  state: AliasState;
  error: string | null;
}

export interface ModelStatus {
  prod: AliasStatus;
  staging: AliasStatus;
  registry: RegistryStatus;
  workers: WorkerInfo[];
}

export interface Readiness {
  ready: boolean;
  /** Serving, but something needs attention (registry down, a failed load, a worker missing). */
  degraded: boolean;
  reasons: string[];
}

/** What the HTTP app needs from the models. */
export interface ModelBackend {
  /** True when the alias has a version answering requests. */
  servable(alias: AliasKey): boolean;
  /** Predict one row (batched with others); a `signal` that aborts while it waits takes it out of the queue. */
  predict(alias: AliasKey, row: Row, signal?: AbortSignal): Promise<ServedPrediction>;
  status(): ModelStatus;
  readiness(): Readiness;
  /** Resolve the aliases again now (admin reload); resolves when any new version is serving. */
  reload(): Promise<ModelStatus>;
}

/** Where the versions served last are kept across restarts (the ModelCache). */
export interface ServedRecord {
  lastKnown(): LastKnown | null;
  saveLastKnown(versions: Record<AliasKey, string | null>): void;
}

export interface ModelSetOptions {
  pool: ModelPool;
  /** Without it, a router started while the registry is unreachable serves nothing until it answers. */
  served?: ServedRecord;
  registry: AliasRegistry;
  registryUri: string;
  modelName: string;
  aliases: Record<AliasKey, string>;
  features: readonly Feature[];
  classes: readonly string[];
  batch: { maxSize: number; maxWaitMs: number };
  pollMs: number;
  /** Workers the pool should have; fewer ready ones is reported as degraded. */
  workers: number;
  now?: () => number;
  onBatch?: (alias: AliasKey, size: number) => void;
  onVersionChange?: (alias: AliasKey, version: string | null) => void;
  /** The alias a watch's shadow rows carry: previous_<prod alias>. */
  previousAlias?: string;
  /**
   * Which version should shadow prod, after every registry answer: staging while it serves, else the
   * replaced prod while the watch tag names the prod serving now, else none. Not awaited: loading a
   * shadow never holds up the polls.
   */
  onShadowTarget?: (target: ShadowTarget | null) => void;
}

/** Why a loaded model cannot serve this config (classes or features), or null. */
export function checkLoadedModel(loaded: LoadedModel, version: string, expected: { features: readonly Feature[]; classes: readonly string[] }): string | null {
  const { classes } = expected;
  const unknown = loaded.classes.filter((c) => !classes.includes(c));
  if (unknown.length) return `expected class labels among ${classes.join(', ')} (dataset.classes), got ${loaded.classes.join(', ')} from version ${version}`;
  const names = expected.features.map((f) => f.name);
  if (loaded.features && (loaded.features.length !== names.length || !names.every((n) => loaded.features!.includes(n)))) {
    return `expected a model fitted on the features ${names.join(', ')} (dataset.features), got one fitted on ${loaded.features.join(', ')}`;
  }
  return null;
}

interface Slot {
  serving: { version: string; classes: string[] } | null;
  resolved: string | null;
  loading: string | null;
  error: string | null;
  failedVersion: string | null;
  retryAt: number;
}

// A version that failed to load is tried again after this long (or at once on an admin reload).
const RETRY_FAILED_MS = 30_000;

export class ModelSet implements ModelBackend {
  private readonly slots: Record<AliasKey, Slot> = {
    prod: { serving: null, resolved: null, loading: null, error: null, failedVersion: null, retryAt: 0 },
    staging: { serving: null, resolved: null, loading: null, error: null, failedVersion: null, retryAt: 0 },
  };
  private readonly batchers: Record<AliasKey, Batcher<Row, ServedPrediction>>;
  private readonly poller: RegistryPoller;
  private logger: Logger | null = null;
  private readonly now: () => number;
  /** Serving the versions of the last run because the registry has not answered since the start. */
  private restored: LastKnown | null = null;
  private restoreTried = false;
  private saved = '';
  /** The registered model's watch tag at the last registry answer (null: none). */
  private watch: Watch | null = null;
  private badWatchText: string | null = null;

  constructor(private readonly options: ModelSetOptions) {
    this.now = options.now ?? Date.now;
    this.poller = new RegistryPoller({
      registry: options.registry,
      registryUri: options.registryUri,
      modelName: options.modelName,
      aliases: options.aliases,
      pollMs: options.pollMs,
      now: this.now,
      onResolved: async (versions, watch) => {
        if (this.restored) {
          this.logger?.info({ event: 'registry_answered' }, `the model registry answered; its aliases replace the last known versions`);
          this.restored = null;
        }
        this.takeWatch(watch);
        await Promise.all(ALIAS_KEYS.map((key) => this.apply(key, versions[key])));
        this.saveServed();
        this.options.onShadowTarget?.(this.shadowTarget());
      },
      onUnreachable: (message) => this.restoreLastKnown(message),
    });
    const batcher = (alias: AliasKey) =>
      new Batcher<Row, ServedPrediction>({
        ...options.batch,
        run: (rows) => this.runBatch(alias, rows),
        canRun: () => {
          const version = (this.slots[alias].serving ?? (alias === 'staging' ? this.slots.prod.serving : null))?.version;
          // Nothing can serve it: send it now and let runBatch answer with the reason.
          return version === undefined || !options.pool.serves(version) || options.pool.hasIdle(version);
        },
      });
    this.batchers = { prod: batcher('prod'), staging: batcher('staging') };
    // A worker that frees up takes the alias that has waited longest; alternate who asks first.
    let first: AliasKey = 'prod';
    options.pool.onIdle(() => {
      const second: AliasKey = first === 'prod' ? 'staging' : 'prod';
      this.batchers[first].wake();
      this.batchers[second].wake();
      first = second;
    });
  }

  /** First resolution now, then a poll every pollMs. */
  start(logger: Logger): void {
    this.logger = logger;
    this.poller.start(logger);
  }

  stop(): void {
    this.poller.stop();
  }

  servable(alias: AliasKey): boolean {
    return this.slots[alias].serving !== null;
  }

  predict(alias: AliasKey, row: Row, signal?: AbortSignal): Promise<ServedPrediction> {
    return this.batchers[alias].submit(row, signal);
  }

  async reload(): Promise<ModelStatus> {
    for (const key of ALIAS_KEYS) this.slots[key].retryAt = 0;
    await this.poller.refresh();
    return this.status();
  }

  /** Resolve the aliases now (tests, admin reload); resolves when the resulting loads are done. */
  refresh(): Promise<void> {
    return this.poller.refresh();
  }

  /**
   * The registry has not answered since the router started: serve the versions the last run served,
   * from the model files on disk, until it does. Tried once, at the first failed poll.
   */
  private async restoreLastKnown(why: string): Promise<void> {
    if (this.poller.answered || this.restoreTried || !this.options.served) return;
    this.restoreTried = true;
    const last = this.options.served.lastKnown();
    const usable = ALIAS_KEYS.filter((key) => {
      const version = last?.versions[key];
      return version != null && this.options.pool.cached(version);
    });
    if (!last || !usable.includes('prod')) {
      this.logger?.warn({ event: 'no_last_known' }, `the model registry is unreachable (${why}) and no model files of a last known prod version are on disk: nothing to serve until it answers`);
      return;
    }
    const named = usable.map((key) => `${this.options.aliases[key]} version ${last.versions[key]}`).join(', ');
    this.logger?.warn(
      { event: 'serving_last_known', versions: last.versions, saved_at: last.saved_at },
      `the model registry is unreachable (${why}); serving the last known versions (${named}, recorded ${last.saved_at}) from the files on disk until it answers`,
    );
    this.restored = last;
    await Promise.all(usable.map((key) => this.apply(key, { name: this.options.modelName, version: last.versions[key]! })));
    this.options.onShadowTarget?.(this.shadowTarget());
  }

  /** The watch tag as the registry last answered it; a tag that is not a valid watch is logged once and ignored. */
  private takeWatch(reading: WatchReading | null): void {
    this.watch = reading?.watch ?? null;
    if (reading && reading.watch === null && reading.text !== this.badWatchText) {
      this.logger?.warn(
        { event: 'watch_tag_invalid', tag: reading.text.slice(0, 300) },
        `the registered model's watch tag is not {"version", "previous", "started_at"} with two different version numbers and an ISO time; no watch shadow: ${reading.text.slice(0, 300)}`,
      );
    }
    this.badWatchText = reading && reading.watch === null ? reading.text : null;
  }

  /** Staging while it serves; else the replaced prod while the watch names the prod serving now; else none. */
  shadowTarget(): ShadowTarget | null {
    const staging = this.slots.staging.serving;
    if (staging) return { kind: 'staging', alias: this.options.aliases.staging, version: staging.version };
    const prod = this.slots.prod.serving;
    const watch = this.watch;
    if (watch && prod?.version === watch.version && this.options.previousAlias) return { kind: 'watch', alias: this.options.previousAlias, version: watch.previous };
    return null;
  }

  /** Record what is served now (only what the registry named), for the next start. */
  private saveServed(): void {
    const versions = { prod: this.slots.prod.serving?.version ?? null, staging: this.slots.staging.serving?.version ?? null };
    const key = JSON.stringify(versions);
    if (!this.options.served || key === this.saved) return;
    try {
      this.options.served.saveLastKnown(versions);
      this.saved = key;
    } catch (error) {
      this.logger?.warn({ event: 'last_known_save_failed', err: (error as Error).message }, `could not record the served versions for the next start: ${(error as Error).message}`);
    }
  }

  private spec(version: string): ModelSpec {
    return {
      key: version,
      uri: `models:/${this.options.modelName}/${version}`,
      columns: this.options.features.map((f) => ({ name: f.name, type: f.type })),
    };
  }

  private async apply(key: AliasKey, found: ModelVersion | null): Promise<void> {
    const slot = this.slots[key];
    const aliasName = this.options.aliases[key];
    slot.resolved = found?.version ?? null;
    if (!found) {
      slot.error = null;
      slot.failedVersion = null;
      if (slot.serving) {
        const old = slot.serving.version;
        slot.serving = null;
        this.logger?.info({ event: 'alias_removed', alias: aliasName, version: old }, `alias ${aliasName} was removed; version ${old} retires`);
        this.options.onVersionChange?.(key, null);
        this.retire(old);
      }
      return;
    }
    const version = found.version;
    if (slot.serving?.version === version) {
      slot.error = null;
      slot.failedVersion = null;
      return;
    }
    if (slot.failedVersion === version && this.now() < slot.retryAt) return;
    slot.loading = version;
    this.logger?.info({ event: 'model_loading', alias: aliasName, version }, `loading version ${version} of ${this.options.modelName} for ${aliasName}`);
    let loaded: LoadedModel;
    try {
      loaded = await this.options.pool.load(this.spec(version));
      const problem = checkLoadedModel(loaded, version, this.options);
      if (problem !== null) throw new Error(problem);
    } catch (error) {
      slot.loading = null;
      slot.failedVersion = version;
      slot.retryAt = this.now() + RETRY_FAILED_MS;
      slot.error = `version ${version} of ${this.options.modelName} (alias ${aliasName}) could not be loaded: ${(error as Error).message.split('\n')[0]}`;
      this.logger?.error({ event: 'model_load_failed', alias: aliasName, version, err: (error as Error).message }, slot.error);
      if (!this.inUse(version)) void this.options.pool.unload(version).catch(() => undefined);
      return;
    }
    slot.loading = null;
    const previous = slot.serving?.version ?? null;
    // The swap: batches leaving from now on use the new version; the old one drains, then unloads.
    slot.serving = { version, classes: loaded.classes };
    slot.error = null;
    slot.failedVersion = null;
    this.logger?.info(
      { event: 'model_serving', alias: aliasName, version, previous, load_ms: loaded.loadMs, source: loaded.source },
      `${aliasName} is now served by version ${version}${previous ? ` (was ${previous})` : ''}`,
    );
    this.options.onVersionChange?.(key, version);
    if (previous) this.retire(previous);
  }

  private inUse(version: string): boolean {
    return ALIAS_KEYS.some((key) => this.slots[key].serving?.version === version || this.slots[key].loading === version);
  }

  private retire(version: string): void {
    if (this.inUse(version)) return;
    void this.options.pool.unload(version).then(
      () => {
        if (!this.inUse(version)) this.logger?.info({ event: 'model_retired', version }, `version ${version} retired (its in-flight batches finished)`);
      },
      (error: Error) => this.logger?.warn({ event: 'model_retire_failed', version, err: error.message }, `version ${version} could not be unloaded: ${error.message}`),
    );
  }

  private async runBatch(key: AliasKey, rows: Row[]): Promise<(ServedPrediction | RouterError)[]> {
    let alias = key;
    let serving = this.slots[key].serving;
    if (!serving && key === 'staging') {
      // Staging was retired while these requests waited for their batch: prod answers, and the
      // response and log row say so.
      alias = 'prod';
      serving = this.slots.prod.serving;
    }
    if (!serving) throw new RouterError(503, 'MODEL_UNAVAILABLE', this.unavailableReason(key));
    this.options.onBatch?.(alias, rows.length);
    const { version } = serving;
    let results: RowResult[];
    const started = performance.now();
    const timing: BatchTiming = { computeMs: Number.NaN };
    try {
      results = await this.options.pool.predict(version, rows, timing);
    } catch (error) {
      if (error instanceof WorkerPoolError) {
        const code = error.kind === 'model-error' ? 'MODEL_UNAVAILABLE' : 'WORKER_FAILED';
        throw new RouterError(503, code, `version ${version} could not answer: ${error.message.split('\n')[0]}`, undefined, { cause: error });
      }
      throw error;
    }
    const inferenceMs = Number.isFinite(timing.computeMs) ? timing.computeMs : performance.now() - started;
    const aliasName = this.options.aliases[alias];
    return results.map((result) =>
      'error' in result
        ? new RouterError(422, 'PREDICTION_FAILED', `version ${version} of ${this.options.modelName} (${aliasName}) could not predict this row: ${result.error.message}`)
        : { alias, aliasName, version, prediction: result.prediction, probabilities: result.probabilities, inferenceMs },
    );
  }

  private unavailableReason(key: AliasKey): string {
    const slot = this.slots[key];
    const aliasName = this.options.aliases[key];
    const name = this.options.modelName;
    if (!this.poller.answered) {
      const why = this.poller.unreachable;
      return `no ${aliasName} model is loaded: the model registry at ${this.options.registryUri} has not answered yet${why ? ` (${why})` : ''}`;
    }
    if (slot.error) return `no ${aliasName} model is loaded: ${slot.error}`;
    if (slot.loading) return `no ${aliasName} model is loaded yet: version ${slot.loading} of ${name} is loading`;
    if (slot.resolved === null) return `no ${aliasName} model is loaded: no version of ${name} has the alias ${aliasName}`;
    return `no ${aliasName} model is loaded`;
  }

  private aliasStatus(key: AliasKey): AliasStatus {
    const slot = this.slots[key];
    let state: AliasState;
    if (!this.poller.answered && !slot.serving) state = 'unknown';
    else if (slot.loading) state = 'loading';
    else if (slot.error) state = 'failed';
    else if (slot.serving) state = 'serving';
    else state = 'absent';
    return { alias: this.options.aliases[key], version: slot.serving?.version ?? null, resolved: slot.resolved, state, error: slot.error };
  }

  status(): ModelStatus {
    return {
      prod: this.aliasStatus('prod'),
      staging: this.aliasStatus('staging'),
      registry: this.poller.status(),
      workers: this.options.pool.info(),
    };
  }

  readiness(): Readiness {
    const reasons: string[] = [];
    let ready = true;
    const prod = this.slots.prod;
    const staging = this.slots.staging;
    if (!prod.serving) {
      ready = false;
      reasons.push(this.unavailableReason('prod'));
    } else if (!this.options.pool.serves(prod.serving.version)) {
      ready = false;
      reasons.push(`no inference worker is serving ${this.options.aliases.prod} version ${prod.serving.version} (workers are restarting)`);
    }
    // A staging model that is still loading for the first time is needed before the A/B split
    // can be honoured; one that failed to load is reported, and its users go to prod.
    if (staging.resolved !== null && !staging.serving && !staging.error) {
      ready = false;
      reasons.push(this.unavailableReason('staging'));
    }
    const notes: string[] = [];
    if (this.restored) {
      const named = ALIAS_KEYS.filter((key) => this.slots[key].serving).map((key) => `${this.options.aliases[key]} version ${this.slots[key].serving!.version}`);
      notes.push(`serving the last known versions (${named.join(', ')}, recorded ${this.restored.saved_at}): the model registry has not answered since the router started`);
    }
    const unreachable = this.poller.unreachable;
    if (unreachable) notes.push(`the model registry is unreachable (${unreachable}); the loaded models keep serving`);
    for (const key of ALIAS_KEYS) if (this.slots[key].error) notes.push(this.slots[key].error!);
    if (staging.error && !staging.serving) notes.push(`users assigned to B are served by ${this.options.aliases.prod} until ${this.options.aliases.staging} loads`);
    const up = this.options.pool.info().filter((w) => w.state === 'ready').length;
    if (up < this.options.workers) notes.push(`${up} of ${this.options.workers} inference workers are up`);
    return { ready, degraded: ready && notes.length > 0, reasons: [...reasons, ...notes] };
  }
}
