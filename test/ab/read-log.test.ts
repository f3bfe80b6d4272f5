import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readPredictionLog, resolveLogFiles, type LogSchema } from '../../src/ab/read-log.js';
import { InputError } from '../../src/errors.js';
import { tempDir } from '../helpers/config.js';
import { IRIS_FEATURES, logHeader, logText, writeLog } from '../helpers/ab-log.js';

const schema: LogSchema = { classes: ['setosa', 'versicolor', 'virginica'], numericFeatures: IRIS_FEATURES };
const T = Date.UTC(2025, 8, 17, 12);
const dir = tempDir('driftgate-ab-log-');

describe('readPredictionLog', () => {
  it('reads predictions, inline labels and feedback', async () => {
    const file = path.join(dir, 'ok.csv');
    writeLog(file, [
      { ts: T, request_id: 'r1', variant: 'A', model_version: '3', prediction: 'setosa', label: 'setosa', latency_ms: 2.5 },
      { ts: T + 1, request_id: 'r2', variant: 'B', model_version: '4', prediction: 'virginica' },
      { event: 'feedback', ts: T + 2, request_id: 'r2', label: 'versicolor' },
    ]);
    const scan = await readPredictionLog([file], schema);
    expect(scan.rows).toBe(3);
    expect(scan.malformedCount).toBe(0);
    expect(scan.predictions).toEqual([
      { requestId: 'r1', variant: 'A', version: '3', prediction: 'setosa', label: 'setosa', latencyMs: 2.5, ts: T, order: 1, file, line: 2 },
      { requestId: 'r2', variant: 'B', version: '4', prediction: 'virginica', label: null, latencyMs: 3.2, ts: T + 1, order: 2, file, line: 3 },
    ]);
    expect(scan.feedback).toEqual([{ requestId: 'r2', label: 'versicolor', ts: T + 2, order: 3, file, line: 4 }]);
  });

  it('reports each malformed row with its line number and why, and keeps reading', async () => {
    const file = path.join(dir, 'bad.csv');
    const good = (id: string) => ({ ts: T, request_id: id, variant: 'A' as const, model_version: '3', prediction: 'setosa' });
    const text =
      logText([good('r1')]) +
      'not,enough,fields\n' +
      logText([{ ...good('r3'), ts: 'yesterday' }], IRIS_FEATURES, false) +
      logText([{ ...good('r4'), variant: 'C' as 'A' }], IRIS_FEATURES, false) +
      logText([{ ...good('r5'), model_version: 'latest' }], IRIS_FEATURES, false) +
      logText([{ ...good('r6'), prediction: 'rose' }], IRIS_FEATURES, false) +
      logText([{ ...good('r7'), label: 'tulip' }], IRIS_FEATURES, false) +
      logText([{ ...good('r8'), latency_ms: '-1' }], IRIS_FEATURES, false) +
      logText([{ ...good('r9'), features: { petal_width: 'wide' } }], IRIS_FEATURES, false) +
      logText([good('r1')], IRIS_FEATURES, false) +
      logText([{ event: 'feedback', ts: T, request_id: 'r1', label: '' }], IRIS_FEATURES, false) +
      logText([good('r12')], IRIS_FEATURES, false).replace('prediction', 'click') +
      logText([good('r13')], IRIS_FEATURES, false);
    writeFileSync(file, text);
    const scan = await readPredictionLog([file], schema);
    expect(scan.rows).toBe(13);
    expect(scan.malformedCount).toBe(11);
    expect(scan.malformed.map((m) => [m.line, m.problem])).toEqual([
      [3, 'expected 14 fields, got 3'],
      [4, 'ts: expected an ISO-8601 UTC time, got "yesterday"'],
      [5, 'variant: expected "A" or "B", got "C"'],
      [6, 'model_version: expected a registry version number, got "latest"'],
      [7, 'prediction "rose" is not one of the classes setosa, versicolor, virginica'],
      [8, 'label "tulip" is not one of the classes setosa, versicolor, virginica'],
      [9, 'latency_ms: expected a number >= 0, got "-1"'],
      [10, 'petal_width: expected a number, got "wide"'],
      [11, `request_id "r1" was already logged (${file}:2)`],
      [12, 'label: a feedback row needs a label, got an empty value'],
      [13, 'event: expected "prediction" or "feedback", got "click"'],
    ]);
    expect(scan.unknownLabels).toEqual({ rose: 1, tulip: 1 });
    expect(scan.predictions.map((p) => p.requestId)).toEqual(['r1', 'r13']);
  });

  it('counts every line an unclosed quote swallows as malformed', async () => {
    const file = path.join(dir, 'quote.csv');
    const row = (id: string) => logText([{ ts: T, request_id: id, variant: 'A', model_version: '3', prediction: 'setosa' }], IRIS_FEATURES, false);
    writeFileSync(file, `${logHeader().join(',')}\n${row('r1')}${row('r2').replace('r2', '"r2')}${row('r3')}${row('r4')}`);
    const scan = await readPredictionLog([file], schema);
    expect(scan.predictions.map((p) => p.requestId)).toEqual(['r1']);
    expect(scan.rows).toBe(4);
    expect(scan.malformedCount).toBe(3);
    expect(scan.malformed).toEqual([{ file, line: 3, problem: 'quote not closed; lines 3 to 5 could not be read' }]);
  });

  it('rejects a file whose header lacks the log columns, naming the file and the columns', async () => {
    const file = path.join(dir, 'header.csv');
    writeFileSync(file, 'ts,event,request_id,prediction\n');
    await expect(readPredictionLog([file], schema)).rejects.toThrow(InputError);
    await expect(readPredictionLog([file], schema)).rejects.toThrow(
      `${file}: line 1: expected the predictions log header (ts,event,request_id,user_id,variant,model_alias,model_version,<features>,prediction,label,latency_ms), got one without "variant", "model_version", "label", "latency_ms"`,
    );
  });

  it('reads an empty file and a header-only file as no rows', async () => {
    const empty = path.join(dir, 'empty.csv');
    const headerOnly = path.join(dir, 'header-only.csv');
    writeFileSync(empty, '');
    writeFileSync(headerOnly, `${logHeader().join(',')}\n`);
    const scan = await readPredictionLog([empty, headerOnly], schema);
    expect(scan).toMatchObject({ rows: 0, malformedCount: 0, predictions: [], feedback: [] });
  });
});

