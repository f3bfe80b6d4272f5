import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';

import type * as ThreadModule from '../../src/drift/read-columns-thread.js';
import { readDataColumns } from '../../src/drift/read-columns.js';
import { PROJECT_ROOT } from '../../src/project.js';
import { seededRandom } from '../../src/random.js';
import { tempDir } from '../helpers/config.js';

// The reader thread runs the compiled worker: `npm run build` (npm test does it) before these tests.
// From the TypeScript sources there is no worker file, and reads stay inline.
let thread: typeof ThreadModule;
let dir: string;
let big: string;

const FEATURES = [
  { name: 'a', type: 'numeric' as const },
  { name: 'b', type: 'numeric' as const },
  { name: 'kind', type: 'categorical' as const },
];
const REQUEST = { features: FEATURES, target: 'label' };

/** Rows of seeded values until the file passes THREAD_MIN_BYTES; `last` replaces the final row. */
function writeBig(file: string, minBytes: number, last?: string): number {
  const random = seededRandom(42);
  const lines = ['a,b,kind,label'];
  let bytes = lines[0]!.length + 1;
  while (bytes < minBytes) {
    const line = `${(random() * 200 - 100).toPrecision(12)},${Math.floor(random() * 1000) / 8},k${Math.floor(random() * 5)},${random() < 0.5 ? 'x' : 'y'}`;
    lines.push(line);
    bytes += line.length + 1;
  }
  if (last !== undefined) lines[lines.length - 1] = last;
  writeFileSync(file, `${lines.join('\n')}\n`);
  return lines.length - 1;
}

beforeAll(async () => {
  thread = (await import(pathToFileURL(path.join(PROJECT_ROOT, 'dist', 'src', 'drift', 'read-columns-thread.js')).href)) as typeof ThreadModule;
  dir = tempDir('driftgate-thread-');
  big = path.join(dir, 'big.csv');
  writeBig(big, thread.THREAD_MIN_BYTES);
});

describe('readColumnsBig', () => {
  /** What readColumnsBig must give: the inline read with its numeric columns sorted, counts in the same first-seen order. */
  async function expectSameAsInline(file: string): Promise<void> {
    const inline = await readDataColumns([file], REQUEST);
    const { data, sorted } = await thread.readColumnsBig([file], REQUEST, {});
    expect(sorted).toBe(true);
    expect(data.rows).toBe(inline.rows);
    expect(data.rows).toBeGreaterThan(300_000);
    for (const name of ['a', 'b']) expect(data.numeric.get(name)).toEqual(inline.numeric.get(name)!.slice().sort());
    expect([...data.categorical.get('kind')!]).toEqual([...inline.categorical.get('kind')!]);
    expect([...data.target!]).toEqual([...inline.target!]);
  }

  it('reads a file of THREAD_MIN_BYTES in a thread: the same columns as inline, the numeric ones sorted', async () => {
    await expectSameAsInline(big);
  });

  it('a quoted field (csv-parse from there on, in the thread) reads the same as inline', async () => {
    const quoted = path.join(dir, 'quoted.csv');
    writeBig(quoted, thread.THREAD_MIN_BYTES, '1.5,2.5,"k1",x');
    await expectSameAsInline(quoted);
  });

  it('reads a small file inline and leaves it unsorted', async () => {
    const small = path.join(dir, 'small.csv');
    writeFileSync(small, 'a,b,kind,label\n3,1,k1,x\n1,2,k2,y\n');
    const { data, sorted } = await thread.readColumnsBig([small], REQUEST, {});
    expect(sorted).toBe(false);
    expect([...data.numeric.get('a')!]).toEqual([3, 1]);
  });

  it('a bad cell read in the thread fails as it does inline: the same InputError with file, line and column', async () => {
    const bad = path.join(dir, 'bad.csv');
    const rows = writeBig(bad, thread.THREAD_MIN_BYTES, '1.5,1e999,k1,x');
    const inline = (await readDataColumns([bad], REQUEST).then(() => new Error('expected a rejection'), (e: unknown) => e)) as Error;
    const threaded = (await thread.readColumnsBig([bad], REQUEST, {}).then(() => new Error('expected a rejection'), (e: unknown) => e)) as Error & { code: string; exitCode: number };
    expect(inline.message).toBe(`${bad}: line ${rows + 1}, column "b": expected a number, got "1e999"`);
    expect({ name: threaded.name, message: threaded.message, code: threaded.code, exitCode: threaded.exitCode }).toEqual({ name: 'InputError', message: inline.message, code: 'INPUT_INVALID', exitCode: 2 });
  });

  it('an aborted read terminates the thread and rejects with the abort reason', async () => {
    const controller = new AbortController();
    const reading = thread.readInThread([big], REQUEST, { sort: true, signal: controller.signal });
    controller.abort(new Error('cancelled by the test'));
    await expect(reading).rejects.toThrow('cancelled by the test');
  });
});
