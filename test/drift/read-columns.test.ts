import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Feature } from '../../src/config/index.js';
import { InputError } from '../../src/errors.js';
import { readDataColumns } from '../../src/drift/read-columns.js';
import { tempDir } from '../helpers/config.js';

const dir = tempDir('driftgate-read-');
let counter = 0;

function file(content: string): string {
  const name = path.join(dir, `data-${counter++}.csv`);
  writeFileSync(name, content);
  return name;
}

const features: Feature[] = [
  { name: 'x', type: 'numeric' },
  { name: 'colour', type: 'categorical' },
  { name: 'y', type: 'numeric' },
];

describe('readDataColumns', () => {
  it('reads numeric columns as Float64Arrays, categorical ones and the target as counts; other columns are ignored', async () => {
    const a = file('id,y,colour,x,label\n1,0.5,red,10,cat\n2,-1e-3,blue,11,dog\n3,2,red,12,\n');
    const read = await readDataColumns([a], { features, target: 'label' });
    expect(read.rows).toBe(3);
    expect([...read.numeric.get('x')!]).toEqual([10, 11, 12]);
    expect([...read.numeric.get('y')!]).toEqual([0.5, -0.001, 2]);
    expect(read.categorical.get('colour')).toEqual(new Map([['red', 2], ['blue', 1]]));
    // An empty target cell is an unlabelled row: skipped, not an error.
    expect(read.target).toEqual(new Map([['cat', 1], ['dog', 1]]));
    expect(read.fastRows).toBe(3);
  });

  it('reads several files as one data set; the target counts where it is present', async () => {
    const a = file('x,colour,y,label\n1,red,1,cat\n');
    const b = file('y,x,colour\n2,2,blue\n3,3,blue\n');
    const read = await readDataColumns([a, b], { features, target: 'label' });
    expect(read.rows).toBe(3);
    expect([...read.numeric.get('x')!]).toEqual([1, 2, 3]);
    expect(read.target).toEqual(new Map([['cat', 1]]));
  });

  it('has no target counts when no file has the column', async () => {
    const read = await readDataColumns([file('x,colour,y\n1,red,1\n')], { features, target: 'label' });
    expect(read.target).toBeNull();
  });

  it('reads quoted files through csv-parse with the same result', async () => {
    const plain = await readDataColumns([file('x,colour,y\n1,red,2\n3,"blue, dark",4\n')], { features, target: null });
    const forced = await readDataColumns([file('x,colour,y\n1,red,2\n3,"blue, dark",4\n')], { features, target: null }, { parser: 'csv-parse' });
    expect(plain.categorical).toEqual(new Map([['colour', new Map([['red', 1], ['blue, dark', 1]])]]));
    expect({ ...plain, fastRows: 0, csvParseRows: 0 }).toEqual({ ...forced, fastRows: 0, csvParseRows: 0 });
  });

  it('reads a constant column and zero rows without complaint (the caller judges the counts)', async () => {
    const read = await readDataColumns([file('x,colour,y\n5,a,1\n5,a,1\n')], { features, target: null });
    expect([...read.numeric.get('x')!]).toEqual([5, 5]);
    expect((await readDataColumns([file('x,colour,y\n')], { features, target: null })).rows).toBe(0);
  });

  it.each([
    ['a missing feature column', 'x,y\n1,2\n', (f: string) => `${f}: missing column "colour" (found x, y)`],
    ['a non-numeric value', 'x,colour,y\n1,a,2\n1,b,two\n', (f: string) => `${f}: line 3, column "y": expected a number, got "two"`],
    ['an empty numeric value', 'x,colour,y\n1,a,2\n,b,3\n', (f: string) => `${f}: line 3, column "x": expected a number, got an empty value`],
    ['an empty category', 'x,colour,y\n1,a,2\n\n1, ,3\n', (f: string) => `${f}: line 4, column "colour": expected a category, got an empty value`],
    ['a hex literal', 'x,colour,y\n0x10,a,2\n', (f: string) => `${f}: line 2, column "x": expected a number, got "0x10"`],
    ['a short row', 'x,colour,y\n1,a\n', (f: string) => `${f}: line 2: expected 3 fields as in the header, got 2`],
    ['an empty file', '', (f: string) => `${f}: expected a header row, got an empty file`],
  ])('%s is an input error naming the file, line and column', async (_name, content, message) => {
    const name = file(content);
    const run = readDataColumns([name], { features, target: null });
    await expect(run).rejects.toThrow(InputError);
    await expect(run).rejects.toThrow(message(name));
  });
});
