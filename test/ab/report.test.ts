import { describe, expect, it } from 'vitest';
import type { AbEvaluation } from '../../src/ab/evaluation.js';
import { renderReportHtml } from '../../src/ab/report-html.js';
import { reportFiles } from '../../src/ab/report-json.js';
import { escapeHtml } from '../../src/report/html.js';
import { arm, LATENCY_REASON as REASON, LATENCY_SUMMARY, rejectedForLatency } from '../helpers/ab-evaluation.js';

/** No A/B traffic at all: no staging version. */
function nothingYet(): AbEvaluation {
  const full = rejectedForLatency();
  return {
    ...full,
    decision: 'continue',
    reason: "no staging version of iris-classifier: no A/B test is running (train a candidate, then 'driftgate ab start')",
    statistical_decision: null,
    p_value: null,
    p_better: null,
    p_worse: null,
    srm_pvalue: null,
    difference: null,
    interval: null,
    labels: 'token',
    variants: { A: arm({}), B: arm({ version: null, alias: 'staging' }) },
    guardrails: {
      srm: { passed: null, p_value: null, alpha: 0.001, users: { A: 0, B: 0 }, periods: [] },
      min_labeled: { passed: false, required: 100 },
      min_users: { passed: false, required: 30 },
      malformed: { passed: true, rows: 0, share: 0, max_share: 0.01 },
      latency: null,
      failures: null,
    },
    request_level: { decision: null, reason: null, p_better: null, p_worse: null, srm: { p_value: null, statistic: null, observed: { A: 0, B: 0 }, expected: null } },
    log: { ...full.log, files: [], rows: 0, excluded_predictions: 0, duplicate_labels: 0, experiment_started_at: null, split_changes: [] },
    path: [],
    mlflow_run_id: null,
  };
}

