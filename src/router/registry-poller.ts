/**
 * The registry's answer to "which versions are prod and staging now, and is a promotion being
 * watched?": asked on a timer and on demand, one question at a time (a call made during one runs
 * after it, so it sees fresh aliases), and how the registry last answered, for /ready and /metrics.
 * A failure never stops the polling.
 */
import type { Logger } from '../logger.js';
import type { ModelVersion, RegisteredModel } from '../registry/index.js';
import { readWatch, type Watch } from '../registry/watch.js';

export type AliasKey = 'prod' | 'staging';
export const ALIAS_KEYS: readonly AliasKey[] = ['prod', 'staging'];

export interface AliasRegistry {
  getVersionByAlias(name: string, alias: string): Promise<ModelVersion | null>;
  /** The registered model with its tags (the watch tag says which version shadows prod after a promotion). */
  getRegisteredModel(name: string): Promise<RegisteredModel | null>;
}

/** The registered model's watch tag: its text, and its parse (null when the text is not a valid watch). */
export interface WatchReading {
  text: string;
  watch: Watch | null;
}

export interface RegistryStatus {
  ok: boolean;
  uri: string;
  error: string | null;
  last_success: string | null;
  last_check: string | null;
}

export interface RegistryPollerOptions {
  registry: AliasRegistry;
  registryUri: string;
  modelName: string;
  aliases: Record<AliasKey, string>;
  pollMs: number;
  now?: () => number;
  /** What the registry answered: the version each alias names (null: none), and the watch tag (null: none). */
  onResolved: (versions: Record<AliasKey, ModelVersion | null>, watch: WatchReading | null) => Promise<void>;
  /** A poll got no answer (the registry is unreachable, or something else answered in its place). */
  onUnreachable?: (message: string) => Promise<void>;
}

export class RegistryPoller {
  private ok = false;
  private answeredOnce = false;
  private lastError: string | null = null;
  private lastSuccess: number | null = null;
  private lastCheck: number | null = null;
  private chain: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | null = null;
  private logger: Logger | null = null;
  private readonly now: () => number;

  constructor(private readonly options: RegistryPollerOptions) {
    this.now = options.now ?? Date.now;
  }

  /** Whether the registry has answered since the router started. */
  get answered(): boolean {
    return this.answeredOnce;
  }

  /** The last error when the registry is unreachable now, else null. */
  get unreachable(): string | null {
    return this.ok ? null : this.lastError;
  }

  /** First question now, then one every pollMs. */
  start(logger: Logger): void {
    this.logger = logger;
    void this.refresh();
    this.timer = setInterval(() => void this.refresh(), this.options.pollMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  refresh(): Promise<void> {
    this.chain = this.chain.then(() =>
      this.ask().catch((error: Error) => this.logger?.error({ event: 'refresh_failed', err: error.message }, `resolving the aliases failed: ${error.message}`)),
    );
    return this.chain;
  }

  private async ask(): Promise<void> {
    const { registry, modelName, aliases } = this.options;
    this.lastCheck = this.now();
    let prod: ModelVersion | null;
    let staging: ModelVersion | null;
    let model: RegisteredModel | null;
    try {
      [prod, staging, model] = await Promise.all([
        registry.getVersionByAlias(modelName, aliases.prod),
        registry.getVersionByAlias(modelName, aliases.staging),
        registry.getRegisteredModel(modelName),
      ]);
    } catch (error) {
      const message = (error as Error).message;
      if (this.ok || !this.answeredOnce || this.lastError !== message) {
        this.logger?.warn({ event: 'registry_unreachable', err: message }, `model registry unreachable; the loaded models keep serving: ${message}`);
      }
      this.ok = false;
      this.lastError = message;
      await this.options.onUnreachable?.(message);
      return;
    }
    if (!this.ok && this.answeredOnce) this.logger?.info({ event: 'registry_back' }, 'model registry reachable again');
    this.ok = true;
    this.answeredOnce = true;
    this.lastError = null;
    this.lastSuccess = this.now();
    await this.options.onResolved({ prod, staging }, readWatch(model));
  }

  status(): RegistryStatus {
    const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());
    return { ok: this.ok, uri: this.options.registryUri, error: this.lastError, last_success: iso(this.lastSuccess), last_check: iso(this.lastCheck) };
  }
}
