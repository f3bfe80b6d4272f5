/**
 * The people-readable half of an A/B report: one self-contained HTML file (inline CSS and SVG, no
 * scripts, no network) with the decision and its reason, per-variant accuracy with interval bars,
 * the always-valid p-value path, and the sample-ratio check.
 */
import path from 'node:path';
import { escapeHtml, htmlPage, niceCeiling, svgChart } from '../report/html.js';
import { formatP } from './decide.js';
import type { AbEvaluation, Interval, PathPoint, VariantReport } from './evaluation.js';

const COLORS = { A: '#4c72b0', B: '#dd8452', promote: '#2e7d32', reject: '#c62828', continue: '#6d6d6d', alpha: '#8e24aa', grid: '#e0e0e0' } as const;

function fixed(x: number | null | undefined, digits = 3): string {
  return x === null || x === undefined || !Number.isFinite(x) ? 'n/a' : x.toFixed(digits);
}

function pText(p: number | null): string {
  return p === null ? 'n/a' : formatP(p);
}

function intervalText(ci: Interval | null): string {
  return ci ? `[${fixed(ci.lower)}, ${fixed(ci.upper)}]` : 'n/a';
}

/** Plain words for a product owner: what the decision means for the product. */
function meaning(e: AbEvaluation): string {
  const a = e.variants.A;
  const b = e.variants.B;
  if (e.decision === 'promote') {
    return e.test.mode === 'superiority'
      ? `The candidate (B, version ${b.version}) answers correctly more often than the current model (A, version ${a.version}), and the evidence is strong enough that the difference is very unlikely to be chance. It replaces the current model.`
      : `The candidate (B, version ${b.version}) is shown to be no worse than the current model (A, version ${a.version}) by more than the agreed margin of ${e.test.margin}. It replaces the current model.`;
  }
  if (e.decision === 'reject') {
    return `The candidate (B, version ${b.version}) will not replace the current model (A, version ${a.version}). See the reason above.`;
  }
  return 'No change yet: the test keeps running (or cannot run, see the reason above). Checking again later is safe: the p-value used here stays valid however often it is looked at.';
}

function accuracyChart(e: AbEvaluation): string {
  const arms = (['A', 'B'] as const).map((name) => ({ name, v: e.variants[name] }));
  const known = arms.filter((a) => a.v.ci !== null);
  if (known.length === 0) return '<p class="note">No labelled requests yet, so there is no accuracy to show.</p>';
  const lows = known.map((a) => a.v.ci!.lower);
  const highs = known.map((a) => a.v.ci!.upper);
  // Zoom to the intervals (in steps of 0.05) so a few points of difference stay visible.
  const lo = Math.max(0, Math.floor((Math.min(...lows) - 0.02) * 20) / 20);
  const hi = Math.min(1, Math.ceil((Math.max(...highs) + 0.02) * 20) / 20);
  const width = 640;
  const left = 150;
  const right = 30;
  const rowH = 48;
  const top = 20;
  const height = top + rowH * arms.length + 40;
  const x = (value: number): number => left + ((value - lo) / (hi - lo || 1)) * (width - left - right);
  const ticks: string[] = [];
  for (let t = lo; t <= hi + 1e-9; t += 0.05) {
    const tx = x(t).toFixed(1);
    ticks.push(`<line x1="${tx}" y1="${top - 6}" x2="${tx}" y2="${height - 32}" stroke="${COLORS.grid}"/>`);
    ticks.push(`<text x="${tx}" y="${height - 16}" text-anchor="middle" class="tick">${t.toFixed(2)}</text>`);
  }
  const rows = arms.map(({ name, v }, i) => {
    const cy = top + rowH * i + rowH / 2;
    const label = `<text x="8" y="${cy + 4}" class="label">${name}: ${escapeHtml(v.alias)} v${escapeHtml(v.version ?? '-')}</text>`;
    if (!v.ci || v.accuracy === null) return `${label}<text x="${left}" y="${cy + 4}" class="note">no labels yet</text>`;
    const [x1, x2, xp] = [x(v.ci.lower), x(v.ci.upper), x(v.accuracy)].map((n) => n.toFixed(1));
    return [
      label,
      `<line x1="${x1}" y1="${cy}" x2="${x2}" y2="${cy}" stroke="${COLORS[name]}" stroke-width="6" stroke-linecap="round" opacity="0.45"/>`,
      `<line x1="${x1}" y1="${cy - 9}" x2="${x1}" y2="${cy + 9}" stroke="${COLORS[name]}" stroke-width="2"/>`,
      `<line x1="${x2}" y1="${cy - 9}" x2="${x2}" y2="${cy + 9}" stroke="${COLORS[name]}" stroke-width="2"/>`,
      `<circle cx="${xp}" cy="${cy}" r="6" fill="${COLORS[name]}"/>`,
      `<text x="${xp}" y="${cy - 12}" text-anchor="middle" class="value">${fixed(v.accuracy)}</text>`,
    ].join('');
  });
  return svgChart(width, height, 'Accuracy per variant with 95% intervals', [
    ...ticks,
    ...rows,
    `<text x="${(left + width - right) / 2}" y="${height - 2}" text-anchor="middle" class="axis">accuracy (dot) and its 95% interval (bar)</text>`,
  ]);
}

