import { mkdirSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ModelCache } from '../../../src/router/inference/index.js';
import { tempDir } from '../../helpers/config.js';

function fakeVersion(cache: ModelCache, version: string): void {
  mkdirSync(cache.versionDir(version), { recursive: true });
  writeFileSync(path.join(cache.versionDir(version), 'MLmodel'), 'flavors: {}\n');
}

describe('ModelCache', () => {
  it('keeps one folder per registry and model, and a version only counts once its MLmodel is there', () => {
    const root = tempDir('driftgate-cache-');
    const a = new ModelCache(root, 'http://mlflow-a:5000', 'iris');
    const b = new ModelCache(root, 'http://mlflow-b:5000', 'iris');
    expect(path.basename(a.dir)).toMatch(/^iris-[0-9a-f]{12}$/);
    expect(a.dir).not.toBe(b.dir);
    a.open();
    mkdirSync(a.versionDir('3'), { recursive: true });
    expect(a.has('3')).toBe(false);
    fakeVersion(a, '3');
    expect(a.has('3')).toBe(true);
  });

  it('records the served versions for the next start, and ignores a record of another registry or a broken one', () => {
    const root = tempDir('driftgate-cache-');
    const cache = new ModelCache(root, 'http://mlflow:5000', 'iris');
    cache.open();
    expect(cache.lastKnown()).toBeNull();
    const saved = cache.saveLastKnown({ prod: '4', staging: null }, Date.UTC(2026, 11, 1, 12));
    expect(saved).toEqual({ saved_at: '2026-12-01T12:00:00.000Z', registry_uri: 'http://mlflow:5000', model_name: 'iris', versions: { prod: '4', staging: null } });
    expect(cache.lastKnown()).toEqual(saved);
    const file = path.join(cache.dir, 'last-known.json');
    writeFileSync(file, readFileSync(file, 'utf8').replace('http://mlflow:5000', 'http://other:5000'));
    expect(cache.lastKnown()).toBeNull();
    for (const broken of ['{', '{"saved_at": "x", "registry_uri": "http://mlflow:5000", "model_name": "iris", "versions": {"prod": "../../etc", "staging": null}}']) {
      writeFileSync(file, broken);
      expect(cache.lastKnown()).toBeNull();
    }
  });

  it('keeps the served versions and the five newest others; removes a download left by a killed worker after an hour', () => {
    const root = tempDir('driftgate-cache-');
    const cache = new ModelCache(root, 'http://mlflow:5000', 'iris');
    cache.open();
    for (let v = 1; v <= 9; v++) fakeVersion(cache, String(v));
    cache.saveLastKnown({ prod: '2', staging: '9' });
    expect(readdirSync(cache.dir).sort((x, y) => x.localeCompare(y, 'en', { numeric: true }))).toEqual(['2', '4', '5', '6', '7', '8', '9', 'last-known.json']);
    const old = path.join(cache.dir, '10.1234.5678.tmp');
    const fresh = path.join(cache.dir, '11.1234.5678.tmp');
    mkdirSync(old);
    mkdirSync(fresh);
    const hourAgo = (Date.now() - 3601_000) / 1000;
    utimesSync(old, hourAgo, hourAgo);
    cache.open();
    expect(readdirSync(cache.dir).filter((n) => n.endsWith('.tmp'))).toEqual(['11.1234.5678.tmp']);
  });
});
