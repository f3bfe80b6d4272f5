import { appendFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Feature } from '../../src/config/index.js';
import { completeLength, isLogHeader, readLogColumns } from '../../src/drift/live-log.js';
import { tempDir } from '../helpers/config.js';

const dir = tempDir('driftgate-log-');
let counter = 0;
const features: Feature[] = [
  { name: 'a', type: 'numeric' },
  { name: 'shade', type: 'categorical' },
];
const HEADER = 'ts,event,request_id,user_id,variant,model_alias,model_version,a,shade,prediction,label,latency_ms\n';

function ts(second: number): string {
  return new Date(Date.UTC(2026, 10, 28, 4, 0, second)).toISOString();
}

function prediction(second: number, a: string, shade = 'light', predicted = 'setosa'): string {
  return `${ts(second)},prediction,r${second},u${second},A,prod,3,${a},${shade},${predicted},,12.5\n`;
}

function feedback(second: number): string {
  return `${ts(second)},feedback,r${second - 1},,,,,,,,setosa,\n`;
}

function log(...rows: string[]): string {
  const name = path.join(dir, `predictions-${counter++}.csv`);
  writeFileSync(name, HEADER + rows.join(''));
  return name;
}

const all = { rows: 1000, since: null };

describe('readLogColumns', () => {
  it('takes the feature columns of prediction rows only; feedback rows carry no features', async () => {
    const file = log(prediction(1, '1.5'), feedback(2), prediction(3, '2.5', 'dark', 'virginica'), feedback(4));
    const read = await readLogColumns([file], features, all);
    expect(read.rows).toBe(2);
    expect([...read.numeric.get('a')!]).toEqual([1.5, 2.5]);
    expect(read.categorical.get('shade')).toEqual(new Map([['light', 1], ['dark', 1]]));
    expect(read.predictions).toEqual(new Map([['setosa', 1], ['virginica', 1]]));
    expect([read.firstTs, read.lastTs]).toEqual([ts(1), ts(3)]);
  });

  it('keeps the last N prediction rows', async () => {
    const rows = Array.from({ length: 2500 }, (_, i) => prediction(i, String(i)));
    const read = await readLogColumns([log(...rows)], features, { rows: 1000, since: null });
    expect(read.rows).toBe(1000);
    expect(read.predictionRows).toBe(2500);
    const a = read.numeric.get('a')!;
    expect([a[0], a[999]]).toEqual([1500, 2499]);
  });

  it('--since keeps rows at or after the time, and the window still caps them', async () => {
    const file = log(...Array.from({ length: 10 }, (_, i) => prediction(i, String(i))));
    const since = Date.parse(ts(6));
    expect([...(await readLogColumns([file], features, { rows: 100, since })).numeric.get('a')!]).toEqual([6, 7, 8, 9]);
    expect([...(await readLogColumns([file], features, { rows: 2, since })).numeric.get('a')!]).toEqual([8, 9]);
  });

  it('merges replicas by ts before taking the window', async () => {
    const one = log(prediction(1, '1'), prediction(4, '4'), prediction(5, '5'));
    const two = log(prediction(2, '2'), prediction(3, '3'), prediction(6, '6'));
    const read = await readLogColumns([one, two], features, { rows: 4, since: null });
    expect([...read.numeric.get('a')!]).toEqual([3, 4, 5, 6]);
    expect([read.firstTs, read.lastTs]).toEqual([ts(3), ts(6)]);
  });

  it('leaves a half-written last line for the next run', async () => {
    const file = log(prediction(1, '1'), prediction(2, '2'));
    appendFileSync(file, `${ts(3)},prediction,r3,u3,A,prod,3,3`);
    expect(await completeLength(file)).toBe(HEADER.length + prediction(1, '1').length + prediction(2, '2').length);
    expect([...(await readLogColumns([file], features, all)).numeric.get('a')!]).toEqual([1, 2]);
  });

  it('a bad cell only counts when its row is in the window', async () => {
    const rows = [prediction(1, 'oops'), ...Array.from({ length: 5 }, (_, i) => prediction(i + 2, String(i)))];
    const file = log(...rows);
    expect((await readLogColumns([file], features, { rows: 5, since: null })).rows).toBe(5);
    await expect(readLogColumns([file], features, { rows: 6, since: null })).rejects.toThrow(
      `${file}: line 2, column "a": expected a number, got "oops"`,
    );
    const empty = log(prediction(1, '1'), prediction(2, '2', ''));
    await expect(readLogColumns([empty], features, all)).rejects.toThrow(`${empty}: line 3, column "shade": expected a category, got an empty value`);
  });

  it('a broken time stamp or field count is a broken log wherever it is', async () => {
    const badTs = log(`yesterday,prediction,r1,u1,A,prod,3,1,light,setosa,,1\n`, prediction(2, '2'));
    await expect(readLogColumns([badTs], features, { rows: 1, since: null })).rejects.toThrow(
      `${badTs}: line 2, column "ts": expected an ISO-8601 time, got "yesterday"`,
    );
    const short = log(`${ts(1)},prediction,r1\n`, prediction(2, '2'));
    await expect(readLogColumns([short], features, { rows: 1, since: null })).rejects.toThrow(`${short}: line 2: expected 12 fields as in the header, got 3`);
  });

  it('an empty file or a header alone is no rows, not an error', async () => {
    const empty = path.join(dir, 'empty.csv');
    writeFileSync(empty, '');
    const read = await readLogColumns([empty, log()], features, all);
    expect(read.rows).toBe(0);
    expect([read.firstTs, read.lastTs]).toEqual([null, null]);
  });

  it('quoted user ids go through csv-parse with the same result', async () => {
    const file = log(prediction(1, '1'), `${ts(2)},prediction,r2,"user, with comma",A,prod,3,2,dark,setosa,,1\n`, prediction(3, '3'));
    expect([...(await readLogColumns([file], features, all)).numeric.get('a')!]).toEqual([1, 2, 3]);
  });

  it('names a missing feature column and refuses a file that is not a predictions log', async () => {
    const noShade = path.join(dir, 'no-shade.csv');
    writeFileSync(noShade, 'ts,event,request_id,user_id,variant,model_alias,model_version,a,prediction,label,latency_ms\n');
    await expect(readLogColumns([noShade], features, all)).rejects.toThrow(
      `${noShade}: missing column "shade" (found ts, event, request_id, user_id, variant, model_alias, model_version, a, prediction, label, latency_ms)`,
    );
    const data = path.join(dir, 'data.csv');
    writeFileSync(data, 'a,shade\n1,light\n');
    await expect(readLogColumns([data], features, all)).rejects.toThrow(`${data}: expected a predictions log header starting ts,event,request_id, got a,shade`);
  });

  it('isLogHeader looks at the fixed leading columns', () => {
    expect(isLogHeader(['ts', 'event', 'request_id', 'x'])).toBe(true);
    expect(isLogHeader(['event', 'ts', 'request_id'])).toBe(false);
  });
});
