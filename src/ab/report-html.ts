/**
 * The people-readable half of an A/B report: one self-contained HTML file (inline CSS and SVG, no
 * scripts, no network) with the decision and its reason, per-variant accuracy with its always-valid
 * interval (users are the unit), the interval of B − A against θ0, the always-valid p-value path, the
 * sample-ratio check over users, the latency and failure guardrails, and what the request-level rule
 * (every request independent) would say, for reference.
 */
import path from 'node:path';
import { escapeHtml, htmlPage, niceCeiling, svgChart } from '../report/html.js';
import { formatP } from './decide.js';
import type { AbEvaluation, GuardrailReport, Interval, PathPoint, VariantReport } from './evaluation.js';

const COLORS = {
  A: '#4c72b0',
  B: '#dd8452',
  promote: '#2e7d32',
  reject: '#c62828',
  rollback: '#ad1457',
  continue: '#6d6d6d',
  alpha: '#8e24aa',
  grid: '#e0e0e0',
  reference: '#00838f',
} as const;

const ARMS = ['A', 'B'] as const;

function fixed(x: number | null | undefined, digits = 3): string {
  return x === null || x === undefined || !Number.isFinite(x) ? 'n/a' : x.toFixed(digits);
}

/** A bound of a confidence sequence: one side can still be unbounded. */
function bound(x: number): string {
  if (x === Infinity) return '∞';
  if (x === -Infinity) return '−∞';
  return fixed(x);
}

function pText(p: number | null): string {
  return p === null ? 'n/a' : formatP(p);
}

/** Three significant digits: 50%, 1.23%, 0.333%. */
function percentText(x: number | null): string {
  return x === null || !Number.isFinite(x) ? 'n/a' : `${Number((x * 100).toPrecision(3))}%`;
}

function intervalText(ci: Interval | null): string {
  return ci ? `[${bound(ci.lower)}, ${bound(ci.upper)}]` : 'n/a';
}

/** "95%" from an interval's confidence. */
function confidenceText(confidence: number): string {
  return `${Math.round(confidence * 100)}%`;
}

/** The per-arm always-valid intervals share one confidence, 1 − alpha (the record's, once there is one). */
function armConfidence(e: AbEvaluation): string {
  return confidenceText((e.variants.A.ci ?? e.variants.B.ci)?.confidence ?? 1 - e.test.alpha);
}

/** Plain words for a product owner: what the decision means for the product. */
function meaning(e: AbEvaluation): string {
  const a = e.variants.A;
  const b = e.variants.B;
  if (e.decision === 'promote') {
    return e.test.mode === 'superiority'
      ? `The candidate (B, version ${b.version}) answers users correctly more often than the current model (A, version ${a.version}), the evidence is strong enough that the difference is very unlikely to be chance, and it is shown to be no slower and to fail no more often than the agreed margins allow. It replaces the current model.`
      : `The candidate (B, version ${b.version}) is shown to be no worse than the current model (A, version ${a.version}) by more than the agreed margin of ${e.test.margin}, and no slower and no more failing than the agreed margins allow. It replaces the current model.`;
  }
  if (e.decision === 'reject') {
    return `The candidate (B, version ${b.version}) will not replace the current model (A, version ${a.version}). See the reason above.`;
  }
  if (e.decision === 'rollback') {
    return `The model promoted last (version ${a.version}) answers worse than the one it replaced (version ${b.version}), watched side by side on the same requests. The previous model is restored.`;
  }
  return 'No change yet: the test keeps running (or cannot run, see the reason above). Checking again later is safe: the p-values and intervals used here stay valid however often they are looked at.';
}

function requestLevelLine(e: AbEvaluation): string {
  const rl = e.request_level;
  const intro = '<b>Request-level rule</b> (every request independent, chi-square sample ratio over requests, no guardrails; for reference, not used):';
  if (rl.decision === null) return `<p class="note">${intro} not evaluated (no A/B traffic).</p>`;
  const same = rl.decision === e.decision ? 'the same as the decision above' : 'not the decision above';
  return `<p class="note">${intro} would ${rl.decision} (${same}): ${escapeHtml(rl.reason ?? '')}.</p>`;
}

