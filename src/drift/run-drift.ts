/**
 * One drift run: resolve the inputs, stream them into columns, test every feature, decide, and
 * write reports/drift/<id>/{report.json,report.html}. The result holds real numbers (infinities
 * included); src/report's jsonSafe() makes it printable. The clock, the id and the CSV parser are
 * injectable so tests pin exact outputs.
 */

import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Config } from '../config/index.js';
import { InputError, UsageError } from '../errors.js';
import { isGlob } from '../fs-glob.js';
import { isLogHeader, logSchema, openLogSet, type LogSet } from '../prediction-log/index.js';
import { analyzeDrift, type AnalyzeSettings, type FeatureColumns } from './analyze.js';
import { analyzeDriftInThreads } from './analyze-threads.js';
import { readHeader, type CsvParser } from './csv-records.js';
import { describeInput, resolveInput, type InputFiles } from './input-files.js';
import { readLogColumns } from './live-log.js';
import { readDataColumns, type DataColumns, type ValueCounts } from './read-columns.js';
import { readColumnsBig } from './read-columns-thread.js';
import { loadReferenceProfile, profilePath, type ProfileUse } from './reference-profile.js';
import { reportId, reportJsonText, writeReportDir } from '../report/index.js';
import { renderReportHtml } from './report-html.js';
import { buildReport, featureResult, shares, type DriftResult, type FeatureResult, type SourceResult, type TargetResult, type Thresholds } from './report-json.js';

/** `--current log`: the router's predictions log (router.log_path, a path or a glob). */
export const LOG_SOURCE = 'log';

export interface DriftRunOptions {
  /** Path or glob; default dataset.reference. */
  reference?: string | null;
  /** 'log' or a path or glob. */
  current: string;
  /** Live data: the last N prediction rows (default drift.log_window) and/or rows at or after an ISO time. */
  window?: number | null;
  since?: string | null;
  cwd?: string;
  parser?: CsvParser;
  now?: () => Date;
  /** Milliseconds, for timings_ms. */
  clock?: () => number;
  newId?: (now: Date) => string;
  log?: (line: string) => void;
  signal?: AbortSignal;
}

interface CurrentColumns {
  rows: number;
  numeric: Map<string, Float64Array>;
  categorical: Map<string, ValueCounts>;
  target: ValueCounts | null;
  targetSource: 'target' | 'prediction' | null;
  source: SourceResult;
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}

/** Whether the files are predictions logs (all of them) or data sets (all of them). */
async function isLogInput(input: InputFiles, parser: CsvParser | undefined): Promise<boolean> {
  const kinds = await Promise.all(input.files.map(async (file) => ({ file, log: isLogHeader((await readHeader(file, { parser })) ?? []) })));
  const logs = kinds.filter((k) => k.log);
  if (logs.length > 0 && logs.length < kinds.length) {
    const data = kinds.find((k) => !k.log)!;
    throw new InputError(`${describeInput(input)}: expected only predictions logs or only data sets, got both (${logs[0]!.file} is a log, ${data.file} is not)`);
  }
  return logs.length > 0;
}

function parseSince(text: string): number {
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) throw new UsageError(`--since: expected an ISO-8601 time (e.g. 2026-11-28T04:00:00Z), got ${JSON.stringify(text)}`);
  return ms;
}

