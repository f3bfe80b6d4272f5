import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import { estimateRecords, readHeader, scanCsv, type CsvParser } from '../../src/drift/csv-records.js';
import { seededRandom } from '../../src/random.js';
import { tempDir } from '../helpers/config.js';

const dir = tempDir('driftgate-csv-');
let counter = 0;

function file(content: string): string {
  const name = path.join(dir, `input-${counter++}.csv`);
  writeFileSync(name, content);
  return name;
}

interface Scanned {
  header: string[] | null;
  records: [number, ...string[]][];
  fast: number;
  csvParse: number;
}

/** Every field of every record, with its line number. */
async function scanAll(name: string, parser: CsvParser, options: { end?: number } = {}): Promise<Scanned> {
  const records: [number, ...string[]][] = [];
  let width = 0;
  const result = await scanCsv(
    name,
    {
      header(names) {
        width = names.length;
        return names.map((_, i) => i);
      },
      record(fields, line) {
        records.push([line, ...fields.slice(0, width)]);
      },
    },
    { parser, ...options },
  );
  return { header: result.header, records, fast: result.fastRecords, csvParse: result.csvParseRecords };
}

async function outcome(name: string, parser: CsvParser): Promise<Omit<Scanned, 'fast' | 'csvParse'> | { error: string }> {
  try {
    const { header, records } = await scanAll(name, parser);
    return { header, records };
  } catch (error) {
    return { error: (error as Error).message };
  }
}

// The fast path must read exactly what csv-parse reads: same fields, same line numbers, same errors.
const cases: [string, string][] = [
  ['plain', 'a,b\n1,2\n3,4\n'],
  ['no final line end', 'a,b\n1,2\n3,4'],
  ['CRLF', 'a,b\r\n1,2\r\n3,4\r\n'],
  ['byte order mark', '\uFEFFa,b\n1,2\n'],
  ['blank and whitespace-only lines', '\na,b\n\n1,2\n   \n3,4\n\n'],
  ['fields trimmed', ' a , b \n 1 ,2 \n'],
  ['empty fields', 'a,b,c\n,,\n1,,3\n'],
  ['one column', 'a\n1\n2\n\n3\n'],
  ['one column, whitespace-only lines', 'a\n1\n  \n\t\n3\n'],
  ['three columns, a line of one blank field', 'a,b,c\n1,2,3\n \n4,5,6\n'],
  ['quotes from the third record on', 'a,b\n1,2\n3,4\n"5,5",6\n7,"8\n9"\n10,11\n'],
  ['quoted header', '"a","b"\n1,2\n'],
  ['old Mac line ends', 'a,b\r1,2\r3,4\r'],
  ['too few fields', 'a,b,c\n1,2,3\n4,5\n'],
  ['too many fields', 'a,b\n1,2\n3,4,5\n'],
  ['too many fields after a quote', 'a,b\n"1",2\n3,4,5\n'],
  ['non-ASCII', 'name,città\nÅsa,Zürich\n'],
  ['header only', 'a,b\n'],
  ['empty file', ''],
  ['only blank lines', '\n\n  \n'],
];