function accuracyChart(e: AbEvaluation): string {
  const arms = ARMS.map((name) => ({ name, v: e.variants[name] }));
  const known = arms.filter((a) => a.v.ci !== null);
  if (known.length === 0) {
    return arms.some((a) => a.v.accuracy !== null)
      ? `<p class="note">No always-valid interval yet: it starts at the first counted look, once each arm has ${e.test.min_labeled} labelled rows and ${e.guardrails.min_users.required} users with labels.</p>`
      : '<p class="note">No labelled requests yet, so there is no accuracy to show.</p>';
  }
  const lows = known.map((a) => a.v.ci!.lower);
  const highs = known.map((a) => a.v.ci!.upper);
  // Zoom to the intervals (in steps of 0.05) so a few points of difference stay visible.
  const [lo, hi] = zoomedAxis([...lows, ...highs], 0);
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
    if (!v.ci || v.accuracy === null) return `${label}<text x="${left}" y="${cy + 4}" class="note">${v.accuracy === null ? 'no labels yet' : `accuracy ${fixed(v.accuracy)}, not counted yet`}</text>`;
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
  const confidence = armConfidence(e);
  return svgChart(width, height, `Accuracy per variant with always-valid ${confidence} intervals`, [
    ...ticks,
    ...rows,
    `<text x="${(left + width - right) / 2}" y="${height - 2}" text-anchor="middle" class="axis">accuracy (dot) and its always-valid ${confidence} interval, users as clusters (bar)</text>`,
  ]);
}

