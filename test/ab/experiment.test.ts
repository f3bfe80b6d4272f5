import { describe, expect, it } from 'vitest';
import { buildExperiment, checkpointsOf, experimentStart } from '../../src/ab/experiment.js';
import type { LogFeedback, LogPrediction, LogScan } from '../../src/ab/read-log.js';

const T = Date.UTC(2025, 8, 17, 12);
let order = 0;

function p(id: string, variant: 'A' | 'B', version: string, ts: number, prediction = 'setosa', label: string | null = null, latencyMs = 5): LogPrediction {
  return { requestId: id, variant, version, prediction, label, latencyMs, ts, order: ++order, file: 'log.csv', line: order + 1 };
}

function f(id: string, label: string, ts: number): LogFeedback {
  return { requestId: id, label, ts, order: ++order, file: 'log.csv', line: order + 1 };
}

function scan(predictions: LogPrediction[], feedback: LogFeedback[] = []): LogScan {
  return { files: ['log.csv'], rows: predictions.length + feedback.length, predictions, feedback, malformedCount: 0, malformed: [], unknownLabels: {} };
}

describe('experimentStart', () => {
  it('starts at B’s first request after the last row served by another version', () => {
    const rows = [
      p('old-a', 'A', '1', T), // a previous prod
      p('old-b', 'B', '2', T + 1), // a previous staging
      p('pre', 'A', '3', T + 2), // current prod before the test went live
      p('b1', 'B', '4', T + 3),
      p('a1', 'A', '3', T + 4),
    ];
    expect(experimentStart(rows, { A: '3', B: '4' })).toBe(3);
    expect(experimentStart(rows.slice(0, 3), { A: '3', B: '4' })).toBe(-1);
  });

  it('restarts when a version changes back: rows of an earlier period never leak in', () => {
    const rows = [p('b1', 'B', '5', T), p('a1', 'A', '3', T + 1), p('a2', 'A', '4', T + 2), p('b2', 'B', '5', T + 3), p('a3', 'A', '3', T + 4), p('b3', 'B', '5', T + 5)];
    // Prod went 3 -> 4 -> 3 while staging stayed 5: only rows after the last version-4 row count.
    expect(experimentStart(rows, { A: '3', B: '5' })).toBe(3);
  });
});

describe('checkpointsOf', () => {
  it('adds a checkpoint each time the smaller arm reaches a multiple, then the current totals', () => {
    const e = (variant: 'A' | 'B', correct: boolean) => ({ variant, correct });
    const events = [e('A', true), e('A', false), e('B', true), e('A', true), e('B', true), e('B', false), e('B', true), e('A', true)];
    expect(checkpointsOf(events, 2)).toEqual([
      { nA: 3, successesA: 2, nB: 2, successesB: 2 },
      { nA: 4, successesA: 3, nB: 4, successesB: 3 },
    ]);
    expect(checkpointsOf(events.slice(0, 7), 2)).toEqual([
      { nA: 3, successesA: 2, nB: 2, successesB: 2 },
      { nA: 3, successesA: 2, nB: 4, successesB: 3 },
    ]);
    expect(checkpointsOf([], 50)).toEqual([]);
  });
});

describe('buildExperiment', () => {
  it('joins feedback by request_id, first label wins, and counts what it leaves out', () => {
    const rows = [
      p('old', 'A', '2', T, 'setosa'),
      p('b1', 'B', '4', T + 10, 'setosa', 'setosa', 7),
      p('a1', 'A', '3', T + 20, 'setosa', null, 3),
      p('b2', 'B', '4', T + 30, 'virginica', null, 9),
      p('a2', 'A', '3', T + 40, 'versicolor', null, 4),
    ];
    const feedback = [
      f('a1', 'virginica', T + 50),
      f('b2', 'virginica', T + 25), // a replica's clock is behind: counted at its prediction's time
      f('b1', 'versicolor', T + 60), // b1 already had an inline label
      f('old', 'setosa', T + 70), // outside the experiment
      f('ghost', 'setosa', T + 80), // no such prediction
    ];
    const experiment = buildExperiment(scan(rows, feedback), { A: '3', B: '4' }, 1);
    expect(experiment.startedAt).toBe(T + 10);
    // Latency quantiles interpolate linearly, as numpy.quantile([3, 4], [0.5, 0.99]) = [3.5, 3.99].
    expect(experiment.arms.A).toEqual({ version: '3', requests: 2, labeled: 1, correct: 0, latencyP50: 3.5, latencyP99: 3.99 });
    expect(experiment.arms.B).toEqual({ version: '4', requests: 2, labeled: 2, correct: 2, latencyP50: 8, latencyP99: 8.98 });
    expect(experiment).toMatchObject({ excludedPredictions: 1, orphanFeedback: 1, excludedFeedback: 1, duplicateLabels: 1 });
    // Label order: b1 (T+10), b2 (T+30, clamped), a1 (T+50).
    expect(experiment.checkpoints).toEqual([{ nA: 1, successesA: 0, nB: 2, successesB: 2 }]);
  });

  it('has no rows and no checkpoints before B serves its first request', () => {
    const experiment = buildExperiment(scan([p('a', 'A', '3', T, 'setosa', 'setosa')]), { A: '3', B: '4' }, 50);
    expect(experiment.arms.A.requests).toBe(0);
    expect(experiment.arms.B.latencyP50).toBeNull();
    expect(experiment.checkpoints).toEqual([]);
    expect(experiment.startedAt).toBeNull();
    expect(experiment.excludedPredictions).toBe(1);
  });
});
