import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ExperimentBuilder, readExperiment, type ExperimentVersions } from '../../src/ab/experiment.js';
import { DEFAULT_DECISION_CONFIG, foldSettings } from '../../src/ab/decide.js';
import type { Feature } from '../../src/config/index.js';
import { openLogSet, type LogEntry, type LogSchema } from '../../src/prediction-log/index.js';
import { tempDir } from '../helpers/config.js';
import { IRIS_FEATURES, writeLog } from '../helpers/ab-log.js';

const T = Date.UTC(2025, 8, 17, 12);

interface P {
  id: string;
  variant: 'A' | 'B';
  version: string;
  ts: number;
  prediction?: string;
  label?: string | null;
  latencyMs?: number;
}
const p = (id: string, variant: 'A' | 'B', version: string, ts: number, prediction = 'setosa', label: string | null = null, latencyMs = 5): P => ({ id, variant, version, ts, prediction, label, latencyMs });
const f = (id: string, label: string, ts: number) => ({ id, label, ts });

const settings = (every: number) => foldSettings({ ...DEFAULT_DECISION_CONFIG, checkpointEvery: every, splitB: 0.5 });

/** What readExperiment does: every row in time order, twice. */
function build(versions: ExperimentVersions, predictions: P[], feedback: { id: string; label: string; ts: number }[] = [], every = 1) {
  const rows: LogEntry[] = [
    ...predictions.map((x): LogEntry => ({
      event: 'prediction',
      ts: x.ts,
      requestId: x.id,
      userId: `u-${x.id}`,
      variant: x.variant,
      alias: x.variant === 'A' ? 'prod' : 'staging',
      version: x.version,
      features: [],
      prediction: x.prediction ?? 'setosa',
      label: x.label ?? null,
      latencyMs: x.latencyMs ?? 5,
    })),
    ...feedback.map((x): LogEntry => ({ event: 'feedback', ts: x.ts, requestId: x.id, label: x.label })),
  ].sort((a, b) => a.ts - b.ts);
  const builder = new ExperimentBuilder(versions, settings(every), 0.5);
  for (const row of rows) builder.row(row);
  for (const row of rows) builder.join(row);
  return builder.finish();
}

describe('the experiment boundary', () => {
  it('starts at B’s first request after the last row served by another version', () => {
    const rows = [
      p('old-a', 'A', '1', T), // a previous prod
      p('old-b', 'B', '2', T + 1), // a previous staging
      p('pre', 'A', '3', T + 2), // current prod before the test went live
      p('b1', 'B', '4', T + 3),
      p('a1', 'A', '3', T + 4),
    ];
    const experiment = build({ A: '3', B: '4' }, rows);
    expect([experiment.startedAt, experiment.fold.arms.A.requests, experiment.fold.arms.B.requests, experiment.excludedPredictions]).toEqual([T + 3, 1, 1, 3]);
    expect(build({ A: '3', B: '4' }, rows.slice(0, 3)).startedAt).toBeNull();
  });

  it('restarts when a version changes back: rows of an earlier period never leak in', () => {
    const rows = [p('b1', 'B', '5', T), p('a1', 'A', '3', T + 1), p('a2', 'A', '4', T + 2), p('b2', 'B', '5', T + 3), p('a3', 'A', '3', T + 4), p('b3', 'B', '5', T + 5)];
    // Prod went 3 -> 4 -> 3 while staging stayed 5: only rows after the last version-4 row count.
    const experiment = build({ A: '3', B: '5' }, rows);
    expect([experiment.startedAt, experiment.fold.arms.A.requests, experiment.fold.arms.B.requests, experiment.excludedPredictions]).toEqual([T + 3, 1, 2, 3]);
  });
});

describe('ExperimentBuilder', () => {
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
      f('a2', 'versicolor', T + 85), // a2's first label counts ...
      f('a2', 'setosa', T + 90), // ... not this later one
      f('early', 'setosa', T + 5), // before the experiment began
    ];
    const experiment = build({ A: '3', B: '4' }, rows, feedback);
    expect(experiment.startedAt).toBe(T + 10);
    // Latency quantiles interpolate linearly, as numpy.quantile([3, 4], [0.5, 0.99]) = [3.5, 3.99].
    expect(experiment.fold.arms.A).toMatchObject({ requests: 2, labeled: 2, correct: 1, latencyP50: 3.5, latencyP99: 3.99 });
    expect(experiment.fold.arms.B).toMatchObject({ requests: 2, labeled: 2, correct: 2, latencyP50: 8, latencyP99: 8.98 });
    expect(experiment).toMatchObject({ excludedPredictions: 1, orphanFeedback: 1, excludedFeedback: 2, duplicateLabels: 2 });
    // Label order: b1 (T+10), b2 (T+30, clamped), a1 (T+50), a2 (T+85).
    expect(experiment.fold.path.map((l) => [l.labeledA, l.correctA, l.labeledB, l.correctB])).toEqual([
      [1, 0, 2, 2],
      [2, 1, 2, 2],
    ]);
  });

  it('has no rows and no checkpoints before B serves its first request', () => {
    const experiment = build({ A: '3', B: '4' }, [p('a', 'A', '3', T, 'setosa', 'setosa')], [], 50);
    expect(experiment.fold.arms.A.requests).toBe(0);
    expect(experiment.fold.arms.B.latencyP50).toBeNull();
    expect(experiment.fold.path.map((l) => l.labeledA + l.labeledB)).toEqual([0]);
    expect(experiment.startedAt).toBeNull();
    expect(experiment.excludedPredictions).toBe(1);
  });
});

describe('readExperiment', () => {
  it('joins feedback that one replica wrote to a prediction in another', async () => {
    const dir = tempDir('driftgate-experiment-');
    writeLog(path.join(dir, 'replica-1.csv'), [
      { ts: T, request_id: 'x', variant: 'B', model_version: '4', prediction: 'setosa' },
      { ts: T + 1, request_id: 'y', variant: 'A', model_version: '3', prediction: 'setosa' },
    ]);
    writeLog(path.join(dir, 'replica-2.csv'), [
      { event: 'feedback', ts: T + 5, request_id: 'x', label: 'setosa' },
      { event: 'feedback', ts: T + 6, request_id: 'y', label: 'virginica' },
    ]);
    const schema: LogSchema = { features: IRIS_FEATURES.map((name): Feature => ({ name, type: 'numeric' })), classes: ['setosa', 'versicolor', 'virginica'] };
    const set = await openLogSet(path.join(dir, 'replica-*.csv'), { rotated: true });
    const { experiment, report } = await readExperiment(set, schema, { A: '3', B: '4' }, settings(50), 0.5);
    await set.close();
    expect(report.rows).toBe(4);
    expect(experiment.fold.arms.B).toMatchObject({ requests: 1, labeled: 1, correct: 1 });
    expect(experiment.fold.arms.A).toMatchObject({ requests: 1, labeled: 1, correct: 0 });
    expect(experiment.orphanFeedback).toBe(0);
  });
});
