import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import { categoryError, columnIndices, numberError, slotsFor } from '../../src/data/cells.js';

describe('messages name the file, line and column', () => {
  it.each([
    [numberError('/d/x.csv', 7, 'petal_width', 'abc'), '/d/x.csv: line 7, column "petal_width": expected a number, got "abc"'],
    [numberError('/d/x.csv', 7, 'petal_width', ''), '/d/x.csv: line 7, column "petal_width": expected a number, got an empty value'],
    [numberError('/d/x.csv', 2, 'f', 'x'.repeat(80)), `/d/x.csv: line 2, column "f": expected a number, got "${'x'.repeat(57)}..."`],
    [categoryError('/d/x.csv', 3, 'colour'), '/d/x.csv: line 3, column "colour": expected a category, got an empty value'],
    [numberError('/d/x.csv', 4, 'f', '1e39'), '/d/x.csv: line 4, column "f": expected a number within ±3.4028234663852886e+38 (the float32 range), got "1e39"'],
  ])('%s', (error, message) => {
    expect(error).toBeInstanceOf(InputError);
    expect(error.message).toBe(message);
    expect(error.exitCode).toBe(2);
  });
});

describe('columnIndices', () => {
  it('finds each name in the header', () => {
    expect(columnIndices('/d/x.csv', ['b', 'a', 'c'], ['a', 'c'])).toEqual([1, 2]);
  });

  it('names the missing column and what the header has', () => {
    expect(() => columnIndices('/d/x.csv', ['a', 'b'], ['a', 'petal_width'])).toThrow('/d/x.csv: missing column "petal_width" (found a, b)');
  });

  it('refuses a needed column that appears twice', () => {
    expect(() => columnIndices('/d/x.csv', ['a', 'b', 'a'], ['a'])).toThrow('/d/x.csv: column "a" appears twice in the header');
  });
});

describe('slotsFor', () => {
  it('maps header positions to slots, -1 for the rest', () => {
    expect(slotsFor(5, [3, 0, null, 4])).toEqual([1, -1, -1, 0, 3]);
  });
});