function pathChart(e: AbEvaluation): string {
  const points = e.path;
  if (points.length === 0) return '<p class="note">No labelled requests yet: the p-value path starts with the first labels.</p>';
  const width = 640;
  const height = 300;
  const left = 60;
  const right = 20;
  const top = 16;
  const bottom = 46;
  const total = (p: PathPoint): number => p.labeled_A + p.labeled_B;
  const maxX = Math.max(1, ...points.map(total));
  const smallest = Math.min(e.test.alpha, ...points.map((p) => Math.min(p.p_better, p.p_worse)));
  const decades = Math.max(2, Math.ceil(-Math.log10(Math.max(smallest, 1e-12))) + (smallest < e.test.alpha ? 0 : 1));
  const x = (n: number): number => left + (n / maxX) * (width - left - right);
  const y = (p: number): number => top + (-Math.log10(Math.max(p, 10 ** -decades)) / decades) * (height - top - bottom);
  const grid: string[] = [];
  for (let d = 0; d <= decades; d++) {
    const gy = y(10 ** -d).toFixed(1);
    grid.push(`<line x1="${left}" y1="${gy}" x2="${width - right}" y2="${gy}" stroke="${COLORS.grid}"/>`);
    grid.push(`<text x="${left - 6}" y="${Number(gy) + 4}" text-anchor="end" class="tick">${d === 0 ? '1' : `1e-${d}`}</text>`);
  }
  // 1, 2 or 5 times a power of ten: ticks people can read.
  const step = niceCeiling(Math.max(maxX / 5, 1));
  for (let n = 0; n <= maxX; n += step) {
    grid.push(`<text x="${x(n).toFixed(1)}" y="${height - bottom + 16}" text-anchor="middle" class="tick">${n}</text>`);
  }
  const firstCounted = points.find((p) => p.counted);
  const waiting = firstCounted ? x(total(firstCounted)) : x(maxX);
  const shade = `<rect x="${left}" y="${top}" width="${Math.max(0, waiting - left).toFixed(1)}" height="${height - top - bottom}" fill="#f5f5f5"/>`;
  // A step line: the p-value holds from one checkpoint until the next one changes it.
  const line = (key: 'p_better' | 'p_worse', color: string): string => {
    const coords: string[] = [`${x(0).toFixed(1)},${y(1).toFixed(1)}`];
    let previous = 1;
    for (const p of points) {
      const px = x(total(p)).toFixed(1);
      coords.push(`${px},${y(previous).toFixed(1)}`, `${px},${y(p[key]).toFixed(1)}`);
      previous = p[key];
    }
    return `<polyline points="${coords.join(' ')}" fill="none" stroke="${color}" stroke-width="2.5"/>`;
  };
  const alphaY = y(e.test.alpha).toFixed(1);
  return [
    svgChart(width, height, 'Always-valid p-value as labelled requests came in', [
      shade,
      ...grid,
      `<line x1="${left}" y1="${alphaY}" x2="${width - right}" y2="${alphaY}" stroke="${COLORS.alpha}" stroke-dasharray="6 4" stroke-width="1.5"/>`,
      `<text x="${width - right}" y="${Number(alphaY) - 5}" text-anchor="end" class="tick" fill="${COLORS.alpha}">alpha ${e.test.alpha}</text>`,
      line('p_worse', COLORS.reject),
      line('p_better', COLORS.promote),
      `<text x="${(left + width - right) / 2}" y="${height - 8}" text-anchor="middle" class="axis">labelled requests, both arms together</text>`,
      `<text x="14" y="${(top + height - bottom) / 2}" text-anchor="middle" class="axis" transform="rotate(-90 14 ${(top + height - bottom) / 2})">always-valid p (log scale)</text>`,
    ]),
    `<p class="legend"><span style="color:${COLORS.promote}">━ p for “B is better”</span> (promote when it falls below the dashed line) · ` +
      `<span style="color:${COLORS.reject}">━ p for “B is worse”</span> (reject when it falls below) · grey area: fewer than ${e.test.min_labeled} labels in an arm, not counted yet. ` +
      `A p-value here only ever goes down and stays valid however often the test is checked.</p>`,
  ].join('\n');
}

