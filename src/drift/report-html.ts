/**
 * report.html: one self-contained page (inline CSS and SVG, no scripts, nothing fetched) that opens
 * offline. The verdict first, then every feature's numbers with the drifting ones marked, the
 * target's class shares, and per feature the reference and current distributions overlaid.
 */

import { escapeHtml, formatNumber, htmlPage, niceCeiling, svgChart } from '../report/html.js';
import type { DriftReport, ReportDistribution, ReportFeature, SourceResult, TargetResult } from './report-json.js';

const REFERENCE_COLOR = '#4c78a8';
const CURRENT_COLOR = '#d6404e';

function percent(share: number): string {
  const p = share * 100;
  return `${p >= 10 || p === 0 ? p.toFixed(1) : p.toPrecision(2)}%`;
}

function anchor(name: string): string {
  return `feature-${name.replace(/[^A-Za-z0-9_-]/g, '_')}`;
}

const CORRECTION_NAMES = { bh: 'Benjamini–Hochberg', holm: 'Holm' } as const;

function ruleText(report: DriftReport): string {
  const t = report.thresholds;
  const corrected = t.correction === 'none' ? '' : ` (${CORRECTION_NAMES[t.correction]}-corrected across the features)`;
  const significant = `PSI's p-value under no drift${corrected} ≤ ${t.ks_alpha}`;
  const psi = t.psi_rule === 'threshold' ? `PSI ≥ ${t.psi_threshold}` : t.psi_rule === 'significant' ? significant : `PSI ≥ ${t.psi_threshold} and ${significant}`;
  const minimum = t.ks_min_statistic > 0 ? ` and, for KS, its statistic ≥ ${t.ks_min_statistic}` : '';
  const test = `its test p-value${corrected} ≤ ${t.ks_alpha}${minimum}`;
  const when = t.rule === 'psi' ? psi : t.rule === 'ks' ? test : t.rule === 'any' ? `${psi}, or ${test}` : `${psi}, and ${test}`;
  const correction = t.correction === 'none' ? 'No correction for testing several features.' : `P-values are ${CORRECTION_NAMES[t.correction]}-corrected across the features (drift.correction ${t.correction}).`;
  return `A feature drifts when ${when} (rule "${t.rule}", psi_rule "${t.psi_rule}"; KS for numeric features, chi-square for categorical ones). ${correction} The data set drifts when at least ${percent(t.share)} of its features drift.`;
}

function sourceRow(label: string, source: SourceResult, rows: number): string {
  const files = source.files.length === 1 ? escapeHtml(source.files[0]!) : `${escapeHtml(source.pattern)} <span class="muted">(${source.files.length} files)</span>`;
  const extra: string[] = [];
  if (source.kind === 'log') {
    extra.push(`predictions log, last ${source.window ?? '?'} prediction rows`);
    if (source.since) extra.push(`since ${escapeHtml(source.since)}`);
    if (source.first_ts && source.last_ts) extra.push(`${escapeHtml(source.first_ts)} → ${escapeHtml(source.last_ts)}`);
  }
  return `<tr><th>${label}</th><td>${files}${extra.length ? `<div class="muted">${extra.join('; ')}</div>` : ''}</td><td class="num">${rows.toLocaleString('en-US')} rows</td></tr>`;
}

function meanShift(feature: ReportFeature): string {
  const ref = feature.reference_summary;
  const cur = feature.current_summary;
  if (!ref || !cur) return '<span class="muted">—</span>';
  const shift = ref.std > 0 ? ` <span class="muted">(${cur.mean - ref.mean >= 0 ? '+' : '−'}${formatNumber(Math.abs(cur.mean - ref.mean) / ref.std, 2)} sd)</span>` : '';
  return `${formatNumber(ref.mean)} → ${formatNumber(cur.mean)}${shift}`;
}

function featureRow(feature: ReportFeature): string {
  const mark = (flag: boolean, text: string): string => (flag ? `<strong class="hit">${text}</strong>` : text);
  return [
    `<tr class="${feature.drifted ? 'drifted' : ''}">`,
    `<td><a href="#${anchor(feature.name)}">${escapeHtml(feature.name)}</a></td>`,
    `<td>${feature.type}</td>`,
    `<td class="num">${mark(feature.psi_drifted, formatNumber(feature.psi))}</td>`,
    `<td>${feature.test === 'ks' ? 'KS' : 'χ²'}</td>`,
    `<td class="num">${formatNumber(feature.statistic)}</td>`,
    `<td class="num">${mark(feature.test_drifted, formatNumber(feature.pvalue, 3))}</td>`,
    `<td class="num">${meanShift(feature)}</td>`,
    `<td>${feature.drifted ? '<span class="badge drift">drifted</span>' : '<span class="badge ok">stable</span>'}</td>`,
    '</tr>',
  ].join('');
}

