/**
 * decodeRow, the one rule, for the failure, split and shadow rows: what the builders write decodes back
 * exactly, and each malformed cell is named with the exact problem. A log in the layout before
 * error_code and ab_split_b reads as before.
 */
import { describe, expect, it } from 'vitest';
import type { Feature } from '../../src/config/index.js';
import { legacyLogColumns, logColumns, type LogSchema } from '../../src/prediction-log/index.js';
import { splitLine } from '../../src/prediction-log/line.js';
import {
  classLookup,
  classProbabilities,
  configLayout,
  configLayouts,
  decodeRow,
  failureLine,
  feedbackLine,
  layoutOf,
  predictionLine,
  shadowLine,
  splitEventLine,
  type FailureRecord,
  type LogLayout,
  type PredictionRecord,
  type ShadowRecord,
} from '../../src/prediction-log/rows.js';

const T = Date.UTC(2025, 8, 17, 12);
const FEATURES = ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'];
const schema: LogSchema = { features: FEATURES.map((name): Feature => ({ name, type: 'numeric' })), classes: ['setosa', 'versicolor', 'virginica'] };
const classes = classLookup(schema);
const layout = configLayout(schema);

const failure: FailureRecord = {
  ts: T,
  requestId: 'r1',
  userId: 'u1',
  variant: 'B',
  alias: 'staging',
  version: '2',
  features: [5.1, 3.5, -1, 0.2],
  errorCode: 'PREDICTION_FAILED',
  latencyMs: 1.5,
};

const prediction: PredictionRecord = {
  ts: T,
  requestId: 'r0',
  userId: 'u0',
  variant: 'A',
  alias: 'prod',
  version: '1',
  features: [5.1, 3.5, 1.4, 0.2],
  prediction: 'setosa',
  label: 'setosa',
  latencyMs: 2.25,
};

/** A line's cells as a reader gets them. */
function cellsOf(line: string): string[] {
  return splitLine(line.replace(/\n$/, ''))!;
}

/** The cells of `line` with the named columns set to other text. */
function withCells(line: string, changes: Record<string, string>, at: LogLayout = layout): string[] {
  const cells = cellsOf(line);
  const header = logColumns(schema);
  for (const [name, value] of Object.entries(changes)) cells[header.indexOf(name)] = value;
  return cells.slice(0, at.width);
}

const decode = (cells: string[], at: LogLayout = layout) => decodeRow(cells, at, schema, classes);

describe('failure rows', () => {
  it('are written with the request cells, no prediction or label, the latency and the error code', () => {
    expect(failureLine(failure)).toBe('2025-09-17T12:00:00.000Z,failure,r1,u1,B,staging,2,5.1,3.5,-1,0.2,,,1.5,PREDICTION_FAILED,,\n');
    expect(failureLine({ ...failure, version: null, latencyMs: 0.12345 })).toBe('2025-09-17T12:00:00.000Z,failure,r1,u1,B,staging,,5.1,3.5,-1,0.2,,,0.123,PREDICTION_FAILED,,\n');
  });

  it('decode back to the record; an empty version is null', () => {
    expect(decode(cellsOf(failureLine(failure)))).toEqual({ event: 'failure', ...failure });
    expect(decode(cellsOf(failureLine({ ...failure, version: null, errorCode: 'MODEL_UNAVAILABLE' })))).toEqual({ event: 'failure', ...failure, version: null, errorCode: 'MODEL_UNAVAILABLE' });
    expect(decode(withCells(failureLine(failure), { error_code: 'E2_X' }))).toEqual({ event: 'failure', ...failure, errorCode: 'E2_X' });
  });

  it.each([
    [{ ts: 'yesterday' }, 'ts: expected an ISO-8601 UTC time, got "yesterday"'],
    [{ request_id: '' }, 'request_id: expected an id, got an empty value'],
    [{ variant: 'C' }, 'variant: expected "A" or "B", got "C"'],
    [{ variant: '' }, 'variant: expected "A" or "B", got an empty value'],
    [{ model_version: 'latest' }, 'model_version: expected a registry version number or an empty value, got "latest"'],
    [{ user_id: '' }, 'user_id: expected a user id, got an empty value'],
    [{ petal_length: 'NaN' }, 'petal_length: expected a number, got "NaN"'],
    [{ petal_length: '' }, 'petal_length: expected a number, got an empty value'],
    [{ sepal_width: '1e308' }, 'sepal_width: expected a number within ±3.4028234663852886e+38 (the float32 range), got "1e308"'],
    [{ error_code: '' }, 'error_code: expected an error code (capital letters, digits and _, such as "PREDICTION_FAILED"), got an empty value'],
    [{ error_code: 'prediction_failed' }, 'error_code: expected an error code (capital letters, digits and _, such as "PREDICTION_FAILED"), got "prediction_failed"'],
    [{ error_code: '1BAD' }, 'error_code: expected an error code (capital letters, digits and _, such as "PREDICTION_FAILED"), got "1BAD"'],
    [{ error_code: 'BAD-CODE' }, 'error_code: expected an error code (capital letters, digits and _, such as "PREDICTION_FAILED"), got "BAD-CODE"'],
    [{ error_code: '_X' }, 'error_code: expected an error code (capital letters, digits and _, such as "PREDICTION_FAILED"), got "_X"'],
    [{ latency_ms: '-1' }, 'latency_ms: expected a number >= 0, got "-1"'],
    [{ latency_ms: '' }, 'latency_ms: expected a number >= 0, got an empty value'],
    [{ latency_ms: '0x1A' }, 'latency_ms: expected a number >= 0, got "0x1A"'],
  ])('%j is malformed: %s', (changes, problem) => {
    expect(decode(withCells(failureLine(failure), changes))).toEqual({ problem });
  });

  it('a row of the wrong width is malformed', () => {
    expect(decode(cellsOf(failureLine(failure)).slice(0, -1))).toEqual({ problem: 'expected 17 fields, got 16' });
  });
});