/** The interval of B − A against θ0: the picture of the decision rule. */
function differenceChart(e: AbEvaluation): string {
  const interval = e.interval;
  const theta0 = e.test.theta0;
  if (!interval) return '<p class="note">No always-valid interval of B − A yet: it starts at the first counted look.</p>';
  const finiteValues = [interval.lower, interval.upper, theta0, e.difference ?? theta0].filter((v) => Number.isFinite(v));
  const [lo, hi] = zoomedAxis(finiteValues, -1);
  const width = 640;
  const left = 150;
  const right = 30;
  const top = 24;
  const height = 110;
  const cy = top + 26;
  const clamp = (v: number): number => Math.min(hi, Math.max(lo, v));
  const x = (value: number): number => left + ((clamp(value) - lo) / (hi - lo || 1)) * (width - left - right);
  const step = niceCeiling(Math.max((hi - lo) / 8, 0.01));
  const ticks: string[] = [];
  // Ticks as whole multiples of the step, so no float drift prints "-0.00".
  for (let i = Math.ceil(lo / step - 1e-9); i * step <= hi + 1e-9; i++) {
    const t = i * step;
    const tx = x(t).toFixed(1);
    ticks.push(`<line x1="${tx}" y1="${top - 6}" x2="${tx}" y2="${height - 32}" stroke="${COLORS.grid}"/>`);
    ticks.push(`<text x="${tx}" y="${height - 16}" text-anchor="middle" class="tick">${t.toFixed(2)}</text>`);
  }
  // Coloured by what the interval alone says: above θ0, below it, or not yet either.
  const color = interval.lower > theta0 ? COLORS.promote : interval.upper < theta0 ? COLORS.reject : COLORS.continue;
  const confidence = confidenceText(interval.confidence);
  const [x1, x2, x0] = [x(interval.lower), x(interval.upper), x(theta0)].map((n) => n.toFixed(1));
  const body = [
    ...ticks,
    `<line x1="${x0}" y1="${top - 10}" x2="${x0}" y2="${height - 32}" stroke="${COLORS.alpha}" stroke-dasharray="6 4" stroke-width="1.5"/>`,
    `<text x="${x0}" y="${top - 12}" text-anchor="middle" class="tick" fill="${COLORS.alpha}">θ0 ${theta0}</text>`,
    `<text x="8" y="${cy + 4}" class="label">B − A</text>`,
    `<line x1="${x1}" y1="${cy}" x2="${x2}" y2="${cy}" stroke="${color}" stroke-width="6" stroke-linecap="round" opacity="0.45"/>`,
    ...(Number.isFinite(interval.lower) ? [`<line x1="${x1}" y1="${cy - 9}" x2="${x1}" y2="${cy + 9}" stroke="${color}" stroke-width="2"/>`] : []),
    ...(Number.isFinite(interval.upper) ? [`<line x1="${x2}" y1="${cy - 9}" x2="${x2}" y2="${cy + 9}" stroke="${color}" stroke-width="2"/>`] : []),
    ...(e.difference !== null
      ? [
          `<circle cx="${x(e.difference).toFixed(1)}" cy="${cy}" r="6" fill="${color}"/>`,
          `<text x="${x(e.difference).toFixed(1)}" y="${cy - 12}" text-anchor="middle" class="value">${fixed(e.difference)}</text>`,
        ]
      : []),
    `<text x="${(left + width - right) / 2}" y="${height - 2}" text-anchor="middle" class="axis">accuracy B − A (dot) and its always-valid ${confidence} interval (bar); dashed: θ0</text>`,
  ];
  // The pair is at 1 − 2·alpha, so each bound on its own is at 1 − alpha.
  const oneSided = confidenceText((1 + interval.confidence) / 2);
  const here =
    interval.lower > theta0
      ? `Here the lower bound ${bound(interval.lower)} is above θ0 ${theta0}${e.decision === 'promote' ? ', and B is promoted.' : `, but the decision is ${e.decision}: a guardrail or a data-quality guard holds it back (see the reason above).`}`
      : `Here the lower bound ${bound(interval.lower)} is not above θ0 ${theta0}, so B is not promoted${interval.upper < theta0 ? `; the upper bound ${bound(interval.upper)} is below θ0: B is worse.` : '.'}`;
  return [
    svgChart(width, height, `Always-valid ${confidence} interval of accuracy B − A against θ0`, body),
    `<p>Always-valid ${confidence} interval of accuracy B − A: <b>${intervalText(interval)}</b> against θ0 = ${theta0} (each bound one-sided at ${oneSided}).</p>`,
    `<p>The decision and the interval agree: B is promoted only when the lower bound of B − A is above θ0 (promote ⇔ lower bound &gt; θ0, with the guardrails holding), and rejected as worse when the upper bound is below θ0. ${here}</p>`,
  ].join('\n');
}

