import { describe, expect, it } from 'vitest';
import type { PairedDecision } from '../../src/ab/decide.js';
import { decideWatch, type WatchInput } from '../../src/ab/watch.js';

const STARTED = Date.UTC(2026, 11, 1, 12);

/** The paired test's answer with A = the new prod, B = the replaced prod. */
function paired(over: Partial<PairedDecision>): PairedDecision {
  return {
    decision: 'continue',
    reason: '',
    pValue: 1,
    pBetter: 1,
    pWorse: 1,
    theta0: 0,
    difference: 0,
    lower: -0.1,
    upper: 0.1,
    guardrails: [],
    breached: null,
    labeledPairs: 400,
    b: 20,
    c: 18,
    agreementRate: 0.9,
    predictionPValue: null,
    ...over,
  };
}

function input(p: Partial<PairedDecision>, hoursLater: number, accuracy = { A: 0.9, B: 0.9 }, limits = { labels: 1000, hours: 24 }): WatchInput {
  return {
    paired: paired(p),
    accuracy,
    watch: { version: '4', previous: '3', started_at: new Date(STARTED).toISOString(), ...limits },
    aliases: { prod: 'prod', previous: 'previous_prod' },
    alpha: 0.05,
    now: new Date(STARTED + hoursLater * 3_600_000),
  };
}

describe('decideWatch', () => {
  it('rolls back when the replaced prod is shown better than the new one', () => {
    expect(decideWatch(input({ pBetter: 0.001, difference: 0.2, b: 90, c: 10 }, 2, { A: 0.7, B: 0.9 }))).toEqual({
      decision: 'rollback',
      reason:
        'the new prod version 4 is worse than previous_prod version 3, which it replaced, in the paired (shadow) watch: accuracy 0.700 (new) vs 0.900 (replaced) ' +
        'on 400 labelled pairs (the new right and the replaced wrong 10, the reverse 90), always-valid p = 0.001 < alpha 0.05; rolling back',
      ends: true,
    });
  });

  it('ends early when the new prod is shown better', () => {
    const v = decideWatch(input({ pWorse: 0.002 }, 2, { A: 0.95, B: 0.85 }));
    expect(v).toMatchObject({ decision: 'continue', ends: true });
    expect(v.reason).toBe(
      'the watch of prod version 4 ends: it is shown better than previous_prod version 3 in the paired (shadow) watch: accuracy 0.950 (new) vs 0.850 (replaced) ' +
        'on 400 labelled pairs (the new right and the replaced wrong 18, the reverse 20), always-valid p = 0.002 < alpha 0.05',
    );
  });

  it('ends after its labelled pairs or its hours without finding the new prod worse, and keeps watching before', () => {
    expect(decideWatch(input({ pBetter: 0.4, labeledPairs: 1000 }, 3)).reason).toMatch(/^the watch of prod version 4 ends after 1000 labelled pairs without finding it worse than previous_prod version 3: /);
    expect(decideWatch(input({ pBetter: 0.4 }, 24.5)).reason).toMatch(/^the watch of prod version 4 ends after 24 hours without finding it worse /);
    const running = decideWatch(input({ pBetter: 0.4 }, 6));
    expect(running).toMatchObject({ decision: 'continue', ends: false });
    expect(running.reason).toBe(
      'watching prod version 4 beside previous_prod version 3 in shadow (6.0 of 24 hours, 400 of 1000 labelled pairs): accuracy 0.900 (new) vs 0.900 (replaced) ' +
        'on 400 labelled pairs (the new right and the replaced wrong 18, the reverse 20), always-valid p = 0.4 ≥ alpha 0.05',
    );
  });

  it('a limit of 0 never ends the watch by itself', () => {
    expect(decideWatch(input({ pBetter: 0.4, labeledPairs: 5000 }, 100, { A: 0.9, B: 0.9 }, { labels: 0, hours: 0 })).ends).toBe(false);
  });
});