describe('split rows', () => {
  it('are written with the time and ab_split_b, every other cell empty', () => {
    expect(splitEventLine({ ts: T, splitB: 0.25 }, 4)).toBe('2025-09-17T12:00:00.000Z,split,,,,,,,,,,,,,,0.25,\n');
    expect(splitEventLine({ ts: T, splitB: 0 }, 4)).toBe('2025-09-17T12:00:00.000Z,split,,,,,,,,,,,,,,0,\n');
  });

  it.each([
    ['0.25', 0.25],
    ['0', 0],
    ['1', 1],
    ['-0', 0],
    ['1e-1', 0.1],
    ['.5', 0.5],
  ])('ab_split_b %j decodes as %d', (text, splitB) => {
    expect(decode(withCells(splitEventLine({ ts: T, splitB: 0.5 }, 4), { ab_split_b: text }))).toEqual({ event: 'split', ts: T, splitB });
  });

  it.each([
    [{ ab_split_b: '' }, 'ab_split_b: expected a number >= 0 and <= 1, got an empty value'],
    [{ ab_split_b: '1.5' }, 'ab_split_b: expected a number >= 0 and <= 1, got "1.5"'],
    [{ ab_split_b: '-0.1' }, 'ab_split_b: expected a number >= 0 and <= 1, got "-0.1"'],
    [{ ab_split_b: 'NaN' }, 'ab_split_b: expected a number >= 0 and <= 1, got "NaN"'],
    [{ ab_split_b: '0x1' }, 'ab_split_b: expected a number >= 0 and <= 1, got "0x1"'],
    [{ ab_split_b: 'Infinity' }, 'ab_split_b: expected a number >= 0 and <= 1, got "Infinity"'],
    [{ ab_split_b: 'half' }, 'ab_split_b: expected a number >= 0 and <= 1, got "half"'],
    [{ ts: '2025-09-17' }, 'ts: expected an ISO-8601 UTC time, got "2025-09-17"'],
  ])('%j is malformed: %s', (changes, problem) => {
    expect(decode(withCells(splitEventLine({ ts: T, splitB: 0.5 }, 4), changes))).toEqual({ problem });
  });
});

const shadow: ShadowRecord = {
  ts: T + 3,
  requestId: 'r0',
  userId: 'u0',
  alias: 'staging',
  version: '2',
  features: [5.1, 3.5, 1.4, 0.2],
  prediction: 'versicolor',
  errorCode: null,
  latencyMs: 0.8125,
};

