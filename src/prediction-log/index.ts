export {
  checkLogColumns,
  EVENT_KINDS,
  isLogHeader,
  legacyLogColumns,
  olderLogColumns,
  LOG_HEAD_COLUMNS,
  LOG_OPTIONAL_COLUMNS,
  LOG_TAIL_COLUMNS,
  logColumns,
  logSchema,
  type EventKind,
  type LogSchema,
  type Variant,
} from './columns.js';
export { openLogSet, type LogSet, type OpenLogFile } from './files.js';
export { neutralise, restore, splitLine } from './line.js';
export { MALFORMED_KEPT, scanLog, type EntryHandler, type FileReport, type LogPosition, type MalformedRow, type ScanOptions, type ScanReport } from './reader.js';
export {
  classProbabilities,
  failureLine,
  feedbackLine,
  parseLogTime,
  predictionLine,
  shadowLine,
  splitEventLine,
  type FailureEntry,
  type FailureRecord,
  type FeedbackEntry,
  type FeedbackRecord,
  type LogEntry,
  type PredictionEntry,
  type PredictionRecord,
  type ShadowEntry,
  type ShadowRecord,
  type SplitEntry,
  type SplitRecord,
} from './rows.js';
export { LogWriteError, LogWriter, type AckPolicy, type FsyncPolicy, type LogWriterEvent, type LogWriterOptions, type LogWriterStats, type RotateEvery } from './writer.js';
