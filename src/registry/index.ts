export { MlflowApiError, MlflowClient, versionTag, type ModelVersion, type RegisteredModel, type Run } from './client.js';