describe('shadow rows', () => {
  it('are written with the prod row’s request cells, no variant, the shadowed alias and version, its prediction, no label, its own latency', () => {
    expect(shadowLine(shadow)).toBe('2025-09-17T12:00:00.003Z,shadow,r0,u0,,staging,2,5.1,3.5,1.4,0.2,versicolor,,0.813,,,\n');
    expect(shadowLine({ ...shadow, alias: 'previous_prod', version: '1', latencyMs: 2000.0004 })).toBe('2025-09-17T12:00:00.003Z,shadow,r0,u0,,previous_prod,1,5.1,3.5,1.4,0.2,versicolor,,2000,,,\n');
  });

  it('decode back to the record, in either layout (they use neither error_code nor ab_split_b)', () => {
    const exact = { ...shadow, latencyMs: 0.813 };
    expect(decode(cellsOf(shadowLine(shadow)))).toEqual({ event: 'shadow', ...exact });
    const legacy = layoutOf(legacyLogColumns(schema), schema) as LogLayout;
    expect(decode(cellsOf(shadowLine(shadow)).slice(0, 14), legacy)).toEqual({ event: 'shadow', ...exact });
  });

  it('a shadow that failed on the request: no prediction, its error code; it decodes back', () => {
    const failed: ShadowRecord = { ...shadow, prediction: null, errorCode: 'WORKER_FAILED' };
    expect(shadowLine(failed)).toBe('2025-09-17T12:00:00.003Z,shadow,r0,u0,,staging,2,5.1,3.5,1.4,0.2,,,0.813,WORKER_FAILED,,\n');
    expect(decode(cellsOf(shadowLine(failed)))).toEqual({ event: 'shadow', ...failed, latencyMs: 0.813 });
    expect(decode(withCells(shadowLine(failed), { prediction: 'setosa' }))).toEqual({ problem: 'prediction: expected an empty value on a failed shadow row (error_code WORKER_FAILED), got "setosa"' });
    expect(decode(withCells(shadowLine(failed), { error_code: 'worker failed' }))).toEqual({
      problem: 'error_code: expected an error code (capital letters, digits and _, such as "PREDICTION_FAILED"), got "worker failed"',
    });
  });

  it.each([
    [{ variant: 'A' }, 'variant: expected an empty value on a shadow row, got "A"'],
    [{ label: 'setosa' }, 'label: expected an empty value on a shadow row (feedback for the request labels it), got "setosa"'],
    [{ request_id: '' }, 'request_id: expected an id, got an empty value'],
    [{ model_version: '' }, 'model_version: expected a registry version number, got an empty value'],
    [{ user_id: '' }, 'user_id: expected a user id, got an empty value'],
    [{ petal_length: 'NaN' }, 'petal_length: expected a number, got "NaN"'],
    [{ prediction: '' }, 'prediction "" is not one of the classes setosa, versicolor, virginica'],
    [{ prediction: 'rose' }, 'prediction "rose" is not one of the classes setosa, versicolor, virginica'],
    [{ latency_ms: '-1' }, 'latency_ms: expected a number >= 0, got "-1"'],
    [{ model_alias: '' }, 'model_alias: expected the shadowed alias on a shadow row, got an empty value'],
  ])('%j is malformed: %s', (changes, problem) => {
    expect(decode(withCells(shadowLine(shadow), changes))).toMatchObject({ problem });
  });
});

describe('the event kinds', () => {
  it('names every known kind for an unknown one', () => {
    expect(decode(withCells(predictionLine(prediction), { event: 'click' }))).toEqual({ problem: 'event: expected "prediction", "feedback", "failure", "split" or "shadow", got "click"' });
  });

  it('predictions and feedback leave error_code, ab_split_b and (without them) probabilities empty', () => {
    expect(predictionLine(prediction)).toBe('2025-09-17T12:00:00.000Z,prediction,r0,u0,A,prod,1,5.1,3.5,1.4,0.2,setosa,setosa,2.25,,,\n');
    expect(feedbackLine({ ts: T, requestId: 'r0', label: 'virginica' }, 4)).toBe('2025-09-17T12:00:00.000Z,feedback,r0,,,,,,,,,,virginica,,,,\n');
  });
});

