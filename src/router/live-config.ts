/**
 * The router's view of config/driftgate.yaml while it runs. The file stays the one source of truth:
 * an edit is picked up within a poll interval, validated like any config, and applied when valid;
 * an invalid edit is logged and the last good config stays in force. PUT /ab goes through the file
 * too: it rewrites it atomically, keeping comments, and applies the result at once.
 */
import { EventEmitter } from 'node:events';
import type { Logger } from '../logger.js';
import { readFile, stat } from 'node:fs/promises';
import { parseConfig, type Config, type Env } from '../config/index.js';
import { ConfigError, DriftgateError } from '../errors.js';
import { writeSplitAsync } from '../config/write-split.js';
import { RouterError } from './errors.js';

/**
 * Keys applied without a restart, each with the name its log line uses; every other change is
 * reported and waits for one.
 */
const LIVE: readonly { key: string; name: string; get: (c: Config) => number; set: (c: Config, value: number) => Config }[] = [
  { key: 'router.ab_split_b', name: 'ab_split_b', get: (c) => c.router.ab_split_b, set: (c, v) => ({ ...c, router: { ...c.router, ab_split_b: v } }) },
  { key: 'router.shadow_share', name: 'shadow_share', get: (c) => c.router.shadow_share, set: (c, v) => ({ ...c, router: { ...c.router, shadow_share: v } }) },
  { key: 'ab.watch.share', name: 'watch_share', get: (c) => c.ab.watch.share, set: (c, v) => ({ ...c, ab: { ...c.ab, watch: { ...c.ab.watch, share: v } } }) },
];

const LIVE_KEYS: readonly string[] = LIVE.map((l) => l.key);

export interface LiveConfigEvents {
  change: [next: Config, previous: Config];
}

/** Dotted key paths whose values differ between two plain trees. */
export function changedPaths(a: unknown, b: unknown, prefix = ''): string[] {
  if (a === b) return [];
  const isTree = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
  if (isTree(a) && isTree(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    return [...keys].flatMap((key) => changedPaths(a[key], b[key], prefix ? `${prefix}.${key}` : key));
  }
  return JSON.stringify(a) === JSON.stringify(b) ? [] : [prefix];
}

export class LiveConfig extends EventEmitter<LiveConfigEvents> {
  private config: Config;
  private lastText: string | null = null;
  private lastRejected: string | null = null;
  private fingerprint = '';
  private timer: NodeJS.Timeout | null = null;
  private logger: Logger | null = null;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    initial: Config,
    private readonly env: Env,
    private readonly pollMs = 500,
  ) {
    super();
    this.config = initial;
  }

  get current(): Config {
    return this.config;
  }

  get file(): string {
    return this.config.source.file;
  }

  /** Start watching the file. Polling (a stat every pollMs) works on every file system and editor. */
  start(logger: Logger): void {
    this.logger = logger;
    void this.check();
    this.timer = setInterval(() => void this.check(), this.pollMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Read the file now if it changed; 'applied', 'unchanged' or 'rejected'. */
  check(): Promise<'applied' | 'unchanged' | 'rejected'> {
    return this.serial(() => this.checkNow());
  }

  /** Checks and writes run one at a time, so a poll never reads the file half-way through a PUT. */
  private serial<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.then(task);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async checkNow(): Promise<'applied' | 'unchanged' | 'rejected'> {
    let text: string;
    try {
      const info = await stat(this.file);
      const fingerprint = `${info.ino}:${info.size}:${info.mtimeMs}`;
      if (fingerprint === this.fingerprint) return 'unchanged';
      text = await readFile(this.file, 'utf8');
      this.fingerprint = fingerprint;
    } catch (error) {
      return this.reject(`cannot read the config file (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`, String(error));
    }
    if (text === this.lastText) return 'unchanged';
    let next: Config;
    try {
      next = parseConfig(text, this.file, this.env);
    } catch (error) {
      if (error instanceof ConfigError) return this.reject(error.message, text);
      throw error;
    }
    this.lastText = text;
    this.lastRejected = null;
    this.apply(next);
    return 'applied';
  }

  private reject(message: string, key: string): 'rejected' {
    // An editor may save in two steps; log each distinct bad content once, not every poll.
    if (this.lastRejected !== key) {
      this.lastRejected = key;
      this.logger?.warn(
        { event: 'config_rejected', file: this.file, reason: message, ab_split_b: this.config.router.ab_split_b },
        `config edit rejected, the last good config stays in force: ${message}`,
      );
    }
    return 'rejected';
  }

  /** Take the live keys from a validated config; report the rest as waiting for a restart. */
  private apply(next: Config): void {
    const previous = this.config;
    const changed = changedPaths({ ...previous, source: null }, { ...next, source: null });
    const restartOnly = changed.filter((p) => !LIVE_KEYS.includes(p));
    if (restartOnly.length) {
      this.logger?.warn({ event: 'config_restart_needed', file: this.file, keys: restartOnly }, `config keys changed that apply only after a restart: ${restartOnly.join(', ')}`);
    }
    const applied = LIVE.filter((l) => l.get(next) !== l.get(previous));
    if (!applied.length) return;
    this.config = applied.reduce((config, l) => l.set(config, l.get(next)), previous);
    for (const { name, get } of applied) {
      this.logger?.info({ event: 'config_applied', file: this.file, [name]: get(next), [`previous_${name}`]: get(previous) }, `${name} is now ${get(next)} (was ${get(previous)})`);
    }
    this.emit('change', this.config, previous);
  }

  /** Rewrite router.ab_split_b in the YAML (comments and layout kept) and apply it; calls are serialized. */
  setSplit(split: number): Promise<Config> {
    return this.serial(() => this.persistSplit(split));
  }

  private async persistSplit(split: number): Promise<Config> {
    // Refuse to touch a file that is invalid right now (a bad hand edit): the split would land in
    // a file the router rejects anyway.
    const invalid = (error: ConfigError): RouterError =>
      new RouterError(503, 'CONFIG_INVALID', `the split was not written because the config file is invalid: ${error.message}`, undefined, { cause: error });
    try {
      parseConfig(await readFile(this.file, 'utf8'), this.file, this.env);
    } catch (error) {
      if (error instanceof ConfigError) throw invalid(error);
      throw error;
    }
    try {
      await writeSplitAsync(this.file, split);
    } catch (error) {
      // A read-only file, a full disk, a writer hanging on the lock: a 503 that says so, never a crash.
      if (error instanceof DriftgateError) throw new RouterError(503, 'CONFIG_NOT_WRITTEN', `the split was not written: ${error.message}`, undefined, { cause: error });
      throw error;
    }
    const updated = await readFile(this.file, 'utf8');
    let next: Config;
    try {
      next = parseConfig(updated, this.file, this.env);
    } catch (error) {
      if (error instanceof ConfigError) throw invalid(error);
      throw error;
    }
    this.lastText = updated;
    this.lastRejected = null;
    this.apply(next);
    return this.config;
  }
}