describe('resolveLogFiles', () => {
  it('expands a glob over replica logs, sorted, and takes a plain path as is', async () => {
    const replicas = path.join(dir, 'replicas');
    mkdirSync(replicas);
    for (const name of ['predictions-b.csv', 'predictions-a.csv', 'other.txt']) writeFileSync(path.join(replicas, name), '');
    expect(await resolveLogFiles(path.join(replicas, 'predictions-*.csv'))).toEqual([
      path.join(replicas, 'predictions-a.csv'),
      path.join(replicas, 'predictions-b.csv'),
    ]);
    expect(await resolveLogFiles(path.join(replicas, 'other.txt'))).toEqual([path.join(replicas, 'other.txt')]);
    expect(await resolveLogFiles(path.join(replicas, 'missing.csv'))).toEqual([]);
    expect(await resolveLogFiles(path.join(replicas, 'nothing-*.csv'))).toEqual([]);
    // An existing file whose name has glob characters is taken literally.
    writeFileSync(path.join(replicas, 'predictions-[1].csv'), '');
    expect(await resolveLogFiles(path.join(replicas, 'predictions-[1].csv'))).toEqual([path.join(replicas, 'predictions-[1].csv')]);
  });

  it('joins feedback written by one replica to a prediction in another', async () => {
    const a = path.join(dir, 'replica-1.csv');
    const b = path.join(dir, 'replica-2.csv');
    writeLog(a, [{ ts: T, request_id: 'x', variant: 'B', model_version: '4', prediction: 'setosa' }]);
    writeLog(b, [{ event: 'feedback', ts: T + 5, request_id: 'x', label: 'setosa' }]);
    const scan = await readPredictionLog([a, b], schema);
    expect(scan.predictions).toHaveLength(1);
    expect(scan.feedback[0]).toMatchObject({ requestId: 'x', file: b, line: 2, order: 2 });
  });
});
