import { appendFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readLogColumns, type LogWindow } from '../../src/drift/live-log.js';
import { openLogSet, type LogSchema } from '../../src/prediction-log/index.js';
import { tempDir } from '../helpers/config.js';

const dir = tempDir('driftgate-log-');
let counter = 0;
const schema: LogSchema = {
  features: [
    { name: 'a', type: 'numeric' },
    { name: 'shade', type: 'categorical' },
  ],
  classes: ['setosa', 'virginica'],
};
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

async function read(pattern: string, window: LogWindow = { rows: 1000, since: null }) {
  const set = await openLogSet(pattern, { rotated: true });
  try {
    return await readLogColumns(set, schema, window);
  } finally {
    await set.close();
  }
}

describe('readLogColumns', () => {
  it('takes the feature columns of prediction rows only; feedback rows carry no features', async () => {
    const read1 = await read(log(prediction(1, '1.5'), feedback(2), prediction(3, '2.5', 'dark', 'virginica'), feedback(4)));
    expect(read1.rows).toBe(2);
    expect([...read1.numeric.get('a')!]).toEqual([1.5, 2.5]);
    expect(read1.categorical.get('shade')).toEqual(new Map([['light', 1], ['dark', 1]]));
    expect(read1.predictions).toEqual(new Map([['setosa', 1], ['virginica', 1]]));
    expect([read1.firstTs, read1.lastTs]).toEqual([ts(1), ts(3)]);
    expect(read1.quality).toEqual({ rows_read: 4, malformed_rows: 0, malformed: [], unreadable: [], headerless: [] });
  });

  it('keeps the last N prediction rows', async () => {
    const result = await read(log(...Array.from({ length: 2500 }, (_, i) => prediction(i, String(i)))), { rows: 1000, since: null });
    expect(result.rows).toBe(1000);
    expect(result.predictionRows).toBe(2500);
    const a = result.numeric.get('a')!;
    expect([a[0], a[999]]).toEqual([1500, 2499]);
  });

  it('--since keeps rows at or after the time, and the window still caps them', async () => {
    const file = log(...Array.from({ length: 10 }, (_, i) => prediction(i, String(i))));
    const since = Date.parse(ts(6));
    expect([...(await read(file, { rows: 100, since })).numeric.get('a')!]).toEqual([6, 7, 8, 9]);
    expect([...(await read(file, { rows: 2, since })).numeric.get('a')!]).toEqual([8, 9]);
  });

  it('merges replicas by ts before taking the window', async () => {
    const one = path.join(dir, 'replica-1.csv');
    const two = path.join(dir, 'replica-2.csv');
    writeFileSync(one, HEADER + prediction(1, '1') + prediction(4, '4') + prediction(5, '5'));
    writeFileSync(two, HEADER + prediction(2, '2') + prediction(3, '3') + prediction(6, '6'));
    const result = await read(path.join(dir, 'replica-*.csv'), { rows: 4, since: null });
    expect([...result.numeric.get('a')!]).toEqual([3, 4, 5, 6]);
    expect([result.firstTs, result.lastTs]).toEqual([ts(3), ts(6)]);
  });

  it('leaves a half-written last line for the next run', async () => {
    const file = log(prediction(1, '1'), prediction(2, '2'));
    appendFileSync(file, `${ts(3)},prediction,r3,u3,A,prod,3,3`);
    expect([...(await read(file)).numeric.get('a')!]).toEqual([1, 2]);
  });

  it('leaves out rows the drift math cannot take (±1e308, NaN, empty cells, a broken line) with file and line, and analyses the rest', async () => {
    const file = log(
      prediction(1, '1e308'),
      prediction(2, '-1e308'),
      prediction(3, 'NaN'),
      prediction(4, ''),
      prediction(5, '5', ''),
      `${ts(6)},prediction,r6\n`,
      `yesterday,prediction,r7,u7,A,prod,3,1,light,setosa,,1\n`,
      prediction(8, '8'),
    );
    const result = await read(file);
    expect([...result.numeric.get('a')!]).toEqual([8]);
    expect(result.quality.malformed_rows).toBe(7);
    expect(result.quality.malformed.map((m) => `${m.line}: ${m.problem}`)).toEqual([
      '2: a: expected a number within ±3.4028234663852886e+38 (the float32 range), got "1e308"',
      '3: a: expected a number within ±3.4028234663852886e+38 (the float32 range), got "-1e308"',
      '4: a: expected a number, got "NaN"',
      '5: a: expected a number, got an empty value',
      '6: shade: expected a category, got an empty value',
      '7: expected 12 fields, got 3',
      '8: ts: expected an ISO-8601 UTC time, got "yesterday"',
    ]);
  });

  it('an empty file or a header alone is no rows, not an error', async () => {
    const empty = path.join(dir, 'empty.csv');
    writeFileSync(empty, '');
    expect((await read(empty)).rows).toBe(0);
    const result = await read(log());
    expect(result.rows).toBe(0);
    expect([result.firstTs, result.lastTs]).toEqual([null, null]);
  });

  it('quoted user ids read like any other', async () => {
    const file = log(prediction(1, '1'), `${ts(2)},prediction,r2,"user, with comma",A,prod,3,2,dark,setosa,,1\n`, prediction(3, '3'));
    expect([...(await read(file)).numeric.get('a')!]).toEqual([1, 2, 3]);
  });

  it('names a file without the feature columns', async () => {
    const noShade = path.join(dir, 'no-shade.csv');
    writeFileSync(noShade, 'ts,event,request_id,user_id,variant,model_alias,model_version,a,prediction,label,latency_ms\n');
    expect((await read(noShade)).quality.unreadable).toEqual([
      {
        path: noShade,
        reason: 'line 1: expected a predictions log header with the columns ts,event,request_id,user_id,variant,model_alias,model_version,a,shade,prediction,label,latency_ms, got one without "shade"',
      },
    ]);
  });
});