/** The target's own test as a row of the features table: prediction drift for live traffic, label drift for a data set. */
function targetRow(target: TargetResult | null): string {
  const test = target?.drift;
  if (!target || !test) return '';
  const mark = (flag: boolean, text: string): string => (flag ? `<strong class="hit">${text}</strong>` : text);
  const what = target.current_source === 'prediction' ? 'prediction' : 'target';
  return [
    `<tr class="${test.drifted ? 'drifted' : ''}">`,
    `<td>${escapeHtml(target.name)} <span class="muted">(${what}; not counted)</span></td>`,
    `<td>${what}</td>`,
    `<td class="num">${mark(test.psi_drifted, formatNumber(test.psi))}</td>`,
    '<td>χ²</td>',
    `<td class="num">${formatNumber(test.statistic)}</td>`,
    `<td class="num">${mark(test.test_drifted, formatNumber(test.pvalue, 3))}</td>`,
    '<td class="num">—</td>',
    `<td>${test.drifted ? '<span class="badge drift">drifted</span>' : '<span class="badge ok">stable</span>'}</td>`,
    '</tr>',
  ].join('');
}

function targetSection(target: TargetResult | null): string {
  if (!target) return '';
  const classes = [...new Set([...Object.keys(target.reference ?? {}), ...Object.keys(target.current ?? {})])];
  const currentLabel = target.current_source === 'prediction' ? 'current (predicted)' : 'current';
  const rows = classes
    .map((c) => {
      const r = target.reference?.[c];
      const k = target.current?.[c];
      const delta = r !== undefined && k !== undefined ? `${k - r >= 0 ? '+' : '−'}${percent(Math.abs(k - r))}` : '—';
      return `<tr><td>${escapeHtml(c)}</td><td class="num">${r === undefined ? '—' : percent(r)}</td><td class="num">${k === undefined ? '—' : percent(k)}</td><td class="num">${delta}</td></tr>`;
    })
    .join('');
  return [
    `<section><h2>Target: ${escapeHtml(target.name)}</h2>`,
    '<p class="muted">The target is never counted as a feature: its test (the last row of the features table) has its own verdict.',
    target.current_source === 'prediction' ? ' Live traffic carries no labels up front, so the current side shows what the model predicted: prediction drift.' : '',
    '</p>',
    `<table class="narrow"><thead><tr><th>class</th><th>reference <span class="muted">(${target.n_reference.toLocaleString('en-US')})</span></th><th>${currentLabel} <span class="muted">(${target.n_current.toLocaleString('en-US')})</span></th><th>change</th></tr></thead><tbody>${rows}</tbody></table>`,
    '</section>',
  ].join('');
}

function binLabel(distribution: ReportDistribution, i: number): string {
  if (distribution.edges) {
    const last = i === distribution.edges.length - 2;
    return `[${formatNumber(distribution.edges[i]!)}, ${formatNumber(distribution.edges[i + 1]!)}${last && distribution.edges[i + 1] !== Infinity ? ']' : ')'}`;
  }
  const label = distribution.labels?.[i];
  return typeof label === 'number' ? formatNumber(label) : String(label ?? '');
}

