import { UsageError } from '../../errors.js';
import type { DriftResult } from '../../drift/report-json.js';
import { formatNumber, jsonSafe } from '../../report/index.js';
import { LOG_SOURCE, runDrift } from '../../drift/run-drift.js';
import { makeReferenceProfile } from '../../drift/reference-profile.js';
import { positiveIntOption, stringOption, type Command } from '../command.js';

function humanSummary(result: DriftResult): string {
  if (result.status === 'insufficient_data') return `no drift decision: ${result.reason} (exit 0, status insufficient_data)`;
  const headline = result.drift_detected ? 'DRIFT DETECTED' : 'no drift';
  const lines = [
    `${headline}: ${result.n_drifted} of ${result.n_features} features drifted (${(result.share_drifted * 100).toFixed(0)}%; threshold ${(result.thresholds.share * 100).toFixed(0)}%)`,
    `reference ${result.n_reference} rows, current ${result.n_current} rows${result.current.kind === 'log' ? ' (predictions log)' : ''}`,
    '',
  ];
  const width = Math.max(7, ...result.features.map((f) => f.name.length));
  lines.push(`${'feature'.padEnd(width)}  ${'type'.padEnd(11)}  ${'PSI'.padStart(8)}  test  ${'statistic'.padStart(9)}  ${'p-value'.padStart(9)}  drifted`);
  for (const f of result.features) {
    lines.push(
      `${f.name.padEnd(width)}  ${f.type.padEnd(11)}  ${formatNumber(f.psi).padStart(8)}  ${f.test.padEnd(4)}  ${formatNumber(f.statistic).padStart(9)}  ${formatNumber(f.pvalue, 3).padStart(9)}  ${f.drifted ? 'yes' : 'no'}`,
    );
  }
  const target = result.target;
  if (target?.drift) {
    const t = target.drift;
    const what = target.current_source === 'prediction' ? 'prediction drift' : 'target drift';
    lines.push(`${target.name} (${what}, not counted): PSI ${formatNumber(t.psi)}, chi2 ${formatNumber(t.statistic)}, p-value ${formatNumber(t.pvalue, 3)}, ${t.drifted ? 'drifted' : 'stable'}`);
  }
  lines.push('', `report: ${result.report_dir}/report.html`);
  return lines.join('\n');
}

const command: Command = {
  summary: 'Measure data drift (PSI + KS per feature) of current data or live traffic against the reference',
  usage: '--current PATH|log [--reference PATH] | profile [--reference PATH]',
  details: [
    'Each feature gets a PSI and a test: two-sample KS for numeric features (scipy ks_2samp numbers),',
    'chi-square for categorical ones. A feature drifts by drift.rule: psi (PSI >= drift.psi_threshold),',
    'ks (p-value <= drift.ks_alpha), any or all. The data set drifts when the share of drifted features',
    'is at least drift.share. The target column is reported, never counted as a feature.',
    '',
    '--reference defaults to dataset.reference. Paths may be globs (quote them): all matching files are',
    'read together. --current log reads router.log_path (replicas: a glob such as logs/predictions-*.csv):',
    'the feature columns of the last --window N prediction rows (default drift.log_window), merged by ts,',
    'only rows at or after --since ISO_TIME if given. A --current path whose header is the predictions',
    "log's (ts,event,request_id,...) is read the same way.",
    '',
    'Fewer current rows than drift.min_rows: for live traffic (a log) that is the normal state before',
    'traffic arrives, so it exits 0 with status "insufficient_data", drift_detected false, no report and',
    'the reason on stderr and in the JSON; a scheduled DAG then takes its no-drift branch. For a data file',
    'it is bad input: exit 2. A missing file, a missing feature column, a non-numeric or empty value and',
    'an empty set exit 2 with the file, line and column.',
    '',
    'Each run writes <drift.reports_dir>/<id>/report.json and report.html (self-contained; opens offline).',
    'With --json the last stdout line is {id, status, drift_detected, share_drifted, n_reference, n_current,',
    'features: [{name, type, psi, ks_statistic, ks_pvalue, test, statistic, pvalue, drifted, ...}],',
    'target, thresholds, report_dir, ...}; infinite numbers are written as the strings "Infinity"/"-Infinity".',
    'Drift found is not an error: exit 0.',
    '',
    'driftgate drift profile [--reference PATH] precomputes the reference once: its numeric columns sorted,',
    'its categorical and target counts, and the size and mtime of each file, written (atomically) to',
    'drift.reference_profile, by default <reference>.profile beside a single-file reference. Drift then',
    'reads the profile instead of parsing and sorting the reference, with the same numbers; a profile that',
    'no longer matches the files or the config is not used (stderr and reference.profile in the JSON say why).',
  ].join('\n'),
  options: {
    reference: { type: 'string', valueName: 'PATH', description: 'reference CSV or glob (default dataset.reference)' },
    current: { type: 'string', valueName: 'PATH|log', description: "current CSV or glob, or 'log' for router.log_path" },
    window: { type: 'string', valueName: 'N', description: 'live: the last N prediction rows (default drift.log_window)' },
    since: { type: 'string', valueName: 'ISO_TIME', description: 'live: only prediction rows at or after this time' },
  },
  async run({ values, positionals, config, log, signal }) {
    if (positionals.length > 0 && !(positionals.length === 1 && positionals[0] === 'profile')) {
      throw new UsageError(`drift: expected no argument or profile, got ${positionals.map((p) => JSON.stringify(p)).join(' ')}`);
    }
    if (positionals[0] === 'profile') {
      if (values.current !== undefined || values.window !== undefined || values.since !== undefined) throw new UsageError('drift profile: takes only --reference (the current set is not part of a profile)');
      const made = await makeReferenceProfile(config, { reference: stringOption(values, 'reference') ?? null, signal });
      log(`[drift] profile of ${made.rows} reference rows × ${made.features} features written to ${made.profile} (${made.bytes} bytes)`);
      return { result: made, human: `reference profile: ${made.profile} (${made.rows} rows, ${made.features} features, ${made.bytes} bytes)` };
    }
    const current = stringOption(values, 'current');
    if (current === undefined) throw new UsageError(`drift: expected --current PATH|${LOG_SOURCE}`);
    const result = await runDrift(config, {
      reference: stringOption(values, 'reference') ?? null,
      current,
      window: values.window === undefined ? null : positiveIntOption(values, 'window', 0),
      since: stringOption(values, 'since') ?? null,
      log,
      signal,
    });
    return { result: jsonSafe(result), human: humanSummary(result) };
  },
};

export default command;