/** An axis around `values` with 0.02 to spare, in steps of 0.05, within [floor, 1]. */
function zoomedAxis(values: readonly number[], floor: number): [number, number] {
  return [Math.max(floor, Math.floor((Math.min(...values) - 0.02) * 20) / 20), Math.min(1, Math.ceil((Math.max(...values) + 0.02) * 20) / 20)];
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
  // The scale follows the p-values that decide; the request-level line is clipped at the bottom if it falls further.
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
  const line = (key: 'p_better' | 'p_worse' | 'request_p_better', color: string, style: string): string => {
    const coords: string[] = [`${x(0).toFixed(1)},${y(1).toFixed(1)}`];
    let previous = 1;
    for (const p of points) {
      const px = x(total(p)).toFixed(1);
      coords.push(`${px},${y(previous).toFixed(1)}`, `${px},${y(p[key]).toFixed(1)}`);
      previous = p[key];
    }
    return `<polyline points="${coords.join(' ')}" fill="none" stroke="${color}" ${style}/>`;
  };
  const alphaY = y(e.test.alpha).toFixed(1);
  return [
    svgChart(width, height, 'Always-valid p-value as labelled requests came in', [
      shade,
      ...grid,
      `<line x1="${left}" y1="${alphaY}" x2="${width - right}" y2="${alphaY}" stroke="${COLORS.alpha}" stroke-dasharray="6 4" stroke-width="1.5"/>`,
      `<text x="${width - right}" y="${Number(alphaY) - 5}" text-anchor="end" class="tick" fill="${COLORS.alpha}">alpha ${e.test.alpha}</text>`,
      line('request_p_better', COLORS.reference, 'stroke-width="1.2" stroke-dasharray="3 3"'),
      line('p_worse', COLORS.reject, 'stroke-width="2.5"'),
      line('p_better', COLORS.promote, 'stroke-width="2.5"'),
      `<text x="${(left + width - right) / 2}" y="${height - 8}" text-anchor="middle" class="axis">labelled requests, both arms together</text>`,
      `<text x="14" y="${(top + height - bottom) / 2}" text-anchor="middle" class="axis" transform="rotate(-90 14 ${(top + height - bottom) / 2})">always-valid p (log scale)</text>`,
    ]),
    `<p class="legend"><span style="color:${COLORS.promote}">━ p for “B is better”</span> (promote when it falls below the dashed line) · ` +
      `<span style="color:${COLORS.reject}">━ p for “B is worse”</span> (reject when it falls below) · ` +
      `<span style="color:${COLORS.reference}">┄ request-level (for reference)</span>: p for “B is better” with every request independent, not used · ` +
      `grey area: fewer than ${e.test.min_labeled} labels or ${e.guardrails.min_users.required} users with labels in an arm, not counted yet. ` +
      `A p-value here only ever goes down and stays valid however often the test is checked.</p>`,
  ].join('\n');
}

function srmChart(e: AbEvaluation): string {
  const srm = e.guardrails.srm;
  if (srm.p_value === null) return '<p class="note">Not checked: no A/B traffic was evaluated.</p>';
  // Users first seen under each split are expected in that split's proportion.
  const expected = {
    A: srm.periods.reduce((sum, p) => sum + (p.users_A + p.users_B) * (1 - p.ab_split_b), 0),
    B: srm.periods.reduce((sum, p) => sum + (p.users_A + p.users_B) * p.ab_split_b, 0),
  };
  const width = 640;
  const rowH = 30;
  const left = 150;
  const right = 90;
  const max = Math.max(1, srm.users.A, srm.users.B, expected.A, expected.B);
  const w = (n: number): string => (((width - left - right) * n) / max).toFixed(1);
  const rows = ARMS.flatMap((name, i) => {
    const y0 = 10 + i * (rowH * 2 + 10);
    return [
      `<text x="8" y="${y0 + 18}" class="label">${name} users</text>`,
      `<rect x="${left}" y="${y0 + 4}" width="${w(srm.users[name])}" height="${rowH - 8}" fill="${COLORS[name]}"/>`,
      `<text x="${left + Number(w(srm.users[name])) + 6}" y="${y0 + 18}" class="value">${srm.users[name]}</text>`,
      `<text x="8" y="${y0 + rowH + 18}" class="label">${name} expected</text>`,
      `<rect x="${left}" y="${y0 + rowH + 4}" width="${w(expected[name])}" height="${rowH - 8}" fill="none" stroke="${COLORS[name]}" stroke-dasharray="4 3"/>`,
      `<text x="${left + Number(w(expected[name])) + 6}" y="${y0 + rowH + 18}" class="value">${expected[name].toFixed(1)}</text>`,
    ];
  });
  const height = 20 + 2 * (rowH * 2 + 10);
  const periods = srm.periods.map((p, i) => {
    const n = p.users_A + p.users_B;
    return `<tr><td>${i + 1}</td><td>${p.ab_split_b}</td><td>${p.users_A}</td><td>${p.users_B}</td><td>${(n * (1 - p.ab_split_b)).toFixed(1)}</td><td>${(n * p.ab_split_b).toFixed(1)}</td></tr>`;
  });
  const periodTable =
    '<table><thead><tr><th>period</th><th>split in force (ab_split_b)</th><th>users A</th><th>users B</th><th>expected A</th><th>expected B</th></tr></thead>' +
    `<tbody>${periods.join('')}</tbody></table>`;
  const verdict = srm.passed
    ? `<p class="ok">Users split as the split in force says: always-valid p = ${pText(srm.p_value)} ≥ srm_alpha ${srm.alpha}.</p>`
    : `<p class="bad">Sample ratio mismatch: users did not split as the split in force says, always-valid p = ${pText(srm.p_value)} &lt; srm_alpha ${srm.alpha}. ` +
      'Assignment or logging is broken, so the comparison is not trusted and nothing is promoted.</p>';
  const rq = e.request_level.srm;
  const reference =
    `<p class="note">For reference: requests counted as independent (not used): chi-square p = ${pText(rq.p_value)}` +
    (rq.statistic !== null ? `, statistic ${fixed(rq.statistic)}` : '') +
    `, ${rq.observed.A} vs ${rq.observed.B} requests` +
    (rq.expected ? ` (expected ${rq.expected.A.toFixed(1)} vs ${rq.expected.B.toFixed(1)} at the split now)` : '') +
    '.</p>';
  return [
    svgChart(width, height, 'Users per variant, observed and expected under the split in force', rows),
    periodTable,
    verdict,
    reference,
  ].join('\n');
}

