/**
 * What the status page shows from the registry beyond the aliases: each served version's training
 * metrics (its version tags) and the pending transition (the journal tag on the registered model).
 * Read through the registry client, cached: a version's metrics are fetched once (again, at most every
 * `ttlMs`, only while a tag is missing), the journal at most every `ttlMs`, and after a failed read
 * nothing is asked before `ttlMs` has passed, so page views never hammer a registry, up or down.
 * A registry that does not answer never fails the page: the last values read stay, marked by when it
 * stopped answering.
 */
import type { Config } from '../../config/index.js';
import { registryState, VERSION_TAGS, versionTag, type ModelVersion, type RegisteredModel, type Transition } from '../../registry/index.js';

/** The registry calls the status page makes (MlflowClient in production). */
export interface StatusRegistry {
  getVersion(name: string, version: string): Promise<ModelVersion | null>;
  getRegisteredModel(name: string): Promise<RegisteredModel | null>;
}

/** A version's training metrics, from the tags python/train.py set on it; null where a tag is missing. */
export interface VersionMetrics {
  holdout_accuracy: number | null;
  cv_accuracy: number | null;
  best_model: string | null;
}

export interface RegistryRead {
  /** Per version asked for: its metrics, null when the registry has no such version, undefined when never read. */
  metrics: ReadonlyMap<string, VersionMetrics | null>;
  /** The journal as last read (null: no transition pending), undefined when never read. */
  journal: Transition | null | undefined;
  reachable: boolean;
  /** Epoch ms of the first failed read since the last good one; null while it answers. */
  unreachableSince: number | null;
  error: string | null;
  /** Epoch ms of the last read the registry answered. */
  lastSuccess: number | null;
}

export interface RegistryViewOptions {
  client: StatusRegistry;
  /** The config in force (model name and aliases). */
  config: () => Config;
  now: () => number;
  ttlMs: number;
  /** Error messages name the tracking URI; this is what they show instead (credentials removed). */
  redact?: (message: string) => string;
}

interface VersionEntry {
  value: VersionMetrics | null;
  readAt: number;
}

function metricsOf(version: ModelVersion): VersionMetrics {
  const number = (key: string): number | null => {
    const text = versionTag(version, key);
    return text === undefined || text.trim() === '' ? null : Number(text);
  };
  return {
    holdout_accuracy: number(VERSION_TAGS.holdoutAccuracy),
    cv_accuracy: number(VERSION_TAGS.cvAccuracy),
    best_model: versionTag(version, VERSION_TAGS.bestModel) ?? null,
  };
}

function complete(entry: VersionEntry): boolean {
  const m = entry.value;
  return m !== null && m.holdout_accuracy !== null && m.cv_accuracy !== null && m.best_model !== null;
}

export class RegistryView {
  private readonly versions = new Map<string, VersionEntry>();
  private journal: { value: Transition | null; readAt: number } | null = null;
  private unreachableSince: number | null = null;
  private error: string | null = null;
  private lastSuccess: number | null = null;
  /** No read before this (epoch ms): set after a failure. */
  private retryAt = 0;
  private inflight: Promise<void> | null = null;

  constructor(private readonly options: RegistryViewOptions) {}

  /** The metrics of `versions` and the journal, read from the registry only where the cache is due. */
  async read(versions: readonly string[]): Promise<RegistryRead> {
    const wanted = new Set(versions);
    // Only the versions on the page are kept: the cache does not grow with the registry's history.
    for (const version of this.versions.keys()) if (!wanted.has(version)) this.versions.delete(version);
    if (this.inflight) await this.inflight;
    const now = this.options.now();
    const due = [...wanted].filter((version) => {
      const entry = this.versions.get(version);
      return entry === undefined || (!complete(entry) && now - entry.readAt >= this.options.ttlMs);
    });
    const journalDue = this.journal === null || now - this.journal.readAt >= this.options.ttlMs;
    if ((due.length > 0 || journalDue) && now >= this.retryAt) {
      this.inflight = this.fetch(due, journalDue, now).finally(() => (this.inflight = null));
      await this.inflight;
    }
    const metrics = new Map<string, VersionMetrics | null>();
    for (const version of wanted) {
      const entry = this.versions.get(version);
      if (entry) metrics.set(version, entry.value);
    }
    return {
      metrics,
      journal: this.journal?.value,
      reachable: this.unreachableSince === null,
      unreachableSince: this.unreachableSince,
      error: this.error,
      lastSuccess: this.lastSuccess,
    };
  }

  private async fetch(due: readonly string[], journalDue: boolean, now: number): Promise<void> {
    const { client } = this.options;
    const config = this.options.config();
    const name = config.mlflow.model_name;
    const reads: Promise<void>[] = due.map(async (version) => {
      const found = await client.getVersion(name, version);
      this.versions.set(version, { value: found ? metricsOf(found) : null, readAt: now });
    });
    if (journalDue) {
      reads.push(
        registryState(client, config).then((state) => {
          this.journal = { value: state.journal, readAt: now };
        }),
      );
    }
    const failed = (await Promise.allSettled(reads)).find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) {
      this.unreachableSince ??= now;
      const message = (failed.reason as Error).message ?? String(failed.reason);
      this.error = this.options.redact ? this.options.redact(message) : message;
      this.retryAt = now + this.options.ttlMs;
      return;
    }
    this.unreachableSince = null;
    this.error = null;
    this.lastSuccess = now;
  }
}
