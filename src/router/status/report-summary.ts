/**
 * The few numbers of a report the status page shows, read from its report.json: an A/B evaluation
 * (src/ab/evaluation.ts's AbEvaluation) or a drift report (src/drift/report-json.ts's DriftReport).
 * A field an older report lacks reads as null; a file that is not such a report fails with the first
 * field that is wrong ("expected X, got Y"). Numbers JSON cannot hold are read back from the strings
 * the reports write for them ("Infinity", "-Infinity", "NaN").
 */
import type { AbEvaluation, Interval, VariantReport } from '../../ab/evaluation.js';
import type { DriftReport, FeatureResult } from '../../drift/index.js';

/** An interval as the report holds it; `kind` is null in a report from before intervals carried it. */
export interface IntervalView extends Omit<Interval, 'kind'> {
  kind: Interval['kind'] | null;
}

export interface ArmView {
  version: VariantReport['version'];
  alias: string | null;
  requests: number;
  failed: number | null;
  failure_rate: number | null;
  labeled: number;
  accuracy: number | null;
  /** The always-valid interval of the accuracy (`variants.X.ci`). */
  ci: IntervalView | null;
  latency_ms: { p50: number | null; p99: number | null };
}

export interface AbView {
  id: AbEvaluation['id'];
  evaluated_at: string | null;
  decision: string;
  reason: string;
  /** accuracy B − A, and its always-valid interval. */
  difference: number | null;
  interval: IntervalView | null;
  variants: { A: ArmView; B: ArmView };
}

export type DriftFeatureView = Pick<FeatureResult, 'name' | 'psi' | 'ks_statistic' | 'ks_pvalue' | 'drifted'>;

export interface DriftView {
  id: DriftReport['id'];
  created_at: string | null;
  /** 'ok', or 'insufficient_data' (nothing was tested). */
  status: string | null;
  reason: string | null;
  drift_detected: boolean;
  share_drifted: number;
  n_drifted: number | null;
  n_features: number | null;
  features: DriftFeatureView[];
}

type Obj = Record<string, unknown>;

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'a list';
  if (value === null) return 'null';
  if (typeof value === 'object') return 'an object';
  const text = JSON.stringify(value);
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}

function object(value: unknown, where: string): Obj {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new Error(`${where}: expected an object, got ${describe(value)}`);
  return value as Obj;
}

const NON_FINITE: Record<string, number> = { Infinity: Infinity, '-Infinity': -Infinity, NaN: NaN };

function number(value: unknown, where: string): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && value in NON_FINITE) return NON_FINITE[value]!;
  throw new Error(`${where}: expected a number, got ${describe(value)}`);
}

function numberOrNull(value: unknown, where: string): number | null {
  return value === null || value === undefined ? null : number(value, where);
}

function text(value: unknown, where: string): string {
  if (typeof value !== 'string') throw new Error(`${where}: expected a string, got ${describe(value)}`);
  return value;
}

function textOrNull(value: unknown, where: string): string | null {
  return value === null || value === undefined ? null : text(value, where);
}

function flag(value: unknown, where: string): boolean {
  if (typeof value !== 'boolean') throw new Error(`${where}: expected true or false, got ${describe(value)}`);
  return value;
}

function interval(value: unknown, where: string): IntervalView | null {
  if (value === null || value === undefined) return null;
  const o = object(value, where);
  const kind = o.kind === undefined ? null : text(o.kind, `${where}.kind`);
  if (kind !== null && kind !== 'always-valid' && kind !== 'fixed-horizon') throw new Error(`${where}.kind: expected "always-valid" or "fixed-horizon", got ${describe(kind)}`);
  return { lower: number(o.lower, `${where}.lower`), upper: number(o.upper, `${where}.upper`), confidence: number(o.confidence, `${where}.confidence`), kind };
}

function arm(value: unknown, where: string): ArmView {
  const o = object(value, where);
  const latency = o.latency_ms === undefined || o.latency_ms === null ? {} : object(o.latency_ms, `${where}.latency_ms`);
  return {
    version: textOrNull(o.version, `${where}.version`),
    alias: textOrNull(o.alias, `${where}.alias`),
    requests: number(o.requests, `${where}.requests`),
    failed: numberOrNull(o.failed, `${where}.failed`),
    failure_rate: numberOrNull(o.failure_rate, `${where}.failure_rate`),
    labeled: number(o.labeled, `${where}.labeled`),
    accuracy: numberOrNull(o.accuracy, `${where}.accuracy`),
    ci: interval(o.ci, `${where}.ci`),
    latency_ms: { p50: numberOrNull(latency.p50, `${where}.latency_ms.p50`), p99: numberOrNull(latency.p99, `${where}.latency_ms.p99`) },
  };
}

/** The A/B evaluation in `json` (a report.json's text). */
export function abView(json: string): AbView {
  const o = object(JSON.parse(json), 'report.json');
  const head = {
    id: text(o.id, 'id'),
    evaluated_at: textOrNull(o.evaluated_at, 'evaluated_at'),
    decision: text(o.decision, 'decision'),
    reason: text(o.reason, 'reason'),
    difference: numberOrNull(o.difference, 'difference'),
    interval: interval(o.interval, 'interval'),
  };
  const variants = object(o.variants, 'variants');
  return { ...head, variants: { A: arm(variants.A, 'variants.A'), B: arm(variants.B, 'variants.B') } };
}

/** The drift report in `json` (a report.json's text). */
export function driftView(json: string): DriftView {
  const o = object(JSON.parse(json), 'report.json');
  if (!Array.isArray(o.features)) throw new Error(`features: expected a list, got ${describe(o.features)}`);
  return {
    id: text(o.id, 'id'),
    created_at: textOrNull(o.created_at, 'created_at'),
    status: textOrNull(o.status, 'status'),
    reason: textOrNull(o.reason, 'reason'),
    drift_detected: flag(o.drift_detected, 'drift_detected'),
    share_drifted: number(o.share_drifted, 'share_drifted'),
    n_drifted: numberOrNull(o.n_drifted, 'n_drifted'),
    n_features: numberOrNull(o.n_features, 'n_features'),
    features: o.features.map((value, i) => {
      const f = object(value, `features[${i}]`);
      return {
        name: text(f.name, `features[${i}].name`),
        psi: number(f.psi, `features[${i}].psi`),
        ks_statistic: numberOrNull(f.ks_statistic, `features[${i}].ks_statistic`),
        ks_pvalue: numberOrNull(f.ks_pvalue, `features[${i}].ks_pvalue`),
        drifted: flag(f.drifted, `features[${i}].drifted`),
      };
    }),
  };
}