function guardrailRow(name: string, g: GuardrailReport | null): string {
  if (!g) return `<tr><td>${name}</td><td class="note">not checked</td><td>no A/B traffic was evaluated</td><td>n/a</td><td>n/a</td><td>n/a</td></tr>`;
  const stateClass = g.state === 'holds' ? 'ok' : g.state === 'breached' ? 'bad' : 'note';
  const cells = [name, escapeHtml(g.summary), pText(g.p_holds), pText(g.p_breached), `+${percentText(g.margin)}`];
  return `<tr><td>${cells[0]}</td><td class="${stateClass}">${g.state}</td>${cells
    .slice(1)
    .map((c) => `<td>${c}</td>`)
    .join('')}</tr>`;
}

function guardrailTable(e: AbEvaluation): string {
  const g = e.guardrails;
  return [
    '<table><thead><tr><th>guardrail</th><th>state</th><th>A and B</th><th>p (holds)</th><th>p (breached)</th><th>margin</th></tr></thead>',
    `<tbody>${guardrailRow('latency', g.latency)}${guardrailRow('failures', g.failures)}</tbody></table>`,
    `<p class="note">B's mean latency may exceed A's by at most ${percentText(e.test.latency_margin)}, and its failure rate A's by at most ${percentText(e.test.failure_margin)} (percentage points). ` +
      `A guardrail holds when its always-valid p (holds) falls below alpha ${e.test.alpha}, and is breached when its p (breached) does; a breached guardrail rejects B, and B is promoted only when both hold.</p>`,
  ].join('\n');
}

function variantRow(name: 'A' | 'B', v: VariantReport): string {
  const cells = [
    `${name}`,
    escapeHtml(v.alias),
    escapeHtml(v.version ?? '-'),
    String(v.users),
    String(v.labeled_users),
    String(v.requests),
    `${v.failed} (${percentText(v.failure_rate)})`,
    `${v.labeled} (${percentText(v.label_coverage)})`,
    fixed(v.accuracy),
    intervalText(v.ci),
    fixed(v.latency_ms.mean, 1),
    fixed(v.latency_ms.p50, 1),
    fixed(v.latency_ms.p99, 1),
  ];
  return `<tr>${cells.map((c) => `<td>${c}</td>`).join('')}</tr>`;
}

function requestLevelRow(name: 'A' | 'B', v: VariantReport): string {
  const cells = [name, fixed(v.accuracy), intervalText(v.request_level.ci), fixed(v.request_level.standard_error, 4), fixed(v.standard_error, 4)];
  return `<tr>${cells.map((c) => `<td>${c}</td>`).join('')}</tr>`;
}

