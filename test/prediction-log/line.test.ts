import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import { describe, expect, it } from 'vitest';
import { encodeLine, neutralise, restore, splitLine } from '../../src/prediction-log/line.js';
import { seededRandom } from '../../src/random.js';

describe('formula cells', () => {
  it.each([
    ['=1+1', "'=1+1"],
    ['+cmd|x', "'+cmd|x"],
    ['-abc', "'-abc"],
    ['@SUM(A1)', "'@SUM(A1)"],
    ["'already", "''already"],
    ['\tx', "'\tx"],
    ['-1', '-1'],
    ['+2.5e3', '+2.5e3'],
    ['alice', 'alice'],
    ['', ''],
  ])('%j is written as %j and read back as itself', (text, written) => {
    expect(neutralise(text)).toBe(written);
    expect(restore(written)).toBe(text);
  });
});

describe('splitLine', () => {
  it.each([
    ['a,b,c', ['a', 'b', 'c']],
    ['a,,c,', ['a', '', 'c', '']],
    ['"a,1","b ""q""",c', ['a,1', 'b "q"', 'c']],
    ['"",x', ['', 'x']],
    ['x,""', ['x', '']],
    ['"a",', ['a', '']],
    ["'=1,'-x,''q", ['=1', '-x', "'q"]],
    ['"\'=1,2",b', ['=1,2', 'b']],
  ])('%j', (line, cells) => {
    expect(splitLine(line)).toEqual(cells);
  });

  it.each(['"open,b', 'a,"b"c', 'a,b"c', '"a"x,b'])('broken quoting %j is null', (line) => {
    expect(splitLine(line)).toBeNull();
  });

  it('reads what encodeLine writes, and agrees with csv-parse, on 2,000 random rows', () => {
    const random = seededRandom(7);
    const alphabet = ['a', 'Z', '0', '9', ',', '"', "'", '=', '+', '-', '@', ' ', 'é', '😀', '.', 'e'];
    const text = (): string => Array.from({ length: Math.floor(random() * 8) }, () => alphabet[Math.floor(random() * alphabet.length)]).join('');
    for (let i = 0; i < 2000; i++) {
      const cells = Array.from({ length: 1 + Math.floor(random() * 6) }, text);
      const line = encodeLine(cells).slice(0, -1);
      expect(splitLine(line)).toEqual(cells);
      const viaCsvParse = (parse(line, { relax_column_count: true }) as string[][])[0] ?? [''];
      expect(splitLine(line)).toEqual(viaCsvParse.map(restore));
    }
  });
});

describe('encodeLine', () => {
  /** What csv-stringify writes for the row (the reference the joined fast path must match byte for byte). */
  const viaCsvStringify = (cells: readonly (string | number | null)[]): string => stringify([cells.map((c) => (typeof c === 'string' ? neutralise(c) : c))]);

  it.each([
    [['2026-01-02T03:04:05.678Z', 'prediction', 'req-0', 'user-0', 'A', 'prod', '1', 5.1, 3.5, 1.4, 0.2, 'setosa', null, 1.235, null, null]],
    [['x', '', null, 0, -0, -1.5, 1e21, 1e-7, 3.4028234663852886e38, 'é😀', "'q", '=1', '-1', ' padded ']],
    [['a,b', 'c']],
    [['say "hi"', 1]],
    [['line\nbreak', 'cr\rx']],
    [['=1,2', null]],
  ])('writes %j exactly as csv-stringify does', (cells) => {
    expect(encodeLine(cells)).toBe(viaCsvStringify(cells));
  });

  it('agrees with csv-stringify on 5,000 random rows of text, numbers and empty cells', () => {
    const random = seededRandom(11);
    const alphabet = ['a', 'Z', '0', ',', '"', "'", '=', '+', '-', '@', ' ', '\t', '\r', '\n', 'é', '😀', '.', 'e'];
    const cell = (): string | number | null => {
      const kind = random();
      if (kind < 0.15) return null;
      if (kind < 0.45) return (random() - 0.5) * 10 ** Math.floor(random() * 30 - 10);
      return Array.from({ length: Math.floor(random() * 6) }, () => alphabet[Math.floor(random() * alphabet.length)]).join('');
    };
    for (let i = 0; i < 5000; i++) {
      const cells = Array.from({ length: 1 + Math.floor(random() * 8) }, cell);
      expect(encodeLine(cells)).toBe(viaCsvStringify(cells));
    }
  });
});