function srmChart(e: AbEvaluation): string {
  const srm = e.guardrails.srm;
  const expected = srm.expected;
  if (!expected) return '<p class="note">Not checked: no A/B traffic was evaluated.</p>';
  const width = 640;
  const rowH = 30;
  const left = 150;
  const right = 90;
  const max = Math.max(1, srm.observed.A, srm.observed.B, expected.A, expected.B);
  const w = (n: number): string => (((width - left - right) * n) / max).toFixed(1);
  const rows = (['A', 'B'] as const).flatMap((name, i) => {
    const y0 = 10 + i * (rowH * 2 + 10);
    return [
      `<text x="8" y="${y0 + 18}" class="label">${name} observed</text>`,
      `<rect x="${left}" y="${y0 + 4}" width="${w(srm.observed[name])}" height="${rowH - 8}" fill="${COLORS[name]}"/>`,
      `<text x="${left + Number(w(srm.observed[name])) + 6}" y="${y0 + 18}" class="value">${srm.observed[name]}</text>`,
      `<text x="8" y="${y0 + rowH + 18}" class="label">${name} expected</text>`,
      `<rect x="${left}" y="${y0 + rowH + 4}" width="${w(expected[name])}" height="${rowH - 8}" fill="none" stroke="${COLORS[name]}" stroke-dasharray="4 3"/>`,
      `<text x="${left + Number(w(expected[name])) + 6}" y="${y0 + rowH + 18}" class="value">${expected[name].toFixed(1)}</text>`,
    ];
  });
  const height = 20 + 2 * (rowH * 2 + 10);
  const verdict = srm.passed
    ? `<p class="ok">Traffic split as configured (ab_split_b ${e.test.ab_split_b}): chi-square p = ${pText(srm.p_value)} ≥ ${srm.alpha}.</p>`
    : `<p class="bad">Sample ratio mismatch: the traffic did not split as configured (ab_split_b ${e.test.ab_split_b}), chi-square p = ${pText(srm.p_value)} &lt; ${srm.alpha}. ` +
      'Assignment or logging is broken, so the comparison is not trusted and nothing is promoted.</p>';
  return `${svgChart(width, height, 'Observed and expected requests per variant', rows)}\n${verdict}`;
}

