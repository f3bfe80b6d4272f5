export { buildApp, toRouterError, type Clock, type ConfigHolder, type LogSink, type RouterDeps } from './app.js';
export { ASSIGNMENT_HASH_VERSION, assignmentBucket, assignVariant, type AssignmentRule, type Variant } from './assign.js';
export { Batcher, type BatcherOptions } from './batcher.js';
export { RouterError, type ErrorBody, type RouterErrorCode, type RouterStatus } from './errors.js';
export { changedPaths, LIVE_KEYS, LiveConfig, type Logger } from './live-config.js';
export { RouterMetrics } from './metrics.js';
export { ModelSet, type AliasKey, type ModelBackend, type ModelPool, type ModelStatus, type Readiness, type ServedPrediction } from './model-set.js';
export { DEFAULT_LABEL_CAPACITY, LabelIndex } from './label-index.js';
export { REQUEST_ID_VERSION, REQUEST_KEY_FILE, requestKey, RequestIds, type Verdict } from './request-id.js';
