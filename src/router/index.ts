export { buildApp, toRouterError, type Clock, type ConfigHolder, type RouterDeps } from './app.js';
export { ASSIGNMENT_HASH_VERSION, assignmentBucket, assignVariant, type AssignmentRule, type Variant } from './assign.js';
export { Batcher, type BatcherOptions } from './batcher.js';
export { RouterError, type ErrorBody, type RouterErrorCode, type RouterStatus } from './errors.js';
export { changedPaths, LIVE_KEYS, LiveConfig, type Logger } from './live-config.js';
export { RouterMetrics } from './metrics.js';
export { ModelSet, type AliasKey, type ModelBackend, type ModelPool, type ModelStatus, type Readiness, type ServedPrediction } from './model-set.js';
export {
  checkLogColumns,
  logColumns,
  PredictionLog,
  type FeedbackRecord,
  type LogSink,
  type PredictionRecord,
} from './prediction-log.js';
export { RecentRequests } from './recent-requests.js';
