export { ModelCache, type LastKnown } from './model-cache.js';
export {
  WorkerPoolError,
  type BatchTiming,
  type LoadedModel,
  type ModelColumn,
  type ModelSpec,
  type Row,
  type RowFailure,
  type RowPrediction,
  type RowResult,
  type WorkerInfo,
  type WorkerPoolErrorKind,
  type WorkerState,
} from './protocol.js';
export { WORKER_SCRIPT, WorkerPool, type WorkerPoolOptions } from './worker-pool.js';