describe('report.html', () => {
  const e = rejectedForLatency();
  const html = renderReportHtml(e);

  it('shows the decision and its reason, and warns in the banner when labels are open', () => {
    expect(html).toContain('<div class="kind">reject</div>');
    expect(html).toContain(`<p><b>Why:</b> ${escapeHtml(REASON)}</p>`);
    expect(html).toContain(
      '<div class="decision">\n<p class="warn">Labels are open (router.labels: open): any client may label requests, so a client can sway this test.</p>\n<div class="kind">reject</div>',
    );
    expect(renderReportHtml({ ...e, labels: 'token' })).not.toContain('class="warn"');
  });

  it('says what the request-level rule would decide, for reference', () => {
    expect(html).toContain(
      '<p class="note"><b>Request-level rule</b> (every request independent, chi-square sample ratio over requests, no guardrails; for reference, not used): ' +
        'would continue (not the decision above): request sample ratio mismatch: 1180 vs 590 requests (chi-square p = 1.2e-44).</p>',
    );
  });

  it('tabulates users, requests, failures, labels, accuracy with its always-valid interval and latency per arm', () => {
    expect(html).toContain(
      '<thead><tr><th>variant</th><th>alias</th><th>version</th><th>users</th><th>labelled users</th><th>requests</th><th>failed (failure rate)</th><th>labelled (share)</th>' +
        '<th>accuracy</th><th>always-valid 95% interval</th><th>latency mean (ms)</th><th>latency p50 (ms)</th><th>latency p99 (ms)</th></tr></thead>',
    );
    expect(html).toContain(
      '<tr><td>A</td><td>prod</td><td>3</td><td>300</td><td>290</td><td>1180</td><td>20 (1.67%)</td><td>1100 (93.2%)</td><td>0.750</td><td>[0.700, 0.800]</td><td>12.5</td><td>11.0</td><td>30.0</td></tr>' +
        '<tr><td>B</td><td>staging</td><td>4</td><td>150</td><td>145</td><td>590</td><td>10 (1.67%)</td><td>550 (93.2%)</td><td>0.900</td><td>[0.850, 0.940]</td><td>20.0</td><td>18.0</td><td>45.0</td></tr>',
    );
    expect(html).toContain('aria-label="Accuracy per variant with always-valid 95% intervals"');
  });

  it('shows the request-level numbers beside them: Wilson interval (fixed horizon) and both standard errors', () => {
    expect(html).toContain(
      '<thead><tr><th>variant</th><th>accuracy</th><th>Wilson 95% interval (fixed-horizon, valid at one planned look only)</th><th>standard error, requests independent</th><th>standard error, users as clusters</th></tr></thead>\n' +
        '<tbody><tr><td>A</td><td>0.750</td><td>[0.724, 0.775]</td><td>0.0131</td><td>0.0182</td></tr><tr><td>B</td><td>0.900</td><td>[0.872, 0.922]</td><td>0.0128</td><td>0.0201</td></tr></tbody>',
    );
  });

  it('draws the always-valid interval of B − A against θ0 and says the decision and the interval agree', () => {
    expect(html).toContain('aria-label="Always-valid 90% interval of accuracy B − A against θ0"');
    expect(html).toContain('<p>Always-valid 90% interval of accuracy B − A: <b>[0.080, 0.220]</b> against θ0 = 0 (each bound one-sided at 95%).</p>');
    expect(html).toContain(
      '<p>The decision and the interval agree: B is promoted only when the lower bound of B − A is above θ0 (promote ⇔ lower bound &gt; θ0, with the guardrails holding), ' +
        'and rejected as worse when the upper bound is below θ0. Here the lower bound 0.080 is above θ0 0, but the decision is reject: a guardrail or a data-quality guard holds it back (see the reason above).</p>',
    );
  });

  it('keeps the p-value path and adds the request-level p as a thin dashed reference line', () => {
    expect(html).toContain('aria-label="Always-valid p-value as labelled requests came in"');
    // p(B better), p(B worse) and the request-level reference, each starting at p = 1 before any label.
    expect(html.match(/<polyline /g)).toHaveLength(3);
    expect(html).toContain('stroke="#00838f" stroke-width="1.2" stroke-dasharray="3 3"/>');
    expect(html).toContain('<span style="color:#00838f">┄ request-level (for reference)</span>');
  });

  it('checks the sample ratio over users against the split in force per period, the request chi-square beside it', () => {
    expect(html).toContain('Users are what is randomised');
    expect(html).toContain('aria-label="Users per variant, observed and expected under the split in force"');
    expect(html).toContain(
      '<table><thead><tr><th>period</th><th>split in force (ab_split_b)</th><th>users A</th><th>users B</th><th>expected A</th><th>expected B</th></tr></thead>' +
        '<tbody><tr><td>1</td><td>0.5</td><td>100</td><td>100</td><td>100.0</td><td>100.0</td></tr><tr><td>2</td><td>0.2</td><td>200</td><td>50</td><td>200.0</td><td>50.0</td></tr></tbody></table>',
    );
    expect(html).toContain('<p class="ok">Users split as the split in force says: always-valid p = 0.62 ≥ srm_alpha 0.001.</p>');
    expect(html).toContain(
      '<p class="note">For reference: requests counted as independent (not used): chi-square p = 1.2e-44, statistic 196.667, 1180 vs 590 requests (expected 1416.0 vs 354.0 at the split now).</p>',
    );
  });

  it('has one row per guardrail with its state, the numbers of A and B, both p-values and the margin', () => {
    expect(html).toContain(`<tr><td>latency</td><td class="bad">breached</td><td>${LATENCY_SUMMARY}</td><td>1</td><td>0.00012</td><td>+25%</td></tr>`);
    expect(html).toContain(`<tr><td>failures</td><td class="ok">holds</td><td>failure rate B 1.67% (10 of 600) vs A 1.67% (20 of 1200), margin +1%</td><td>0.003</td><td>1</td><td>+1%</td></tr>`);
  });

  it('lists the split changes under data quality', () => {
    expect(html).toContain('<li>Split changes while the experiment ran: <ul><li>2025-09-17T10:00:00.000Z: ab_split_b → 0.2</li></ul></li>');
    expect(renderReportHtml(nothingYet())).toContain('<li>Split changes while the experiment ran: none</li>');
  });

  it('is one file that opens offline: no scripts, nothing fetched', () => {
    expect(html).not.toMatch(/<script|\ssrc=|href=|url\(/i);
  });

  it('escapes whatever the log contains', () => {
    const hostile = rejectedForLatency();
    hostile.log.malformed = [{ file: '/var/log/driftgate/predictions.csv', line: 7, problem: 'variant: expected "A" or "B", got "<script>alert(1)</script>"' }];
    hostile.guardrails.malformed.rows = 1;
    hostile.variants.B.alias = '<b>staging</b>';
    const out = renderReportHtml(hostile);
    expect(out).not.toContain('<script>');
    expect(out).not.toContain('<b>staging</b>');
    expect(out).toContain('<td>variant: expected &quot;A&quot; or &quot;B&quot;, got &quot;&lt;script&gt;alert(1)&lt;/script&gt;&quot;</td>');
  });

  it('says plainly when there is nothing to chart yet', () => {
    const out = renderReportHtml(nothingYet());
    expect(out).toContain('<div class="kind">continue</div>');
    expect(out).toContain('No labelled requests yet, so there is no accuracy to show.');
    expect(out).toContain('<th>always-valid 95% interval</th>');
    expect(out).toContain('No always-valid interval of B − A yet: it starts at the first counted look.');
    expect(out).toContain('No labelled requests yet: the p-value path starts with the first labels.');
    expect(out).toContain('Not checked: no A/B traffic was evaluated.');
    expect(out).toContain('<tr><td>latency</td><td class="note">not checked</td><td>no A/B traffic was evaluated</td><td>n/a</td><td>n/a</td><td>n/a</td></tr>');
    expect(out).toContain('(every request independent, chi-square sample ratio over requests, no guardrails; for reference, not used): not evaluated (no A/B traffic).</p>');
  });
});

describe('report.json', () => {
  it('holds the whole evaluation record', () => {
    const e = rejectedForLatency();
    expect(JSON.parse(reportFiles(e)['report.json'])).toEqual(e);
  });

  it('writes a number JSON cannot hold as a string, as every report does', () => {
    const e = nothingYet();
    const parsed = JSON.parse(reportFiles({ ...e, difference: Number.NaN, interval: { lower: Number.NEGATIVE_INFINITY, upper: 0.2, confidence: 0.9, kind: 'always-valid' } })['report.json']) as {
      difference: unknown;
      interval: { lower: unknown };
      decision: string;
    };
    expect(parsed.difference).toBe('NaN');
    expect(parsed.interval.lower).toBe('-Infinity');
    expect(parsed.decision).toBe('continue');
  });
});
