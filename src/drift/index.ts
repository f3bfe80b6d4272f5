export {
  decideDataset,
  decideFeature,
  type DatasetVerdict,
  type DriftPolicy,
  type DriftRule,
  type FeatureEvidence,
  type FeatureVerdict,
} from './decide.js';
export {
  binIndex,
  histogram,
  histogramSorted,
  linspace,
  quantileEdges,
  sturgesEdges,
} from './histogram.js';
export {
  categoricalChiSquare,
  countCategories,
  fillZeroShares,
  MAX_VALUE_BINS,
  psiCategorical,
  psiFromShares,
  psiNumeric,
  type CategoricalPsiResult,
  type CategoryCounts,
  type NumericPsiResult,
  type PsiBinKind,
  type PsiBinning,
  type PsiBins,
  type PsiOptions,
} from './psi.js';
export {
  analyzeDrift,
  categoryCounts,
  summarize,
  type AnalyzeSettings,
  type ColumnSummary,
  type Distribution,
  type DriftAnalysis,
  type FeatureAnalysis,
  type FeatureColumns,
} from './analyze.js';
export { estimateRecords, readHeader, scanCsv, type CsvParser, type CsvSink, type ScanOptions, type ScanResult } from './csv-records.js';
export { FloatColumnBuilder } from './float-column.js';
export { describeInput, isGlob, resolveInput, type InputFiles } from './input-files.js';
export { readLogColumns, type LogColumns, type LogQuality, type LogWindow } from './live-log.js';
export { readDataColumns, type ColumnsRequest, type DataColumns, type ValueCounts } from './read-columns.js';
export { distributionChart, renderReportHtml } from './report-html.js';
export {
  buildReport,
  featureResult,
  MAX_REPORT_BINS,
  REPORT_FORMAT,
  reportDistribution,
  shares,
  type DriftReport,
  type DriftResult,
  type FeatureResult,
  type ReportFeature,
  type SourceResult,
  type TargetResult,
  type Thresholds,
} from './report-json.js';
export { LOG_SOURCE, runDrift, type DriftRunOptions } from './run-drift.js';
