import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import { normalCdf, normalIsf, normalLogCdf, normalPdf, normalQuantile, normalSf } from '../../src/stats/index.js';
import vectors from '../fixtures/ab-vectors.json' with { type: 'json' };

// scipy's ndtr evaluates erfc(z/√2), whose rounding of z/√2 costs ~z²·1e-16 relative: 1.1e-13 at z = 37 (vs mpmath).
const REL = 2e-13;

function close(actual: number, expected: number, rel = REL): void {
  if (expected === 0) {
    // scipy flushes Φ(−38) ≈ 2.9e-316 to 0: below the normal double range both are "zero".
    expect(Math.abs(actual)).toBeLessThan(1e-307);
    return;
  }
  expect(Math.abs(actual - expected) / Math.abs(expected)).toBeLessThan(rel);
}

describe('normal distribution', () => {
  it.each(vectors.normal.cdf)('cdf, sf, pdf, logcdf at z = $z (scipy.stats.norm)', ({ z, cdf, sf, pdf, logcdf }) => {
    close(normalCdf(z), cdf);
    close(normalSf(z), sf);
    close(normalPdf(z), pdf);
    close(normalLogCdf(z), logcdf);
  });

  it.each(vectors.normal.ppf)('ppf and isf at p = $p (scipy.stats.norm)', ({ p, ppf, isf }) => {
    close(normalQuantile(p), ppf);
    close(normalIsf(p), isf);
  });

  it('is within an ulp or two of 50-digit mpmath values in the far tail', () => {
    close(normalSf(37), 5.7255712225245768227e-300, 1e-15);
    close(normalSf(30), 4.9067139271481870595e-198, 1e-15);
    close(normalCdf(-20), 2.7536241186062336951e-89, 1e-15);
    close(normalCdf(-38), 2.8854283600687843084e-316, 1e-8); // subnormal: only ~25 bits left
  });

  it('gives the 97.5% quantile used by the 95% intervals', () => {
    close(normalQuantile(0.975), 1.959963984540054, 1e-15);
  });

  it('handles the ends of the range', () => {
    expect(normalQuantile(0)).toBe(-Infinity);
    expect(normalQuantile(1)).toBe(Infinity);
    expect(normalQuantile(0.5)).toBe(0);
    expect(normalCdf(-Infinity)).toBe(0);
    expect(normalCdf(Infinity)).toBe(1);
    expect(normalLogCdf(-Infinity)).toBe(-Infinity);
  });

  it('keeps ln Φ finite where Φ underflows', () => {
    // ln Φ(−40) = −40²/2 − ln(40 √(2π)) + ln(1 − 1/40² + 3/40⁴ − …)
    const z = 40;
    const series = 1 - 1 / z ** 2 + 3 / z ** 4 - 15 / z ** 6 + 105 / z ** 8;
    close(normalLogCdf(-z), -(z * z) / 2 - Math.log(z * Math.sqrt(2 * Math.PI)) + Math.log(series), 1e-14);
  });

  it('rejects a probability outside [0, 1]', () => {
    expect(() => normalQuantile(1.5)).toThrow(new InputError('normalQuantile: expected a probability in [0, 1], got number 1.5'));
    expect(() => normalCdf(Number.NaN)).toThrow(new InputError('normalCdf: expected a number, got number NaN'));
  });
});
