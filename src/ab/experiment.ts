/**
 * The current experiment out of the predictions log: only rows served by the current prod (A) and
 * staging (B) versions count, and a version change starts a new experiment. The log is streamed
 * twice (see ExperimentBuilder), so memory grows with the current experiment's users and labels, not
 * with the log. The second pass feeds the experiment's requests and labels, in the order they
 * arrived, to the fold that every A/B number comes from (experiment-fold.ts).
 */
import { scanLog, type FeedbackEntry, type LogEntry, type LogSchema, type LogSet, type ScanReport, type Variant } from '../prediction-log/index.js';
import { ExperimentFold, type FoldSettings, type FoldSnapshot } from './experiment-fold.js';
import { PairedFold, type PairedSnapshot } from './paired-fold.js';

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
  /** The pairs of A's predictions with the shadow's on the same requests; null without a shadow version. */
  paired: PairedSnapshot | null;
}

/** What else the experiment reads besides the two arms' rows. */
export interface ExperimentOptions {
  /** Shadow rows of this version pair with A's predictions: staging's in a shadow test, the replaced prod's in a watch. */
  shadowVersion?: string;
  /** A watch: the experiment is A's traffic from this time (epoch ms) on; there is no B arm to wait for. */
  since?: number;
}

/** The first feedback label of a request (by time), and how many feedback rows it got. */
interface FeedbackLabel {
  label: string;
  ts: number;
  seq: number;
  rows: number;
  matched: boolean;
  /** Second pass: the prediction's arm, user and verdict once seen, and whether the label row was read. */
  prediction: { variant: Variant; user: string; correct: boolean; shadowCorrect: boolean | null; agree: boolean | null } | null;
  arrived: boolean;
}

/** A shadow's prediction for a request, kept from the first pass for the second to pair. */
interface ShadowPrediction {
  /** null: the shadow failed on the request. */
  prediction: string | null;
  latencyMs: number;
}

/** The running experiment; a row served by another version throws it away and waits for B again. */
interface Period {
  /** Position (among all rows, in read order) of its first row; null until B's first request. */
  startSeq: number | null;
  startedAt: number | null;
  predictions: number;
  /** Feedback that arrived while it ran, by request id. */
  labels: Map<string, FeedbackLabel>;
  /** Shadow predictions of the shadow version while it ran, by request id. */
  shadows: Map<string, ShadowPrediction>;
}

/** A string that does not keep the chunk of log text it was cut from alive (V8 slices share their parent). */
function ownCopy(text: string): string {
  return Buffer.from(text, 'utf8').toString('utf8');
}

/**
 * Before a shadow test opens, the latest prod predictions and feedback rows (at most this many of
 * each): a shadow row comes a batch after its prod row, and the test opens at the prod row of the
 * first request the shadow answered, so its batch-mates and their labels are not lost.
 */
const BEFORE_SHADOW_LIMIT = 65_536;

interface BeforeShadow {
  /** Request id to the seq and time of its prod prediction row. */
  prod: Map<string, { seq: number; ts: number }>;
  feedback: { entry: FeedbackEntry; seq: number }[];
}

/** Append, dropping the oldest beyond BEFORE_SHADOW_LIMIT (in halves, so the cost per row stays constant). */
function keepLatest<T>(list: T[], item: T): void {
  list.push(item);
  if (list.length > 2 * BEFORE_SHADOW_LIMIT) list.splice(0, list.length - BEFORE_SHADOW_LIMIT);
}

