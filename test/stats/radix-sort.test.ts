import { describe, expect, it } from 'vitest';

import { seededRandom } from '../../src/random.js';
import { sortFloat64 } from '../../src/stats/radix-sort.js';

/** Equal element by element, telling -0 from +0 and NaN from everything. */
function expectSameOrder(actual: Float64Array, expected: Float64Array): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    if (!Object.is(actual[i], expected[i])) throw new Error(`index ${i}: expected ${Object.is(expected[i], -0) ? '-0' : expected[i]}, got ${Object.is(actual[i], -0) ? '-0' : actual[i]}`);
  }
}

function column(n: number, draw: (random: () => number, i: number) => number, seed = 7): Float64Array {
  const random = seededRandom(seed);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = draw(random, i);
  return out;
}

describe('sortFloat64', () => {
  const cases: [string, Float64Array][] = [
    ['normal-ish values', column(100_000, (r) => (r() - 0.5) * 1e6)],
    ['few distinct values', column(50_000, (r) => Math.floor(r() * 5) - 2)],
    ['signed zeros, subnormals, extremes and infinities', column(20_000, (r, i) => [-0, 0, 5e-324, -5e-324, Number.MAX_VALUE, -Number.MAX_VALUE, Infinity, -Infinity, 2.2250738585072014e-308, r() - 0.5][i % 10]!)],
    ['NaN among them, of both signs', column(10_000, (r, i) => (i % 97 === 0 ? Number.NaN : i % 89 === 0 ? -Number.NaN : r() * 2 - 1))],
    ['one value repeated', new Float64Array(8192).fill(3.25)],
    ['already sorted', Float64Array.from({ length: 10_000 }, (_, i) => i / 7)],
    ['descending', Float64Array.from({ length: 10_000 }, (_, i) => -i / 7)],
    ['small (built-in sort)', Float64Array.of(3, -0, 0, -1, Number.NaN, 2)],
  ];
  it.each(cases)('orders %s exactly as Float64Array.prototype.sort does', (_, values) => {
    const expected = values.slice().sort();
    const actual = values.slice();
    expect(sortFloat64(actual)).toBe(actual);
    expectSameOrder(actual, expected);
  });

  it('sorts a view in place without touching the rest of its buffer', () => {
    const all = column(30_000, (r) => r() * 100 - 50);
    const before = all.slice();
    const view = all.subarray(10_000, 20_000);
    const expected = view.slice().sort();
    sortFloat64(view);
    expectSameOrder(view, expected);
    expectSameOrder(all.subarray(0, 10_000), before.subarray(0, 10_000));
    expectSameOrder(all.subarray(20_000), before.subarray(20_000));
  });

  it('keeps every bit of the values (a multiset check on 1,000,000 values)', () => {
    const values = column(1_000_000, (r) => Math.tan((r() - 0.5) * 3.1), 11);
    const expected = values.slice().sort();
    sortFloat64(values);
    expectSameOrder(values, expected);
  });
});