describe('scanCsv: the fast path reads as csv-parse does', () => {
  it.each(cases)('%s', async (_name, content) => {
    const name = file(content);
    expect(await outcome(name, 'auto')).toEqual(await outcome(name, 'csv-parse'));
  });

  // Seeded random files of CSV-ish tokens: same records, same errors. csv-parse numbers the lines of
  // files mixing \r\n and \n by its own counting, so line numbers are compared on \r-free files only.
  it('agrees with csv-parse on 300 random files', async () => {
    const random = seededRandom(20261128);
    const tokens = ['1', '22', 'x', ',', ',', '\n', '\n', '\r\n', '\r\n', ' ', '"', '""', '\t', '\uFEFF', 'é', '\r', 'a,b'];
    const heads = ['', 'a,b\n', 'a,b\r\n'];
    const withoutLines = (o: Awaited<ReturnType<typeof outcome>>): unknown =>
      'error' in o ? o.error.replace(/line \d+/, 'line N') : { header: o.header, records: o.records.map((r) => r.slice(1)) };
    for (let c = 0; c < 300; c++) {
      let content = heads[c % 3]!;
      const length = Math.floor(random() * 30);
      for (let i = 0; i < length; i++) content += tokens[Math.floor(random() * tokens.length)];
      const name = file(content);
      const fast = await outcome(name, 'auto');
      const reference = await outcome(name, 'csv-parse');
      if (content.includes('\r')) expect(withoutLines(fast), JSON.stringify(content)).toEqual(withoutLines(reference));
      else expect(fast, JSON.stringify(content)).toEqual(reference);
    }
  });

  it('reads plain files on the fast path and hands over at the first line with a quote', async () => {
    const name = file('a,b\n1,2\n3,4\n"5",6\n7,8\n');
    const scanned = await scanAll(name, 'auto');
    expect(scanned).toEqual({
      header: ['a', 'b'],
      records: [
        [2, '1', '2'],
        [3, '3', '4'],
        [4, '5', '6'],
        [5, '7', '8'],
      ],
      fast: 2,
      csvParse: 2,
    });
  });

  it('hands over across 64 KiB chunks with line numbers intact', async () => {
    const lines = Array.from({ length: 20_000 }, (_, i) => `${i},${i * 2}`);
    lines[15_000] = '"15000","30000"';
    const name = file(`x,y\n${lines.join('\n')}\n`);
    const fast = await scanAll(name, 'auto');
    expect(fast.fast).toBe(15_000);
    expect(fast.csvParse).toBe(5_000);
    expect(fast.records[15_000]).toEqual([15_002, '15000', '30000']);
    expect(fast.records[19_999]).toEqual([20_001, '19999', '39998']);
    expect(fast.records).toEqual((await scanAll(name, 'csv-parse')).records);
  });

  it('names the file and line of a record with the wrong field count', async () => {
    const name = file('a,b,c\n1,2,3\n4,5\n');
    const run = scanAll(name, 'auto');
    await expect(run).rejects.toThrow(InputError);
    await expect(run).rejects.toThrow(`${name}: line 3: expected 3 fields as in the header, got 2`);
  });

  it.each([
    ['a,b\n1,"2\n', 2, 'Quote Not Closed: the parsing is finished with an opening quote'],
    ['a,b\n1,2\n3,4\n5,6"x"\n', 4, 'Invalid Opening Quote: a quote is found on field 1, value is "6"'],
  ])('reports broken quoting with the file and line: %j', async (content, line, detail) => {
    const name = file(content);
    for (const parser of ['auto', 'csv-parse'] as const) {
      await expect(scanAll(name, parser)).rejects.toThrow(`${name}: line ${line}: not valid CSV (${detail})`);
    }
  });

  it('stops at `end`, leaving a partial last line unread', async () => {
    const content = 'a,b\n1,2\n3,4\n5,';
    const name = file(content);
    const scanned = await scanAll(name, 'auto', { end: content.lastIndexOf('\n') + 1 });
    expect(scanned.records).toEqual([
      [2, '1', '2'],
      [3, '3', '4'],
    ]);
  });

  it('a missing file and a directory are input errors naming the path', async () => {
    const missing = path.join(dir, 'missing.csv');
    await expect(scanAll(missing, 'auto')).rejects.toThrow(`${missing}: file not found`);
    await expect(scanAll(dir, 'auto')).rejects.toThrow(`${dir}: expected a CSV file, got a directory`);
  });
});

describe('readHeader', () => {
  it.each([
    ['a,b\n1,2\n', ['a', 'b']],
    ['\uFEFF\n ts , event \n1,2\n', ['ts', 'event']],
    ['"x,1",y\n', ['x,1', 'y']],
    ['', null],
  ])('%j', async (content, header) => {
    expect(await readHeader(file(content))).toEqual(header);
  });
});

describe('estimateRecords', () => {
  it('counts the lines of a small file', async () => {
    expect(await estimateRecords(file('a\n1\n2\n'))).toBe(4);
  });

  it('extrapolates from the first 64 KiB with 3% to spare', async () => {
    const name = file(`v\n${Array.from({ length: 100_000 }, (_, i) => String(i % 10)).join('\n')}\n`);
    const estimate = await estimateRecords(name);
    expect(estimate).toBeGreaterThanOrEqual(100_001);
    expect(estimate).toBeLessThanOrEqual(104_000);
  });

  it('is 0 for a missing file', async () => {
    expect(await estimateRecords(path.join(dir, 'nope.csv'))).toBe(0);
  });
});