function variantRow(name: 'A' | 'B', v: VariantReport): string {
  const cells = [
    `${name}`,
    escapeHtml(v.alias),
    escapeHtml(v.version ?? '-'),
    String(v.requests),
    String(v.labeled),
    v.label_coverage === null ? 'n/a' : `${(v.label_coverage * 100).toFixed(1)}%`,
    fixed(v.accuracy),
    intervalText(v.ci),
    fixed(v.error_rate),
    intervalText(v.error_ci),
    fixed(v.latency_ms.p50, 1),
    fixed(v.latency_ms.p99, 1),
  ];
  return `<tr>${cells.map((c) => `<td>${c}</td>`).join('')}</tr>`;
}

function dataQuality(e: AbEvaluation): string {
  const log = e.log;
  const m = e.guardrails.malformed;
  const unknown = Object.entries(log.unknown_labels);
  const items = [
    `Log files read: ${log.files.length ? log.files.map((f) => `<code>${escapeHtml(f)}</code>`).join(', ') : `none (pattern <code>${escapeHtml(log.pattern)}</code>)`}`,
    `Rows read: ${log.rows}; malformed: ${m.rows} (${(m.share * 100).toFixed(2)}%, at most ${(m.max_share * 100).toFixed(2)}% allowed) — ${m.passed ? 'OK' : '<b class="bad">too many: no decision is made on this log</b>'}`,
    `Predictions outside this experiment (other versions, or before B's first request): ${log.excluded_predictions}`,
    `Feedback without a logged prediction: ${log.orphan_feedback}; for requests outside the experiment: ${log.excluded_feedback}; second labels ignored: ${log.duplicate_labels}`,
    `Experiment started at: ${escapeHtml(log.experiment_started_at ?? 'not yet')}`,
    ...(unknown.length ? [`Labels outside dataset.classes: ${unknown.map(([l, n]) => `<code>${escapeHtml(l)}</code> × ${n}`).join(', ')}`] : []),
  ];
  const rows = log.malformed.map((r) => `<tr><td><code>${escapeHtml(path.basename(r.file))}</code></td><td>${r.line}</td><td>${escapeHtml(r.problem)}</td></tr>`);
  const more = m.rows - log.malformed.length;
  return [
    `<ul>${items.map((i) => `<li>${i}</li>`).join('')}</ul>`,
    rows.length
      ? `<table><thead><tr><th>file</th><th>line</th><th>problem</th></tr></thead><tbody>${rows.join('')}</tbody></table>${more > 0 ? `<p class="note">… and ${more} more malformed rows.</p>` : ''}`
      : '',
  ].join('\n');
}

