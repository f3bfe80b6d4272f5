/**
 * The log writer on real files: exact bytes, write-before-acknowledge with group commit, rotation
 * by size and by the clock, following an outside mv and copytruncate, and a real full disk (a small
 * tmpfs mounted for the test).
 */
import { appendFileSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import {
  legacyLogColumns,
  olderLogColumns,
  logColumns,
  logSchema,
  LogWriteError,
  LogWriter,
  openLogSet,
  scanLog,
  type LogEntry,
  type LogWriterEvent,
  type LogWriterOptions,
  type PredictionRecord,
} from '../../src/prediction-log/index.js';
import { tempDir, writeConfig } from '../helpers/config.js';
import { useTmpfs } from '../helpers/tmpfs.js';

const dir = tempDir('driftgate-writer-');
const config = loadConfig(writeConfig(dir), {});
const columns = logColumns(config);
const schema = logSchema(config);
const HEADER = `${columns.join(',')}\n`;

function record(i: number, extra: Partial<PredictionRecord> = {}): PredictionRecord {
  return {
    ts: Date.UTC(2026, 0, 2, 3, 4, 5, 678) + i,
    requestId: `req-${i}`,
    userId: `user-${i}`,
    variant: i % 2 ? 'B' : 'A',
    alias: i % 2 ? 'staging' : 'prod',
    version: i % 2 ? '2' : '1',
    features: [5.1, 3.5, 1.4, 0.2],
    prediction: 'setosa',
    label: null,
    latencyMs: 1.23456,
    ...extra,
  };
}

type Row = Record<string, string>;
const readRows = (file: string): Row[] => parse(readFileSync(file, 'utf8'), { columns: true, strict: true } as never) as Row[];

function open(file: string, options: Partial<LogWriterOptions> = {}): Promise<LogWriter> {
  return LogWriter.open({ file, columns, schema, fsync: 'never', ack: 'written', intervalMs: 60_000, rotate: { maxBytes: 0, every: 'none' }, ...options });
}

describe('LogWriter', () => {
  it('writes the header once, then exact rows: ISO ts with ms, RFC 4180 quoting, formula cells neutralised, feedback rows with the rest empty', async () => {
    const file = path.join(dir, 'exact.csv');
    const events: LogWriterEvent[] = [];
    const log = await open(file, { onEvent: (e) => events.push(e) });
    expect(events).toEqual([{ kind: 'opened', created: true, repairedBytes: 0 }]);
    await log.appendPrediction(record(0, { userId: 'a "quoted", user', label: 'setosa' }));
    await log.appendFeedback({ ts: Date.UTC(2026, 0, 2, 3, 4, 6, 5), requestId: 'req-0', label: 'versicolor' });
    await log.appendPrediction(record(1, { userId: '=HYPERLINK("http://x")', features: [-1.5, 3.5, 1.4, 0.2] }));
    await log.appendPrediction(record(2, { userId: "'quoted" }));
    await log.close();
    const again = await open(file);
    await again.appendPrediction(record(3, { userId: '@SUM(A1)' }));
    await again.close();
    expect(readFileSync(file, 'utf8')).toBe(
      [
        'ts,event,request_id,user_id,variant,model_alias,model_version,sepal_length,sepal_width,petal_length,petal_width,prediction,label,latency_ms,error_code,ab_split_b,probabilities',
        '2026-01-02T03:04:05.678Z,prediction,req-0,"a ""quoted"", user",A,prod,1,5.1,3.5,1.4,0.2,setosa,setosa,1.235,,,',
        '2026-01-02T03:04:06.005Z,feedback,req-0,,,,,,,,,,versicolor,,,,',
        `2026-01-02T03:04:05.679Z,prediction,req-1,"'=HYPERLINK(""http://x"")",B,staging,2,-1.5,3.5,1.4,0.2,setosa,,1.235,,,`,
        `2026-01-02T03:04:05.680Z,prediction,req-2,''quoted,A,prod,1,5.1,3.5,1.4,0.2,setosa,,1.235,,,`,
        `2026-01-02T03:04:05.681Z,prediction,req-3,'@SUM(A1),B,staging,2,5.1,3.5,1.4,0.2,setosa,,1.235,,,`,
        '',
      ].join('\n'),
    );
  });

  it('acknowledges a row only once it is in the file, and commits concurrent rows together', async () => {
    const file = path.join(dir, 'group.csv');
    const log = await open(file);
    await log.appendPrediction(record(0));
    expect(readRows(file).map((r) => r.request_id)).toEqual(['req-0']);
    // 4,000 rows appended at once from 40 tasks: every one in the file when its promise resolves.
    const seen: number[] = [];
    await Promise.all(
      Array.from({ length: 40 }, async (_, t) => {
        for (let i = 0; i < 100; i++) {
          const n = 1 + t * 100 + i;
          await log.appendPrediction(record(n, { userId: `user,"${t}"\u00e9-${i}` }));
          if (i === 50) seen.push(readRows(file).filter((r) => r.request_id === `req-${n}`).length);
        }
      }),
    );
    expect(seen).toEqual(new Array(40).fill(1));
    const stats = log.stats;
    await log.close();
    const rows = readRows(file);
    expect(rows).toHaveLength(4001);
    expect(new Set(rows.map((r) => r.request_id)).size).toBe(4001);
    expect(rows.find((r) => r.request_id === 'req-778')?.user_id).toBe('user,"7"\u00e9-77');
    expect(stats.rowsWritten).toEqual({ prediction: 4001, feedback: 0, failure: 0, split: 0, shadow: 0 });
    // Group commit: far fewer writes than rows.
    expect(stats.commits).toBeLessThan(4001 / 4);
  });

  it('with ack buffered, resolves at once and writes every interval', async () => {
    const file = path.join(dir, 'buffered.csv');
    const log = await open(file, { ack: 'buffered', intervalMs: 100 });
    await log.appendPrediction(record(0));
    expect(readFileSync(file, 'utf8')).toBe(HEADER);
    await sleep(400);
    expect(readRows(file).map((r) => r.request_id)).toEqual(['req-0']);
    await log.appendPrediction(record(1));
    await log.close();
    expect(readRows(file).map((r) => r.request_id)).toEqual(['req-0', 'req-1']);
  });

  it('refuses a file with another header, naming both', async () => {
    const file = path.join(dir, 'other.csv');
    writeFileSync(file, 'ts,event,request_id,user_id,f1\n');
    await expect(open(file)).rejects.toThrow(
      `${file}: expected a predictions log whose header is "${columns.join(',')}", got "ts,event,request_id,user_id,f1"; move the file aside or point router.log_path (DRIFTGATE_LOG_PATH) elsewhere`,
    );
  });

  it('cuts off a torn last row and a torn header left by a crash', async () => {
    const file = path.join(dir, 'torn.csv');
    const log = await open(file);
    await log.appendPrediction(record(0));
    await log.appendPrediction(record(1));
    await log.close();
    appendFileSync(file, '2026-01-02T03:04:05.680Z,prediction,req-2,user-');
    const events: LogWriterEvent[] = [];
    const reopened = await open(file, { onEvent: (e) => events.push(e) });
    expect(events).toEqual([{ kind: 'opened', created: false, repairedBytes: 47 }]);
    await reopened.appendPrediction(record(3));
    await reopened.close();
    expect(readRows(file).map((r) => r.request_id)).toEqual(['req-0', 'req-1', 'req-3']);

    const header = path.join(dir, 'torn-header.csv');
    writeFileSync(header, HEADER.slice(0, 20));
    const fresh = await open(header);
    await fresh.close();
    expect(readFileSync(header, 'utf8')).toBe(HEADER);
  });

  it('moves a file of its rows without a header (an older copytruncate) aside and starts anew', async () => {
    const sub = path.join(dir, 'headerless');
    mkdirSync(sub);
    const file = path.join(sub, 'predictions.csv');
    const first = await open(file);
    await first.appendPrediction(record(0));
    await first.close();
    writeFileSync(file, readFileSync(file, 'utf8').slice(HEADER.length));
    const events: LogWriterEvent[] = [];
    const log = await open(file, { now: () => Date.UTC(2026, 5, 1, 12), onEvent: (e) => events.push(e) });
    await log.appendPrediction(record(1));
    await log.close();
    const aside = `${file}.20260601T120000.000Z`;
    expect(events[0]).toEqual({ kind: 'rotated', reason: 'headerless', to: aside });
    expect(readFileSync(aside, 'utf8')).toBe(`2026-01-02T03:04:05.678Z,prediction,req-0,user-0,A,prod,1,5.1,3.5,1.4,0.2,setosa,,1.235,,,\n`);
    expect(readRows(file).map((r) => r.request_id)).toEqual(['req-1']);
  });

  it('writes failure, split and shadow rows through the same group commit, counted by event', async () => {
    const file = path.join(dir, 'kinds.csv');
    const log = await open(file);
    const prod = record(0);
    await Promise.all([
      log.appendSplit({ ts: Date.UTC(2026, 0, 2, 3, 4, 5, 0), splitB: 0.25 }),
      log.appendPrediction(prod),
      log.appendFailure({ ...record(1), version: null, errorCode: 'PREDICTION_FAILED', latencyMs: 12.3456 }),
      log.appendShadow({ ts: prod.ts + 2, requestId: prod.requestId, userId: prod.userId, alias: 'staging', version: '2', features: prod.features, prediction: 'versicolor', errorCode: null, latencyMs: 0.81234 }),
    ]);
    const stats = log.stats;
    await log.close();
    expect(readFileSync(file, 'utf8')).toBe(
      [
        HEADER.trimEnd(),
        '2026-01-02T03:04:05.000Z,split,,,,,,,,,,,,,,0.25,',
        '2026-01-02T03:04:05.678Z,prediction,req-0,user-0,A,prod,1,5.1,3.5,1.4,0.2,setosa,,1.235,,,',
        '2026-01-02T03:04:05.679Z,failure,req-1,user-1,B,staging,,5.1,3.5,1.4,0.2,,,12.346,PREDICTION_FAILED,,',
        '2026-01-02T03:04:05.680Z,shadow,req-0,user-0,,staging,2,5.1,3.5,1.4,0.2,versicolor,,0.812,,,',
        '',
      ].join('\n'),
    );
    expect(stats.rowsWritten).toEqual({ prediction: 1, feedback: 0, failure: 1, split: 1, shadow: 1 });
    expect(stats.commits).toBe(1);
  });

  it('moves a log of the layout before error_code and ab_split_b aside (cut to whole rows) and starts a new file; the set reads both', async () => {
    const sub = path.join(dir, 'upgrade');
    mkdirSync(sub);
    const file = path.join(sub, 'predictions.csv');
    const oldRows = [
      '2026-01-02T03:04:05.678Z,prediction,req-0,user-0,A,prod,1,5.1,3.5,1.4,0.2,setosa,,1.235',
      '2026-01-02T03:04:06.005Z,feedback,req-0,,,,,,,,,,versicolor,',
    ];
    const torn = '2026-01-02T03:04:07.000Z,prediction,req-9,us';
    writeFileSync(file, `${legacyLogColumns(config).join(',')}\n${oldRows.join('\n')}\n${torn}`);
    const events: LogWriterEvent[] = [];
    const log = await open(file, { now: () => Date.UTC(2026, 5, 1, 12), onEvent: (e) => events.push(e) });
    await log.appendPrediction(record(1));
    await log.close();
    const aside = `${file}.20260601T120000.000Z`;
    expect(events).toEqual([
      { kind: 'rotated', reason: 'upgrade', to: aside },
      { kind: 'opened', created: true, repairedBytes: torn.length },
    ]);
    expect(readFileSync(aside, 'utf8')).toBe(`${legacyLogColumns(config).join(',')}\n${oldRows.join('\n')}\n`);
    expect(readFileSync(file, 'utf8')).toBe(`${HEADER}2026-01-02T03:04:05.679Z,prediction,req-1,user-1,B,staging,2,5.1,3.5,1.4,0.2,setosa,,1.235,,,\n`);
    const set = await openLogSet(file, { rotated: true });
    const entries: LogEntry[] = [];
    const report = await scanLog(set, schema, (entry) => entries.push(entry));
    await set.close();
    expect(entries.map((e) => [e.event, 'requestId' in e ? e.requestId : null])).toEqual([
      ['prediction', 'req-0'],
      ['prediction', 'req-1'],
      ['feedback', 'req-0'],
    ]);
    expect(report.malformedCount).toBe(0);
    // Opened again: the file is of the new layout now, nothing moves.
    const again = await open(file, { onEvent: (e) => events.push(e) });
    await again.close();
    expect(events.at(-1)).toEqual({ kind: 'opened', created: false, repairedBytes: 0 });
    expect(readdirSync(sub).sort()).toEqual(['predictions.csv', 'predictions.csv.20260601T120000.000Z']);
  });

  it('moves a log of the layout before probabilities (error_code and ab_split_b, no probabilities) aside too; the set reads both', async () => {
    const sub = path.join(dir, 'upgrade-13');
    mkdirSync(sub);
    const file = path.join(sub, 'predictions.csv');
    const header = olderLogColumns(config)[0]!;
    expect(header.at(-1)).toBe('ab_split_b');
    const oldRows = ['2026-01-02T03:04:05.000Z,split,,,,,,,,,,,,,,0.5', '2026-01-02T03:04:05.678Z,prediction,req-0,user-0,A,prod,1,5.1,3.5,1.4,0.2,setosa,,1.235,,'];
    writeFileSync(file, `${header.join(',')}\n${oldRows.join('\n')}\n`);
    const events: LogWriterEvent[] = [];
    const log = await open(file, { now: () => Date.UTC(2026, 5, 1, 12), onEvent: (e) => events.push(e) });
    await log.appendPrediction(record(1, { probabilities: [0.5, 0.25, 0.25] }));
    await log.close();
    const aside = `${file}.20260601T120000.000Z`;
    expect(events).toEqual([
      { kind: 'rotated', reason: 'upgrade', to: aside },
      { kind: 'opened', created: true, repairedBytes: 0 },
    ]);
    expect(readFileSync(file, 'utf8')).toBe(`${HEADER}2026-01-02T03:04:05.679Z,prediction,req-1,user-1,B,staging,2,5.1,3.5,1.4,0.2,setosa,,1.235,,,0.5;0.25;0.25\n`);
    const set = await openLogSet(file, { rotated: true });
    const entries: LogEntry[] = [];
    const report = await scanLog(set, schema, (entry) => entries.push(entry));
    await set.close();
    expect(entries.map((e) => [e.event, 'probabilities' in e ? e.probabilities : null])).toEqual([
      ['split', null],
      ['prediction', null],
      ['prediction', [0.5, 0.25, 0.25]],
    ]);
    expect(report.malformedCount).toBe(0);
  });

  it('a header of another config in the older layout (features in another order) stays a config error', async () => {
    const file = path.join(dir, 'other-old.csv');
    const older = legacyLogColumns(config);
    const swapped = [...older.slice(0, 7), older[8]!, older[7]!, ...older.slice(9)].join(',');
    writeFileSync(file, `${swapped}\n`);
    await expect(open(file)).rejects.toThrow(
      `${file}: expected a predictions log whose header is "${columns.join(',')}", got "${swapped}"; move the file aside or point router.log_path (DRIFTGATE_LOG_PATH) elsewhere`,
    );
    expect(readFileSync(file, 'utf8')).toBe(`${swapped}\n`);
  });

  it('moves rows of the older layout without a header aside as headerless too', async () => {
    const sub = path.join(dir, 'headerless-old');
    mkdirSync(sub);
    const file = path.join(sub, 'predictions.csv');
    const row = '2026-01-02T03:04:05.678Z,prediction,req-0,user-0,A,prod,1,5.1,3.5,1.4,0.2,setosa,,1.235\n';
    writeFileSync(file, row);
    const events: LogWriterEvent[] = [];
    const log = await open(file, { now: () => Date.UTC(2026, 5, 1, 12), onEvent: (e) => events.push(e) });
    await log.close();
    expect(events[0]).toEqual({ kind: 'rotated', reason: 'headerless', to: `${file}.20260601T120000.000Z` });
    expect(readFileSync(`${file}.20260601T120000.000Z`, 'utf8')).toBe(row);
    expect(readFileSync(file, 'utf8')).toBe(HEADER);
  });

  it('refuses rows after close', async () => {
    const file = path.join(dir, 'closed.csv');
    const log = await open(file);
    await log.close();
    await expect(log.appendPrediction(record(0))).rejects.toThrow(new LogWriteError('ECLOSED', `the predictions log ${file} is closed`));
  });
});

describe('rotation', () => {
  it('by size: every file starts with the header, every row is in exactly one file, the live path never goes missing', async () => {
    const sub = path.join(dir, 'by-size');
    mkdirSync(sub);
    const file = path.join(sub, 'predictions.csv');
    let t = Date.UTC(2026, 5, 1, 12);
    const log = await open(file, { rotate: { maxBytes: 4000, every: 'none' }, now: () => (t += 1) });
    let missing = 0;
    let stop = false;
    const watcher = (async () => {
      while (!stop) {
        if (!existsSync(file)) missing++;
        await sleep(0);
      }
    })();
    await Promise.all(Array.from({ length: 8 }, async (_, k) => {
      for (let i = 0; i < 50; i++) await log.appendPrediction(record(k * 50 + i));
    }));
    stop = true;
    await watcher;
    await log.close();
    expect(missing).toBe(0);
    const files = readdirSync(sub).sort();
    expect(files.length).toBeGreaterThanOrEqual(9);
    const ids: string[] = [];
    for (const name of files) {
      const text = readFileSync(path.join(sub, name), 'utf8');
      expect(text.startsWith(HEADER)).toBe(true);
      expect(text.length).toBeLessThanOrEqual(4000);
      ids.push(...readRows(path.join(sub, name)).map((r) => r.request_id!));
    }
    expect(ids.length).toBe(400);
    expect(new Set(ids).size).toBe(400);
    expect(files.filter((f) => f !== 'predictions.csv').every((f) => /^predictions\.csv\.20260601T120000\.\d{3}Z(-\d+)?$/.test(f))).toBe(true);
  });

  it('by the clock: a new file at each UTC hour that has rows, none for an hour without', async () => {
    const sub = path.join(dir, 'hourly');
    mkdirSync(sub);
    const file = path.join(sub, 'predictions.csv');
    let now = Date.UTC(2026, 5, 1, 12, 59, 59);
    const log = await open(file, { rotate: { maxBytes: 0, every: 'hourly' }, now: () => now });
    await log.appendPrediction(record(0));
    now = Date.UTC(2026, 5, 1, 13, 0, 1);
    await log.appendPrediction(record(1));
    now = Date.UTC(2026, 5, 1, 15, 30);
    await log.appendPrediction(record(2));
    await log.close();
    expect(readdirSync(sub).sort()).toEqual(['predictions.csv', 'predictions.csv.20260601T130001.000Z', 'predictions.csv.20260601T153000.000Z']);
    expect(readRows(`${file}.20260601T130001.000Z`).map((r) => r.request_id)).toEqual(['req-0']);
    expect(readRows(`${file}.20260601T153000.000Z`).map((r) => r.request_id)).toEqual(['req-1']);
    expect(readRows(file).map((r) => r.request_id)).toEqual(['req-2']);
  });

  it('follows an outside mv: after reopen() (SIGHUP), and on its own when the file is moved', async () => {
    const sub = path.join(dir, 'moved');
    mkdirSync(sub);
    const file = path.join(sub, 'predictions.csv');
    const events: LogWriterEvent[] = [];
    const log = await open(file, { checkMs: 50, onEvent: (e) => events.push(e) });
    await log.appendPrediction(record(0));
    renameSync(file, `${file}.1`);
    await log.appendPrediction(record(1));
    await log.reopen('signal');
    await log.appendPrediction(record(2));
    renameSync(file, `${file}.2`);
    await sleep(300);
    await log.appendPrediction(record(3));
    await log.close();
    expect(readRows(`${file}.1`).map((r) => r.request_id)).toEqual(['req-0', 'req-1']);
    expect(readRows(`${file}.2`).map((r) => r.request_id)).toEqual(['req-2']);
    expect(readRows(file).map((r) => r.request_id)).toEqual(['req-3']);
    expect(events.filter((e) => e.kind === 'reopened')).toEqual([
      { kind: 'reopened', reason: 'signal' },
      { kind: 'reopened', reason: 'moved' },
    ]);
  });

  it('a deleted file: rows written after the deletion go into the new file', async () => {
    const sub = path.join(dir, 'deleted');
    mkdirSync(sub);
    const file = path.join(sub, 'predictions.csv');
    const events: LogWriterEvent[] = [];
    const log = await open(file, { checkMs: 50, onEvent: (e) => events.push(e) });
    await log.appendPrediction(record(0));
    await sleep(150);
    rmSync(file);
    await log.appendPrediction(record(1));
    await sleep(200);
    await log.appendPrediction(record(2));
    await log.close();
    expect(readRows(file).map((r) => r.request_id)).toEqual(['req-1', 'req-2']);
    expect(events.filter((e) => e.kind === 'reopened')).toEqual([{ kind: 'reopened', reason: 'deleted' }]);
  });

  it('after copytruncate under load, every row is in exactly one file and both files have the header', async () => {
    const sub = path.join(dir, 'copytruncate');
    mkdirSync(sub);
    const file = path.join(sub, 'predictions.csv');
    const events: LogWriterEvent[] = [];
    const log = await open(file, { checkMs: 20, onEvent: (e) => events.push(e) });
    let n = 0;
    let stop = false;
    const writers = Array.from({ length: 8 }, async () => {
      while (!stop) await log.appendPrediction(record(n++));
    });
    await sleep(200);
    // What logrotate's copytruncate does: copy, then truncate in place; rows land in between.
    copyFileSync(file, `${file}.1`);
    await sleep(30);
    truncateSync(file, 0);
    await sleep(300);
    stop = true;
    await Promise.all(writers);
    await log.close();
    const copy = readRows(`${file}.1`).map((r) => r.request_id!);
    const live = readRows(file).map((r) => r.request_id!);
    expect(readFileSync(file, 'utf8').startsWith(HEADER)).toBe(true);
    expect(copy.length).toBeGreaterThan(0);
    expect(live.length).toBeGreaterThan(0);
    const all = [...copy, ...live];
    expect(all.length).toBe(n);
    expect(new Set(all).size).toBe(n);
    const truncated = events.find((e) => e.kind === 'truncated');
    expect(truncated).toMatchObject({ kind: 'truncated', copy: `${file}.1` });
    expect((truncated as { restoredBytes: number }).restoredBytes).toBeGreaterThan(0);
  });
});

describe('a full disk (a real 256 KiB tmpfs)', () => {
  const mount = path.join(dir, 'tmpfs');
  useTmpfs(() => mount, '256k');

  it('fails the rows it cannot write (ENOSPC), never tears or repeats one, and takes rows again when space returns', async () => {
    const file = path.join(mount, 'predictions.csv');
    const filler = path.join(mount, 'filler');
    const events: LogWriterEvent[] = [];
    const log = await open(file, { checkMs: 50, onEvent: (e) => events.push(e) });
    const ok: number[] = [];
    const failed: number[] = [];
    const codes = new Set<string>();
    const send = async (from: number, count: number): Promise<void> => {
      await Promise.all(
        Array.from({ length: count }, (_, i) =>
          log.appendPrediction(record(from + i, { userId: `user-${from + i}-${'x'.repeat(60)}` })).then(
            () => ok.push(from + i),
            (error: LogWriteError) => {
              codes.add(error.errno);
              failed.push(from + i);
            },
          ),
        ),
      );
    };
    // Fill the disk but for a little room, then write far more than fits.
    writeFileSync(filler, Buffer.alloc(200 * 1024));
    for (let k = 0; k < 40; k++) await send(k * 50, 50);
    expect(codes).toEqual(new Set(['ENOSPC']));
    expect(ok.length).toBeGreaterThan(0);
    expect(failed.length).toBeGreaterThan(0);
    expect(log.problem()).toMatch(new RegExp(`^the predictions log ${file} cannot be written \\(ENOSPC: writing to ${file} failed: ENOSPC: no space left on device, write\\) since .+; ${failed.length} rows could not be logged so far$`));
    // What is on disk: the header and exactly the acknowledged rows, whole, once each.
    const onDisk = readRows(file).map((r) => Number(r.request_id!.slice(4)));
    expect(onDisk.sort((a, b) => a - b)).toEqual([...ok].sort((a, b) => a - b));
    expect(readFileSync(file, 'utf8').endsWith('\n')).toBe(true);
    // Room again: the next write succeeds, and nothing failed before is written late.
    rmSync(filler);
    await sleep(150);
    expect(log.problem()).toBeNull();
    await send(10_000, 20);
    await log.close();
    const after = readRows(file).map((r) => Number(r.request_id!.slice(4)));
    expect(after.length).toBe(ok.length);
    expect(after.filter((id) => failed.includes(id))).toEqual([]);
    expect(after.slice(-20)).toEqual(Array.from({ length: 20 }, (_, i) => 10_000 + i));
    expect(events.filter((e) => e.kind === 'recovered')).toHaveLength(1);
    expect(log.stats.rowsFailed.prediction).toBe(failed.length);
    expect(log.stats.rowsWritten.prediction).toBe(ok.length);
  });
});
