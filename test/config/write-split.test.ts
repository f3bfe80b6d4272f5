import { copyFileSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { resetShares, writeShares, writeSplit } from '../../src/config/write-split.js';
import { ConfigError } from '../../src/errors.js';
import { DEFAULT_CONFIG, tempDir } from '../helpers/config.js';

const dir = tempDir('driftgate-split-');

describe('writeSplit', () => {
  it('changes router.ab_split_b and nothing else: comments, order and other values stay', () => {
    const file = path.join(dir, 'driftgate.yaml');
    copyFileSync(DEFAULT_CONFIG, file);
    const before = readFileSync(file, 'utf8').split('\n');
    writeSplit(file, 0.25);
    const after = readFileSync(file, 'utf8').split('\n');
    const changed = after.map((line, i) => [before[i], line]).filter(([a, b]) => a !== b);
    expect(after).toHaveLength(before.length);
    expect(changed).toEqual([
      ['  ab_split_b: 0          # share of users sent to staging (B); edit live, the router follows within 2 s', '  ab_split_b: 0.25          # share of users sent to staging (B); edit live, the router follows within 2 s'],
    ]);
    expect(loadConfig(file, {}).router.ab_split_b).toBe(0.25);
    writeSplit(file, 0);
    expect(readFileSync(file, 'utf8').split('\n')).toEqual(before);
    // Written through a temp file and a rename: nothing is left beside the config.
    expect(readdirSync(dir)).toEqual(['driftgate.yaml']);
  });

  it('adds the key to a config without it, or with an empty router section', () => {
    const none = path.join(dir, 'none.yaml');
    writeFileSync(none, '# top\ndataset:\n  name: x\n');
    writeSplit(none, 0.5);
    expect(readFileSync(none, 'utf8')).toBe('# top\ndataset:\n  name: x\nrouter:\n  ab_split_b: 0.5\n');
    const empty = path.join(dir, 'empty.yaml');
    writeFileSync(empty, 'router:\n');
    writeSplit(empty, 0.1);
    expect(readFileSync(empty, 'utf8')).toBe('router:\n  ab_split_b: 0.1\n');
  });

  it.each([
    [-0.1, 'expected a number >= 0 and <= 1, got number -0.1'],
    [1.5, 'expected a number >= 0 and <= 1, got number 1.5'],
    [Number.NaN, 'expected a number >= 0 and <= 1, got number NaN'],
  ])('refuses %s without touching the file', (value, detail) => {
    const file = path.join(dir, 'refuse.yaml');
    writeFileSync(file, 'router:\n  ab_split_b: 0.3\n');
    expect(() => writeSplit(file, value)).toThrow(new ConfigError(file, 'router.ab_split_b', detail));
    expect(readFileSync(file, 'utf8')).toBe('router:\n  ab_split_b: 0.3\n');
  });

  it('names the file when it is missing, broken, or router is not a mapping', () => {
    const missing = path.join(dir, 'missing.yaml');
    expect(() => writeSplit(missing, 0.5)).toThrow(`${missing}: cannot read the file (ENOENT)`);
    const broken = path.join(dir, 'broken.yaml');
    writeFileSync(broken, 'router: [\n');
    expect(() => writeSplit(broken, 0.5)).toThrow(/^.*broken\.yaml: broken YAML: /);
    const scalar = path.join(dir, 'scalar.yaml');
    writeFileSync(scalar, 'router: fast\n');
    expect(() => writeSplit(scalar, 0.5)).toThrow(`${scalar}: router: expected a mapping, got "fast"`);
  });
});

describe('writeShares and resetShares', () => {
  it('sets the split and the shadow share in one edit, each in place', () => {
    const file = path.join(tempDir('driftgate-shares-'), 'driftgate.yaml');
    writeFileSync(file, 'dataset:\n  reference: x.csv\nrouter:\n  ab_split_b: 0.5   # users to B\n  shadow_share: 0.25 # shadowed\n');
    writeShares(file, { ab_split_b: 0.1, shadow_share: 1 });
    expect(readFileSync(file, 'utf8')).toBe('dataset:\n  reference: x.csv\nrouter:\n  ab_split_b: 0.1   # users to B\n  shadow_share: 1 # shadowed\n');
  });

  it('a reset adds no shadow_share line to a config that never had one', () => {
    const file = path.join(tempDir('driftgate-shares-'), 'driftgate.yaml');
    writeFileSync(file, 'router:\n  ab_split_b: 0.5\n');
    resetShares(file);
    expect(readFileSync(file, 'utf8')).toBe('router:\n  ab_split_b: 0\n');
    writeShares(file, { shadow_share: 0.5 });
    expect(readFileSync(file, 'utf8')).toBe('router:\n  ab_split_b: 0\n  shadow_share: 0.5\n');
    resetShares(file);
    expect(readFileSync(file, 'utf8')).toBe('router:\n  ab_split_b: 0\n  shadow_share: 0\n');
  });

  it('refuses a share outside [0, 1], naming the key', () => {
    const file = path.join(tempDir('driftgate-shares-'), 'driftgate.yaml');
    writeFileSync(file, 'router:\n  ab_split_b: 0.5\n');
    expect(() => writeShares(file, { shadow_share: 1.5 })).toThrow(`${file}: router.shadow_share: expected a number >= 0 and <= 1, got number 1.5`);
  });
});
