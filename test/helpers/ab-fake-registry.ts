/**
 * An in-memory registry with MLflow's alias semantics (unique per model, a move is one write), for
 * exhaustive crash-point tests; the same transitions also run against a real server in the suite.
 */
import type { ModelVersion, RegisteredModel } from '../../src/registry/client.js';
import type { RegistryClient } from '../../src/registry/promotion.js';

export class FakeRegistry implements RegistryClient {
  readonly aliases = new Map<string, string>();
  readonly modelTags = new Map<string, string>();
  readonly versionTags = new Map<string, Map<string, string>>();
  writes = 0;
  /** Throw at this write (0-based), the way a killed process stops; -1: never. */
  crashAt = -1;

  constructor(
    readonly name: string,
    versions: number,
    aliases: Record<string, string> = {},
  ) {
    for (let v = 1; v <= versions; v++) this.versionTags.set(String(v), new Map());
    for (const [alias, version] of Object.entries(aliases)) this.aliases.set(alias, version);
  }

  write(): void {
    if (this.writes++ === this.crashAt) throw new Error(`simulated crash at write ${this.crashAt}`);
  }

  async getRegisteredModel(name: string): Promise<RegisteredModel | null> {
    if (name !== this.name) return null;
    return {
      name,
      aliases: [...this.aliases].map(([alias, version]) => ({ alias, version })),
      tags: [...this.modelTags].map(([key, value]) => ({ key, value })),
    };
  }

  async getVersion(name: string, version: string): Promise<ModelVersion | null> {
    const tags = this.versionTags.get(version);
    if (name !== this.name || !tags) return null;
    return { name, version, tags: [...tags].map(([key, value]) => ({ key, value })) };
  }

  async setAlias(_name: string, alias: string, version: string): Promise<void> {
    this.write();
    this.aliases.set(alias, version);
  }

  async deleteAlias(_name: string, alias: string): Promise<void> {
    this.write();
    this.aliases.delete(alias);
  }

  async setVersionTag(_name: string, version: string, key: string, value: string): Promise<void> {
    this.write();
    this.versionTags.get(version)!.set(key, value);
  }

  async setModelTag(_name: string, key: string, value: string): Promise<void> {
    this.write();
    this.modelTags.set(key, value);
  }

  async deleteModelTag(_name: string, key: string): Promise<void> {
    this.write();
    this.modelTags.delete(key);
  }

  state(): { aliases: Record<string, string>; modelTags: Record<string, string>; tags: Record<string, Record<string, string>> } {
    const tags: Record<string, Record<string, string>> = {};
    for (const [v, map] of this.versionTags) if (map.size) tags[v] = Object.fromEntries([...map].sort(([a], [b]) => a.localeCompare(b)));
    return {
      aliases: Object.fromEntries([...this.aliases].sort(([a], [b]) => a.localeCompare(b))),
      modelTags: Object.fromEntries(this.modelTags),
      tags,
    };
  }
}
