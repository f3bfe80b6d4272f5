import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { decide, decisionConfig, foldSettings } from '../../src/ab/decide.js';
import { ExperimentFold } from '../../src/ab/experiment-fold.js';
import { evaluateLog } from '../../src/ab/evaluate.js';
import type { EvaluationContext } from '../../src/ab/evaluation.js';
import { loadConfig, type Config } from '../../src/config/index.js';
import { InputError } from '../../src/errors.js';
import { appendLog, simulatedRows, withShadow, writeLog, type LogRow, type PredictionRow } from '../helpers/ab-log.js';
import { tempDir, writeConfig } from '../helpers/config.js';

const dir = tempDir('driftgate-ab-eval-');

function setup(patch: Record<string, unknown> = {}, name = 'driftgate.yaml'): Config {
  return loadConfig(writeConfig(dir, patch, name), {});
}

function context(config: Config, over: Partial<EvaluationContext> = {}): EvaluationContext {
  return {
    config,
    prod: '3',
    staging: '4',
    split: 0.5,
    shadowShare: 0,
    watch: null,
    logPattern: config.router.log_path,
    explicitLog: false,
    now: new Date(Date.UTC(2025, 8, 17, 13)),
    id: 'test',
    reportDir: path.join(dir, 'reports', 'test'),
    log: () => undefined,
    ...over,
  };
}

function logFile(name: string, rows: LogRow[]): string {
  const file = path.join(dir, name);
  writeLog(file, rows);
  return file;
}

describe('evaluateLog: clear answers when there is nothing to decide', () => {
  const config = setup();
  it.each([
    [{ prod: null }, 'no prod version of driftgate-iris is registered: there is nothing to test a candidate against'],
    [{ staging: null }, "no staging version of driftgate-iris: no A/B test is running (train a candidate, then 'driftgate ab start')"],
    [
      { staging: '3' },
      "staging and prod both point at version 3 (left over from a promotion that did not finish); 'driftgate ab evaluate --apply' removes the leftover staging",
    ],
    [{ split: 0 }, "router.ab_split_b is 0: the A/B test of version 4 has not started, no traffic goes to staging (run 'driftgate ab start')"],
    [{ split: 1 }, 'router.ab_split_b is 1: all traffic goes to staging, so there is no control arm to compare against'],
  ] as const)('%o', async (over, reason) => {
    const e = await evaluateLog(context(config, over));
    expect(e).toMatchObject({ decision: 'continue', reason, p_value: null, srm_pvalue: null });
  });

  it('a missing log is an answer, an explicit --log that matches nothing is bad input', async () => {
    const missing = path.join(dir, 'nothing-here-*.csv');
    const e = await evaluateLog(context(config, { logPattern: missing }));
    expect(e.reason).toBe(`no predictions log yet: nothing matches router.log_path ${missing}`);
    const explicit = evaluateLog(context(config, { logPattern: missing, explicitLog: true }));
    await expect(explicit).rejects.toBeInstanceOf(InputError);
    await expect(explicit).rejects.toThrow(`--log: no file matches ${missing}`);
  });

  it('an empty log', async () => {
    const file = logFile('empty.csv', []);
    const e = await evaluateLog(context(config, { logPattern: file }));
    expect(e).toMatchObject({ decision: 'continue', reason: `the predictions log (${file}) has no rows yet` });
  });

  it('a log with only the old prod’s traffic', async () => {
    const file = logFile('prod-only.csv', simulatedRows({ n: 10, splitB: 0, accuracyA: 0.9, accuracyB: 0.9, versionA: '3', versionB: '4' }));
    const e = await evaluateLog(context(config, { logPattern: file }));
    expect(e.decision).toBe('continue');
    expect(e.reason).toBe('no request served by staging version 4 in the log yet (15 rows read, 10 predictions from other versions or from before the test)');
  });

  it('unknown labels are named, and too many of them stop the decision', async () => {
    const rows = simulatedRows({ n: 40, splitB: 0.5, accuracyA: 0.9, accuracyB: 0.9, versionA: '3', versionB: '4', classes: ['0', '1'] });
    const file = logFile('numeric-labels.csv', rows);
    const e = await evaluateLog(context(config, { logPattern: file }));
    expect(e.decision).toBe('continue');
    // Every prediction and every feedback label is outside the classes: 40 + 20 rows.
    expect(Object.keys(e.log.unknown_labels).sort()).toEqual(['0', '1']);
    expect(Object.values(e.log.unknown_labels).reduce((a, b) => a + b, 0)).toBe(60);
    expect(e.reason).toMatch(
      new RegExp(`^60 of 60 log rows \\(100%\\) are malformed, more than the 1% allowed, so the log is not trusted for a decision \\(first: ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:2: prediction "[01]" is not one of the classes setosa, versicolor, virginica\\); the statistics alone say continue: `),
    );
  });
});

