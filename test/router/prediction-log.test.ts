import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { checkLogColumns, logColumns, PredictionLog, type PredictionRecord } from '../../src/router/prediction-log.js';
import { tempDir, writeConfig } from '../helpers/config.js';

const dir = tempDir('driftgate-log-');
const config = loadConfig(writeConfig(dir), {});
const columns = logColumns(config);

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

const readRows = (file: string): Record<string, string>[] => parse(readFileSync(file, 'utf8'), { columns: true, strict: true } as never) as Record<string, string>[];

describe('logColumns', () => {
  it('puts the feature columns, in config order, between the fixed ones (DESIGN.md)', () => {
    expect(columns).toEqual([
      'ts', 'event', 'request_id', 'user_id', 'variant', 'model_alias', 'model_version',
      'sepal_length', 'sepal_width', 'petal_length', 'petal_width',
      'prediction', 'label', 'latency_ms',
    ]);
  });

  it('refuses a feature named like a log column', () => {
    const clash = { ...config, dataset: { ...config.dataset, features: [...config.dataset.features, { name: 'label', type: 'numeric' as const }] } };
    expect(() => checkLogColumns(clash)).toThrow(
      `${config.source.file}: dataset.features[4]: expected a name that is not a column of the predictions log (ts, event, request_id, user_id, variant, model_alias, model_version, prediction, label, latency_ms), got "label"`,
    );
  });
});

describe('PredictionLog', () => {
  it('writes the header once, then exact rows: ISO ts with ms, RFC 4180 quoting, feedback rows with the rest empty', async () => {
    const file = path.join(dir, 'exact.csv');
    const log = await PredictionLog.open(file, columns, { flushIntervalMs: 60_000 });
    expect(log.opened).toEqual({ created: true, repairedBytes: 0 });
    log.appendPrediction(record(0, { userId: 'a "quoted", user', label: 'setosa' }));
    log.appendFeedback({ ts: Date.UTC(2026, 0, 2, 3, 4, 6, 5), requestId: 'req-0', label: 'versicolor' });
    await log.close();
    const again = await PredictionLog.open(file, columns, { flushIntervalMs: 60_000 });
    expect(again.opened).toEqual({ created: false, repairedBytes: 0 });
    again.appendPrediction(record(1));
    await again.close();
    expect(readFileSync(file, 'utf8')).toBe(
      [
        'ts,event,request_id,user_id,variant,model_alias,model_version,sepal_length,sepal_width,petal_length,petal_width,prediction,label,latency_ms',
        '2026-01-02T03:04:05.678Z,prediction,req-0,"a ""quoted"", user",A,prod,1,5.1,3.5,1.4,0.2,setosa,setosa,1.235',
        '2026-01-02T03:04:06.005Z,feedback,req-0,,,,,,,,,,versicolor,',
        '2026-01-02T03:04:05.679Z,prediction,req-1,user-1,B,staging,2,5.1,3.5,1.4,0.2,setosa,,1.235',
        '',
      ].join('\n'),
    );
  });

  it('flushes on its own every interval, not before', async () => {
    const file = path.join(dir, 'interval.csv');
    const log = await PredictionLog.open(file, columns, { flushIntervalMs: 100 });
    log.appendPrediction(record(0));
    expect(readRows(file)).toHaveLength(0);
    expect(log.stats).toEqual({ rowsWritten: 0, rowsPending: 1, flushes: 0, lastError: null });
    await sleep(400);
    expect(readRows(file)).toHaveLength(1);
    expect(log.stats).toEqual({ rowsWritten: 1, rowsPending: 0, flushes: 1, lastError: null });
    await log.close();
  });

  it('never interleaves or tears rows: 20,000 rows appended from concurrent tasks while it flushes', async () => {
    const file = path.join(dir, 'concurrent.csv');
    const log = await PredictionLog.open(file, columns, { flushIntervalMs: 1 });
    const tasks = Array.from({ length: 40 }, async (_, t) => {
      for (let i = 0; i < 500; i++) {
        log.appendPrediction(record(t * 500 + i, { userId: `user,"${t}"\u00e9-${i}` }));
        if (i % 50 === 0) await sleep(0);
      }
    });
    await Promise.all(tasks);
    await log.close();
    const rows = readRows(file);
    expect(rows).toHaveLength(20_000);
    expect(new Set(rows.map((r) => r.request_id)).size).toBe(20_000);
    for (const row of rows) expect(Object.keys(row)).toEqual(columns);
    expect(rows.find((r) => r.request_id === 'req-777')?.user_id).toBe('user,"1"\u00e9-277');
  });

  it('refuses a file with another header, naming both', async () => {
    const file = path.join(dir, 'other.csv');
    writeFileSync(file, 'ts,event,request_id,user_id,f1\n');
    await expect(PredictionLog.open(file, columns, { flushIntervalMs: 100 })).rejects.toThrow(
      `${file}: expected a predictions log whose header is "${columns.join(',')}", got "ts,event,request_id,user_id,f1"; move the file aside or point router.log_path (DRIFTGATE_LOG_PATH) elsewhere`,
    );
  });

  it('cuts off a torn last row left by a crash in the middle of a write', async () => {
    const file = path.join(dir, 'torn.csv');
    const log = await PredictionLog.open(file, columns, { flushIntervalMs: 60_000 });
    log.appendPrediction(record(0));
    log.appendPrediction(record(1));
    await log.close();
    appendFileSync(file, '2026-01-02T03:04:05.680Z,prediction,req-2,user-');
    const reopened = await PredictionLog.open(file, columns, { flushIntervalMs: 60_000 });
    expect(reopened.opened).toEqual({ created: false, repairedBytes: 47 });
    reopened.appendPrediction(record(3));
    await reopened.close();
    expect(readRows(file).map((r) => r.request_id)).toEqual(['req-0', 'req-1', 'req-3']);
  });

  it('refuses rows after close', async () => {
    const log = await PredictionLog.open(path.join(dir, 'closed.csv'), columns, { flushIntervalMs: 60_000 });
    await log.close();
    expect(() => log.appendPrediction(record(0))).toThrow(`the predictions log ${path.join(dir, 'closed.csv')} is closed`);
  });
});
