import path from 'node:path';
import { UsageError } from '../../errors.js';
import { estimatePerformance, performanceVerdict, type PerformanceWindow } from '../../performance/estimate.js';
import { loadCalibrations } from '../../performance/calibrations.js';
import { logSchema, openLogSet, parseLogTime, scanLog, type LogEntry } from '../../prediction-log/index.js';
import { connectRegistry } from '../../registry/index.js';
import { formatNumber, textTable } from '../../report/index.js';
import { positiveIntOption, stringOption, type Command } from '../command.js';

const HOUR_MS = 3_600_000;

function percentOrDash(x: number | null): string {
  return x === null ? '-' : `${(x * 100).toFixed(1)}%`;
}

function table(windows: readonly PerformanceWindow[]): string {
  const header = ['window start', 'source', 'version', 'rows', 'estimated', '± se', 'labelled', 'realised'];
  const lines = windows.map((w) => [
    w.start.slice(0, 16),
    w.source === 'shadow' ? `shadow (${w.alias})` : `${w.source} (${w.alias})`,
    w.version,
    String(w.n),
    percentOrDash(w.estimated),
    w.standardError === null ? '-' : formatNumber(w.standardError * 100, 2),
    String(w.labelled),
    percentOrDash(w.realised),
  ]);
  return textTable(header, lines);
}

const command: Command = {
  summary: 'Estimate each model\'s accuracy from its logged probabilities (CBPE), beside the realised accuracy',
  usage: '[--log PATH] [--window-hours N] [--since ISO_TIME]',
  details: [
    'Reads the predictions log (router.log_path, or --log; a glob for replicas) and, per arm (A, B), shadow',
    'version and window of --window-hours (default performance.window_hours, 24), estimates accuracy from the probability of each',
    "predicted class, calibrated on the held-out predictions of that version's training run",
    '(calibration/holdout.json in MLflow; confidence-based performance estimation as NannyML does it), and',
    'shows the realised accuracy of the rows whose request got a label. A version without a calibration is',
    'counted, not estimated. The estimate holds under covariate shift, not when the relation between the',
    'inputs and the label changes. The verdict compares prod\'s latest estimated window with its held-out',
    'accuracy: drop_detected when it fell by more than performance.max_drop.',
  ].join('\n'),
  options: {
    log: { type: 'string', valueName: 'PATH', description: 'the predictions log or a glob (default router.log_path)' },
    'window-hours': { type: 'string', valueName: 'N', description: 'window length in hours (default performance.window_hours)' },
    since: { type: 'string', valueName: 'ISO_TIME', description: 'only rows at or after this time' },
  },
  async run({ values, config }) {
    const windowHours = values['window-hours'] === undefined ? config.performance.window_hours : positiveIntOption(values, 'window-hours', 0);
    const sinceText = stringOption(values, 'since');
    const since = sinceText === undefined ? null : parseLogTime(sinceText);
    if (since !== null && Number.isNaN(since)) throw new UsageError(`--since: expected an ISO-8601 time (e.g. 2026-11-28T04:00:00Z), got ${JSON.stringify(sinceText)}`);
    const pattern = stringOption(values, 'log') === undefined ? config.router.log_path : path.resolve(stringOption(values, 'log')!);
    const set = await openLogSet(pattern, { rotated: true });
    const entries: LogEntry[] = [];
    let report;
    try {
      report = await scanLog(set, logSchema(config), (entry) => {
        if (since === null || entry.ts >= since) entries.push(entry);
      });
    } finally {
      await set.close();
    }
    const versions = new Set(entries.flatMap((e) => (e.event === 'prediction' || e.event === 'shadow' ? [e.version] : [])));
    const client = await connectRegistry(config);
    const calibrations = await loadCalibrations(client, config.mlflow.model_name, versions);
    const windows = estimatePerformance(entries, config.dataset.classes, calibrations, windowHours * HOUR_MS);
    const verdict = performanceVerdict(windows, calibrations, config.performance.max_drop);
    const uncalibrated = [...calibrations].filter(([, c]) => c === null).map(([v]) => v);
    const result = {
      model_name: config.mlflow.model_name,
      log: { pattern, files: set.files.map((f) => f.path), malformed_rows: report.malformedCount },
      window_hours: windowHours,
      since: since === null ? null : new Date(since).toISOString(),
      calibration: Object.fromEntries([...calibrations].map(([v, c]) => [v, c === null ? null : { rows: c.rows, holdout_accuracy: c.accuracy }])),
      // Prod's latest estimated window against its held-out accuracy: what the monitor retrains on (performance.max_drop).
      verdict: verdict && {
        version: verdict.version, window_start: verdict.start, estimated_accuracy: verdict.estimated, holdout_accuracy: verdict.holdoutAccuracy,
        drop: verdict.drop, max_drop: verdict.maxDrop, drop_detected: verdict.dropDetected,
      },
      windows: windows.map((w) => ({
        source: w.source, alias: w.alias, version: w.version, start: w.start, end: w.end, n: w.n, scored: w.scored,
        estimated_accuracy: w.estimated, standard_error: w.standardError, labelled: w.labelled, realised_accuracy: w.realised,
      })),
    };
    const notes = uncalibrated.length ? `\nno calibration for version${uncalibrated.length > 1 ? 's' : ''} ${uncalibrated.join(', ')} (trained before calibration/holdout.json was logged): counted, not estimated` : '';
    return { result, human: windows.length ? `${config.mlflow.model_name}: accuracy per ${windowHours} h window\n${table(windows)}${notes}` : `${config.mlflow.model_name}: no predictions in ${pattern}` };
  },
};

export default command;
