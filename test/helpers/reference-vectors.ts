import { readFileSync } from 'node:fs';

import { expect } from 'vitest';

/** JSON has no infinities: python/tools/gen_drift_vectors.py writes them as strings. */
export type Num = number | 'Infinity' | '-Infinity';

/** The reference values python/tools/gen_drift_vectors.py wrote (numpy and scipy as python/requirements.txt pins them). */
export function driftVectors<T>(): T {
  return JSON.parse(readFileSync(new URL('../fixtures/drift-vectors.json', import.meta.url), 'utf8')) as T;
}

export function num(value: Num): number {
  return value === 'Infinity' ? Infinity : value === '-Infinity' ? -Infinity : value;
}

export function floats(values: readonly Num[]): Float64Array {
  return Float64Array.from(values, num);
}

/** Probabilities to 1e-6 relative; exact 0 and 1 (and infinities) must match exactly. */
export function expectProbability(actual: number, expected: Num, label: string): void {
  const e = num(expected);
  if (e === 0 || e === 1 || !Number.isFinite(e)) {
    expect(actual, label).toBe(e);
    return;
  }
  expect(Math.abs(actual - e), `${label}: got ${actual}, expected ${e}`).toBeLessThanOrEqual(1e-6 * Math.abs(e));
}

/** Statistics, PSI and shares to 1e-9 absolute; infinities must match exactly. */
export function expectClose(actual: number, expected: Num, label: string, tolerance = 1e-9): void {
  const e = num(expected);
  if (!Number.isFinite(e)) {
    expect(actual, label).toBe(e);
    return;
  }
  expect(Math.abs(actual - e), `${label}: got ${actual}, expected ${e}`).toBeLessThanOrEqual(tolerance);
}