export async function runDrift(config: Config, options: DriftRunOptions): Promise<DriftResult> {
  const { dataset, drift } = config;
  const clock = options.clock ?? (() => performance.now());
  const log = options.log ?? (() => {});
  const readOptions = { parser: options.parser, signal: options.signal };
  const started = (options.now ?? (() => new Date()))();
  const id = (options.newId ?? ((now: Date) => reportId(now)))(started);
  const t0 = clock();
  // Flags first: a typo should not wait for a million rows to be read.
  const since = options.since == null ? null : parseSince(options.since);

  const currentIsLogKeyword = options.current === LOG_SOURCE;
  const referenceInput = await resolveInput(options.reference ?? dataset.reference, options.cwd);
  const currentInput = currentIsLogKeyword ? await resolveLogInput(config.router.log_path) : await resolveInput(options.current, options.cwd);
  const currentIsLog = currentIsLogKeyword || (await isLogInput(currentInput, options.parser));
  if (!currentIsLog && (options.window != null || options.since != null)) {
    const flag = options.window != null ? '--window' : '--since';
    throw new UsageError(`${flag} applies to a predictions log (--current log or a log file), got the data set ${describeInput(currentInput)}`);
  }
  const window = options.window ?? drift.log_window;

  const where = describeInput(referenceInput);
  const tRead = clock();
  // The reference (from its profile, or parsed and sorted in a thread when big) and the current set are read at the same time.
  const referenceRead = readReference(config, referenceInput, options, log).then((read) => ({ read, at: clock() }));
  const currentRead = readCurrent(config, currentInput, currentIsLog, { rows: window, since }, readOptions).then((read) => ({ read, at: clock() }));
  const [referenceSettled, currentSettled] = await Promise.allSettled([referenceRead, currentRead]);
  // The reference's problem first, as when they were read one after the other.
  if (referenceSettled.status === 'rejected') throw referenceSettled.reason;
  if (currentSettled.status === 'rejected') throw currentSettled.reason;
  const { read: referenceColumns, at: t1 } = referenceSettled.value;
  const reference = referenceColumns.data;
  if (reference.rows === 0) throw new InputError(`reference set ${where} is empty: expected at least one data row, got none`);
  if (reference.rows < drift.min_rows) throw new InputError(`not enough reference rows: expected at least ${drift.min_rows}, got ${reference.rows} from ${where}`);

  const { read: current, at: t2 } = currentSettled.value;
  const quality = current.source.quality;
  for (const file of quality?.unreadable ?? []) log(`[drift] not read: ${file.path}: ${file.reason}`);
  if (quality && quality.malformed_rows > 0) {
    const first = quality.malformed[0]!;
    log(`[drift] ${quality.malformed_rows} malformed log rows left out (first: ${first.file}:${first.line}: ${first.problem})`);
  }
  const currentWhere = describeInput(currentInput);
  if (current.rows === 0 && !currentIsLog) throw new InputError(`current set ${currentWhere} is empty: expected at least one data row, got none`);

  const thresholds: Thresholds = {
    psi_threshold: drift.psi_threshold,
    ks_alpha: drift.ks_alpha,
    rule: drift.rule,
    psi_rule: drift.psi_rule,
    ks_min_statistic: drift.ks_min_statistic,
    correction: drift.correction,
    share: drift.share,
    binning: drift.binning,
    quantile_bins: drift.quantile_bins,
    min_rows: drift.min_rows,
  };
  const referenceSource: SourceResult = { kind: 'file', pattern: referenceInput.pattern, files: referenceInput.files, window: null, since: null, first_ts: null, last_ts: null, quality: null, profile: referenceColumns.profile };
  const target = targetResult(dataset.target, dataset.classes, reference.target, current);
  // Key order is the order a person reads the JSON in: verdict, numbers, features, context.
  const result = (fields: Pick<DriftResult, 'status' | 'reason' | 'drift_detected' | 'share_drifted' | 'n_drifted' | 'features' | 'report_dir' | 'timings_ms'>): DriftResult => ({
    id,
    status: fields.status,
    reason: fields.reason,
    drift_detected: fields.drift_detected,
    share_drifted: fields.share_drifted,
    n_drifted: fields.n_drifted,
    n_features: dataset.features.length,
    n_reference: reference.rows,
    n_current: current.rows,
    features: fields.features,
    target,
    thresholds,
    reference: referenceSource,
    current: current.source,
    report_dir: fields.report_dir,
    timings_ms: fields.timings_ms,
  });

  if (current.rows < drift.min_rows) {
    const reason = `not enough current rows: expected at least ${drift.min_rows}, got ${current.rows} from ${currentWhere}`;
    // A data set handed in is a mistake to report; a log without enough traffic yet is a normal state of a scheduled monitor.
    if (!currentIsLog) throw new InputError(reason);
    log(`[drift] ${reason}; nothing tested, reporting no drift (status insufficient_data)`);
    return result({
      status: 'insufficient_data',
      reason,
      drift_detected: false,
      share_drifted: 0,
      n_drifted: 0,
      features: [],
      report_dir: null,
      timings_ms: { read_reference: round(t1 - tRead), read_current: round(t2 - tRead), total: round(clock() - t0) },
    });
  }

  const columns: FeatureColumns[] = dataset.features.map((feature) =>
    feature.type === 'numeric'
      ? { name: feature.name, type: 'numeric', reference: reference.numeric.get(feature.name)!, referenceSorted: referenceColumns.sorted, current: current.numeric.get(feature.name)! }
      : { name: feature.name, type: 'categorical', reference: reference.categorical.get(feature.name)!, current: current.categorical.get(feature.name)! },
  );
  const settings: AnalyzeSettings = {
    psiThreshold: drift.psi_threshold,
    ksAlpha: drift.ks_alpha,
    psiRule: drift.psi_rule,
    ksMinStatistic: drift.ks_min_statistic,
    correction: drift.correction,
    rule: drift.rule,
    share: drift.share,
    binning: drift.binning,
    quantileBins: drift.quantile_bins,
  };
  const analysis = await analyzeDriftInThreads(columns, settings);
  if (target) target.drift = targetDrift(target.name, reference.target, current.target, settings);
  const t3 = clock();

  const reportDir = path.join(drift.reports_dir, id);
  const done = result({
    status: 'ok',
    reason: null,
    drift_detected: analysis.verdict.driftDetected,
    share_drifted: analysis.verdict.shareDrifted,
    n_drifted: analysis.verdict.nDrifted,
    features: analysis.features.map(featureResult),
    report_dir: reportDir,
    timings_ms: {},
  });
  const report = buildReport(done, analysis, { createdAt: started, configFile: config.source.file });
  writeReportDir(drift.reports_dir, id, { 'report.json': reportJsonText(report), 'report.html': renderReportHtml(report) });
  const t4 = clock();
  // The two reads overlap: each is timed from the moment both started; analyze starts once both are done.
  done.timings_ms = { read_reference: round(t1 - tRead), read_current: round(t2 - tRead), analyze: round(t3 - Math.max(t1, t2)), report: round(t4 - t3), total: round(t4 - t0) };
  log(`[drift] ${analysis.verdict.nDrifted} of ${analysis.verdict.nFeatures} features drifted; report ${reportDir}`);
  return done;
}

