/**
 * Reading a log set: the one rule for a malformed row, hostile values, files without a header,
 * gzip, rotated siblings found once each, several replicas merged by time, tail reads.
 */
import { copyFileSync, linkSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import type { Feature } from '../../src/config/index.js';
import { failureLine, feedbackLine, logColumns, openLogSet, predictionLine, scanLog, shadowLine, splitEventLine, type LogEntry, type LogPosition, type LogSchema, type ScanOptions } from '../../src/prediction-log/index.js';
import { tempDir } from '../helpers/config.js';
import { IRIS_FEATURES, logHeader, logText, writeLog } from '../helpers/ab-log.js';

const T = Date.UTC(2025, 8, 17, 12);
const dir = tempDir('driftgate-reader-');
const iris: LogSchema = { features: IRIS_FEATURES.map((name): Feature => ({ name, type: 'numeric' })), classes: ['setosa', 'versicolor', 'virginica'] };
let counter = 0;

function file(name = `log-${counter++}.csv`): string {
  return path.join(dir, name);
}

async function read(pattern: string, options: ScanOptions & { rotated?: boolean } = {}, schema = iris) {
  const set = await openLogSet(pattern, { rotated: options.rotated ?? true });
  const entries: { entry: LogEntry; at: LogPosition }[] = [];
  try {
    const report = await scanLog(set, schema, (entry, at) => entries.push({ entry, at }), options);
    return { report, entries, ids: entries.map((e) => ('requestId' in e.entry ? e.entry.requestId : `split@${e.entry.ts}`)), files: set.files.map((f) => f.path), skipped: set.skipped };
  } finally {
    await set.close();
  }
}

const good = (id: string, ts = T) => ({ ts, request_id: id, variant: 'A' as const, model_version: '3', prediction: 'setosa' });

describe('scanLog: one rule for every reader', () => {
  it('decodes predictions and feedback with every field', async () => {
    const f = file();
    writeLog(f, [
      { ts: T, request_id: 'r1', user_id: '=u1', variant: 'A', model_version: '3', prediction: 'setosa', label: 'setosa', latency_ms: 2.5, features: { sepal_length: -1.5 } },
      { event: 'feedback', ts: T + 2, request_id: 'r1', label: 'versicolor' },
    ]);
    const { entries, report } = await read(f);
    expect(entries).toEqual([
      {
        entry: { event: 'prediction', ts: T, requestId: 'r1', userId: '=u1', variant: 'A', alias: 'prod', version: '3', features: [-1.5, 1.5, 1.5, 1.5], prediction: 'setosa', label: 'setosa', latencyMs: 2.5 },
        at: { file: f, line: 2 },
      },
      { entry: { event: 'feedback', ts: T + 2, requestId: 'r1', label: 'versicolor' }, at: { file: f, line: 3 } },
    ]);
    expect(report).toEqual({ files: [{ path: f, read: true, rows: 2, headerless: false, incompleteBytes: 0 }], unreadable: [], rows: 2, malformedCount: 0, malformed: [], unknownLabels: {} });
  });

  it('reports each malformed row with its line and why, hostile values included, and reads the rest', async () => {
    const f = file();
    const row = (extra: object, header = false) => logText([{ ...good('x'), ...extra }], IRIS_FEATURES, header);
    writeFileSync(
      f,
      row({ request_id: 'r1' }, true) +
        'not,enough,fields\n' +
        row({ request_id: 'r3', ts: 'yesterday' }) +
        row({ request_id: 'r4', ts: '2025-09-17' }) +
        row({ request_id: 'r5', variant: 'C' }) +
        row({ request_id: 'r6', model_version: 'latest' }) +
        row({ request_id: 'r7', prediction: 'rose' }) +
        row({ request_id: 'r8', label: 'tulip' }) +
        row({ request_id: 'r9', latency_ms: '-1' }) +
        row({ request_id: 'r10', features: { petal_width: 'wide' } }) +
        row({ request_id: 'r11', features: { petal_width: '1e308' } }) +
        row({ request_id: 'r12', features: { petal_width: '-1e308' } }) +
        row({ request_id: 'r13', features: { sepal_length: 'NaN' } }) +
        row({ request_id: 'r14', features: { sepal_length: '0x1A' } }) +
        row({ request_id: 'r15', features: { sepal_length: '' } }) +
        row({ request_id: 'r16', latency_ms: '0x1A' }) +
        logText([{ event: 'feedback', ts: T, request_id: 'r1', label: '' }], IRIS_FEATURES, false) +
        row({ request_id: 'r18' }).replace('prediction', 'click') +
        row({ request_id: 'r19' }).replace('r19', '"r19') +
        row({ request_id: 'r20', user_id: '' }) +
        row({ request_id: 'r21' }),
    );
    const { report, ids } = await read(f);
    expect(ids).toEqual(['r1', 'r21']);
    expect(report.rows).toBe(21);
    expect(report.malformedCount).toBe(19);
    expect(report.malformed.map((m) => [m.line, m.problem])).toEqual([
      [3, 'expected 16 fields, got 3'],
      [4, 'ts: expected an ISO-8601 UTC time, got "yesterday"'],
      [5, 'ts: expected an ISO-8601 UTC time, got "2025-09-17"'],
      [6, 'variant: expected "A" or "B", got "C"'],
      [7, 'model_version: expected a registry version number, got "latest"'],
      [8, 'prediction "rose" is not one of the classes setosa, versicolor, virginica'],
      [9, 'label "tulip" is not one of the classes setosa, versicolor, virginica'],
      [10, 'latency_ms: expected a number >= 0, got "-1"'],
      [11, 'petal_width: expected a number, got "wide"'],
      [12, 'petal_width: expected a number within ±3.4028234663852886e+38 (the float32 range), got "1e308"'],
      [13, 'petal_width: expected a number within ±3.4028234663852886e+38 (the float32 range), got "-1e308"'],
      [14, 'sepal_length: expected a number, got "NaN"'],
      [15, 'sepal_length: expected a number, got "0x1A"'],
      [16, 'sepal_length: expected a number, got an empty value'],
      [17, 'latency_ms: expected a number >= 0, got "0x1A"'],
      [18, 'label: a feedback row needs a label, got an empty value'],
      [19, 'event: expected "prediction", "feedback", "failure", "split" or "shadow", got "click"'],
      [20, 'broken CSV quoting (an unclosed quote or text after a closing quote)'],
      [21, 'user_id: expected a user id, got an empty value'],
    ]);
    expect(report.unknownLabels).toEqual({ rose: 1, tulip: 1 });
  });

  it('reads a log in the layout before error_code and ab_split_b exactly as before, and as the same rows in the new layout', async () => {
    // Written by a router before the two columns existed.
    const old = file();
    writeFileSync(
      old,
      [
        'ts,event,request_id,user_id,variant,model_alias,model_version,sepal_length,sepal_width,petal_length,petal_width,prediction,label,latency_ms',
        '2025-09-17T12:00:00.000Z,prediction,r1,u1,A,prod,3,5.1,3.5,1.4,0.2,setosa,,1.25',
        '2025-09-17T12:00:00.001Z,prediction,r2,u2,B,staging,4,6.1,2.8,4.7,1.2,versicolor,versicolor,0.5',
        '2025-09-17T12:00:00.002Z,feedback,r1,,,,,,,,,,setosa,',
        '',
      ].join('\n'),
    );
    const before = await read(old);
    expect(before.entries.map((e) => e.entry)).toEqual([
      { event: 'prediction', ts: T, requestId: 'r1', userId: 'u1', variant: 'A', alias: 'prod', version: '3', features: [5.1, 3.5, 1.4, 0.2], prediction: 'setosa', label: null, latencyMs: 1.25 },
      { event: 'prediction', ts: T + 1, requestId: 'r2', userId: 'u2', variant: 'B', alias: 'staging', version: '4', features: [6.1, 2.8, 4.7, 1.2], prediction: 'versicolor', label: 'versicolor', latencyMs: 0.5 },
      { event: 'feedback', ts: T + 2, requestId: 'r1', label: 'setosa' },
    ]);
    expect(before.report).toEqual({ files: [{ path: old, read: true, rows: 3, headerless: false, incompleteBytes: 0 }], unreadable: [], rows: 3, malformedCount: 0, malformed: [], unknownLabels: {} });
    const now = file();
    writeFileSync(
      now,
      `${logColumns(iris).join(',')}\n` +
        before.entries
          .map(({ entry }) => (entry.event === 'feedback' ? feedbackLine(entry, 4) : entry.event === 'prediction' ? predictionLine(entry) : ''))
          .join(''),
    );
    const after = await read(now);
    expect(after.entries.map((e) => e.entry)).toEqual(before.entries.map((e) => e.entry));
    expect(after.report.malformedCount).toBe(0);
  });

  it('streams failure and split rows with the rest, merged by time; a failure written twice counts once; the events filter takes them', async () => {
    const sub = path.join(dir, 'kinds');
    mkdirSync(sub);
    const f = path.join(sub, 'predictions.csv');
    const failure = { ts: T + 2, requestId: 'r2', userId: 'u2', variant: 'B' as const, alias: 'staging', version: null, features: [5.1, 3.5, 1.4, 0.2], errorCode: 'DEADLINE_EXCEEDED', latencyMs: 150.5 };
    const prediction = { ts: T + 1, requestId: 'r1', userId: 'u1', variant: 'A' as const, alias: 'prod', version: '3', features: [5.1, 3.5, 1.4, 0.2], prediction: 'setosa', label: null, latencyMs: 1 };
    writeFileSync(
      f,
      `${logColumns(iris).join(',')}\n` + splitEventLine({ ts: T, splitB: 0.5 }, 4) + predictionLine(prediction) + failureLine(failure) + failureLine(failure) + splitEventLine({ ts: T + 3, splitB: 0.2 }, 4),
    );
    const { entries, report } = await read(f);
    expect(entries.map((e) => e.entry)).toEqual([
      { event: 'split', ts: T, splitB: 0.5 },
      { event: 'prediction', ...prediction },
      { event: 'failure', ...failure },
      { event: 'split', ts: T + 3, splitB: 0.2 },
    ]);
    expect(report.malformed).toEqual([{ file: f, line: 5, problem: `request_id "r2" was already logged (${f}:4)` }]);
    expect((await read(f, { events: ['split'] })).entries.map((e) => e.entry)).toEqual([
      { event: 'split', ts: T, splitB: 0.5 },
      { event: 'split', ts: T + 3, splitB: 0.2 },
    ]);
    expect((await read(f, { events: ['prediction', 'feedback'] })).ids).toEqual(['r1']);
  });

  it('streams shadow rows after their prod row: one at the prod row’s own time stamp is no repeat, one written twice counts once, a filter without them skips them', async () => {
    const sub = path.join(dir, 'shadows');
    mkdirSync(sub);
    const f = path.join(sub, 'predictions.csv');
    const prediction = { ts: T, requestId: 'r1', userId: 'u1', variant: 'A' as const, alias: 'prod', version: '3', features: [5.1, 3.5, 1.4, 0.2], prediction: 'setosa', label: null, latencyMs: 1 };
    const sameTime = { ts: T, requestId: 'r1', userId: 'u1', alias: 'staging', version: '4', features: [5.1, 3.5, 1.4, 0.2], prediction: 'versicolor', errorCode: null, latencyMs: 0.5 };
    const later = { ...prediction, ts: T + 5, requestId: 'r2' };
    const laterShadow = { ...sameTime, ts: T + 9, requestId: 'r2' };
    writeFileSync(
      f,
      `${logColumns(iris).join(',')}\n` +
        predictionLine(prediction) + shadowLine(sameTime) + predictionLine(later) + shadowLine(laterShadow) + shadowLine(laterShadow) + feedbackLine({ ts: T + 10, requestId: 'r2', label: 'setosa' }, 4),
    );
    const { entries, report } = await read(f);
    expect(entries.map((e) => e.entry)).toEqual([
      { event: 'prediction', ...prediction },
      { event: 'shadow', ...sameTime },
      { event: 'prediction', ...later },
      { event: 'shadow', ...laterShadow },
      { event: 'feedback', ts: T + 10, requestId: 'r2', label: 'setosa' },
    ]);
    expect(report.malformed).toEqual([{ file: f, line: 6, problem: `request_id "r2" was already logged (${f}:5)` }]);
    expect((await read(f, { events: ['prediction', 'feedback'] })).entries.map((e) => e.entry.event)).toEqual(['prediction', 'prediction', 'feedback']);
    expect((await read(f, { events: ['shadow'] })).ids).toEqual(['r1', 'r2']);
  });

  it('an unclosed quote spoils only its own line', async () => {
    const f = file();
    const row = (id: string) => logText([good(id)], IRIS_FEATURES, false);
    writeFileSync(f, `${logHeader().join(',')}\n${row('r1')}${row('r2').replace('r2', '"r2')}${row('r3')}${row('r4')}`);
    const { ids, report } = await read(f);
    expect(ids).toEqual(['r1', 'r3', 'r4']);
    expect(report.malformed).toEqual([{ file: f, line: 3, problem: 'broken CSV quoting (an unclosed quote or text after a closing quote)' }]);
  });

  it('a prediction row written twice (one id, one time stamp: a copy in the set, a repeated write) counts once', async () => {
    const sub = path.join(dir, 'copies');
    mkdirSync(sub);
    const f = path.join(sub, 'predictions.csv');
    writeLog(f, [good('r1'), good('r2', T + 1), good('r2', T + 1), good('r3', T + 2)]);
    copyFileSync(f, `${f}.bak`);
    const { ids, report } = await read(f);
    expect(ids).toEqual(['r1', 'r2', 'r3']);
    // The copy sorts first (rotated siblings before the live file), so the live file's rows are the repeats.
    const again = (file: string, line: number, id: string, first: number) => ({ file, line, problem: `request_id "${id}" was already logged (${f}.bak:${first})` });
    expect(report.malformed).toEqual([again(f, 2, 'r1', 2), again(`${f}.bak`, 4, 'r2', 3), again(f, 3, 'r2', 3), again(f, 4, 'r2', 3), again(f, 5, 'r3', 5)]);
  });

  it('reads a file without a header (cut by an older copytruncate) by the config columns, and says so', async () => {
    const f = file();
    writeFileSync(f, logText([good('r1'), good('r2', T + 1)], IRIS_FEATURES, false));
    const { ids, report } = await read(f);
    expect(ids).toEqual(['r1', 'r2']);
    expect(report.files).toEqual([{ path: f, read: true, rows: 2, headerless: true, incompleteBytes: 0 }]);
    // Rows of the newer layout (error_code, ab_split_b) without a header read too.
    const newer = file();
    const row = { ts: T, requestId: 'r3', userId: 'u3', variant: 'A' as const, alias: 'prod', version: '3', features: [1, 2, 3, 4], prediction: 'setosa', label: null, latencyMs: 1 };
    writeFileSync(newer, predictionLine(row) + splitEventLine({ ts: T + 1, splitB: 0.5 }, 4));
    const again = await read(newer);
    expect(again.entries.map((e) => e.entry)).toEqual([{ event: 'prediction', ...row }, { event: 'split', ts: T + 1, splitB: 0.5 }]);
    expect(again.report.files[0]!.headerless).toBe(true);
  });

  it('names a file that is not this config’s log and reads the others', async () => {
    const sub = path.join(dir, 'mixed');
    mkdirSync(sub);
    writeFileSync(path.join(sub, 'a.csv'), 'ts,event,request_id,user_id,variant,model_alias,model_version,a,prediction,label,latency_ms\n');
    writeFileSync(path.join(sub, 'b.csv'), 'sepal_length,species\n1,setosa\n');
    writeLog(path.join(sub, 'c.csv'), [good('r1')]);
    const { ids, report } = await read(path.join(sub, '*.csv'));
    expect(ids).toEqual(['r1']);
    expect(report.unreadable).toEqual([
      {
        path: path.join(sub, 'a.csv'),
        reason:
          'line 1: expected a predictions log header with the columns ts,event,request_id,user_id,variant,model_alias,model_version,sepal_length,sepal_width,petal_length,petal_width,prediction,label,latency_ms, got one without "sepal_length", "sepal_width", "petal_length", "petal_width"',
      },
      { path: path.join(sub, 'b.csv'), reason: 'line 1: expected a predictions log header starting ts,event,request_id, got "sepal_length,species"' },
    ]);
  });

  it('reads an empty file and a header alone as no rows, and leaves a row being written for the next read', async () => {
    const empty = file();
    writeFileSync(empty, '');
    const header = file();
    writeFileSync(header, `${logHeader().join(',')}\n`);
    expect((await read(empty)).report.rows).toBe(0);
    expect((await read(header)).report.rows).toBe(0);
    const partial = file();
    writeFileSync(partial, logText([good('r1')]) + '2025-09-17T12:00:00.000Z,prediction,r2,u');
    const { ids, report } = await read(partial);
    expect(ids).toEqual(['r1']);
    expect(report.files[0]!.incompleteBytes).toBe('2025-09-17T12:00:00.000Z,prediction,r2,u'.length);
  });

  it('merges replicas by time; ties keep file order', async () => {
    const sub = path.join(dir, 'replicas');
    mkdirSync(sub);
    writeLog(path.join(sub, 'predictions-a.csv'), [good('a1', T + 1), good('a4', T + 4), good('a5', T + 5)]);
    writeLog(path.join(sub, 'predictions-b.csv'), [good('b2', T + 2), good('b3', T + 3), good('b5', T + 5), { event: 'feedback', ts: T + 6, request_id: 'a1', label: 'setosa' }]);
    expect((await read(path.join(sub, 'predictions-*.csv'))).ids).toEqual(['a1', 'b2', 'b3', 'a4', 'a5', 'b5', 'a1']);
    expect((await read(path.join(sub, 'predictions-*.csv'), { events: ['feedback'] })).ids).toEqual(['a1']);
  });

  it('reads only the tail of a file when asked', async () => {
    const f = file();
    writeLog(f, Array.from({ length: 200 }, (_, i) => good(`r${i}`, T + i)));
    const { ids } = await read(f, { tailBytes: 10 * 90 });
    expect(ids.length).toBeGreaterThan(5);
    expect(ids.length).toBeLessThan(12);
    expect(ids.at(-1)).toBe('r199');
  });
});

describe('openLogSet: the rotated set', () => {
  it('takes the live file and its rotated siblings (the router’s, logrotate’s, gzip), each file once, and skips what it cannot read', async () => {
    const sub = path.join(dir, 'rotated');
    mkdirSync(sub);
    const live = path.join(sub, 'predictions.csv');
    writeLog(`${live}.20260101T000000.000Z`, [good('r1', T + 1)]);
    writeLog(`${live}.1`, [good('r2', T + 2)]);
    writeFileSync(`${live}.2.gz`, gzipSync(logText([good('r0', T)])));
    writeLog(`${live}-20260102`, [good('r3', T + 3)]);
    writeFileSync(`${live}.3.xz`, 'not read');
    writeLog(live, [good('r4', T + 4)]);
    // A hard link (a rotation caught half-way) is the same file: read once.
    linkSync(live, `${live}.20260103T000000.000Z`);
    writeFileSync(path.join(sub, '.predictions.csv.123.new'), 'hidden');
    writeLog(path.join(sub, 'predictions.csvx'), [good('other')]);
    const { ids, skipped, files } = await read(live);
    expect(ids).toEqual(['r0', 'r1', 'r2', 'r3', 'r4']);
    expect(files).toHaveLength(5);
    expect(skipped).toEqual([{ path: `${live}.3.xz`, reason: 'a .xz compressed file (Driftgate reads plain and .gz logs)' }]);
    expect((await read(live, { rotated: false })).ids).toEqual(['r4']);
  });

  it('expands a glob over replica logs and their rotations, and takes an existing file with glob characters literally', async () => {
    const sub = path.join(dir, 'globs');
    mkdirSync(sub);
    writeLog(path.join(sub, 'predictions-a.csv'), [good('a', T)]);
    writeLog(path.join(sub, 'predictions-b.csv.1'), [good('b', T + 1)]);
    writeLog(path.join(sub, 'predictions-[1].csv'), [good('literal', T + 2)]);
    writeLog(path.join(sub, 'predictions-[1].csv.1'), [good('literal-rotated', T + 3)]);
    expect((await read(path.join(sub, 'predictions-?.csv'))).ids).toEqual(['a', 'b']);
    expect((await read(path.join(sub, 'predictions-[1].csv'))).ids).toEqual(['literal', 'literal-rotated']);
    expect((await read(path.join(sub, 'missing.csv'))).files).toEqual([]);
  });

  it('reads a file moved by a rotation during the read once', async () => {
    const sub = path.join(dir, 'moving');
    mkdirSync(sub);
    const live = path.join(sub, 'predictions.csv');
    writeLog(live, [good('r1', T)]);
    const set = await openLogSet(live, { rotated: true });
    renameSync(live, `${live}.1`);
    copyFileSync(`${live}.1`, live);
    const ids: string[] = [];
    await scanLog(set, iris, (e) => ids.push(e.event === 'split' ? '' : e.requestId));
    await set.close();
    expect(ids).toEqual(['r1']);
  });
});
