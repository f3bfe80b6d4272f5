/**
 * The watch after a promotion: the replaced prod predicts in shadow beside the new one, and the
 * paired test (A = the new prod, answering; B = the replaced prod, in shadow) says whether the new
 * prod is worse. Pure: the paired decision, the watch and the clock in, the verdict out.
 */
import type { Watch } from '../registry/index.js';
import { formatP, type AbDecisionKind, type PairedDecision } from './decide.js';

export interface WatchVerdict {
  /** rollback: the new prod is worse than the one it replaced; continue otherwise. */
  decision: Extract<AbDecisionKind, 'rollback' | 'continue'>;
  reason: string;
  /** The watch is over: it ran its course, or the new prod is shown better. */
  ends: boolean;
}

export interface WatchInput {
  paired: PairedDecision;
  /** Labelled-pair accuracy of the new prod (A) and of the replaced one (B). */
  accuracy: { A: number; B: number };
  watch: Watch;
  aliases: { prod: string; previous: string };
  alpha: number;
  now: Date;
}

function accuracy(x: number): string {
  return Number.isFinite(x) ? x.toFixed(3) : 'n/a';
}

export function decideWatch({ paired, accuracy: acc, watch, aliases, alpha, now }: WatchInput): WatchVerdict {
  const hours = (now.getTime() - Date.parse(watch.started_at)) / 3_600_000;
  const newer = `${aliases.prod} version ${watch.version}`;
  const older = `${aliases.previous} version ${watch.previous}`;
  const numbers =
    `accuracy ${accuracy(acc.A)} (new) vs ${accuracy(acc.B)} (replaced) on ${paired.labeledPairs} labelled pairs ` +
    `(the new right and the replaced wrong ${paired.c}, the reverse ${paired.b})`;
  // B − A is the replaced prod's lead: shown above 0, the new prod is worse.
  if (paired.pBetter < alpha) {
    return {
      decision: 'rollback',
      reason: `the new ${newer} is worse than ${older}, which it replaced, in the paired (shadow) watch: ${numbers}, always-valid p = ${formatP(paired.pBetter)} < alpha ${alpha}; rolling back`,
      ends: true,
    };
  }
  if (paired.pWorse < alpha) {
    return { decision: 'continue', reason: `the watch of ${newer} ends: it is shown better than ${older} in the paired (shadow) watch: ${numbers}, always-valid p = ${formatP(paired.pWorse)} < alpha ${alpha}`, ends: true };
  }
  const byLabels = (watch.labels ?? 0) > 0 && paired.labeledPairs >= watch.labels!;
  const byHours = (watch.hours ?? 0) > 0 && hours >= watch.hours!;
  if (byLabels || byHours) {
    const limit = byLabels ? `${watch.labels} labelled pairs` : `${watch.hours} hours`;
    return { decision: 'continue', reason: `the watch of ${newer} ends after ${limit} without finding it worse than ${older}: ${numbers}, always-valid p = ${formatP(paired.pBetter)} ≥ alpha ${alpha}`, ends: true };
  }
  return {
    decision: 'continue',
    reason: `watching ${newer} beside ${older} in shadow (${hours.toFixed(1)} of ${watch.hours ?? '-'} hours, ${paired.labeledPairs} of ${watch.labels ?? '-'} labelled pairs): ${numbers}, always-valid p = ${formatP(paired.pBetter)} ≥ alpha ${alpha}`,
    ends: false,
  };
}
