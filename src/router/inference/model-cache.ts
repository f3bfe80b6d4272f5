/**
 * The router's model files on disk, kept across restarts so that a router started while MLflow is
 * down can still serve: one folder per registry and model (`<root>/<model>-<hash of the tracking URI
 * and model name>/`), in it one folder per version (what MLflow downloaded; a worker downloads into a
 * temp folder and renames it, so a version folder is always whole) and `last-known.json`, the versions
 * the router served last. Routers of one deployment on one machine may share it.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../../fs-atomic.js';
import type { AliasKey } from '../registry-poller.js';

const LAST_KNOWN = 'last-known.json';
/** Version folders kept beyond the last-known ones (the newest first), for replicas still on them. */
const KEEP_VERSIONS = 5;
/** A download left by a worker killed mid-way is removed once it is this old. */
const STALE_DOWNLOAD_MS = 3600_000;

export interface LastKnown {
  saved_at: string;
  registry_uri: string;
  model_name: string;
  versions: Record<AliasKey, string | null>;
}

export class ModelCache {
  readonly dir: string;

  constructor(
    root: string,
    private readonly registryUri: string,
    private readonly modelName: string,
  ) {
    const id = createHash('sha256').update(`${registryUri}\n${modelName}`).digest('hex').slice(0, 12);
    this.dir = path.join(root, `${modelName.replace(/[^A-Za-z0-9_.-]/g, '_')}-${id}`);
  }

  /** Create the folder (a clear error when it cannot be) and remove downloads a killed worker left. */
  open(now = Date.now()): void {
    mkdirSync(this.dir, { recursive: true });
    for (const name of readdirSync(this.dir)) {
      if (!name.endsWith('.tmp')) continue;
      const file = path.join(this.dir, name);
      if (now - statSync(file).mtimeMs > STALE_DOWNLOAD_MS) rmSync(file, { recursive: true, force: true });
    }
  }

  /** Where a version's files go. */
  versionDir(version: string): string {
    return path.join(this.dir, encodeURIComponent(version));
  }

  /** True when the version's files are here whole (MLflow's MLmodel is in the renamed folder). */
  has(version: string): boolean {
    return existsSync(path.join(this.versionDir(version), 'MLmodel'));
  }

  /** The versions last served, or null when there are none (or the file is not this cache's). */
  lastKnown(): LastKnown | null {
    let parsed: Partial<LastKnown>;
    try {
      parsed = JSON.parse(readFileSync(path.join(this.dir, LAST_KNOWN), 'utf8')) as Partial<LastKnown>;
    } catch {
      return null;
    }
    const versions = parsed.versions;
    const valid = (v: unknown): v is string | null => v === null || (typeof v === 'string' && /^\d+$/.test(v));
    if (parsed.registry_uri !== this.registryUri || parsed.model_name !== this.modelName || typeof parsed.saved_at !== 'string') return null;
    if (!versions || !valid(versions.prod) || !valid(versions.staging)) return null;
    return { saved_at: parsed.saved_at, registry_uri: parsed.registry_uri, model_name: parsed.model_name, versions: { prod: versions.prod, staging: versions.staging } };
  }

  /** Record what is served now, then drop version folders no longer needed. */
  saveLastKnown(versions: Record<AliasKey, string | null>, now = Date.now()): LastKnown {
    const record: LastKnown = { saved_at: new Date(now).toISOString(), registry_uri: this.registryUri, model_name: this.modelName, versions };
    writeFileAtomic(path.join(this.dir, LAST_KNOWN), `${JSON.stringify(record, null, 2)}\n`);
    this.prune(new Set([versions.prod, versions.staging].filter((v): v is string => v !== null)));
    return record;
  }

  /** Keep the named versions and the KEEP_VERSIONS newest others; remove the rest. */
  private prune(keep: Set<string>): void {
    const versions = readdirSync(this.dir)
      .filter((name) => /^\d+$/.test(name) && !keep.has(name))
      .sort((a, b) => Number(b) - Number(a));
    for (const old of versions.slice(KEEP_VERSIONS)) rmSync(path.join(this.dir, old), { recursive: true, force: true });
  }
}
