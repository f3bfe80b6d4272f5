/**
 * The current experiment out of the predictions log: only rows served by the current prod (A) and
 * staging (B) versions count, and a version change starts a new experiment. The log is streamed
 * twice (see ExperimentBuilder), so memory grows with the current experiment's users and labels, not
 * with the log. The second pass feeds the experiment's requests and labels, in the order they
 * arrived, to the fold that every A/B number comes from (experiment-fold.ts).
 */
import { scanLog, type LogEntry, type LogSchema, type LogSet, type ScanReport, type Variant } from '../prediction-log/index.js';
import { ExperimentFold, type FoldSettings, type FoldSnapshot } from './experiment-fold.js';

export interface ExperimentVersions {
  /** Version behind `prod`, served as variant A. */
  A: string;
  /** Version behind `staging`, served as variant B. */
  B: string;
}

export interface Experiment {
  versions: ExperimentVersions;
  /** Time of the experiment's first row (the first request B's version served after the last change). */
  startedAt: number | null;
  /** Every number of the test, the current counts as the last look. */
  fold: FoldSnapshot;
  /** Prediction rows outside the experiment: before it started, or served by other versions. */
  excludedPredictions: number;
  /** Feedback whose request_id has no prediction in the log. */
  orphanFeedback: number;
  /** Feedback for requests outside the experiment. */
  excludedFeedback: number;
  /** Labels for a request that already had one (the first label counts). */
  duplicateLabels: number;
  /** Split changes (split rows) seen while the experiment ran, in order. */
  splitChanges: { ts: number; splitB: number }[];
  /** The split in force at the end of the log (the last split row, else the configured one). */
  splitInForce: number;
}

/** The first feedback label of a request (by time), and how many feedback rows it got. */
interface FeedbackLabel {
  label: string;
  ts: number;
  seq: number;
  rows: number;
  matched: boolean;
  /** Second pass: the prediction's arm, user and verdict once seen, and whether the label row was read. */
  prediction: { variant: Variant; user: string; correct: boolean } | null;
  arrived: boolean;
}

/** The running experiment; a row served by another version throws it away and waits for B again. */
interface Period {
  /** Position (among all rows, in read order) of its first row; null until B's first request. */
  startSeq: number | null;
  startedAt: number | null;
  predictions: number;
  /** Feedback that arrived while it ran, by request id. */
  labels: Map<string, FeedbackLabel>;
}

/** A string that does not keep the chunk of log text it was cut from alive (V8 slices share their parent). */
function ownCopy(text: string): string {
  return Buffer.from(text, 'utf8').toString('utf8');
}

function newPeriod(): Period {
  return { startSeq: null, startedAt: null, predictions: 0, labels: new Map() };
}

/**
 * Two passes over the same rows in the same order. First pass (row()): every row; a version change
 * starts a new period, and the feedback that arrives while it runs is kept (feedback from before the
 * current period is for rows outside it). Second pass (join()): the final period's requests go to the
 * fold as they come, each label when its feedback row comes (or with its prediction, inline or when
 * a replica's clock put the feedback first). finish() gives the experiment. Pure.
 */
export class ExperimentBuilder {
  private period = newPeriod();
  private predictions = 0;
  private feedbackRows = 0;
  private seq = 0;
  private joinSeq = 0;
  private duplicates = 0;
  private matchedRows = 0;
  /** Feedback that came in during the final period for a prediction from before it. */
  private excludedRows = 0;
  private readonly fold: ExperimentFold;
  private split: number;
  private readonly splitChanges: { ts: number; splitB: number }[] = [];

  /** `splitB`: the configured split, in force until the log's first split row. */
  constructor(
    private readonly versions: ExperimentVersions,
    settings: FoldSettings,
    splitB: number,
  ) {
    this.fold = new ExperimentFold(settings);
    this.split = splitB;
  }

  private serves(entry: { variant: Variant; version: string | null }): boolean {
    return entry.version === this.versions[entry.variant];
  }

