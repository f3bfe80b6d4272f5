/**
 * The current experiment out of the predictions log: only rows served by the current prod (A) and
 * staging (B) versions count, and a version change starts a new experiment. The log is streamed
 * twice (see ExperimentBuilder), so memory grows with the current experiment's labels, not with the
 * log: counts, distinct latencies, and one small record per label. Labels are replayed in arrival
 * order to build the cumulative checkpoints of the always-valid p-value path.
 */
import { scanLog, type LogEntry, type LogSchema, type LogSet, type ScanReport, type Variant } from '../prediction-log/index.js';
import { ValueCountQuantiles } from '../stats/quantile.js';
import type { ArmCounts } from './decide.js';
import type { TwoArmCounts } from '../stats/msprt.js';

export interface ExperimentVersions {
  /** Version behind `prod`, served as variant A. */
  A: string;
  /** Version behind `staging`, served as variant B. */
  B: string;
}

export interface ArmData extends ArmCounts {
  version: string;
  /** Latency quantiles over the arm's requests (ms, numpy's linear quantile); null without requests. */
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

interface LabelEvent {
  ts: number;
  seq: number;
  variant: Variant;
  correct: boolean;
}

/** The first feedback label of a request (by time), and how many feedback rows it got. */
interface FeedbackLabel {
  label: string;
  ts: number;
  seq: number;
  rows: number;
  matched: boolean;
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

class Arm {
  requests = 0;
  readonly latency = new ValueCountQuantiles();
}

/** The running experiment; a row served by another version throws it away and waits for B again. */
interface Period {
  /** Position (among all rows, in read order) of its first row; null until B's first request. */
  startSeq: number | null;
  startedAt: number | null;
  predictions: number;
  arms: Record<Variant, Arm>;
  /** Feedback that arrived while it ran, by request id. */
  labels: Map<string, FeedbackLabel>;
}

/** A string that does not keep the chunk of log text it was cut from alive (V8 slices share their parent). */
function ownCopy(text: string): string {
  return Buffer.from(text, 'utf8').toString('utf8');
}

function newPeriod(): Period {
  return { startSeq: null, startedAt: null, predictions: 0, arms: { A: new Arm(), B: new Arm() }, labels: new Map() };
}

/**
 * Two passes over the same rows in the same order. First pass (row()): every row; a version change
 * starts a new period, counts and latencies are kept for the running period, and so is the feedback
 * that arrives while it runs (feedback from before the current period is for rows outside it).
 * Second pass (join()): the predictions of the final period get their labels. finish() gives the
 * experiment. Memory: the final period's feedback and labels, not the log's history. Pure.
 */
export class ExperimentBuilder {
  private period = newPeriod();
  private predictions = 0;
  private feedbackRows = 0;
  private seq = 0;
  private joinSeq = 0;
  private readonly events: LabelEvent[] = [];
  private duplicates = 0;
  private matchedRows = 0;
  /** Feedback that came in during the final period for a prediction from before it. */
  private excludedRows = 0;

  constructor(private readonly versions: ExperimentVersions) {}

  /** First pass: a row (prediction or feedback) in read order. */
  row(entry: LogEntry): void {
    const seq = ++this.seq;
    if (entry.event === 'feedback') {
      this.feedbackRows++;
      const period = this.period;
      if (period.startSeq === null) return;
      const known = period.labels.get(entry.requestId);
      if (!known) period.labels.set(ownCopy(entry.requestId), { label: entry.label, ts: entry.ts, seq, rows: 1, matched: false });
      else {
        known.rows++;
        if (entry.ts < known.ts) Object.assign(known, { label: entry.label, ts: entry.ts, seq });
      }
      return;
    }
    this.predictions++;
    if (entry.version !== this.versions[entry.variant]) {
      this.period = newPeriod();
      return;
    }
    const period = this.period;
    if (period.startSeq === null) {
      // Current prod's traffic from before B went live is not part of the test.
      if (entry.variant === 'A') return;
      period.startSeq = seq;
      period.startedAt = entry.ts;
    }
    period.predictions++;
    const arm = period.arms[entry.variant];
    arm.requests++;
    arm.latency.add(entry.latencyMs);
  }

  /** Second pass: the same rows in the same order; the final period's predictions take their labels. */
  join(entry: LogEntry): void {
    const seq = ++this.joinSeq;
    const start = this.period.startSeq;
    if (entry.event !== 'prediction' || start === null) return;
    const feedback = this.period.labels.get(entry.requestId);
    if (feedback && !feedback.matched) {
      feedback.matched = true;
      if (seq < start) this.excludedRows += feedback.rows;
      else this.matchedRows += feedback.rows;
    }
    if (seq < start) return;
    if (entry.label !== null) {
      this.events.push({ ts: entry.ts, seq, variant: entry.variant, correct: entry.label === entry.prediction });
      this.duplicates += feedback?.rows ?? 0;
    } else if (feedback) {
      // Replicas' clocks may disagree slightly; a label never arrives before its prediction.
      this.events.push({ ts: Math.max(feedback.ts, entry.ts), seq: feedback.seq, variant: entry.variant, correct: feedback.label === entry.prediction });
      this.duplicates += feedback.rows - 1;
    }
  }

  finish(checkpointEvery: number): Experiment {
    const period = this.period;
    const events = this.events.sort((a, b) => a.ts - b.ts || a.seq - b.seq);
    const arm = (variant: Variant): ArmData => {
      let labeled = 0;
      let correct = 0;
      for (const e of events) {
        if (e.variant !== variant) continue;
        labeled++;
        if (e.correct) correct++;
      }
      const [p50, p99] = period.arms[variant].latency.quantiles([0.5, 0.99]);
      return { version: this.versions[variant], requests: period.arms[variant].requests, labeled, correct, latencyP50: p50 ?? null, latencyP99: p99 ?? null };
    };
    let inPeriod = 0;
    for (const label of period.labels.values()) inPeriod += label.rows;
    return {
      versions: this.versions,
      startedAt: period.startedAt,
      arms: { A: arm('A'), B: arm('B') },
      checkpoints: checkpointsOf(events, checkpointEvery),
      excludedPredictions: this.predictions - period.predictions,
      // Feedback that came in during the experiment for a request the log does not have.
      orphanFeedback: inPeriod - this.matchedRows - this.excludedRows,
      excludedFeedback: this.feedbackRows - inPeriod + this.excludedRows,
      duplicateLabels: this.duplicates,
    };
  }
}

/** Two streaming passes over the log set (see ExperimentBuilder). */
export async function readExperiment(
  set: LogSet,
  schema: LogSchema,
  versions: ExperimentVersions,
  checkpointEvery: number,
  signal?: AbortSignal,
): Promise<{ experiment: Experiment; report: ScanReport }> {
  const builder = new ExperimentBuilder(versions);
  // Both passes read every row, so both see the rows in the same merged order.
  const report = await scanLog(set, schema, (entry) => builder.row(entry), { signal });
  await scanLog(set, schema, (entry) => builder.join(entry), { signal });
  return { experiment: builder.finish(checkpointEvery), report };
}