/** Reference as bars, current as a step line over them, shares on the y axis. */
export function distributionChart(distribution: ReportDistribution, title: string): string {
  const width = 640;
  const height = 230;
  const left = 48;
  const right = 12;
  const top = 22;
  const bottom = 46;
  const plotW = width - left - right;
  const plotH = height - top - bottom;
  const bins = distribution.reference_shares.length;
  // A round axis maximum: the next 1, 2 or 5 × 10^k above the tallest bar.
  const yMax = niceCeiling(Math.max(...distribution.reference_shares, ...distribution.current_shares, 1e-9));
  const barW = plotW / bins;
  const y = (share: number): number => top + plotH - (share / yMax) * plotH;
  const x = (i: number): number => left + i * barW;
  const parts: string[] = [];
  for (const tick of [0, yMax / 2, yMax]) {
    parts.push(`<line x1="${left}" x2="${width - right}" y1="${y(tick).toFixed(1)}" y2="${y(tick).toFixed(1)}" class="grid"/>`);
    parts.push(`<text x="${left - 6}" y="${(y(tick) + 4).toFixed(1)}" text-anchor="end" class="tick">${percent(tick)}</text>`);
  }
  distribution.reference_shares.forEach((share, i) => {
    const h = (share / yMax) * plotH;
    parts.push(`<rect x="${(x(i) + 0.5).toFixed(1)}" y="${y(share).toFixed(1)}" width="${Math.max(barW - 1, 0.5).toFixed(1)}" height="${h.toFixed(1)}" fill="${REFERENCE_COLOR}" fill-opacity="0.5"/>`);
  });
  let path = '';
  distribution.current_shares.forEach((share, i) => {
    path += `${i === 0 ? `M${x(0).toFixed(1)},${y(0).toFixed(1)}` : ''}L${x(i).toFixed(1)},${y(share).toFixed(1)}L${x(i + 1).toFixed(1)},${y(share).toFixed(1)}`;
  });
  path += `L${x(bins).toFixed(1)},${y(0).toFixed(1)}`;
  parts.push(`<path d="${path}" fill="${CURRENT_COLOR}" fill-opacity="0.08" stroke="${CURRENT_COLOR}" stroke-width="2"/>`);
  // Hover targets: each bin's numbers as a tooltip.
  distribution.reference_shares.forEach((share, i) => {
    const tip = `${binLabel(distribution, i)}: reference ${percent(share)} (${distribution.reference_counts[i]}), current ${percent(distribution.current_shares[i]!)} (${distribution.current_counts[i]})`;
    parts.push(`<rect x="${x(i).toFixed(1)}" y="${top}" width="${barW.toFixed(1)}" height="${plotH}" fill="transparent"><title>${escapeHtml(tip)}</title></rect>`);
  });
  parts.push(`<line x1="${left}" x2="${width - right}" y1="${y(0).toFixed(1)}" y2="${y(0).toFixed(1)}" class="axis"/>`);
  parts.push(...xLabels(distribution, x, top + plotH));
  parts.push(
    `<g class="legend"><rect x="${width - right - 190}" y="2" width="10" height="10" fill="${REFERENCE_COLOR}" fill-opacity="0.5"/><text x="${width - right - 176}" y="11">reference</text>`,
    `<line x1="${width - right - 100}" x2="${width - right - 86}" y1="7" y2="7" stroke="${CURRENT_COLOR}" stroke-width="2"/><text x="${width - right - 80}" y="11">current</text></g>`,
  );
  return svgChart(width, height, title, parts);
}

function xLabels(distribution: ReportDistribution, x: (i: number) => number, baseline: number): string[] {
  const bins = distribution.reference_shares.length;
  const out: string[] = [];
  const text = (at: number, label: string): string =>
    `<text x="${at.toFixed(1)}" y="${baseline + 16}" text-anchor="middle" class="tick">${escapeHtml(label.length > 14 ? `${label.slice(0, 13)}…` : label)}</text>`;
  if (distribution.edges) {
    // Interval bins: label edges, about six of them.
    const step = Math.max(1, Math.ceil(bins / 6));
    for (let i = 0; i <= bins; i += step) out.push(text(x(i), formatNumber(distribution.edges[i]!, 3)));
    if (bins % step !== 0) out.push(text(x(bins), formatNumber(distribution.edges[bins]!, 3)));
  } else {
    const step = Math.max(1, Math.ceil(bins / 10));
    for (let i = 0; i < bins; i += step) out.push(text((x(i) + x(i + 1)) / 2, binLabel(distribution, i)));
  }
  return out;
}

function binningNote(feature: ReportFeature): string {
  const d = feature.distribution;
  const kind =
    d.kind === 'sturges'
      ? 'Sturges bins over the pooled range'
      : d.kind === 'quantile'
        ? 'reference-quantile bins'
        : d.kind === 'values'
          ? 'one bucket per distinct value'
          : 'one bucket per category';
  const merged = d.regrouped_from !== null ? `; ${d.regrouped_from} buckets merged to ${d.reference_counts.length} for display` : '';
  return `${kind}${merged}`;
}