interface ReferenceColumns {
  data: DataColumns;
  /** The numeric columns are ascending already (a profile, or sorted by the reader thread). */
  sorted: boolean;
  profile: ProfileUse | null;
}

/**
 * The reference's columns: from its profile when one matches (drift profile), else parsed, in a thread
 * (which also sorts them) when the files are big.
 */
async function readReference(config: Config, input: InputFiles, options: DriftRunOptions, log: (line: string) => void): Promise<ReferenceColumns> {
  const request = { features: config.dataset.features, target: config.dataset.target };
  const file = profilePath(config, options.reference ?? config.dataset.reference, options.cwd);
  let profile: ProfileUse | null = null;
  if (file !== null) {
    const loaded = await loadReferenceProfile(file, input, request);
    if (loaded?.ok) {
      log(`[drift] reference read from its profile ${file} (made ${loaded.createdAt})`);
      return { data: loaded.data, sorted: true, profile: { path: file, used: true, reason: null } };
    }
    if (loaded) {
      profile = { path: file, used: false, reason: loaded.reason };
      log(`[drift] reference profile ${file} not used: ${loaded.reason}; reading ${describeInput(input)} (run driftgate drift profile to refresh it)`);
    }
  }
  return { ...(await readColumnsBig(input.files, request, { parser: options.parser, signal: options.signal })), profile };
}

