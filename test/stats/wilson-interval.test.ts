import { describe, expect, it } from 'vitest';
import { wilsonInterval } from '../../src/stats/wilson-interval.js';
import { InputError } from '../../src/errors.js';
import vectors from '../fixtures/ab-vectors.json' with { type: 'json' };

// numpy evaluates the textbook center ± half form, which loses a few bits to cancellation near 0 and 1
// (e.g. 1/100000); our rationalised form does not, so 1e-11 relative is the honest comparison.
const REL = 1e-11;

function close(actual: number, expected: number): void {
  if (expected === 0 || expected === 1) expect(actual).toBe(expected);
  else expect(Math.abs(actual - expected) / expected).toBeLessThan(REL);
}

describe('wilsonInterval', () => {
  it.each(vectors.wilson)('$successes/$n at $confidence (numpy, z from scipy)', ({ successes, n, confidence, lower, upper }) => {
    const ci = wilsonInterval(successes, n, confidence);
    close(ci.lower, lower);
    close(ci.upper, upper);
    expect(ci.estimate).toBe(successes / n);
    expect(ci.confidence).toBe(confidence);
  });

  it('defaults to 95% and stays inside [0, 1]', () => {
    const ci = wilsonInterval(90, 100);
    close(ci.lower, 0.8256343384950865);
    close(ci.upper, 0.9447708629393249);
    expect(wilsonInterval(0, 5).lower).toBe(0);
    expect(wilsonInterval(5, 5).upper).toBe(1);
  });

  it('is [0, 1] with no data', () => {
    const ci = wilsonInterval(0, 0);
    expect(ci).toMatchObject({ lower: 0, upper: 1, confidence: 0.95 });
    expect(ci.estimate).toBeNaN();
  });

  it('rejects impossible counts', () => {
    expect(() => wilsonInterval(11, 10)).toThrow(new InputError('interval successes: expected an integer in [0, 10], got number 11'));
    expect(() => wilsonInterval(1, -1)).toThrow(new InputError('interval sample size: expected an integer ≥ 0, got number -1'));
    expect(() => wilsonInterval(1, 10, 1)).toThrow(new InputError('interval confidence: expected a number in (0, 1), got number 1'));
  });
});
