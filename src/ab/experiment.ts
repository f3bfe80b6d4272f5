/**
 * The current experiment out of a log scan: only rows served by the current prod (A) and staging (B)
 * versions count, and a version change starts a new experiment. Feedback is joined to predictions by
 * request_id, and labels are replayed in arrival order to build the cumulative checkpoints of the
 * always-valid p-value path. Pure: the same scan and versions always give the same experiment.
 */
import { quantileSorted } from 'simple-statistics';
import type { ArmCounts } from './decide.js';
import type { TwoArmCounts } from './msprt.js';
import type { LogScan, LogPrediction, Variant } from './read-log.js';

export interface ExperimentVersions {
  /** Version behind `prod`, served as variant A. */
  A: string;
  /** Version behind `staging`, served as variant B. */
  B: string;
}

export interface ArmData extends ArmCounts {
  version: string;
  /** Latency quantiles over the arm's requests (ms); null without requests. */
  latencyP50: number | null;
  latencyP99: number | null;
}

export interface Experiment {
  versions: ExperimentVersions;
  /** Time of the experiment's first row (the first request B's version served after the last change). */
  startedAt: number | null;
  arms: { A: ArmData; B: ArmData };
  /** Cumulative labelled counts in arrival order; the last one equals the arms' totals. */
  checkpoints: TwoArmCounts[];
  /** Prediction rows outside the experiment: before it started, or served by other versions. */
  excludedPredictions: number;
  /** Feedback whose request_id has no prediction in the log. */
  orphanFeedback: number;
  /** Feedback for requests outside the experiment. */
  excludedFeedback: number;
  /** Labels for a request that already had one (the first label counts). */
  duplicateLabels: number;
}

function byTime<T extends { ts: number; order: number }>(a: T, b: T): number {
  return a.ts - b.ts || a.order - b.order;
}

function servedByCurrent(row: LogPrediction, versions: ExperimentVersions): boolean {
  return row.version === versions[row.variant];
}

/**
 * Index (in time order) of the experiment's first row: the first request B's version served after
 * the last row served by anything else. Rows of the current prod from before B went live (split 0)
 * are not part of the test, and rows of an earlier pair never leak in. -1: no experiment rows yet.
 */
export function experimentStart(sorted: readonly LogPrediction[], versions: ExperimentVersions): number {
  let lastOther = -1;
  for (let i = sorted.length - 1; i >= 0; i--) {
    if (!servedByCurrent(sorted[i]!, versions)) {
      lastOther = i;
      break;
    }
  }
  for (let i = lastOther + 1; i < sorted.length; i++) if (sorted[i]!.variant === 'B') return i;
  return -1;
}

function quantiles(latencies: number[]): { p50: number | null; p99: number | null } {
  if (latencies.length === 0) return { p50: null, p99: null };
  const sorted = [...latencies].sort((a, b) => a - b);
  return { p50: quantileSorted(sorted, 0.5), p99: quantileSorted(sorted, 0.99) };
}

interface LabelEvent {
  ts: number;
  order: number;
  variant: Variant;
  correct: boolean;
}

/**
 * Checkpoints each time the smaller arm's labelled count reaches a multiple of `every`, plus the
 * current totals: the grid does not depend on when the log is read, so an hourly evaluation adds
 * one look at the current counts, not a new grid.
 */
export function checkpointsOf(events: readonly Pick<LabelEvent, 'variant' | 'correct'>[], every: number): TwoArmCounts[] {
  const out: TwoArmCounts[] = [];
  const counts: TwoArmCounts = { nA: 0, successesA: 0, nB: 0, successesB: 0 };
  let mark = every;
  for (const event of events) {
    if (event.variant === 'A') {
      counts.nA++;
      if (event.correct) counts.successesA++;
    } else {
      counts.nB++;
      if (event.correct) counts.successesB++;
    }
    if (Math.min(counts.nA, counts.nB) >= mark) {
      out.push({ ...counts });
      while (Math.min(counts.nA, counts.nB) >= mark) mark += every;
    }
  }
  const last = out.at(-1);
  if (counts.nA + counts.nB > 0 && (!last || last.nA !== counts.nA || last.nB !== counts.nB)) out.push({ ...counts });
  return out;
}

export function buildExperiment(scan: LogScan, versions: ExperimentVersions, checkpointEvery: number): Experiment {
  const sorted = [...scan.predictions].sort(byTime);
  const start = experimentStart(sorted, versions);
  const inExperiment = start < 0 ? [] : sorted.slice(start);
  const byId = new Map(scan.predictions.map((p) => [p.requestId, p]));
  const members = new Set(inExperiment.map((p) => p.requestId));
  const labelled = new Map<string, LabelEvent>();
  let duplicateLabels = 0;
  for (const row of inExperiment) {
    if (row.label !== null) labelled.set(row.requestId, { ts: row.ts, order: row.order, variant: row.variant, correct: row.label === row.prediction });
  }
  let orphanFeedback = 0;
  let excludedFeedback = 0;
  for (const feedback of [...scan.feedback].sort(byTime)) {
    const prediction = byId.get(feedback.requestId);
    if (!prediction) {
      orphanFeedback++;
      continue;
    }
    if (!members.has(feedback.requestId)) {
      excludedFeedback++;
      continue;
    }
    if (labelled.has(feedback.requestId)) {
      duplicateLabels++;
      continue;
    }
    // Replicas' clocks may disagree slightly; a label never arrives before its prediction.
    const ts = Math.max(feedback.ts, prediction.ts);
    labelled.set(feedback.requestId, { ts, order: feedback.order, variant: prediction.variant, correct: feedback.label === prediction.prediction });
  }
  const events = [...labelled.values()].sort(byTime);
  const arm = (variant: Variant): ArmData => {
    const rows = inExperiment.filter((p) => p.variant === variant);
    const marks = events.filter((e) => e.variant === variant);
    const { p50, p99 } = quantiles(rows.map((r) => r.latencyMs));
    return {
      version: versions[variant],
      requests: rows.length,
      labeled: marks.length,
      correct: marks.filter((e) => e.correct).length,
      latencyP50: p50,
      latencyP99: p99,
    };
  };
  return {
    versions,
    startedAt: inExperiment[0]?.ts ?? null,
    arms: { A: arm('A'), B: arm('B') },
    checkpoints: checkpointsOf(events, checkpointEvery),
    excludedPredictions: sorted.length - inExperiment.length,
    orphanFeedback,
    excludedFeedback,
    duplicateLabels,
  };
}