describe('class probabilities', () => {
  const scored = { ...prediction, probabilities: [0.9669, 0.0331, 0] };

  it('are written in the classes\' order to 6 decimals, ";" between them, and decode back', () => {
    expect(predictionLine({ ...scored, probabilities: [0.96690004, 1 / 30, 0] })).toBe('2025-09-17T12:00:00.000Z,prediction,r0,u0,A,prod,1,5.1,3.5,1.4,0.2,setosa,setosa,2.25,,,0.9669;0.033333;0\n');
    expect(decode(cellsOf(predictionLine(scored)))).toEqual({ event: 'prediction', ...scored });
    expect(decode(cellsOf(shadowLine({ ...shadow, probabilities: [0.1, 0.8, 0.1] })))).toEqual({ event: 'shadow', ...shadow, latencyMs: 0.813, probabilities: [0.1, 0.8, 0.1] });
    // A row without them (an older router's, or a failed shadow) has none.
    expect('probabilities' in (decode(cellsOf(predictionLine(prediction))) as object)).toBe(false);
    expect(classProbabilities({ virginica: 0.25, setosa: 0.75 }, ['setosa', 'versicolor', 'virginica'])).toEqual([0.75, 0, 0.25]);
  });

  it.each([
    ['0.5;0.5', 'got "0.5;0.5"'],
    ['0.5;0.5;0;0', 'got "0.5;0.5;0;0"'],
    ['0.5;1.5;0', 'got "0.5;1.5;0"'],
    ['0.5;-0.1;0.6', 'got "0.5;-0.1;0.6"'],
    ['0.5;NaN;0.5', 'got "0.5;NaN;0.5"'],
    ['0.5,0.5,0', 'got "0.5,0.5,0"'],
  ])('%j is malformed', (text, detail) => {
    expect(decode(withCells(predictionLine(scored), { probabilities: text }))).toEqual({ problem: `probabilities: expected 3 numbers in [0, 1] separated by ";" (one per class of dataset.classes), ${detail}` });
  });
});

describe('the layout before error_code and ab_split_b', () => {
  const legacy = layoutOf(legacyLogColumns(schema), schema) as LogLayout;

  it('is a valid layout whose new columns are absent (-1)', () => {
    expect(legacy.width).toBe(14);
    expect([legacy.fixed.error_code, legacy.fixed.ab_split_b, legacy.fixed.latency_ms]).toEqual([-1, -1, 13]);
    expect(configLayouts(schema).map((l) => l.width)).toEqual([17, 16, 14]);
  });

  it('reads predictions and feedback exactly as the new layout does', () => {
    const old = (line: string) => cellsOf(line).slice(0, 14);
    expect(decode(old(predictionLine(prediction)), legacy)).toEqual({ event: 'prediction', ...prediction });
    expect(decode(old(feedbackLine({ ts: T, requestId: 'r0', label: 'virginica' }, 4)), legacy)).toEqual({ event: 'feedback', ts: T, requestId: 'r0', label: 'virginica' });
  });

  it('cannot hold a failure or a split row: their cells read as empty', () => {
    expect(decode(cellsOf(failureLine(failure)).slice(0, 14), legacy)).toEqual({
      problem: 'error_code: expected an error code (capital letters, digits and _, such as "PREDICTION_FAILED"), got an empty value',
    });
    expect(decode(cellsOf(splitEventLine({ ts: T, splitB: 0.5 }, 4)).slice(0, 14), legacy)).toEqual({ problem: 'ab_split_b: expected a number >= 0 and <= 1, got an empty value' });
  });

  it('a header still needs every column of that layout; the new ones it may lack', () => {
    const header = legacyLogColumns(schema).filter((c) => c !== 'latency_ms');
    expect(layoutOf(header, schema)).toBe(
      'expected a predictions log header with the columns ts,event,request_id,user_id,variant,model_alias,model_version,sepal_length,sepal_width,petal_length,petal_width,prediction,label,latency_ms, got one without "latency_ms"',
    );
    // Only one of the new columns, in another place: found by name.
    const partial = layoutOf([...legacyLogColumns(schema).slice(0, 3), 'ab_split_b', ...legacyLogColumns(schema).slice(3)], schema) as LogLayout;
    expect([partial.fixed.ab_split_b, partial.fixed.error_code, partial.fixed.user_id]).toEqual([3, -1, 4]);
  });
});
