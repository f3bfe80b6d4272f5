/**
 * What the router and its Python inference workers (python/worker.py) exchange: the model specs,
 * the answers, the workers' states and the pool's errors.
 */
import { DriftgateError } from '../../errors.js';

export interface ModelColumn {
  name: string;
  type: 'numeric' | 'categorical';
}

export interface ModelSpec {
  /** The pool's name for the model; the router uses the registry version. */
  key: string;
  /** What MLflow loads, e.g. models:/driftgate-iris/3. */
  uri: string;
  /** Feature columns in the order of every row sent to predict. */
  columns: readonly ModelColumn[];
}

export interface LoadedModel {
  key: string;
  classes: string[];
  /** The columns the model was fitted on, when it knows them (sklearn feature_names_in_). */
  features: string[] | null;
  loadMs: number;
  source: 'registry' | 'cache';
}

export interface RowPrediction {
  prediction: string;
  probabilities: Record<string, number>;
}

/** A row the model could not predict (it raised for it alone, or gave NaN): the worker says why. */
export interface RowFailure {
  error: { type: string; message: string };
}

export type RowResult = RowPrediction | RowFailure;

export type Row = readonly (number | string)[];

/** bad-reply: the worker wrote a line that is not the protocol's JSON; its request fails at once. */
export type WorkerPoolErrorKind = 'no-worker' | 'worker-died' | 'timeout' | 'model-error' | 'bad-reply' | 'closed';

export class WorkerPoolError extends DriftgateError {
  constructor(
    readonly kind: WorkerPoolErrorKind,
    message: string,
    options: { cause?: unknown } = {},
  ) {
    super('UNAVAILABLE', message, options);
  }
}

export type WorkerState = 'starting' | 'ready' | 'exited';

export interface WorkerInfo {
  slot: number;
  pid: number | null;
  state: WorkerState;
  /** Keys of the models this worker can serve now. */
  models: string[];
  inflight: number;
}

export interface Reply {
  id?: number;
  ok?: boolean;
  event?: string;
  error?: { type: string; message: string };
  classes?: string[];
  features?: string[] | null;
  load_ms?: number;
  source?: 'registry' | 'cache';
  predictions?: RowResult[];
  /** A predict reply: the model's own time for the batch (ms), measured in the worker. */
  compute_ms?: number;
}

/** Filled in by a predict call that is handed one: the model's own time for the batch (NaN when the worker did not say). */
export interface BatchTiming {
  computeMs: number;
}

