export { assignNewVersion, registryState, type RegistryState } from './aliases.js';
export { connectRegistry, MlflowApiError, MlflowClient, modelTag, versionTag, type ModelVersion, type RegisteredModel, type Run } from './client.js';
export { endWatch, promote, recover, reject, rollback, type PromotionDeps, type RegistryClient, type Transition, type TransitionResult } from './promotion.js';
export { JOURNAL_TAG, previousAlias, RUN_TAGS, TRAINING_TAGS, VERSION_TAGS, WATCH_TAG, type DecisionTag } from './vocabulary.js';
export { parseWatch, readWatch, type Watch } from './watch.js';