function featureSection(feature: ReportFeature): string {
  const test = feature.test === 'ks' ? `KS D = ${formatNumber(feature.statistic)}` : `χ² = ${formatNumber(feature.statistic)}`;
  return [
    `<figure id="${anchor(feature.name)}" class="${feature.drifted ? 'drifted' : ''}">`,
    `<figcaption><strong>${escapeHtml(feature.name)}</strong> ${feature.drifted ? '<span class="badge drift">drifted</span>' : '<span class="badge ok">stable</span>'}`,
    `<span class="muted"> PSI ${formatNumber(feature.psi)} · ${test} · p ${formatNumber(feature.pvalue, 3)} · ${binningNote(feature)}</span></figcaption>`,
    distributionChart(feature.distribution, `${feature.name}: reference and current distributions`),
    '</figure>',
  ].join('');
}

const STYLE = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d232a;margin:0;background:#f6f7f9}
main{max-width:980px;margin:0 auto;padding:24px}
h1{margin:0 0 4px;font-size:24px}h2{font-size:17px;margin:28px 0 8px}
.verdict{padding:18px 22px;border-radius:8px;color:#fff}.verdict.drift{background:#b3261e}.verdict.ok{background:#1e7a3c}.verdict.insufficient{background:#6b7280}
.verdict p{margin:4px 0 0}
table{border-collapse:collapse;width:100%;background:#fff;border-radius:6px;overflow:hidden}
table.narrow{width:auto}
th,td{padding:6px 10px;border-bottom:1px solid #e5e7eb;text-align:left;vertical-align:top}
thead th{background:#eef0f3;font-weight:600}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
tr.drifted td{background:#fdecea}tr.drifted td:first-child{box-shadow:inset 4px 0 #b3261e}
.hit{color:#b3261e}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;font-weight:600}
.badge.drift{background:#b3261e;color:#fff}.badge.ok{background:#e3f1e7;color:#1e7a3c}
.muted{color:#6b7280}
figure{margin:14px 0;padding:12px 14px;background:#fff;border-radius:8px;border:1px solid #e5e7eb}
figure.drifted{border-color:#b3261e;box-shadow:inset 4px 0 #b3261e}
figcaption{margin-bottom:6px}
svg{width:100%;height:auto;display:block}
svg .grid{stroke:#e5e7eb}svg .axis{stroke:#9ca3af}svg .tick,svg .legend text{font-size:11px;fill:#4b5563}
footer{margin-top:28px;font-size:12px;color:#6b7280}
a{color:inherit}
`;

export function renderReportHtml(report: DriftReport): string {
  const drifted = report.features.filter((f) => f.drifted).length;
  const verdictClass = report.status === 'insufficient_data' ? 'insufficient' : report.drift_detected ? 'drift' : 'ok';
  const headline = report.status === 'insufficient_data' ? 'Not enough data' : report.drift_detected ? 'Drift detected' : 'No drift';
  const moved = report.features.filter((f) => f.drifted).map((f) => escapeHtml(f.name));
  return htmlPage(`${headline} · drift report ${report.id}`, STYLE, [
    '<main>',
    `<header class="verdict ${verdictClass}"><h1>${headline}</h1>`,
    `<p>${drifted} of ${report.n_features} features drifted (${percent(report.share_drifted)}; the data set drifts at ${percent(report.thresholds.share)} or more)${moved.length ? `: ${moved.join(', ')}` : ''}.</p>`,
    report.reason ? `<p>${escapeHtml(report.reason)}</p>` : '',
    '</header>',
    `<p class="muted">${escapeHtml(ruleText(report))}</p>`,
    '<section><h2>Data</h2><table>',
    sourceRow('reference', report.reference, report.n_reference),
    sourceRow('current', report.current, report.n_current),
    '</table></section>',
    '<section><h2>Features</h2><table><thead><tr><th>feature</th><th>type</th><th>PSI</th><th>test</th><th>statistic</th><th>p-value</th><th>mean: reference → current</th><th></th></tr></thead><tbody>',
    ...report.features.map(featureRow),
    targetRow(report.target),
    '</tbody></table></section>',
    targetSection(report.target),
    '<section><h2>Distributions</h2><p class="muted">Bars: reference share per bin. Line: current share per bin. Hover a bin for its numbers.</p>',
    ...report.features.map(featureSection),
    '</section>',
    `<footer>Report ${escapeHtml(report.id)} · ${escapeHtml(report.created_at)} · config ${escapeHtml(report.config_file)} · the same numbers are in report.json next to this file.</footer>`,
    '</main>',
  ]);
}