  /** First pass: a row in read order. */
  row(entry: LogEntry): void {
    const seq = ++this.seq;
    if (entry.event === 'split') return;
    if (entry.event === 'feedback') {
      this.feedbackRows++;
      const period = this.period;
      if (period.startSeq === null) return;
      const known = period.labels.get(entry.requestId);
      if (!known) period.labels.set(ownCopy(entry.requestId), { label: entry.label, ts: entry.ts, seq, rows: 1, matched: false, prediction: null, arrived: false });
      else {
        known.rows++;
        if (entry.ts < known.ts) Object.assign(known, { label: entry.label, ts: entry.ts, seq });
      }
      return;
    }
    if (entry.event === 'failure') {
      // A failure says nothing about versions changing; B's own failure can open the test.
      if (this.period.startSeq === null && entry.variant === 'B' && this.serves(entry)) this.start(seq, entry.ts);
      return;
    }
    this.predictions++;
    if (!this.serves(entry)) {
      this.period = newPeriod();
      return;
    }
    const period = this.period;
    if (period.startSeq === null) {
      // Current prod's traffic from before B went live is not part of the test.
      if (entry.variant === 'A') return;
      this.start(seq, entry.ts);
    }
    period.predictions++;
  }

  private start(seq: number, ts: number): void {
    this.period.startSeq = seq;
    this.period.startedAt = ts;
  }

  /** Second pass: the same rows in the same order. */
  join(entry: LogEntry): void {
    const seq = ++this.joinSeq;
    if (entry.event === 'split') {
      if (this.period.startSeq !== null && seq >= this.period.startSeq) this.splitChanges.push({ ts: entry.ts, splitB: entry.splitB });
      this.split = entry.splitB;
      return;
    }
    const start = this.period.startSeq;
    if (start === null) return;
    if (entry.event === 'feedback') {
      const feedback = this.period.labels.get(entry.requestId);
      if (feedback && feedback.seq === seq) {
        feedback.arrived = true;
        if (feedback.prediction) this.fold.label(feedback.prediction.variant, feedback.prediction.user, feedback.prediction.correct);
      }
      return;
    }
    if (entry.event === 'failure') {
      // Failures of an arm's version count; one with no version (the alias had no model loaded) counts for its arm.
      if (seq >= start && (entry.version === null || this.serves(entry))) this.fold.request(entry.variant, entry.userId, this.split, { failed: true });
      return;
    }
    const feedback = this.period.labels.get(entry.requestId);
    if (feedback && !feedback.matched) {
      feedback.matched = true;
      if (seq < start) this.excludedRows += feedback.rows;
      else this.matchedRows += feedback.rows;
    }
    if (seq < start) return;
    this.fold.request(entry.variant, entry.userId, this.split, { failed: false, latencyMs: entry.latencyMs });
    if (entry.label !== null) {
      this.fold.label(entry.variant, entry.userId, entry.label === entry.prediction);
      this.duplicates += feedback?.rows ?? 0;
    } else if (feedback) {
      this.duplicates += feedback.rows - 1;
      const verdict = { variant: entry.variant, user: entry.userId, correct: feedback.label === entry.prediction };
      // A label never counts before its prediction: feedback read first (a replica's clock behind) counts now.
      if (feedback.arrived) this.fold.label(verdict.variant, verdict.user, verdict.correct);
      else feedback.prediction = verdict;
    }
  }

  finish(): Experiment {
    const period = this.period;
    this.fold.look();
    let inPeriod = 0;
    for (const label of period.labels.values()) inPeriod += label.rows;
    return {
      versions: this.versions,
      startedAt: period.startedAt,
      fold: this.fold.snapshot(),
      excludedPredictions: this.predictions - period.predictions,
      // Feedback that came in during the experiment for a request the log does not have.
      orphanFeedback: inPeriod - this.matchedRows - this.excludedRows,
      excludedFeedback: this.feedbackRows - inPeriod + this.excludedRows,
      duplicateLabels: this.duplicates,
      splitChanges: this.splitChanges,
      splitInForce: this.split,
    };
  }
}

/** Two streaming passes over the log set (see ExperimentBuilder). */
export async function readExperiment(
  set: LogSet,
  schema: LogSchema,
  versions: ExperimentVersions,
  settings: FoldSettings,
  splitB: number,
  signal?: AbortSignal,
): Promise<{ experiment: Experiment; report: ScanReport }> {
  const builder = new ExperimentBuilder(versions, settings, splitB);
  // Both passes read every row, so both see the rows in the same merged order.
  const report = await scanLog(set, schema, (entry) => builder.row(entry), { signal });
  await scanLog(set, schema, (entry) => builder.join(entry), { signal });
  return { experiment: builder.finish(), report };
}
