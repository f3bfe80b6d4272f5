import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { InputError, UsageError } from '../../src/errors.js';
import { ksTwoSample } from '../../src/stats/ks.js';
import { mergeSparseBins, psiNumeric, psiPermutationPValue } from '../../src/drift/psi.js';
import { runDrift, type DriftRunOptions } from '../../src/drift/run-drift.js';
import type { DriftReport, DriftResult } from '../../src/drift/report-json.js';
import { PROJECT_ROOT } from '../../src/project.js';
import { tempDir, writeConfig } from '../helpers/config.js';
import { psiExpected } from '../../src/stats/psi-null.js';
import { adjustPValues } from '../../src/stats/multiple-testing.js';

const IRIS = path.join(PROJECT_ROOT, 'data', 'iris.csv');
const FEATURES = ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'] as const;
const LOG_HEADER = `ts,event,request_id,user_id,variant,model_alias,model_version,${FEATURES.join(',')},prediction,label,latency_ms\n`;

/** Iris rows as numbers, the species last. */
function irisRows(): [number, number, number, number, string][] {
  return readFileSync(IRIS, 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .map((line) => {
      const cells = line.split(',');
      return [Number(cells[0]), Number(cells[1]), Number(cells[2]), Number(cells[3]), cells[4]!];
    });
}

/** Iris with the petal columns stretched: the drift the demo uses. */
function driftedRows(): [number, number, number, number, string][] {
  return irisRows().map(([a, b, c, d, s]) => [a, b, Math.round((c * 1.25 + 0.4) * 100) / 100, Math.round((d * 1.3 + 0.15) * 100) / 100, s]);
}

function csv(rows: readonly (readonly (number | string)[])[], header = `${FEATURES.join(',')},species`): string {
  return `${header}\n${rows.map((r) => r.join(',')).join('\n')}\n`;
}

function column(rows: readonly (readonly (number | string)[])[], k: number): Float64Array {
  return Float64Array.from(rows, (r) => r[k] as number);
}

const pinned = (dir: string): Pick<DriftRunOptions, 'now' | 'newId' | 'clock' | 'cwd'> => {
  let t = 0;
  return { now: () => new Date('2026-11-28T04:35:12.345Z'), newId: () => '20261128T043512Z-abcdef', clock: () => (t += 10), cwd: dir };
};

function setup(patch: Record<string, unknown> = {}): { dir: string; config: ReturnType<typeof loadConfig> } {
  const dir = tempDir('driftgate-run-');
  return { dir, config: loadConfig(writeConfig(dir, patch)) };
}

describe('runDrift on files', () => {
  it('reports the tested numbers for every feature, the target, and writes report.json and report.html', async () => {
    const { dir, config } = setup();
    const current = path.join(dir, 'current.csv');
    writeFileSync(current, csv(driftedRows()));
    const result = await runDrift(config, { current, ...pinned(dir) });

    const reference = irisRows();
    const drifted = driftedRows();
    const measured = FEATURES.map((name, k) => {
      const ks = ksTwoSample(column(reference, k), column(drifted, k));
      const binned = psiNumeric(column(reference, k), column(drifted, k));
      // PSI's null counts the bins holding data; 150 + 150 rows is below PSI_PERMUTATION_MAX_ROWS, so a permutation test on the same bins.
      const bins = binned.referenceCounts.filter((c, i) => c + binned.currentCounts[i]! > 0).length;
      const merged = mergeSparseBins(binned.referenceCounts, binned.currentCounts);
      return { name, ks, psi: binned.psi, psiExpected: psiExpected(bins, 150, 150), psiP: psiPermutationPValue(merged.referenceCounts, merged.currentCounts) };
    });
    // The bundled config corrects across the features with Benjamini–Hochberg.
    const adjustedKs = adjustPValues(measured.map((f) => f.ks.pvalue), 'bh');
    const adjustedPsi = adjustPValues(measured.map((f) => f.psiP), 'bh');
    const expected = measured.map(({ name, ks, psi, psiExpected: expectedPsi, psiP }, k) => {
      // The bundled config's psi_rule is both: PSI >= 0.2 and its corrected p-value <= 0.05.
      const psiDrifted = psi >= 0.2 && adjustedPsi[k]! <= 0.05;
      // ... and ks_min_statistic 0.05: a KS test drifts only with D >= 0.05 as well.
      const testDrifted = adjustedKs[k]! <= 0.05 && ks.statistic >= 0.05;
      return {
        name, type: 'numeric', psi, ks_statistic: ks.statistic, ks_pvalue: ks.pvalue, test: 'ks', statistic: ks.statistic, pvalue: ks.pvalue,
        psi_expected: expectedPsi, psi_pvalue: psiP, psi_pvalue_method: 'permutation', pvalue_adjusted: adjustedKs[k], psi_pvalue_adjusted: adjustedPsi[k],
        psi_drifted: psiDrifted, test_drifted: testDrifted, drifted: psiDrifted || testDrifted,
      };
    });
    const reportDir = path.join(dir, 'reports', 'drift', '20261128T043512Z-abcdef');
    expect(result).toEqual({
      id: '20261128T043512Z-abcdef',
      status: 'ok',
      reason: null,
      drift_detected: true,
      share_drifted: 0.5,
      n_drifted: 2,
      n_features: 4,
      n_reference: 150,
      n_current: 150,
      features: expected,
      target: {
        name: 'species',
        reference: { setosa: 1 / 3, versicolor: 1 / 3, virginica: 1 / 3 },
        current: { setosa: 1 / 3, versicolor: 1 / 3, virginica: 1 / 3 },
        current_source: 'target',
        n_reference: 150,
        n_current: 150,
        // Label drift: the same 50/50/50 classes on both sides, so χ² 0, PSI 0 and both p-values 1
        // (the permutation p counts the observed PSI itself: 1000/1000). Its own family: no correction.
        drift: {
          name: 'species', type: 'categorical', psi: 0, ks_statistic: null, ks_pvalue: null, test: 'chi2', statistic: 0, pvalue: 1,
          psi_expected: 2 * (1 / 150 + 1 / 150), psi_pvalue: 1, psi_pvalue_method: 'permutation', pvalue_adjusted: 1, psi_pvalue_adjusted: 1,
          psi_drifted: false, test_drifted: false, drifted: false,
        },
      },
      thresholds: { psi_threshold: 0.2, ks_alpha: 0.05, rule: 'any', psi_rule: 'both', ks_min_statistic: 0.05, correction: 'bh', share: 0.5, binning: 'sturges', quantile_bins: 10, min_rows: 30 },
      reference: { kind: 'file', pattern: IRIS, files: [IRIS], window: null, since: null, first_ts: null, last_ts: null, quality: null, profile: null },
      current: { kind: 'file', pattern: current, files: [current], window: null, since: null, first_ts: null, last_ts: null, quality: null, profile: null },
      report_dir: reportDir,
      timings_ms: { read_reference: expect.any(Number), read_current: expect.any(Number), analyze: 10, report: 10, total: 50 },
    });
    // The two reads overlap, each timed from their common start: one clock tick for the first to finish, two for the other.
    expect([result.timings_ms.read_reference, result.timings_ms.read_current].sort()).toEqual([10, 20]);
    expect(expected.map((f) => f.drifted)).toEqual([false, false, true, true]);

    expect(readdirSync(reportDir).sort()).toEqual(['report.html', 'report.json']);
    const report = JSON.parse(readFileSync(path.join(reportDir, 'report.json'), 'utf8')) as DriftReport;
    const { timings_ms: _t, ...withoutTimings } = result;
    expect(report).toMatchObject({ ...withoutTimings, format: 'driftgate.drift-report/1', created_at: '2026-11-28T04:35:12.345Z', config_file: config.source.file });
    expect(report.features[2]).toMatchObject({
      ks_method: 'exact',
      distribution: { kind: 'sturges', regrouped_from: null },
      reference_summary: { n: 150, min: 1, max: 6.9 },
    });
    const petal = report.features[2]!.distribution;
    expect(petal.reference_counts.reduce((a, b) => a + b, 0)).toBe(150);
    expect(petal.reference_shares[0]).toBe(petal.reference_counts[0]! / 150);
  });

  it('report.html is one offline page: a table row and a chart per feature, the drifting ones marked', async () => {
    const { dir, config } = setup();
    const current = path.join(dir, 'current.csv');
    writeFileSync(current, csv(driftedRows()));
    const result = await runDrift(config, { current, ...pinned(dir) });
    const html = readFileSync(path.join(result.report_dir!, 'report.html'), 'utf8');
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).toContain('<h1>Drift detected</h1>');
    expect(html).toContain('2 of 4 features drifted (50.0%; the data set drifts at 50.0% or more): petal_length, petal_width.');
    expect(html.match(/<tr class="drifted">/g)).toHaveLength(2);
    expect(html.match(/<figure id="feature-[a-z_]+" class="drifted">/g)).toHaveLength(2);
    expect(html.match(/<svg /g)).toHaveLength(4);
    expect(html).toContain('<h2>Target: species</h2>');
    // The rule as configured, the correction named (the bundled config: psi_rule both, ks_min_statistic 0.05, Benjamini–Hochberg).
    expect(html).toContain(
      'A feature drifts when PSI ≥ 0.2 and PSI&#39;s p-value under no drift (Benjamini–Hochberg-corrected across the features) ≤ 0.05, ' +
        'or its test p-value (Benjamini–Hochberg-corrected across the features) ≤ 0.05 and, for KS, its statistic ≥ 0.05 (rule &quot;any&quot;, psi_rule &quot;both&quot;; ' +
        'KS for numeric features, chi-square for categorical ones). P-values are Benjamini–Hochberg-corrected across the features (drift.correction bh). ' +
        'The data set drifts when at least 50.0% of its features drift.',
    );
    // Self-contained: no scripts, no stylesheets or images fetched, no links out.
    expect(html).not.toMatch(/<script|<link|<img|src=|href="(?!#)/);
  });

  it('categorical features get a chi-square test; names and categories are escaped in the HTML', async () => {
    const { dir, config } = setup({ dataset: { features: ['sepal_length', { name: 'shade', type: 'categorical' }], target: 'species' } });
    const reference = path.join(dir, 'reference.csv');
    const current = path.join(dir, 'current.csv');
    const rows = (shades: string[]) => shades.map((s, i) => [4 + (i % 30) / 10, s, 'setosa']);
    writeFileSync(reference, csv(rows([...Array(60).fill('light'), ...Array(40).fill('dark')]), 'sepal_length,shade,species'));
    writeFileSync(current, csv(rows([...Array(20).fill('light'), ...Array(40).fill('dark'), ...Array(10).fill('<b>new</b>')]), 'sepal_length,shade,species'));
    const result = await runDrift(config, { reference, current, ...pinned(dir) });
    expect(result.features[1]).toMatchObject({ name: 'shade', type: 'categorical', ks_statistic: null, ks_pvalue: null, test: 'chi2', statistic: Infinity, pvalue: 0, drifted: true });
    expect(result.target).toMatchObject({ reference: { setosa: 1, versicolor: 0, virginica: 0 } });
    const html = readFileSync(path.join(result.report_dir!, 'report.html'), 'utf8');
    expect(html).toContain('&lt;b&gt;new&lt;/b&gt;');
    expect(html).not.toContain('<b>new</b>');
    const report = JSON.parse(readFileSync(path.join(result.report_dir!, 'report.json'), 'utf8')) as { features: { statistic: unknown }[] };
    expect(report.features[1]!.statistic).toBe('Infinity');
  });

  it('quantile binning writes the outer edges as "-Infinity" and "Infinity"', async () => {
    const { dir, config } = setup({ drift: { binning: 'quantile', quantile_bins: 4 } });
    const current = path.join(dir, 'current.csv');
    writeFileSync(current, csv(driftedRows()));
    const result = await runDrift(config, { current, ...pinned(dir) });
    const text = readFileSync(path.join(result.report_dir!, 'report.json'), 'utf8');
    const report = JSON.parse(text) as { features: { distribution: { kind: string; edges: (number | string)[] } }[] };
    const edges = report.features[0]!.distribution.edges;
    expect(report.features[0]!.distribution.kind).toBe('quantile');
    expect(edges[0]).toBe('-Infinity');
    expect(edges[edges.length - 1]).toBe('Infinity');
    expect(edges.map(Number).every((e, i, all) => i === 0 || e > all[i - 1]!)).toBe(true);
  });

  it('no drift on the reference against itself; a path may be relative to the working directory', async () => {
    const { dir, config } = setup();
    writeFileSync(path.join(dir, 'copy.csv'), readFileSync(IRIS));
    const result = await runDrift(config, { reference: 'copy.csv', current: IRIS, ...pinned(dir) });
    expect(result).toMatchObject({ drift_detected: false, share_drifted: 0, reference: { files: [path.join(dir, 'copy.csv')] } });
    expect(result.features.map((f) => [f.psi, f.ks_statistic, f.ks_pvalue])).toEqual(FEATURES.map(() => [0, 0, 1]));
  });

  it('a constant column is not an error: KS and PSI are well defined', async () => {
    const { dir, config } = setup();
    const constant = (value: number) => csv(irisRows().map(([, b, c, d, s]) => [value, b, c, d, s]));
    writeFileSync(path.join(dir, 'reference.csv'), constant(5));
    writeFileSync(path.join(dir, 'same.csv'), constant(5));
    writeFileSync(path.join(dir, 'moved.csv'), constant(6));
    const same = await runDrift(config, { reference: 'reference.csv', current: 'same.csv', ...pinned(dir) });
    expect(same.features[0]).toMatchObject({ name: 'sepal_length', psi: 0, ks_statistic: 0, ks_pvalue: 1, drifted: false });
    const moved = await runDrift(config, { reference: 'reference.csv', current: 'moved.csv', ...pinned(dir), newId: () => 'moved' });
    const ks = ksTwoSample(new Float64Array(150).fill(5), new Float64Array(150).fill(6));
    expect(moved.features[0]).toMatchObject({ ks_statistic: 1, ks_pvalue: ks.pvalue, psi_drifted: true, drifted: true });
  });

  it('fewer current rows than min_rows in a data file is bad input', async () => {
    const { dir, config } = setup();
    const current = path.join(dir, 'small.csv');
    writeFileSync(current, csv(irisRows().slice(0, 12)));
    await expect(runDrift(config, { current, ...pinned(dir) })).rejects.toThrow(new InputError(`not enough current rows: expected at least 30, got 12 from ${current}`));
  });

  it('--window and --since apply to logs only', async () => {
    const { dir, config } = setup();
    const current = path.join(dir, 'current.csv');
    writeFileSync(current, csv(irisRows()));
    await expect(runDrift(config, { current, window: 10, ...pinned(dir) })).rejects.toThrow(
      new UsageError(`--window applies to a predictions log (--current log or a log file), got the data set ${current}`),
    );
  });
});

function logRow(second: number, values: readonly number[], predicted = 'setosa'): string {
  const ts = new Date(Date.UTC(2026, 10, 28, 3, 0, 0) + second * 1000).toISOString();
  return `${ts},prediction,r${second},u${second},A,prod,1,${values.join(',')},${predicted},,3.2\n`;
}

describe('runDrift on live traffic', () => {
  it('reads the last drift.log_window prediction rows of router.log_path; the predictions stand in for the target', async () => {
    const { dir, config } = setup({ drift: { log_window: 100 } });
    const rows = driftedRows();
    writeFileSync(path.join(dir, 'predictions.csv'), LOG_HEADER + rows.map((r, i) => logRow(i, r.slice(0, 4) as number[], r[4])).join(''));
    const result = await runDrift(config, { current: 'log', ...pinned(dir) });
    expect(result).toMatchObject({
      status: 'ok',
      n_current: 100,
      drift_detected: true,
      current: { kind: 'log', files: [path.join(dir, 'predictions.csv')], window: 100, since: null, first_ts: '2026-11-28T03:00:50.000Z', last_ts: '2026-11-28T03:02:29.000Z' },
      target: { current_source: 'prediction', n_current: 100, current: { setosa: 0, versicolor: 0.5, virginica: 0.5 } },
    });
    const expected = ksTwoSample(column(irisRows(), 2), column(rows.slice(50), 2));
    expect(result.features[2]).toMatchObject({ ks_statistic: expected.statistic, ks_pvalue: expected.pvalue });

    // Prediction drift: no setosa predicted against a reference of thirds. χ² of (0, 50, 50) against 33⅓ each
    // is 50, and its p with 2 degrees of freedom is e^-25; the empty share is filled with 1e-4 for PSI.
    const drift = result.target!.drift!;
    expect(drift.statistic).toBeCloseTo(50, 10);
    expect(drift.pvalue).toBeCloseTo(Math.exp(-25), 20);
    expect(drift.psi).toBeCloseTo((1 / 3 - 1e-4) * Math.log(1 / 3 / 1e-4) + 2 * (1 / 3 - 0.5) * Math.log(1 / 3 / 0.5), 12);
    expect(drift).toMatchObject({ name: 'species', type: 'categorical', test: 'chi2', psi_drifted: true, test_drifted: true, drifted: true });
    // Its own verdict: the data set's is about the 4 input features only.
    expect({ n_features: result.n_features, n_drifted: result.n_drifted, share_drifted: result.share_drifted }).toEqual({ n_features: 4, n_drifted: 4, share_drifted: 1 });
    const html = readFileSync(path.join(result.report_dir!, 'report.html'), 'utf8');
    expect(html).toContain('<td>species <span class="muted">(prediction; not counted)</span></td><td>prediction</td>');
  });

  it('globs several replica logs, --window and --since narrowing them', async () => {
    const { dir, config } = setup({ router: { log_path: 'logs/predictions-*.csv' } });
    const rows = irisRows();
    const { mkdirSync } = await import('node:fs');
    mkdirSync(path.join(dir, 'logs'));
    const half = (parity: number) => LOG_HEADER + rows.map((r, i) => (i % 2 === parity ? logRow(i, r.slice(0, 4) as number[]) : '')).join('');
    writeFileSync(path.join(dir, 'logs', 'predictions-1.csv'), half(0));
    writeFileSync(path.join(dir, 'logs', 'predictions-2.csv'), half(1));
    const result = await runDrift(config, { current: 'log', window: 60, since: '2026-11-28T03:00:30Z', ...pinned(dir) });
    expect(result.n_current).toBe(60);
    expect(result.current).toMatchObject({ pattern: path.join(dir, 'logs', 'predictions-*.csv'), window: 60, since: '2026-11-28T03:00:30.000Z', first_ts: '2026-11-28T03:01:30.000Z', last_ts: '2026-11-28T03:02:29.000Z' });
    expect(result.current.files).toHaveLength(2);
  });

  it('not enough live rows yet is "insufficient_data": exit-0 material, no drift, no report', async () => {
    const { dir, config } = setup();
    const logs: string[] = [];
    writeFileSync(path.join(dir, 'predictions.csv'), LOG_HEADER + irisRows().slice(0, 12).map((r, i) => logRow(i, r.slice(0, 4) as number[])).join(''));
    const result: DriftResult = await runDrift(config, { current: 'log', log: (line) => logs.push(line), ...pinned(dir) });
    const reason = `not enough current rows: expected at least 30, got 12 from ${path.join(dir, 'predictions.csv')}`;
    expect(result).toMatchObject({ status: 'insufficient_data', reason, drift_detected: false, share_drifted: 0, n_drifted: 0, n_current: 12, n_reference: 150, features: [], report_dir: null });
    expect(logs).toContain(`[drift] ${reason}; nothing tested, reporting no drift (status insufficient_data)`);
    expect(readdirSync(dir)).not.toContain('reports');
  });

  it('a --current path whose header is the log header is read as a log', async () => {
    const { dir, config } = setup();
    const file = path.join(dir, 'elsewhere.csv');
    writeFileSync(file, LOG_HEADER + irisRows().map((r, i) => logRow(i, r.slice(0, 4) as number[])).join(''));
    const result = await runDrift(config, { current: file, window: 40, ...pinned(dir) });
    expect(result).toMatchObject({ n_current: 40, current: { kind: 'log', window: 40 } });
  });
});
