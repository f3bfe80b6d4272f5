/**
 * Accuracy per model and time window from the predictions log: estimated from the logged class
 * probabilities (CBPE, src/stats/cbpe.ts, with each version's calibration from its training run) and,
 * where labels came back (inline or by feedback, the first label counting), realised. Pure: the CLI
 * reads the log and the calibrations and hands them in.
 */

import type { LogEntry } from '../prediction-log/index.js';
import { estimateAccuracy, type Calibration } from '../stats/cbpe.js';

export interface PerformanceWindow {
  /** A and B: the arms users were sent to; shadow: a version that predicted beside prod. */
  source: 'A' | 'B' | 'shadow';
  alias: string;
  version: string;
  /** ISO times: the window's start (inclusive) and end (exclusive). */
  start: string;
  end: string;
  /** Rows in the window, and those with logged probabilities. */
  n: number;
  scored: number;
  /** CBPE's estimate and its standard error; null without a calibration for the version or without scored rows. */
  estimated: number | null;
  standardError: number | null;
  /** Rows whose request got a label, and the share of them predicted right; null without any. */
  labelled: number;
  realised: number | null;
}

interface Group {
  source: PerformanceWindow['source'];
  alias: string;
  version: string;
  start: number;
  n: number;
  confidences: number[];
  labelled: number;
  right: number;
}

/** The rows of `entries` (prediction and shadow rows with their labels) grouped by source, version and window of `windowMs`. */
export function estimatePerformance(
  entries: Iterable<LogEntry>,
  classes: readonly string[],
  calibrations: ReadonlyMap<string, Calibration | null>,
  windowMs: number,
): PerformanceWindow[] {
  const groups = new Map<string, Group>();
  // Request id → the groups its rows went to, with what each predicted (a shadow row shares its prod row's id).
  const requests = new Map<string, { group: Group; prediction: string }[]>();
  const labels = new Map<string, string>();
  for (const entry of entries) {
    if (entry.event === 'feedback') {
      if (!labels.has(entry.requestId)) labels.set(entry.requestId, entry.label);
      continue;
    }
    if (entry.event !== 'prediction' && entry.event !== 'shadow') continue;
    if (entry.prediction === null) continue;
    const source = entry.event === 'shadow' ? 'shadow' : entry.variant;
    const start = Math.floor(entry.ts / windowMs) * windowMs;
    const key = `${source}\u0000${entry.alias}\u0000${entry.version}\u0000${start}`;
    let group = groups.get(key);
    if (!group) {
      group = { source, alias: entry.alias, version: entry.version, start, n: 0, confidences: [], labelled: 0, right: 0 };
      groups.set(key, group);
    }
    group.n += 1;
    const at = classes.indexOf(entry.prediction);
    if (entry.probabilities && at !== -1) group.confidences.push(entry.probabilities[at]!);
    const rows = requests.get(entry.requestId) ?? [];
    rows.push({ group, prediction: entry.prediction });
    requests.set(entry.requestId, rows);
    if (entry.event === 'prediction' && entry.label !== null && !labels.has(entry.requestId)) labels.set(entry.requestId, entry.label);
  }
  for (const [requestId, label] of labels) {
    for (const row of requests.get(requestId) ?? []) {
      row.group.labelled += 1;
      if (row.prediction === label) row.group.right += 1;
    }
  }
  return [...groups.values()]
    .sort((a, b) => a.start - b.start || a.source.localeCompare(b.source) || Number(a.version) - Number(b.version))
    .map((g) => {
      const calibration = calibrations.get(g.version) ?? null;
      const estimate = calibration && g.confidences.length > 0 ? estimateAccuracy(calibration, g.confidences) : null;
      return {
        source: g.source,
        alias: g.alias,
        version: g.version,
        start: new Date(g.start).toISOString(),
        end: new Date(g.start + windowMs).toISOString(),
        n: g.n,
        scored: g.confidences.length,
        estimated: estimate?.estimate ?? null,
        standardError: estimate?.standardError ?? null,
        labelled: g.labelled,
        realised: g.labelled > 0 ? g.right / g.labelled : null,
      };
    });
}

export interface PerformanceVerdict {
  version: string;
  /** The window judged: prod's latest one with an estimate. */
  start: string;
  estimated: number;
  /** The version's accuracy on the held-out rows its calibration was learned from. */
  holdoutAccuracy: number;
  drop: number;
  maxDrop: number | null;
  /** drop > maxDrop (never without a maxDrop). */
  dropDetected: boolean;
}

/** Prod's (arm A's) latest estimated window against its held-out accuracy; null when it has none. */
export function performanceVerdict(windows: readonly PerformanceWindow[], calibrations: ReadonlyMap<string, Calibration | null>, maxDrop: number | null): PerformanceVerdict | null {
  const latest = windows.filter((w) => w.source === 'A' && w.estimated !== null).at(-1);
  const calibration = latest ? calibrations.get(latest.version) : null;
  if (!latest || !calibration) return null;
  const drop = calibration.accuracy - latest.estimated!;
  return { version: latest.version, start: latest.start, estimated: latest.estimated!, holdoutAccuracy: calibration.accuracy, drop, maxDrop, dropDetected: maxDrop !== null && drop > maxDrop };
}
