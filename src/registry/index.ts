export { assignNewVersion, registryState, type RegistryState } from './aliases.js';
export { connectRegistry, MlflowApiError, MlflowClient, versionTag, type ModelVersion, type RegisteredModel, type Run } from './client.js';
export { promote, recover, reject, rollback, type PromotionDeps, type RegistryClient, type Transition, type TransitionResult } from './promotion.js';
export { JOURNAL_TAG, previousAlias, RUN_TAGS, TRAINING_TAGS, VERSION_TAGS, type DecisionTag } from './vocabulary.js';
