import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { evaluateLog } from '../../src/ab/evaluate.js';
import type { AbEvaluation, EvaluationContext } from '../../src/ab/evaluation.js';
import { renderReportHtml } from '../../src/ab/report-html.js';
import { reportFiles } from '../../src/ab/report-json.js';
import { escapeHtml } from '../../src/report/html.js';
import { loadConfig } from '../../src/config/index.js';
import { logText, simulatedRows } from '../helpers/ab-log.js';
import { tempDir, writeConfig } from '../helpers/config.js';

const dir = tempDir('driftgate-ab-report-');
const config = loadConfig(writeConfig(dir), {});

async function evaluation(rows: string, over: Partial<EvaluationContext> = {}): Promise<AbEvaluation> {
  const file = path.join(dir, `log-${Math.random().toString(36).slice(2)}.csv`);
  writeFileSync(file, rows);
  return evaluateLog({
    config,
    prod: '3',
    staging: '4',
    split: 0.5,
    logPattern: file,
    explicitLog: true,
    now: new Date(Date.UTC(2025, 8, 17, 13)),
    id: '20250917T130000000Z',
    reportDir: path.join(dir, 'r'),
    log: () => undefined,
    ...over,
  });
}

describe('report.html', () => {
  it('shows the decision and reason, accuracy with intervals, the p-value path, and the SRM check, self-contained', async () => {
    const e = await evaluation(logText(simulatedRows({ n: 1200, splitB: 0.5, accuracyA: 0.75, accuracyB: 0.95, versionA: '3', versionB: '4', seed: 7 })));
    const html = renderReportHtml(e);
    expect(html).toContain('<div class="kind">promote</div>');
    expect(html).toContain(`<p><b>Why:</b> ${escapeHtml(e.reason)}</p>`);
    expect(html).toContain('aria-label="Accuracy per variant with 95% intervals"');
    expect(html).toContain('aria-label="Always-valid p-value as labelled requests came in"');
    expect(html).toContain('aria-label="Observed and expected requests per variant"');
    expect(html).toContain('Traffic split as configured (ab_split_b 0.5)');
    expect(html).toContain(`<td>${e.variants.B.accuracy!.toFixed(3)}</td><td>[${e.variants.B.ci!.lower.toFixed(3)}, ${e.variants.B.ci!.upper.toFixed(3)}]</td>`);
    // One file that opens offline: no scripts, nothing fetched.
    expect(html).not.toMatch(/<script|\ssrc=|href=|url\(/i);
    // One polyline per direction, starting at p = 1 before any label.
    expect(html.match(/<polyline /g)).toHaveLength(2);
  });

  it('escapes whatever the log contains', async () => {
    const rows = simulatedRows({ n: 20, splitB: 0.5, accuracyA: 0.9, accuracyB: 0.9, versionA: '3', versionB: '4' });
    const text = logText(rows).replace(/,B,staging,4,/, ',<script>alert(1)</script>,staging,4,');
    const e = await evaluation(text);
    const html = renderReportHtml(e);
    expect(e.log.malformed[0]!.problem).toBe('variant: expected "A" or "B", got "<script>alert(1)</script>"');
    expect(html).not.toContain('<script>');
    expect(html).toContain('&quot;&lt;script&gt;alert(1)&lt;/script&gt;&quot;');
  });

  it('says plainly when there is nothing to chart yet', async () => {
    const e = await evaluation('', { staging: null });
    const html = renderReportHtml(e);
    expect(html).toContain('<div class="kind">continue</div>');
    expect(html).toContain('No labelled requests yet, so there is no accuracy to show.');
    expect(html).toContain('No labelled requests yet: the p-value path starts with the first labels.');
    expect(html).toContain('Not checked: no A/B traffic was evaluated.');
  });
});

describe('report.json', () => {
  it('writes a number JSON cannot hold as a string, as every report does', async () => {
    const e = await evaluation(logText([]));
    const parsed = JSON.parse(reportFiles({ ...e, difference: Number.NaN })['report.json']) as Record<string, unknown>;
    expect(parsed.difference).toBe('NaN');
    expect(parsed.decision).toBe('continue');
  });
});
