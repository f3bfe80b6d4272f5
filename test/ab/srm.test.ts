import { describe, expect, it } from 'vitest';
import { sampleRatioMismatch } from '../../src/ab/srm.js';
import { AB_DEFAULTS } from '../../src/config/config-schema.js';
import { InputError } from '../../src/errors.js';
import vectors from '../fixtures/ab-vectors.json' with { type: 'json' };

const REL = 1e-12;

function close(actual: number, expected: number): void {
  if (expected === 0) expect(actual).toBe(0);
  else expect(Math.abs(actual - expected) / Math.abs(expected)).toBeLessThan(REL);
}

describe('sampleRatioMismatch', () => {
  it.each(vectors.srm)('$requestsA vs $requestsB at split $splitB (scipy.stats.chisquare)', (c) => {
    const result = sampleRatioMismatch(c.requestsA, c.requestsB, c.splitB, AB_DEFAULTS.srm_alpha);
    close(result.statistic, c.statistic);
    close(result.pValue, c.pValue);
    expect(result.mismatch).toBe(c.pValue < AB_DEFAULTS.srm_alpha);
  });

  it('flags 5400 vs 4600 at a 50/50 split and passes 5100 vs 4900', () => {
    const bad = sampleRatioMismatch(5400, 4600, 0.5, 0.001);
    expect(bad).toMatchObject({ expectedA: 5000, expectedB: 5000, statistic: 64, mismatch: true });
    expect(sampleRatioMismatch(5100, 4900, 0.5, 0.001).mismatch).toBe(false);
  });

  it('reports no mismatch before any request', () => {
    expect(sampleRatioMismatch(0, 0, 0.3, 0.001)).toEqual({
      requestsA: 0,
      requestsB: 0,
      expectedA: 0,
      expectedB: 0,
      statistic: 0,
      pValue: 1,
      mismatch: false,
    });
  });

  it('uses the given threshold', () => {
    // 5100 vs 4900: X² = 4, p ≈ 0.0455
    expect(sampleRatioMismatch(5100, 4900, 0.5, 0.05).mismatch).toBe(true);
  });

  it('rejects a split that is not a running A/B test, and bad counts', () => {
    expect(() => sampleRatioMismatch(10, 0, 0, 0.001)).toThrow(
      new InputError('ab_split_b: expected a number in (0, 1) while an A/B test runs, got number 0'),
    );
    expect(() => sampleRatioMismatch(-1, 3, 0.5, 0.001)).toThrow(new InputError('arm A requests: expected an integer ≥ 0, got number -1'));
    expect(() => sampleRatioMismatch(1, 2.5, 0.5, 0.001)).toThrow(new InputError('arm B requests: expected an integer ≥ 0, got number 2.5'));
  });
});