export function renderReportHtml(e: AbEvaluation): string {
  const color = COLORS[e.decision];
  const t = e.test;
  const modeText = t.mode === 'superiority' ? 'superiority (B must beat A)' : `non-inferiority (B may be worse than A by at most ${t.margin})`;
  const applied = e.applied
    ? `<p><b>Applied:</b> ${escapeHtml(e.applied.message)}</p>${e.applied.steps.length ? `<ul>${e.applied.steps.map((s) => `<li>${escapeHtml(s)}</li>`).join('')}</ul>` : ''}`
    : '<p class="note">Not applied (run with <code>--apply</code> to act on the decision).</p>';
  const style = `
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #222; max-width: 980px; margin: 24px auto; padding: 0 16px; }
h1 { font-size: 22px; margin-bottom: 4px; } h2 { font-size: 18px; margin-top: 32px; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
.decision { border-left: 8px solid ${color}; background: #fafafa; padding: 12px 16px; margin: 16px 0; }
.decision .kind { font-size: 26px; font-weight: 700; color: ${color}; text-transform: uppercase; letter-spacing: 0.04em; }
table { border-collapse: collapse; margin: 8px 0; font-size: 14px; } td, th { border: 1px solid #ddd; padding: 4px 8px; text-align: right; } th { background: #f3f3f3; }
td:first-child, th:first-child { text-align: left; }
.note { color: #666; } .ok { color: ${COLORS.promote}; } .bad { color: ${COLORS.reject}; } .legend { font-size: 13px; color: #444; }
svg text { font-family: inherit; } svg .tick { font-size: 11px; fill: #555; } svg .label { font-size: 13px; fill: #222; } svg .value { font-size: 12px; fill: #222; } svg .axis { font-size: 12px; fill: #444; }
code { font-size: 13px; background: #f3f3f3; padding: 0 3px; }
svg { width: 100%; max-width: 680px; height: auto; display: block; }
`;
  return htmlPage(`A/B report ${e.id}: ${e.decision}`, style, [
    `<h1>A/B test: ${escapeHtml(e.model_name)} — ${escapeHtml(e.variants.A.alias)} v${escapeHtml(e.variants.A.version ?? '-')} (A) vs ${escapeHtml(e.variants.B.alias)} v${escapeHtml(e.variants.B.version ?? '-')} (B)</h1>
<p class="note">Evaluated ${escapeHtml(e.evaluated_at)} · report ${escapeHtml(e.id)}${e.mlflow_run_id ? ` · MLflow run <code>${escapeHtml(e.mlflow_run_id)}</code>` : ''}</p>
<div class="decision">
<div class="kind">${e.decision}</div>
<p><b>Why:</b> ${escapeHtml(e.reason)}</p>
<p>${escapeHtml(meaning(e))}</p>
${applied}
${e.recovered ? `<p class="note">Before evaluating, an interrupted ${escapeHtml(e.recovered.kind)} of version ${escapeHtml(e.recovered.version)} was completed.</p>` : ''}
</div>

<h2>Accuracy per variant</h2>
${accuracyChart(e)}
<table>
<thead><tr><th>variant</th><th>alias</th><th>version</th><th>requests</th><th>labelled</th><th>labelled share</th><th>accuracy</th><th>95% interval</th><th>error rate</th><th>95% interval</th><th>latency p50 (ms)</th><th>latency p99 (ms)</th></tr></thead>
<tbody>${variantRow('A', e.variants.A)}${variantRow('B', e.variants.B)}</tbody>
</table>
<p class="note">Accuracy: share of labelled requests the variant answered correctly (Wilson score interval). Error rate: its complement, the share answered wrongly, with its own interval — the router logs only answered requests, so failed requests are not in this log (see the router's <code>/metrics</code>). Latency: time the router took to answer, over all of the variant's requests.</p>

<h2>Evidence over time</h2>
${pathChart(e)}
<p>Latest: p(B better) = ${pText(e.p_better)}, p(B worse) = ${pText(e.p_worse)}, difference in accuracy B − A = ${fixed(e.difference)}.</p>

<h2>Guardrails</h2>
<h3>Sample ratio (is the traffic split as configured?)</h3>
${srmChart(e)}
<h3>Enough labels</h3>
<p class="${e.guardrails.min_labeled.passed ? 'ok' : 'note'}">Each arm needs ${e.guardrails.min_labeled.required} labelled requests before any decision: A has ${e.variants.A.labeled}, B has ${e.variants.B.labeled}.</p>
<h3>Data quality</h3>
${dataQuality(e)}

<h2>Test settings</h2>
<table><tbody>
<tr><td>mode</td><td>${escapeHtml(modeText)}</td></tr>
<tr><td>alpha (false-promotion rate bound)</td><td>${t.alpha}</td></tr>
<tr><td>mixture spread tau</td><td>${t.tau}</td></tr>
<tr><td>null difference theta0</td><td>${t.theta0}</td></tr>
<tr><td>labelled rows per arm: minimum / maximum</td><td>${t.min_labeled} / ${t.max_labeled}</td></tr>
<tr><td>p-value checkpoint every (smaller arm)</td><td>${t.checkpoint_every} labels</td></tr>
<tr><td>share of traffic to B (ab_split_b)</td><td>${t.ab_split_b}</td></tr>
</tbody></table>
<p class="note">Test: mixture sequential probability ratio test (mSPRT, Johari, Pekelis &amp; Walsh) on the difference in accuracy, with one-sided always-valid p-values; it keeps the false-promotion rate at most alpha even when checked continuously.</p>`,
  ]);
}