describe('evaluateLog: decisions', () => {
  const config = setup();

  it('promotes a clear win, with the numbers of the finished statistics', async () => {
    const rows = simulatedRows({ n: 1200, splitB: 0.5, accuracyA: 0.75, accuracyB: 0.95, versionA: '3', versionB: '4', seed: 7 });
    const file = logFile('win.csv', rows);
    const e = await evaluateLog(context(config, { logPattern: file }));
    expect(e.decision).toBe('promote');
    expect(e.reason).toMatch(/^B beats A: accuracy 0\.9\d\d vs 0\.7\d\d, always-valid p = .* < alpha 0\.05, always-valid interval of B − A \[0\.\d{3}, 0\.\d{3}\]; guardrails hold$/);
    expect(e.p_value).toBeLessThan(0.05);
    expect(e.guardrails.srm.passed).toBe(true);
    expect(e.variants.A.requests + e.variants.B.requests).toBe(1200);
    expect(e.variants.A.labeled).toBe(e.variants.A.requests);
    // Every request has its own user here, so users and requests agree.
    expect(e.variants.B.users).toBe(e.variants.B.requests);
    // Recompute independently: the same requests and labels, in the order the log has them, through the fold.
    const settings = decisionConfig(config.ab, 0.5);
    const fold = new ExperimentFold(foldSettings(settings));
    const byId = new Map(rows.flatMap((r) => (r.event === 'feedback' ? [] : [[r.request_id, r] as const])));
    for (const r of rows) {
      if (r.event === 'feedback') {
        const prediction = byId.get(r.request_id)!;
        fold.label(prediction.variant, `u-${r.request_id}`, prediction.prediction === r.label);
        continue;
      }
      fold.request(r.variant, `u-${r.request_id}`, 0.5, { failed: false, latencyMs: Number(r.latency_ms) });
      if (r.label !== undefined) fold.label(r.variant, `u-${r.request_id}`, r.prediction === r.label);
    }
    fold.look();
    const snapshot = fold.snapshot();
    const expected = decide({ arms: snapshot.arms, look: snapshot.path.at(-1)!, srmPValue: snapshot.srm.pValue }, settings);
    expect(e.p_better).toBe(expected.pBetter);
    expect(e.reason).toBe(expected.reason);
    expect(e.interval).toEqual({ lower: expected.lower, upper: expected.upper, confidence: 0.9, kind: 'always-valid' });
    // The decision and the interval agree: promote ⇔ the lower bound is above θ0 = 0.
    expect(e.interval!.lower).toBeGreaterThan(0);
    expect(e.path).toHaveLength(snapshot.path.length);
    expect(e.variants.B.ci).toMatchObject({ kind: 'always-valid', confidence: 0.95 });
    expect(e.variants.B.ci!.lower).toBeLessThan(e.variants.B.accuracy!);
    expect(e.variants.B.request_level.ci).toMatchObject({ kind: 'fixed-horizon', confidence: 0.95 });
    expect(e.variants.B.error_rate).toBeCloseTo(1 - e.variants.B.accuracy!, 12);
    expect(e.variants.A.latency_ms.p50).toBeGreaterThanOrEqual(3);
    expect(e.guardrails.latency).toMatchObject({ state: 'holds', margin: 0.25 });
    expect(e.guardrails.failures).toMatchObject({ state: 'holds', margin: 0.02 });
    expect(e.request_level.decision).toBe('promote');
  });

  it('rejects when B is significantly worse', async () => {
    const file = logFile('worse.csv', simulatedRows({ n: 1200, splitB: 0.5, accuracyA: 0.95, accuracyB: 0.7, versionA: '3', versionB: '4', seed: 8 }));
    const e = await evaluateLog(context(config, { logPattern: file }));
    expect(e.decision).toBe('reject');
    expect(e.reason).toMatch(/^B is worse than A: accuracy 0\.[67]\d\d vs 0\.9\d\d, always-valid p = .* < alpha 0\.05, always-valid interval of B − A \[-0\.\d{3}, -0\.\d{3}\]$/);
    expect(e.p_value).toBe(e.p_worse);
  });

  it('rejects a test that reaches max_labeled without a win', async () => {
    const capped = setup({ ab: { min_labeled: 20, min_users: 20, max_labeled: 100 } }, 'capped.yaml');
    const file = logFile('flat.csv', simulatedRows({ n: 240, splitB: 0.5, accuracyA: 0.9, accuracyB: 0.9, versionA: '3', versionB: '4', seed: 3 }));
    const e = await evaluateLog(context(capped, { logPattern: file }));
    expect(e.decision).toBe('reject');
    expect(e.reason).toMatch(/^no win within the maximum of 100 labelled rows per arm: /);
  });

  it('waits for labels below min_labeled', async () => {
    const file = logFile('few.csv', simulatedRows({ n: 60, splitB: 0.5, accuracyA: 0.5, accuracyB: 1, versionA: '3', versionB: '4', seed: 4 }));
    const e = await evaluateLog(context(config, { logPattern: file }));
    expect(e.decision).toBe('continue');
    expect(e.reason).toMatch(/^waiting for labels: A has \d+ and B has \d+ labelled rows, 100 per arm are needed$/);
    expect(e.guardrails.min_labeled.passed).toBe(false);
  });

  it('a sample ratio mismatch invalidates a win', async () => {
    const rows = simulatedRows({ n: 1200, splitB: 0.3, accuracyA: 0.75, accuracyB: 0.95, versionA: '3', versionB: '4', seed: 7 });
    const file = logFile('srm.csv', rows);
    const e = await evaluateLog(context(config, { logPattern: file, split: 0.5 }));
    expect(e.decision).toBe('continue');
    expect(e.guardrails.srm.passed).toBe(false);
    expect(e.srm_pvalue).toBeLessThan(0.001);
    expect(e.guardrails.srm.periods).toEqual([{ ab_split_b: 0.5, users_A: e.variants.A.users, users_B: e.variants.B.users }]);
    expect(e.reason).toMatch(/^sample ratio mismatch: \d+ users in A and \d+ in B against the split in force \(always-valid p = .* < 0\.001\); the test is invalid and nothing is promoted$/);
  });

  it('non-inferiority promotes an equal candidate that a superiority test would not', async () => {
    const rows = simulatedRows({ n: 3000, splitB: 0.5, accuracyA: 0.9, accuracyB: 0.9, versionA: '3', versionB: '4', seed: 11 });
    const file = logFile('equal.csv', rows);
    const superiority = await evaluateLog(context(config, { logPattern: file }));
    expect(superiority.decision).toBe('continue');
    const ni = setup({ ab: { mode: 'non-inferiority', margin: 0.05 } }, 'ni.yaml');
    const e = await evaluateLog(context(ni, { logPattern: file }));
    expect(e.decision).toBe('promote');
    expect(e.test.theta0).toBe(-0.05);
    expect(e.reason).toMatch(/^B is not worse than A by more than the margin 0\.05: /);
  });

  it('decides on a log with at most 1% malformed rows, not on one with more', async () => {
    const rows = simulatedRows({ n: 1200, splitB: 0.5, accuracyA: 0.75, accuracyB: 0.95, versionA: '3', versionB: '4', seed: 7 });
    const file = logFile('noisy.csv', rows);
    const total = rows.length;
    const allowed = Math.floor(total * 0.01 / 0.99);
    const bad = (k: number): PredictionRow[] => Array.from({ length: k }, (_, i) => ({ ts: 'garbage', request_id: `bad${i}`, variant: 'A', model_version: '3', prediction: 'setosa' }));
    appendLog(file, bad(allowed));
    const ok = await evaluateLog(context(config, { logPattern: file }));
    expect(ok.guardrails.malformed).toMatchObject({ passed: true, rows: allowed });
    expect(ok.decision).toBe('promote');
    appendLog(file, bad(2).map((r) => ({ ...r, request_id: `${r.request_id}-more` })));
    const blocked = await evaluateLog(context(config, { logPattern: file }));
    expect(blocked.decision).toBe('continue');
    expect(blocked.statistical_decision).toBe('promote');
    expect(blocked.reason).toContain(`${allowed + 2} of ${total + allowed + 2} log rows`);
    expect(blocked.reason).toContain(`(first: ${file}:${total + 2}: ts: expected an ISO-8601 UTC time, got "garbage")`);
    expect(blocked.reason).toContain('the statistics alone say promote: B beats A');
  });

  it('reads replica logs together through a glob', async () => {
    const rows = simulatedRows({ n: 1200, splitB: 0.5, accuracyA: 0.75, accuracyB: 0.95, versionA: '3', versionB: '4', seed: 7 });
    logFile('replica-1.csv', rows.filter((_, i) => i % 2 === 0));
    logFile('replica-2.csv', rows.filter((_, i) => i % 2 === 1));
    const together = await evaluateLog(context(config, { logPattern: path.join(dir, 'replica-*.csv') }));
    const single = await evaluateLog(context(config, { logPattern: path.join(dir, 'win.csv') }));
    expect(together.log.files).toHaveLength(2);
    expect(together.variants).toEqual(single.variants);
    expect(together.p_better).toBe(single.p_better);
  });
});

