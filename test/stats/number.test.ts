import { describe, expect, it } from 'vitest';
import { FEATURE_LIMIT, featureNumberExpectation, parseDecimal, parseFeatureNumber } from '../../src/stats/number.js';

describe('parseDecimal', () => {
  it.each([
    ['1.5', 1.5],
    ['-2e-3', -0.002],
    ['+7', 7],
    ['.5', 0.5],
    ['5.', 5],
    ['0', 0],
    ['-0', -0],
    ['007', 7],
    ['1E3', 1000],
    ['0.1', 0.1],
    ['-0.6639857588714417', -0.6639857588714417],
  ])('%s → %s', (text, value) => {
    expect(Object.is(parseDecimal(text), value)).toBe(true);
  });

  // Number() would take the hex/binary/octal literals and read "" as 0; pandas reads these as text.
  it.each(['', 'abc', '1,5', '1_000', '0x1A', '0X1a', '0b11', '0o7', 'Infinity', '-Infinity', 'NaN', 'nan', '1e400', '--1', '1.2.3'])(
    '%j is not a number',
    (text) => {
      expect(parseDecimal(text)).toBeNaN();
    },
  );
});

describe('parseFeatureNumber', () => {
  it('takes decimals within the float32 range and nothing beyond it', () => {
    expect(FEATURE_LIMIT).toBe(3.4028234663852886e38);
    expect(parseFeatureNumber('3.4028234663852886e38')).toBe(FEATURE_LIMIT);
    expect(parseFeatureNumber('-3.4028234663852886e38')).toBe(-FEATURE_LIMIT);
    expect(parseFeatureNumber('-1.5')).toBe(-1.5);
    for (const text of ['3.5e38', '1e308', '-1e308', '1e400', 'NaN', '']) expect(parseFeatureNumber(text)).toBeNaN();
  });

  it('says what was expected', () => {
    expect(featureNumberExpectation('abc')).toBe('a number');
    expect(featureNumberExpectation('1e308')).toBe('a number within ±3.4028234663852886e+38 (the float32 range)');
  });
});
