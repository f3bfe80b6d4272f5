/**
 * The status page: one self-contained HTML page over the status record (inline CSS and SVG, no
 * scripts, nothing fetched), refreshed by the browser every STATUS_REFRESH_S seconds. Every value is
 * escaped; every missing piece is said in words.
 */
import { escapeHtml, formatNumber, htmlPage, svgChart } from '../../report/index.js';
import type { ArmView, AbView, DriftView, IntervalView } from './report-summary.js';
import type { LatestReport, ReportLinks, StatusData, VersionStatus } from './status-data.js';

export const STATUS_REFRESH_S = 10;

const COLORS = { A: '#4c72b0', B: '#dd8452' } as const;

function num(x: number | null, unit = ''): string {
  return x === null ? 'n/a' : `${formatNumber(x)}${unit}`;
}

function percent(x: number | null): string {
  return x === null ? 'n/a' : `${formatNumber(x * 100, 3)}%`;
}

function intervalText(ci: IntervalView | null): string {
  if (ci === null) return 'n/a';
  const kind = ci.kind ?? 'kind not recorded';
  return `[${formatNumber(ci.lower)}, ${formatNumber(ci.upper)}] (${formatNumber(ci.confidence * 100, 3)}%, ${kind})`;
}

function sentence(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function links(l: ReportLinks): string {
  return `<p class="links">Report: <a href="${escapeHtml(l.html)}">report.html</a> · <a href="${escapeHtml(l.json)}">report.json</a></p>`;
}

function versionRow(variant: 'A' | 'B', v: VersionStatus): string {
  const m = v.metrics;
  const cells = [
    `<td>${variant}</td>`,
    `<td>${escapeHtml(v.alias)}</td>`,
    `<td class="num">${v.version === null ? 'none' : `v${escapeHtml(v.version)}`}</td>`,
    `<td><span class="state ${escapeHtml(v.state)}">${escapeHtml(v.state)}</span></td>`,
    `<td class="num">${m ? num(m.holdout_accuracy) : 'n/a'}</td>`,
    `<td class="num">${m ? num(m.cv_accuracy) : 'n/a'}</td>`,
    `<td>${m?.best_model ? escapeHtml(m.best_model) : 'n/a'}</td>`,
  ];
  const notes = [
    v.resolved !== null && v.resolved !== v.version ? `the registry names v${escapeHtml(v.resolved)}` : '',
    v.error ? escapeHtml(v.error) : '',
    v.metrics_note ? `metrics: ${escapeHtml(v.metrics_note)}` : '',
  ].filter(Boolean);
  return `<tr id="version-${variant}">${cells.join('')}<td>${notes.join('; ')}</td></tr>`;
}

function modelsSection(s: StatusData): string {
  const staging = s.versions.staging;
  return [
    '<section id="models"><h2>Models</h2>',
    '<table><thead><tr><th>variant</th><th>alias</th><th>version</th><th>state</th><th>holdout accuracy</th><th>CV accuracy</th><th>best model</th><th>notes</th></tr></thead><tbody>',
    versionRow('A', s.versions.prod),
    staging ? versionRow('B', staging) : '',
    '</tbody></table>',
    staging ? '' : '<p id="no-staging">No staging version: no A/B test is running.</p>',
    '</section>',
  ].join('');
}

/** Which version predicts in shadow and at what share: staging under test, or the replaced prod during a watch. */
function shadowLine(s: StatusData): string {
  const { shadow } = s;
  if (shadow.kind === null) return '<p id="shadow">Shadow: none (no staging version and no watch).</p>';
  const role = shadow.kind === 'watch' ? 'the replaced prod, watching the new prod after a promotion (ab.watch.share)' : 'the candidate under test (router.shadow_share)';
  const version = shadow.version ?? shadow.wanted;
  const error = shadow.error ? ` · ${escapeHtml(shadow.error)}` : '';
  return `<p id="shadow">Shadow: <b>v${escapeHtml(version ?? 'none')}</b> (${escapeHtml(shadow.alias ?? '')}), ${role}, predicts <b>${formatNumber(shadow.share)}</b> of prod's requests · <span class="state ${escapeHtml(shadow.state)}">${escapeHtml(shadow.state)}</span>${error}</p>`;
}

function trafficSection(s: StatusData): string {
  const row = (variant: 'A' | 'B'): string => {
    const t = s.traffic[variant];
    const codes = Object.entries(t.failures_by_code)
      .map(([code, n]) => `${escapeHtml(code)} ${n}`)
      .join(', ');
    return `<tr id="traffic-${variant}"><td>${variant}</td><td>${escapeHtml(t.alias)}</td><td class="num">${t.predictions}</td><td class="num">${t.failures}</td><td>${codes || 'none'}</td></tr>`;
  };
  return [
    '<section id="traffic"><h2>Traffic since the router started</h2>',
    `<p id="split">Split: <b>${formatNumber(s.split.ab_split_b)}</b> of users go to B (router.ab_split_b) · shadow share: <b>${formatNumber(s.split.shadow_share)}</b> of prod's requests (router.shadow_share)</p>`,
    shadowLine(s),
    '<table><thead><tr><th>variant</th><th>alias</th><th>predictions</th><th>failures</th><th>failures by code</th></tr></thead><tbody>',
    row('A'),
    row('B'),
    '</tbody></table></section>',
  ].join('');
}

/** Each arm's accuracy as a dot on its always-valid interval, on a 0–1 axis. */
function accuracyChart(ab: AbView): string {
  const width = 640;
  const left = 40;
  const right = 20;
  const x = (value: number): number => left + Math.min(1, Math.max(0, value)) * (width - left - right);
  const body: string[] = [];
  for (const tick of [0, 0.25, 0.5, 0.75, 1]) {
    body.push(`<line class="grid" x1="${x(tick)}" x2="${x(tick)}" y1="8" y2="72"/><text class="tick" x="${x(tick)}" y="88" text-anchor="middle">${tick}</text>`);
  }
  (['A', 'B'] as const).forEach((variant, i) => {
    const arm: ArmView = ab.variants[variant];
    const y = 24 + i * 32;
    body.push(`<text class="tick" x="4" y="${y + 4}">${variant}</text>`);
    if (arm.ci) body.push(`<line x1="${x(arm.ci.lower)}" x2="${x(arm.ci.upper)}" y1="${y}" y2="${y}" stroke="${COLORS[variant]}" stroke-width="4" stroke-linecap="round"/>`);
    if (arm.accuracy !== null) body.push(`<circle cx="${x(arm.accuracy)}" cy="${y}" r="6" fill="${COLORS[variant]}"/>`);
  });
  return svgChart(width, 96, 'accuracy per variant with its always-valid interval', body);
}

function armRow(variant: 'A' | 'B', arm: ArmView): string {
  const failed = arm.failed === null ? 'n/a' : `${arm.failed} (${percent(arm.failure_rate)})`;
  return [
    `<tr id="ab-${variant}"><td>${variant}</td><td>${arm.version === null ? 'none' : `v${escapeHtml(arm.version)}`}</td>`,
    `<td class="num">${arm.requests}</td><td class="num">${failed}</td><td class="num">${arm.labeled}</td>`,
    `<td class="num">${num(arm.accuracy)}</td><td>${intervalText(arm.ci)}</td>`,
    `<td class="num">${num(arm.latency_ms.p50, ' ms')}</td><td class="num">${num(arm.latency_ms.p99, ' ms')}</td></tr>`,
  ].join('');
}

function unavailable(kind: string, latest: Exclude<LatestReport<unknown>, { state: 'ready' }>): string {
  if (latest.state === 'none') return `<p class="missing" id="${kind}-missing">${escapeHtml(sentence(latest.message))}.</p>`;
  return `<p class="missing" id="${kind}-missing">${escapeHtml(latest.message)}</p>${links(latest.links)}`;
}

function abSection(s: StatusData): string {
  const head = '<section id="ab"><h2>Latest A/B evaluation</h2>';
  if (s.ab.state !== 'ready') return `${head}${unavailable('ab', s.ab)}</section>`;
  const ab = s.ab.report;
  return [
    head,
    `<div class="decision ${escapeHtml(ab.decision)}"><p id="ab-decision" class="kind">${escapeHtml(ab.decision)}</p><p id="ab-reason">${escapeHtml(ab.reason)}</p>`,
    `<p class="muted">Evaluation ${escapeHtml(ab.id)}${ab.evaluated_at ? ` at ${escapeHtml(ab.evaluated_at)}` : ''}</p></div>`,
    '<table><thead><tr><th>variant</th><th>version</th><th>requests</th><th>failed</th><th>labelled</th><th>accuracy</th><th>interval</th><th>latency p50</th><th>latency p99</th></tr></thead><tbody>',
    armRow('A', ab.variants.A),
    armRow('B', ab.variants.B),
    '</tbody></table>',
    accuracyChart(ab),
    `<p id="ab-interval">B − A: difference ${num(ab.difference)}, interval ${intervalText(ab.interval)}</p>`,
    links(s.ab.links),
    '</section>',
  ].join('');
}

function driftSection(s: StatusData): string {
  const head = '<section id="drift"><h2>Latest drift report</h2>';
  if (s.drift.state !== 'ready') return `${head}${unavailable('drift', s.drift)}</section>`;
  const d: DriftView = s.drift.report;
  const verdict = d.status === 'insufficient_data' ? 'not enough data' : d.drift_detected ? 'drift detected' : 'no drift';
  const counted = d.n_drifted !== null && d.n_features !== null ? `${d.n_drifted} of ${d.n_features} features drifted, ` : '';
  return [
    head,
    `<p id="drift-verdict" class="${d.drift_detected ? 'bad' : 'good'}"><b>${verdict}</b>: ${counted}share drifted ${formatNumber(d.share_drifted)}</p>`,
    d.reason ? `<p>${escapeHtml(d.reason)}</p>` : '',
    `<p class="muted">Report ${escapeHtml(d.id)}${d.created_at ? ` at ${escapeHtml(d.created_at)}` : ''}</p>`,
    '<table><thead><tr><th>feature</th><th>PSI</th><th>KS statistic</th><th>KS p-value</th><th>drifted</th></tr></thead><tbody>',
    ...d.features.map(
      (f) =>
        `<tr class="${f.drifted ? 'drifted' : ''}"><td>${escapeHtml(f.name)}</td><td class="num">${formatNumber(f.psi)}</td><td class="num">${num(f.ks_statistic)}</td><td class="num">${num(f.ks_pvalue)}</td><td>${f.drifted ? 'yes' : 'no'}</td></tr>`,
    ),
    '</tbody></table>',
    links(s.drift.links),
    '</section>',
  ].join('');
}

function registryLine(s: StatusData): string {
  const r = s.registry;
  if (!r.reachable) {
    return `<p id="registry" class="banner warn">Registry ${escapeHtml(r.uri)}: registry unreachable since ${escapeHtml(r.unreachable_since ?? 'n/a')}${r.error ? ` (${escapeHtml(r.error)})` : ''}. Training metrics and the pending transition are shown as last read.</p>`;
  }
  return `<p id="registry" class="muted">Registry ${escapeHtml(r.uri)} reachable${r.last_read ? `, last read ${escapeHtml(r.last_read)}` : ''}${r.aliases_resolved_at ? `; aliases resolved ${escapeHtml(r.aliases_resolved_at)}` : ''}.</p>`;
}

function transitionLine(s: StatusData): string {
  const t = s.pending_transition;
  if (t.state === 'none') return '<p id="transition" class="muted">No registry transition pending.</p>';
  if (t.state === 'unknown') return `<p id="transition" class="muted">Pending transition unknown: ${escapeHtml(t.message)}.</p>`;
  const what = `${escapeHtml(t.kind ?? 'a transition')} of v${escapeHtml(t.version ?? '?')}${t.replaced ? ` (replacing v${escapeHtml(t.replaced)})` : ''}`;
  return `<p id="transition" class="banner warn">Pending transition: ${what}${t.at ? `, started ${escapeHtml(t.at)}` : ''}${t.reason ? `: ${escapeHtml(t.reason)}` : ''}. The next transition command completes it.</p>`;
}

const STYLE = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d232a;margin:0;background:#f6f7f9}
main{max-width:1080px;margin:0 auto;padding:24px}
h1{margin:0 0 4px;font-size:22px}h2{font-size:17px;margin:26px 0 8px}
table{border-collapse:collapse;width:100%;background:#fff}
th,td{padding:6px 10px;border-bottom:1px solid #e5e7eb;text-align:left;vertical-align:top}
thead th{background:#eef0f3;font-weight:600}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
tr.drifted td{background:#fdecea}
.muted{color:#6b7280}.missing{font-style:italic;color:#4b5563}
.banner{padding:10px 14px;border-radius:6px}.warn{background:#fff3e0;border:1px solid #e65100;color:#8a3a00}
.state{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;font-weight:600;background:#e5e7eb}
.state.serving{background:#e3f1e7;color:#1e7a3c}.state.loading{background:#fff3e0;color:#8a3a00}.state.failed{background:#fdecea;color:#b3261e}
.decision{border-left:6px solid #6d6d6d;background:#fff;padding:8px 14px;margin:8px 0}
.decision.promote{border-color:#2e7d32}.decision.reject,.decision.rollback{border-color:#c62828}
.decision .kind{font-size:20px;font-weight:700;text-transform:uppercase;margin:0}
.bad{color:#b3261e}.good{color:#1e7a3c}
svg{width:100%;max-width:640px;height:auto;display:block;margin:10px 0}svg .grid{stroke:#e5e7eb}svg .tick{font-size:11px;fill:#4b5563}
a{color:#1f5fbf}
`;

export function renderStatusHtml(s: StatusData): string {
  // A data: icon, so a desktop browser does not ask the router for /favicon.ico (a 404 on every refresh).
  const head = [`<meta http-equiv="refresh" content="${STATUS_REFRESH_S}">`, '<link rel="icon" href="data:,">'];
  return htmlPage(
    `Driftgate status · ${s.model_name}`,
    STYLE,
    [
      '<main>',
      `<header><h1>Driftgate status · <span id="model-name">${escapeHtml(s.model_name)}</span></h1>`,
      `<p class="muted">Generated ${escapeHtml(s.generated_at)} · refreshes every ${STATUS_REFRESH_S} s · the same data: <a href="/status.json">status.json</a></p></header>`,
      registryLine(s),
      transitionLine(s),
      modelsSection(s),
      trafficSection(s),
      abSection(s),
      driftSection(s),
      '</main>',
    ],
    head,
  );
}