function newPeriod(): Period {
  return { startSeq: null, startedAt: null, predictions: 0, labels: new Map(), shadows: new Map() };
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
  private readonly paired: PairedFold | null;
  private beforeShadow: BeforeShadow = { prod: new Map(), feedback: [] };

  /** `splitB`: the configured split, in force until the log's first split row. */
  constructor(
    private readonly versions: ExperimentVersions,
    settings: FoldSettings,
    splitB: number,
    private readonly options: ExperimentOptions = {},
  ) {
    this.fold = new ExperimentFold(settings);
    this.split = splitB;
    this.paired = options.shadowVersion === undefined ? null : new PairedFold(settings);
  }

  private serves(entry: { variant: Variant; version: string | null }): boolean {
    return entry.version === this.versions[entry.variant];
  }

  /** First pass: a row in read order. */
  row(entry: LogEntry): void {
    const seq = ++this.seq;
    if (entry.event === 'split') return;
    if (entry.event === 'shadow') {
      if (entry.version !== this.options.shadowVersion) return;
      // In a shadow test B's first shadow prediction opens it, at its request's prod row, as B's first request does in a split test.
      if (this.period.startSeq === null && this.options.since === undefined) this.openShadowTest(entry.requestId, seq, entry.ts);
      if (this.period.startSeq !== null) this.period.shadows.set(ownCopy(entry.requestId), { prediction: entry.prediction, latencyMs: entry.latencyMs });
      return;
    }
    if (entry.event === 'feedback') {
      this.feedbackRows++;
      if (this.period.startSeq !== null) this.keepFeedback(entry, seq);
      else if (this.options.shadowVersion !== undefined && this.options.since === undefined) keepLatest(this.beforeShadow.feedback, { entry, seq });
      return;
    }
    if (entry.event === 'failure') {
      // A failure says nothing about versions changing; B's own failure can open the test.
      if (this.period.startSeq === null && entry.variant === 'B' && this.serves(entry)) this.start(seq, entry.ts);
      return;
    }
    this.predictions++;
    const since = this.options.since;
    if (since !== undefined && entry.ts < since) return;
    if (!this.serves(entry)) {
      this.period = newPeriod();
      this.beforeShadow = { prod: new Map(), feedback: [] };
      return;
    }
    const period = this.period;
    if (period.startSeq === null) {
      // Current prod's traffic from before B went live is not part of the test; a watch starts at its time.
      if (entry.variant === 'A' && since === undefined) {
        if (this.options.shadowVersion !== undefined) {
          const prod = this.beforeShadow.prod;
          prod.set(ownCopy(entry.requestId), { seq, ts: entry.ts });
          if (prod.size > BEFORE_SHADOW_LIMIT) prod.delete(prod.keys().next().value!);
        }
        return;
      }
      this.start(seq, entry.ts);
    }
    period.predictions++;
  }

  private keepFeedback(entry: FeedbackEntry, seq: number): void {
    const { labels } = this.period;
    const known = labels.get(entry.requestId);
    if (!known) labels.set(ownCopy(entry.requestId), { label: entry.label, ts: entry.ts, seq, rows: 1, matched: false, prediction: null, arrived: false });
    else {
      known.rows++;
      if (entry.ts < known.ts) Object.assign(known, { label: entry.label, ts: entry.ts, seq });
    }
  }

  /** The first shadow row opens the test at its request's prod row (or at itself when that row is not among the latest kept). */
  private openShadowTest(requestId: string, seq: number, ts: number): void {
    const { prod, feedback } = this.beforeShadow;
    const at = prod.get(requestId) ?? { seq, ts };
    this.start(at.seq, at.ts);
    for (const row of prod.values()) if (row.seq >= at.seq) this.period.predictions++;
    for (const row of feedback) if (row.seq >= at.seq) this.keepFeedback(row.entry, row.seq);
    this.beforeShadow = { prod: new Map(), feedback: [] };
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
        if (feedback.prediction) this.label(feedback.prediction);
      }
      return;
    }
    if (entry.event === 'shadow') return;
    if (entry.event === 'failure') {
      // Failures of an arm's version count; one with no version (the alias had no model loaded) counts for its arm.
      if (seq >= start && (entry.version === null || this.serves(entry))) {
        this.fold.request(entry.variant, entry.userId, this.split, { failed: true });
        if (entry.variant === 'A') this.paired?.prodFailure(entry.userId);
      }
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
    const shadowRow = entry.variant === 'A' ? this.period.shadows.get(entry.requestId) : undefined;
    // A shadow that failed on this request counts against B's failure rate and makes no pair.
    const shadow = shadowRow?.prediction != null ? { prediction: shadowRow.prediction, latencyMs: shadowRow.latencyMs } : undefined;
    const agree = shadow ? shadow.prediction === entry.prediction : null;
    if (entry.variant === 'A') this.paired?.prodOk(entry.userId);
    if (shadowRow && !shadow) this.paired?.shadowFailure(entry.userId);
    if (shadow && this.paired) {
      this.paired.shadowOk(entry.userId);
      this.paired.latency(entry.userId, entry.latencyMs, shadow.latencyMs);
      this.paired.predictions(entry.prediction, shadow.prediction);
    }
    const label = entry.label ?? feedback?.label ?? null;
    const verdict = {
      variant: entry.variant,
      user: entry.userId,
      correct: label === entry.prediction,
      shadowCorrect: shadow ? label === shadow.prediction : null,
      agree,
    };
    if (label === null) {
      if (shadow && this.paired) this.paired.unlabelled(entry.userId, agree!);
    } else if (entry.label !== null) {
      this.label(verdict);
      this.duplicates += feedback?.rows ?? 0;
    } else if (feedback) {
      this.duplicates += feedback.rows - 1;
      // A label never counts before its prediction: feedback read first (a replica's clock behind) counts now.
      if (feedback.arrived) this.label(verdict);
      else feedback.prediction = verdict;
    }
  }

  /** A label reaches the split fold, and the paired fold when the request has a shadow prediction. */
  private label(verdict: NonNullable<FeedbackLabel['prediction']>): void {
    this.fold.label(verdict.variant, verdict.user, verdict.correct);
    if (verdict.shadowCorrect !== null) this.paired?.pair(verdict.user, verdict.correct, verdict.shadowCorrect, verdict.agree!);
  }

  finish(): Experiment {
    const period = this.period;
    this.fold.look();
    this.paired?.look();
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
      paired: this.paired?.snapshot() ?? null,
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
  options: ExperimentOptions = {},
  signal?: AbortSignal,
): Promise<{ experiment: Experiment; report: ScanReport }> {
  const builder = new ExperimentBuilder(versions, settings, splitB, options);
  // Both passes read every row, so both see the rows in the same merged order.
  const report = await scanLog(set, schema, (entry) => builder.row(entry), { signal });
  await scanLog(set, schema, (entry) => builder.join(entry), { signal });
  return { experiment: builder.finish(), report };
}