/** The router's log set: router.log_path (a path or a glob) and the files rotated from it. */
async function resolveLogInput(pattern: string): Promise<InputFiles> {
  const set = await openLogSet(pattern, { rotated: true });
  await set.close();
  if (set.files.length === 0) throw new InputError(`${pattern}: ${isGlob(pattern) ? 'no files match' : 'file not found'}`, { code: 'INPUT_NOT_FOUND' });
  return { pattern, files: set.files.map((f) => f.path) };
}

/** Read a log set; a set in which no file is this config's log is bad input, named by its first problem. */
async function readLog(config: Config, input: InputFiles, window: { rows: number; since: number | null }, signal: AbortSignal | undefined) {
  let set: LogSet | null = null;
  try {
    set = await openLogSet(input.pattern, { rotated: true });
    const live = await readLogColumns(set, logSchema(config), window, { signal });
    const { unreadable } = live.quality;
    if (set.files.length > 0 && live.filesRead === 0) throw new InputError(`${unreadable[0]!.path}: ${unreadable[0]!.reason}`);
    return { live, files: set.files.map((f) => f.path) };
  } finally {
    await set?.close();
  }
}

async function readCurrent(
  config: Config,
  input: InputFiles,
  isLog: boolean,
  window: { rows: number; since: number | null },
  readOptions: { parser?: CsvParser; signal?: AbortSignal },
): Promise<CurrentColumns> {
  const { dataset } = config;
  if (isLog) {
    const { live, files } = await readLog(config, input, window, readOptions.signal);
    return {
      rows: live.rows,
      numeric: live.numeric,
      categorical: live.categorical,
      target: live.predictions,
      targetSource: 'prediction',
      source: {
        kind: 'log',
        pattern: input.pattern,
        files,
        window: window.rows,
        since: window.since === null ? null : new Date(window.since).toISOString(),
        first_ts: live.firstTs,
        last_ts: live.lastTs,
        quality: live.quality,
        profile: null,
      },
    };
  }
  const data = await readDataColumns(input.files, { features: dataset.features, target: dataset.target }, readOptions);
  return {
    rows: data.rows,
    numeric: data.numeric,
    categorical: data.categorical,
    target: data.target,
    targetSource: data.target ? 'target' : null,
    source: { kind: 'file', pattern: input.pattern, files: input.files, window: null, since: null, first_ts: null, last_ts: null, quality: null, profile: null },
  };
}

/**
 * The target's own drift test, a categorical feature's (chi-square and PSI, decided by the same rule): of the
 * predicted classes against the reference's labels for live traffic (prediction drift), of the labels for a
 * data set. Its own family: no correction across the input features, never counted in drift.share. Null
 * when a side has no values.
 */
function targetDrift(name: string, reference: ValueCounts | null, current: ValueCounts | null, settings: AnalyzeSettings): FeatureResult | null {
  const some = (counts: ValueCounts | null): counts is ValueCounts => counts !== null && [...counts.values()].some((n) => n > 0);
  if (!some(reference) || !some(current)) return null;
  const analysis = analyzeDrift([{ name, type: 'categorical', reference, current }], { ...settings, correction: 'none' });
  return featureResult(analysis.features[0]!);
}

function targetResult(name: string, classes: readonly string[], reference: ValueCounts | null, current: CurrentColumns): TargetResult | null {
  if (reference === null && current.target === null) return null;
  const total = (counts: ValueCounts | null): number => {
    let sum = 0;
    for (const count of counts?.values() ?? []) sum += count;
    return sum;
  };
  return {
    name,
    reference: reference ? shares(reference, classes) : null,
    current: current.target ? shares(current.target, classes) : null,
    current_source: current.target ? current.targetSource : null,
    n_reference: total(reference),
    n_current: total(current.target),
    drift: null,
  };
}