function variantTables(e: AbEvaluation): string {
  const { A, B } = e.variants;
  const wilson = confidenceText((A.request_level.ci ?? B.request_level.ci)?.confidence ?? 0.95);
  return [
    '<table>',
    '<thead><tr><th>variant</th><th>alias</th><th>version</th><th>users</th><th>labelled users</th><th>requests</th><th>failed (failure rate)</th><th>labelled (share)</th>' +
      `<th>accuracy</th><th>always-valid ${armConfidence(e)} interval</th><th>latency mean (ms)</th><th>latency p50 (ms)</th><th>latency p99 (ms)</th></tr></thead>`,
    `<tbody>${variantRow('A', A)}${variantRow('B', B)}</tbody>`,
    '</table>',
    '<p class="note">Users are the unit of the test: each user stays in one arm, so the interval treats a user\'s requests as one cluster and stays valid at every look. ' +
      'Accuracy: share of labelled requests the variant answered correctly. Failed: requests the variant did not answer, as a share of all its requests. Latency: time the router took to answer, over the variant\'s answered requests.</p>',
    '<h3>Request-level (every request independent)</h3>',
    '<table class="small">',
    `<thead><tr><th>variant</th><th>accuracy</th><th>Wilson ${wilson} interval (fixed-horizon, valid at one planned look only)</th><th>standard error, requests independent</th><th>standard error, users as clusters</th></tr></thead>`,
    `<tbody>${requestLevelRow('A', A)}${requestLevelRow('B', B)}</tbody>`,
    '</table>',
    '<p class="note">For reference: counting every request as independent understates the uncertainty when users send several requests, and a fixed-horizon interval is only valid when looked at once. The decision uses the table above.</p>',
  ].join('\n');
}

