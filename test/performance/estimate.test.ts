import { describe, expect, it } from 'vitest';

import { estimatePerformance, performanceVerdict } from '../../src/performance/estimate.js';
import type { LogEntry } from '../../src/prediction-log/index.js';
import { learnCalibration } from '../../src/stats/cbpe.js';

const CLASSES = ['setosa', 'versicolor', 'virginica'];
const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 11, 2, 10);

function prediction(i: number, ts: number, variant: 'A' | 'B', version: string, predicted: string, probabilities: number[] | undefined, label: string | null = null): LogEntry {
  return {
    event: 'prediction', ts, requestId: `r${i}`, userId: `u${i}`, variant, alias: variant === 'A' ? 'prod' : 'staging', version,
    features: [5.1, 3.5, 1.4, 0.2], prediction: predicted, label, latencyMs: 2, ...(probabilities ? { probabilities } : {}),
  };
}

describe('estimatePerformance', () => {
  // Version 1's held-out rows: right 3 times in 4 at confidence 0.9, once in 2 at 0.5.
  const v1 = learnCalibration([
    { confidence: 0.9, correct: true }, { confidence: 0.9, correct: true }, { confidence: 0.9, correct: true }, { confidence: 0.9, correct: false },
    { confidence: 0.5, correct: true }, { confidence: 0.5, correct: false },
  ]);

  it('groups by arm, version and window; estimates from the predicted class\'s probability; realises from the first label', () => {
    const entries: LogEntry[] = [
      prediction(1, T0 + 1000, 'A', '1', 'setosa', [0.9, 0.05, 0.05], 'setosa'),
      prediction(2, T0 + 2000, 'A', '1', 'versicolor', [0.3, 0.5, 0.2]),
      prediction(3, T0 + 3000, 'B', '2', 'setosa', [0.95, 0.05, 0]),
      { event: 'shadow', ts: T0 + 3001, requestId: 'r1', userId: 'u1', alias: 'staging', version: '2', features: [5.1, 3.5, 1.4, 0.2], prediction: 'versicolor', errorCode: null, latencyMs: 2, probabilities: [0.2, 0.7, 0.1] },
      { event: 'feedback', ts: T0 + 4000, requestId: 'r2', label: 'virginica' },
      { event: 'feedback', ts: T0 + 5000, requestId: 'r2', label: 'versicolor' },
      // r1 was labelled inline: its later feedback does not count.
      { event: 'feedback', ts: T0 + 6000, requestId: 'r1', label: 'virginica' },
      prediction(4, T0 + HOUR + 1, 'A', '1', 'setosa', undefined),
    ];
    const windows = estimatePerformance(entries, CLASSES, new Map([['1', v1], ['2', null]]), HOUR);
    expect(windows).toEqual([
      { source: 'A', alias: 'prod', version: '1', start: '2026-12-02T10:00:00.000Z', end: '2026-12-02T11:00:00.000Z', n: 2, scored: 2, estimated: (0.75 + 0.5) / 2, standardError: Math.sqrt(0.75 * 0.25 + 0.25) / 2, labelled: 2, realised: 0.5 },
      { source: 'B', alias: 'staging', version: '2', start: '2026-12-02T10:00:00.000Z', end: '2026-12-02T11:00:00.000Z', n: 1, scored: 1, estimated: null, standardError: null, labelled: 0, realised: null },
      { source: 'shadow', alias: 'staging', version: '2', start: '2026-12-02T10:00:00.000Z', end: '2026-12-02T11:00:00.000Z', n: 1, scored: 1, estimated: null, standardError: null, labelled: 1, realised: 0 },
      // No probabilities logged (an older router's rows): counted, not estimated.
      { source: 'A', alias: 'prod', version: '1', start: '2026-12-02T11:00:00.000Z', end: '2026-12-02T12:00:00.000Z', n: 1, scored: 0, estimated: null, standardError: null, labelled: 0, realised: null },
    ]);
  });

  it('leaves failure and split rows, and failed shadow rows, out', () => {
    const entries: LogEntry[] = [
      { event: 'split', ts: T0, splitB: 0.5 },
      { event: 'failure', ts: T0 + 1, requestId: 'r9', userId: 'u9', variant: 'A', alias: 'prod', version: '1', features: [1, 2, 3, 4], errorCode: 'PREDICTION_FAILED', latencyMs: 1 },
      { event: 'shadow', ts: T0 + 2, requestId: 'r9', userId: 'u9', alias: 'staging', version: '2', features: [1, 2, 3, 4], prediction: null, errorCode: 'WORKER_FAILED', latencyMs: 1 },
    ];
    expect(estimatePerformance(entries, CLASSES, new Map(), HOUR)).toEqual([]);
  });
});

describe('performanceVerdict', () => {
  const v1 = learnCalibration([
    { confidence: 0.9, correct: true }, { confidence: 0.9, correct: true }, { confidence: 0.9, correct: true }, { confidence: 0.9, correct: false },
    { confidence: 0.5, correct: true }, { confidence: 0.5, correct: false },
  ]);
  const calibrations = new Map([['1', v1]]);
  // Prod: an early window of confident predictions, a later one of unsure ones (estimate 0.5 against 4/6 held out).
  const entries: LogEntry[] = [
    prediction(1, T0, 'A', '1', 'setosa', [0.9, 0.05, 0.05]),
    prediction(2, T0 + HOUR, 'A', '1', 'setosa', [0.5, 0.3, 0.2]),
    prediction(3, T0 + HOUR + 1, 'B', '1', 'setosa', [0.9, 0.05, 0.05]),
  ];
  const windows = estimatePerformance(entries, CLASSES, calibrations, HOUR);

  it("judges prod's latest estimated window against its held-out accuracy", () => {
    expect(performanceVerdict(windows, calibrations, 0.1)).toEqual({ version: '1', start: '2026-12-02T11:00:00.000Z', estimated: 0.5, holdoutAccuracy: 4 / 6, drop: 4 / 6 - 0.5, maxDrop: 0.1, dropDetected: true });
    expect(performanceVerdict(windows, calibrations, 0.2)?.dropDetected).toBe(false);
    // Without performance.max_drop it reports, never decides.
    expect(performanceVerdict(windows, calibrations, null)?.dropDetected).toBe(false);
  });

  it('is null without an estimated prod window', () => {
    expect(performanceVerdict(windows, new Map(), 0.1)).toBeNull();
    expect(performanceVerdict([], calibrations, 0.1)).toBeNull();
  });
});
