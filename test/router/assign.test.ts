import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ASSIGNMENT_HASH_VERSION, assignmentBucket, assignVariant } from '../../src/router/assign.js';

interface Vectors {
  hash_version: number;
  vectors: { seed: string; user_id: string; top52: number; bucket: number }[];
}

// Computed by python/tools/gen_assign_vectors.py with hashlib, independently of the TypeScript code.
const reference = JSON.parse(readFileSync(path.join(import.meta.dirname, 'assign-vectors.json'), 'utf8')) as Vectors;

describe('assignmentBucket (hash v1)', () => {
  it('is the version the vectors were made for', () => {
    expect(ASSIGNMENT_HASH_VERSION).toBe(reference.hash_version);
  });

  it.each(reference.vectors)('seed $seed, user $user_id -> $bucket (hashlib)', ({ seed, user_id, bucket }) => {
    expect(assignmentBucket(user_id, seed)).toBe(bucket);
  });

  it('refuses a hash version it does not know', () => {
    expect(() => assignmentBucket('u1', 'driftgate', 2)).toThrow('expected an assignment hash version in 1, got 2');
  });

  it('is uniform: 20,000 users fill 10 deciles within binomial bounds', () => {
    const n = 20_000;
    const counts = new Array<number>(10).fill(0);
    for (let i = 0; i < n; i++) {
      const b = assignmentBucket(`user-${i}`, 'driftgate');
      expect(b).toBeGreaterThanOrEqual(0);
      expect(b).toBeLessThan(1);
      counts[Math.floor(b * 10)]! += 1;
    }
    // Each decile ~ Binomial(20000, 0.1): sd = 42.4; 5 sd either side.
    for (const c of counts) expect(Math.abs(c - 2000)).toBeLessThan(5 * Math.sqrt(n * 0.1 * 0.9));
  });
});

describe('assignVariant', () => {
  const rule = { seed: 'driftgate', stagingAvailable: true };

  it('sends B exactly the users whose bucket is below the split', () => {
    for (const { user_id, bucket } of reference.vectors.filter((v) => v.seed === 'driftgate')) {
      expect(assignVariant(user_id, { ...rule, splitB: 0.5 })).toBe(bucket < 0.5 ? 'B' : 'A');
    }
    // u1's bucket is 0.6241190562580383: A at 0.6, B at 0.625.
    expect(assignVariant('u1', { ...rule, splitB: 0.6 })).toBe('A');
    expect(assignVariant('u1', { ...rule, splitB: 0.625 })).toBe('B');
  });

  it('sends everyone to A at split 0 or without a staging model, and to B at split 1', () => {
    const users = Array.from({ length: 500 }, (_, i) => `user-${i}`);
    expect(new Set(users.map((u) => assignVariant(u, { ...rule, splitB: 0 })))).toEqual(new Set(['A']));
    expect(new Set(users.map((u) => assignVariant(u, { ...rule, splitB: 1, stagingAvailable: false })))).toEqual(new Set(['A']));
    expect(new Set(users.map((u) => assignVariant(u, { ...rule, splitB: 1 })))).toEqual(new Set(['B']));
  });

  it('is sticky while the split is unchanged, and raising the split only moves users from A to B', () => {
    const users = Array.from({ length: 2000 }, (_, i) => `user-${i}`);
    const at = (split: number) => users.map((u) => assignVariant(u, { ...rule, splitB: split }));
    expect(at(0.3)).toEqual(at(0.3));
    const low = at(0.2);
    const high = at(0.5);
    users.forEach((_, i) => {
      if (low[i] === 'B') expect(high[i]).toBe('B');
    });
  });

  it('depends on the seed', () => {
    const users = Array.from({ length: 1000 }, (_, i) => `user-${i}`);
    const a = users.map((u) => assignVariant(u, { ...rule, splitB: 0.5 }));
    const b = users.map((u) => assignVariant(u, { ...rule, seed: 'other-seed', splitB: 0.5 }));
    const moved = a.filter((v, i) => v !== b[i]).length;
    expect(moved).toBeGreaterThan(400);
    expect(moved).toBeLessThan(600);
  });
});