function dataQuality(e: AbEvaluation): string {
  const log = e.log;
  const m = e.guardrails.malformed;
  const unknown = Object.entries(log.unknown_labels);
  const splits = log.split_changes.length
    ? `<ul>${log.split_changes.map((c) => `<li>${escapeHtml(c.ts)}: ab_split_b → ${c.ab_split_b}</li>`).join('')}</ul>`
    : 'none';
  const items = [
    `Log files read: ${log.files.length ? log.files.map((f) => `<code>${escapeHtml(f)}</code>`).join(', ') : `none (pattern <code>${escapeHtml(log.pattern)}</code>)`}`,
    `Rows read: ${log.rows}; malformed: ${m.rows} (${(m.share * 100).toFixed(2)}%, at most ${(m.max_share * 100).toFixed(2)}% allowed) — ${m.passed ? 'OK' : '<b class="bad">too many: no decision is made on this log</b>'}`,
    `Predictions outside this experiment (other versions, or before B's first request): ${log.excluded_predictions}`,
    `Feedback without a logged prediction: ${log.orphan_feedback}; for requests outside the experiment: ${log.excluded_feedback}; second labels ignored: ${log.duplicate_labels}`,
    `Experiment started at: ${escapeHtml(log.experiment_started_at ?? 'not yet')}`,
    `Split changes while the experiment ran: ${splits}`,
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
  const g = e.guardrails;
  const modeText = t.mode === 'superiority' ? 'superiority (B must beat A)' : `non-inferiority (B may be worse than A by at most ${t.margin})`;
  const applied = e.applied
    ? `<p><b>Applied:</b> ${escapeHtml(e.applied.message)}</p>${e.applied.steps.length ? `<ul>${e.applied.steps.map((s) => `<li>${escapeHtml(s)}</li>`).join('')}</ul>` : ''}`
    : '<p class="note">Not applied (run with <code>--apply</code> to act on the decision).</p>';
  const openLabels =
    e.labels === 'open' ? '<p class="warn">Labels are open (router.labels: open): any client may label requests, so a client can sway this test.</p>' : '';
  const style = `
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #222; max-width: 980px; margin: 24px auto; padding: 0 16px; }
h1 { font-size: 22px; margin-bottom: 4px; } h2 { font-size: 18px; margin-top: 32px; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
.decision { border-left: 8px solid ${color}; background: #fafafa; padding: 12px 16px; margin: 16px 0; }
.decision .kind { font-size: 26px; font-weight: 700; color: ${color}; text-transform: uppercase; letter-spacing: 0.04em; }
.warn { background: #fff3e0; border: 1px solid #e65100; color: #bf360c; font-weight: 600; padding: 6px 10px; }
table { border-collapse: collapse; margin: 8px 0; font-size: 14px; } td, th { border: 1px solid #ddd; padding: 4px 8px; text-align: right; } th { background: #f3f3f3; }
table.small { font-size: 12px; }
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
${openLabels}
<div class="kind">${e.decision}</div>
<p><b>Why:</b> ${escapeHtml(e.reason)}</p>
<p>${escapeHtml(meaning(e))}</p>
${requestLevelLine(e)}
${applied}
${e.recovered ? `<p class="note">Before evaluating, an interrupted ${escapeHtml(e.recovered.kind)} of version ${escapeHtml(e.recovered.version)} was completed.</p>` : ''}
</div>

<h2>Accuracy per variant</h2>
${accuracyChart(e)}
${variantTables(e)}

<h2>Difference B − A</h2>
${differenceChart(e)}

<h2>Evidence over time</h2>
${pathChart(e)}
<p>Latest: p(B better) = ${pText(e.p_better)}, p(B worse) = ${pText(e.p_worse)}, difference in accuracy B − A = ${fixed(e.difference)}; request-level p(B better) = ${pText(e.request_level.p_better)} (for reference).</p>

<h2>Guardrails</h2>
<h3>Sample ratio (are users split as configured?)</h3>
<p>Users are what is randomised: each user is assigned to one arm and stays there, so the check counts the users first seen in each arm against the split in force when they were first seen, not requests.</p>
${srmChart(e)}
<h3>Latency and failures</h3>
${guardrailTable(e)}
<h3>Enough labels and users</h3>
<p class="${g.min_labeled.passed && g.min_users.passed ? 'ok' : 'note'}">Each arm needs ${g.min_labeled.required} labelled requests from at least ${g.min_users.required} users before any decision: A has ${e.variants.A.labeled} from ${e.variants.A.labeled_users} users, B has ${e.variants.B.labeled} from ${e.variants.B.labeled_users} users.</p>
<h3>Data quality</h3>
${dataQuality(e)}

<h2>Test settings</h2>
<table><tbody>
<tr><td>mode</td><td>${escapeHtml(modeText)}</td></tr>
<tr><td>alpha (false-promotion rate bound)</td><td>${t.alpha}</td></tr>
<tr><td>mixture spread tau</td><td>${t.tau}</td></tr>
<tr><td>null difference theta0</td><td>${t.theta0}</td></tr>
<tr><td>labelled rows per arm: minimum / maximum</td><td>${t.min_labeled} / ${t.max_labeled}</td></tr>
<tr><td>users with labels per arm: minimum</td><td>${t.min_users}</td></tr>
<tr><td>p-value checkpoint every (smaller arm)</td><td>${t.checkpoint_every} labels</td></tr>
<tr><td>latency margin (mean, B over A)</td><td>+${percentText(t.latency_margin)}</td></tr>
<tr><td>failure-rate margin (B − A)</td><td>+${percentText(t.failure_margin)}</td></tr>
<tr><td>share of traffic to B now (ab_split_b)</td><td>${t.ab_split_b}</td></tr>
<tr><td>labels (router.labels)</td><td>${e.labels}</td></tr>
</tbody></table>
<p class="note">Test: mixture sequential probability ratio test (mSPRT, Johari, Pekelis &amp; Walsh) on the difference in accuracy with users as clusters, with one-sided always-valid p-values and confidence sequences; it keeps the false-promotion rate at most alpha even when checked continuously. The latency and failure guardrails and the sample-ratio check are always-valid tests of the same kind.</p>`,
  ]);
}
