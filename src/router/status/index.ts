export { RegistryView, type RegistryRead, type StatusRegistry, type VersionMetrics } from './registry-view.js';
export { isReportFile, newestReportId, readReportFile, REPORT_FILES, type ReportFile } from './report-files.js';
export { abView, driftView, type AbView, type ArmView, type DriftFeatureView, type DriftView, type IntervalView } from './report-summary.js';
export {
  NO_REPORT,
  redactUri,
  reportLinks,
  STATUS_REGISTRY_TIMEOUT_MS,
  STATUS_REGISTRY_TTL_MS,
  StatusSource,
  type LatestReport,
  type PendingTransition,
  type ReportKind,
  type ReportLinks,
  type StatusData,
  type StatusSourceOptions,
  type VariantTraffic,
  type VersionStatus,
} from './status-data.js';
export { renderStatusHtml, STATUS_REFRESH_S } from './status-html.js';