describe('evaluateLog: the paired (shadow) test and the watch after a promotion', () => {
  const config = setup();
  const shadowConfig = setup({ ab: { design: 'shadow' } }, 'shadow.yaml');

  it('a shadow test decides on the pairs, and says so', async () => {
    const rows = withShadow(simulatedRows({ n: 800, splitB: 0, accuracyA: 0.75, accuracyB: 0.75, versionA: '3', versionB: '4', seed: 21 }), { version: '4', accuracy: 0.95, seed: 22 });
    const file = logFile('shadow.csv', rows);
    const e = await evaluateLog(context(shadowConfig, { logPattern: file, split: 0, shadowShare: 1 }));
    expect(e.design).toBe('shadow');
    expect(e.decision).toBe('promote');
    expect(e.reason).toMatch(/^B beats A in the paired \(shadow\) test: /);
    const pairs = rows.filter((r) => r.event === 'shadow').length;
    // The first shadow row opens the test at its request's prod row: every shadowed request is a pair.
    expect(e.paired!.compared).toBe(pairs);
    expect(e.log.excluded_predictions).toBe(0);
    expect(e.paired!.b + e.paired!.c + e.paired!.both_right + e.paired!.both_wrong).toBe(e.paired!.labeled_pairs);
    expect(e.variants.B).toMatchObject({ version: '4', labeled: e.paired!.labeled_pairs });
    expect(e.interval!.lower).toBeGreaterThan(0);
  });

  it('a shadow test opens at the prod row of the first shadowed request: shadow rows a batch late lose no pair and no label', async () => {
    // The shadow answers in batches: each shadow row 20 s (20 requests and their feedback) after its prod row.
    const rows = withShadow(simulatedRows({ n: 400, splitB: 0, accuracyA: 0.8, accuracyB: 0.8, versionA: '3', versionB: '4', seed: 23 }), { version: '4', accuracy: 0.95, seed: 24 })
      .map((r) => (r.event === 'shadow' ? { ...r, ts: Number(r.ts) + 20_000 } : r))
      .sort((x, y) => Number(x.ts) - Number(y.ts));
    const file = logFile('shadow-late.csv', rows);
    const e = await evaluateLog(context(shadowConfig, { logPattern: file, split: 0, shadowShare: 1 }));
    expect(e.paired).toMatchObject({ compared: 400, labeled_pairs: 400 });
    expect(e.variants.A).toMatchObject({ requests: 400, labeled: 400 });
    expect(e.log).toMatchObject({ excluded_predictions: 0, excluded_feedback: 0, orphan_feedback: 0 });
  });

  it('a shadow that fails on 10% of the requests is rejected by the failure guardrail, with both models’ numbers', async () => {
    const rows = withShadow(simulatedRows({ n: 1500, splitB: 0, accuracyA: 0.9, accuracyB: 0.9, versionA: '3', versionB: '4', seed: 41 }), { version: '4', accuracy: 0.9, seed: 42, failures: 0.1 });
    const failed = rows.filter((r) => r.event === 'shadow' && r.error_code === 'WORKER_FAILED').length;
    const file = logFile('shadow-failing.csv', rows);
    const e = await evaluateLog(context(shadowConfig, { logPattern: file, split: 0, shadowShare: 1 }));
    expect(e.decision).toBe('reject');
    expect(e.reason).toMatch(/^the failures guardrail is breached in the paired \(shadow\) test: failure rate B /);
    // Every failed shadow row counts against B, none against A.
    expect(e.variants.B.failed).toBe(failed);
    expect(e.variants.A.failed).toBe(0);
    expect(e.paired!.labeled_pairs).toBe(e.variants.B.labeled);
  });

  it('a shadow test that has not started says which share is 0', async () => {
    const e = await evaluateLog(context(shadowConfig, { split: 0, shadowShare: 0 }));
    expect(e.reason).toBe("router.shadow_share is 0: the shadow test of version 4 (ab.design shadow) has not started, staging predicts on no request (run 'driftgate ab start')");
  });

  const watch = { version: '4', previous: '3', started_at: new Date(Date.UTC(2025, 8, 17, 12)).toISOString(), labels: 1000, hours: 24 };

  it('a watch rolls back a new prod that is worse than the one it replaced', async () => {
    const before = simulatedRows({ n: 50, splitB: 0, accuracyA: 0.9, accuracyB: 0.9, versionA: '3', versionB: '4', seed: 30, start: Date.UTC(2025, 8, 17, 11), prefix: 'old' });
    const after = withShadow(simulatedRows({ n: 800, splitB: 0, accuracyA: 0.7, accuracyB: 0.7, versionA: '4', versionB: '9', seed: 31 }), { version: '3', alias: 'previous_prod', accuracy: 0.95, seed: 32 });
    const file = logFile('watch-worse.csv', [...before, ...after]);
    const e = await evaluateLog(context(config, { logPattern: file, prod: '4', staging: null, split: 0, watch }));
    expect(e.design).toBe('watch');
    expect(e.decision).toBe('rollback');
    expect(e.reason).toMatch(/^the new prod version 4 is worse than previous_prod version 3, which it replaced, in the paired \(shadow\) watch: accuracy 0\.7\d\d \(new\) vs 0\.9\d\d \(replaced\) on \d+ labelled pairs .*; rolling back$/);
    expect(e.watch).toMatchObject({ version: '4', previous: '3', ends: true });
    expect(e.variants.B).toMatchObject({ alias: 'previous_prod', version: '3' });
    // The old prod's own traffic from before the promotion is not part of the watch.
    expect(e.log.excluded_predictions).toBe(50);
  });

  it('a watch judged on a log with too many malformed rows neither rolls back nor ends', async () => {
    const rows = withShadow(simulatedRows({ n: 400, splitB: 0, accuracyA: 0.9, accuracyB: 0.9, versionA: '4', versionB: '9', seed: 33 }), { version: '3', alias: 'previous_prod', accuracy: 0.9, seed: 34 });
    const file = logFile('watch-untrusted.csv', rows);
    appendLog(file, Array.from({ length: 40 }, (_, i) => ({ ts: 'garbage', request_id: `bad${i}`, variant: 'A' as const, model_version: '4', prediction: 'setosa' })));
    const e = await evaluateLog(context(config, { logPattern: file, prod: '4', staging: null, split: 0, watch: { ...watch, labels: 300 } }));
    expect(e.decision).toBe('continue');
    expect(e.watch!.ends).toBe(false);
    expect(e.reason).toMatch(/^40 of \d+ log rows \(\d+(\.\d+)?%\) are malformed, more than the 1% allowed, so the log is not trusted for a decision/);
  });

  it('a watch that runs its labels out without finding the new prod worse ends', async () => {
    const rows = withShadow(simulatedRows({ n: 400, splitB: 0, accuracyA: 0.9, accuracyB: 0.9, versionA: '4', versionB: '9', seed: 33 }), { version: '3', alias: 'previous_prod', accuracy: 0.9, seed: 34 });
    const file = logFile('watch-flat.csv', rows);
    const e = await evaluateLog(context(config, { logPattern: file, prod: '4', staging: null, split: 0, watch: { ...watch, labels: 300 } }));
    expect(e.decision).toBe('continue');
    expect(e.watch!.ends).toBe(true);
    expect(e.reason).toMatch(/^the watch of prod version 4 ends after 300 labelled pairs without finding it worse than previous_prod version 3: /);
  });
});
