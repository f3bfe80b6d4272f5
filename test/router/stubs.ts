/** In-process stand-ins for the worker pool, the registry and the log, for app.inject() tests. */
import type { ModelVersion, RegisteredModel } from '../../src/registry/index.js';
import type { FailureRecord, FeedbackRecord, PredictionRecord, ShadowRecord, SplitRecord } from '../../src/prediction-log/index.js';
import { LogWriteError } from '../../src/prediction-log/index.js';
import type { LogSink } from '../../src/router/context.js';
import { WorkerPoolError, type LoadedModel, type ModelSpec, type Row, type RowPrediction, type RowResult, type WorkerInfo } from '../../src/router/inference/index.js';
import type { ModelPool } from '../../src/router/model-set.js';
import type { AliasRegistry } from '../../src/router/registry-poller.js';

export const CLASSES = ['setosa', 'versicolor', 'virginica'];

/** Predicts from petal_length (the third column) so answers are checkable; version "n" adds n/100 to setosa. */
export function stubPredict(version: string, row: Row): RowPrediction {
  const petal = Number(row[2]);
  const prediction = petal < 2.5 ? 'setosa' : petal < 5 ? 'versicolor' : 'virginica';
  const bump = Number(version) / 100;
  const probabilities = Object.fromEntries(CLASSES.map((c) => [c, c === prediction ? 0.9 - bump : c === 'setosa' ? 0.05 + bump : 0.05]));
  return { prediction, probabilities };
}

export class StubPool implements ModelPool {
  readonly loaded = new Set<string>();
  readonly calls: { key: string; rows: number }[] = [];
  readonly unloaded: string[] = [];
  /** Versions whose load fails with a model error. */
  readonly broken = new Set<string>();
  /** When set, loads wait for this promise (to observe the old version serving meanwhile). */
  gate: Promise<void> | null = null;
  classes = CLASSES;
  inflight = 0;

  async load(spec: ModelSpec): Promise<LoadedModel> {
    if (this.gate) await this.gate;
    if (this.broken.has(spec.key)) throw new WorkerPoolError('model-error', `loading ${spec.uri} failed: OSError: no such artifact`);
    this.loaded.add(spec.key);
    return { key: spec.key, classes: this.classes, features: spec.columns.map((c) => c.name), loadMs: 5, source: 'registry' };
  }

  async unload(key: string): Promise<void> {
    this.loaded.delete(key);
    this.unloaded.push(key);
  }

  /** When set, predictions wait for this promise (a hung worker). */
  predictGate: Promise<void> | null = null;
  /** When set, every predict call fails with it (a worker that died, twice). */
  failWith: Error | null = null;
  /** The answer for a row (stubPredict by default): a shadow that disagrees, or fails for some rows. */
  predictionFor: (key: string, row: Row) => RowResult = stubPredict;

  /** A row with petal_length -1 is one the model cannot predict (as python/worker.py answers a NaN). */
  async predict(key: string, rows: readonly Row[]): Promise<RowResult[]> {
    if (!this.loaded.has(key)) throw new WorkerPoolError('no-worker', `no inference worker has model ${key} loaded`);
    this.calls.push({ key, rows: rows.length });
    this.inflight += 1;
    await new Promise((resolve) => setImmediate(resolve));
    if (this.predictGate) await this.predictGate;
    this.inflight -= 1;
    if (this.failWith) throw this.failWith;
    return rows.map((row) =>
      row[2] === -1 ? { error: { type: 'NonFiniteProbabilities', message: 'the model returned probabilities that are not finite numbers for this row (setosa=nan)' } } : this.predictionFor(key, row),
    );
  }

  /** Versions whose files are "on disk" (a restart can load them without the registry). */
  readonly onDisk = new Set<string>();

  cached(key: string): boolean {
    return this.onDisk.has(key);
  }

  serves(key: string): boolean {
    return this.loaded.has(key);
  }

  hasIdle(key: string): boolean {
    return this.loaded.has(key);
  }

  onIdle(): void {}

  info(): WorkerInfo[] {
    return [
      { slot: 0, pid: 1000, state: 'ready', models: [...this.loaded], inflight: 0 },
      { slot: 1, pid: 1001, state: 'ready', models: [...this.loaded], inflight: 0 },
    ];
  }
}

export class StubRegistry implements AliasRegistry {
  aliases: Record<string, string> = {};
  /** Tags on the registered model (the watch tag). */
  tags: Record<string, string> = {};
  down: string | null = null;

  async getVersionByAlias(name: string, alias: string): Promise<ModelVersion | null> {
    if (this.down) throw new Error(this.down);
    const version = this.aliases[alias];
    return version === undefined ? null : { name, version };
  }

  async getRegisteredModel(name: string): Promise<RegisteredModel | null> {
    if (this.down) throw new Error(this.down);
    return {
      name,
      aliases: Object.entries(this.aliases).map(([alias, version]) => ({ alias, version })),
      tags: Object.entries(this.tags).map(([key, value]) => ({ key, value })),
    };
  }
}

/** The log as an array; `failing` makes every append fail as a full disk would. */
export class ArraySink implements LogSink {
  readonly predictions: PredictionRecord[] = [];
  readonly feedback: FeedbackRecord[] = [];
  readonly failures: FailureRecord[] = [];
  readonly splits: SplitRecord[] = [];
  readonly shadows: ShadowRecord[] = [];
  /** Every row taken, as `<event> <request id>`, in the order written. */
  readonly order: string[] = [];
  failing: string | null = null;
  /** Only shadow rows fail (the log refusing them alone). */
  failingShadow: string | null = null;

  async appendPrediction(record: PredictionRecord): Promise<void> {
    if (this.failing) throw new LogWriteError(this.failing, `writing to the log failed: ${this.failing}`);
    this.predictions.push(record);
    this.order.push(`prediction ${record.requestId}`);
  }

  async appendFeedback(record: FeedbackRecord): Promise<void> {
    if (this.failing) throw new LogWriteError(this.failing, `writing to the log failed: ${this.failing}`);
    this.feedback.push(record);
  }

  async appendFailure(record: FailureRecord): Promise<void> {
    if (this.failing) throw new LogWriteError(this.failing, `writing to the log failed: ${this.failing}`);
    this.failures.push(record);
  }

  async appendSplit(record: SplitRecord): Promise<void> {
    if (this.failing) throw new LogWriteError(this.failing, `writing to the log failed: ${this.failing}`);
    this.splits.push(record);
  }

  async appendShadow(record: ShadowRecord): Promise<void> {
    const failing = this.failing ?? this.failingShadow;
    if (failing) throw new LogWriteError(failing, `writing to the log failed: ${failing}`);
    this.shadows.push(record);
    this.order.push(`shadow ${record.requestId}`);
  }
}
