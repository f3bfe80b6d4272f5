/**
 * Everything the status page shows, as one record (GET /status.json; GET /status renders it): the
 * model, prod and staging with their state and training metrics, the split and shadow share, live
 * counts and failures per variant, the latest A/B evaluation and drift report, and a pending registry
 * transition. Each missing piece says so. Nothing secret is in it: no assignment seed, no token, no
 * credentials of the tracking URI.
 */
import type { Variant } from '../../prediction-log/index.js';
import { MlflowClient, type Transition } from '../../registry/index.js';
import type { RouterContext } from '../context.js';
import type { AliasStatus } from '../model-set.js';
import type { ShadowStatus } from '../shadow.js';
import { RegistryView, type RegistryRead, type StatusRegistry, type VersionMetrics } from './registry-view.js';
import { newestReportId, readReportFile, type ReportFile } from './report-files.js';
import { abView, driftView, type AbView, type DriftView } from './report-summary.js';

export type ReportKind = 'ab' | 'drift';

export interface ReportLinks {
  html: string;
  json: string;
}

export type LatestReport<T> =
  | { state: 'none'; message: string }
  | { state: 'unreadable'; id: string; message: string; links: ReportLinks }
  | { state: 'ready'; report: T; links: ReportLinks };

export interface VersionStatus {
  alias: string;
  /** The version answering requests now, and the one the registry names (they differ while a new one loads). */
  version: string | null;
  resolved: string | null;
  state: AliasStatus['state'];
  error: string | null;
  /** The training metrics of `version` (else `resolved`); null with `metrics_note` saying why. */
  metrics: VersionMetrics | null;
  metrics_note: string | null;
}

export type PendingTransition =
  | { state: 'none' }
  | { state: 'pending'; kind: string | null; version: string | null; replaced: string | null; reason: string | null; at: string | null }
  | { state: 'unknown'; message: string };

export interface VariantTraffic {
  alias: string;
  /** Predictions answered since the router started. */
  predictions: number;
  /** /predict requests that failed after the variant was assigned, in all and by error code. */
  failures: number;
  failures_by_code: Record<string, number>;
}

export interface StatusData {
  generated_at: string;
  model_name: string;
  registry: {
    /** The tracking URI, without any credentials it carries. */
    uri: string;
    /** Whether the status page's last registry read (version tags, journal) got an answer. */
    reachable: boolean;
    unreachable_since: string | null;
    error: string | null;
    last_read: string | null;
    /** When the alias poll last got an answer. */
    aliases_resolved_at: string | null;
  };
  /** `staging` is null when no version has the alias. */
  versions: { prod: VersionStatus; staging: VersionStatus | null };
  /** The shares as configured (router.ab_split_b, router.shadow_share). */
  split: { ab_split_b: number; shadow_share: number };
  /** The shadow now: staging under test, or the replaced prod during a watch, and the share in force for it. */
  shadow: Pick<ShadowStatus, 'kind' | 'alias' | 'version' | 'wanted' | 'state' | 'share' | 'error'>;
  traffic: Record<Variant, VariantTraffic>;
  ab: LatestReport<AbView>;
  drift: LatestReport<DriftView>;
  pending_transition: PendingTransition;
}

/** A registry read takes at most this long: a page view waits for it at most once per TTL. */
export const STATUS_REGISTRY_TIMEOUT_MS = 2000;
/** Registry reads for the page happen at most this often. */
export const STATUS_REGISTRY_TTL_MS = 5000;

export const NO_REPORT: Record<ReportKind, string> = { ab: 'no A/B evaluation yet', drift: 'no drift report yet' };

export function reportLinks(kind: ReportKind, id: string): ReportLinks {
  return { html: `/reports/${kind}/${id}/report.html`, json: `/reports/${kind}/${id}/report.json` };
}

/** The URI without user name and password (a tracking URI may carry them), otherwise as written. */
export function redactUri(uri: string): string {
  return uri.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/?#@]*@/i, '$1');
}

function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

/** The newest report of one kind, re-read only when a newer one appears (a report folder never changes). */
class LatestReportReader<T> {
  private cached: { dir: string; id: string; value: LatestReport<T> } | null = null;

  constructor(
    private readonly kind: ReportKind,
    private readonly parse: (json: string) => T,
  ) {}

  async read(dir: string): Promise<LatestReport<T>> {
    const id = await newestReportId(dir);
    if (id === null) return { state: 'none', message: NO_REPORT[this.kind] };
    if (this.cached?.dir === dir && this.cached.id === id) return this.cached.value;
    const links = reportLinks(this.kind, id);
    let value: LatestReport<T>;
    const file: ReportFile = 'report.json';
    const bytes = await readReportFile(dir, id, file);
    if (bytes === null) value = { state: 'unreadable', id, message: `report ${id} has no ${file}`, links };
    else {
      try {
        value = { state: 'ready', report: this.parse(bytes.toString('utf8')), links };
      } catch (error) {
        value = { state: 'unreadable', id, message: `report ${id}: ${file} could not be read: ${(error as Error).message}`, links };
      }
    }
    this.cached = { dir, id, value };
    return value;
  }
}

function pending(read: RegistryRead): PendingTransition {
  if (read.journal === undefined) return { state: 'unknown', message: 'the registry has not answered yet' };
  if (read.journal === null) return { state: 'none' };
  // The tag's JSON is the registry's, not ours: take only strings from it.
  const t = read.journal as Partial<Record<keyof Transition, unknown>>;
  const s = (value: unknown): string | null => (typeof value === 'string' ? value : null);
  return { state: 'pending', kind: s(t.kind), version: s(t.version), replaced: s(t.replaced), reason: s(t.reason), at: s(t.at) };
}

export interface StatusSourceOptions {
  /** Where the version tags and the journal are read; an MlflowClient on mlflow.tracking_uri by default. */
  registry?: StatusRegistry;
  ttlMs?: number;
}

/** Collects the status record; one per app, so its caches last across page views. */
export class StatusSource {
  private readonly registry: RegistryView;
  private readonly ab = new LatestReportReader('ab', abView);
  private readonly drift = new LatestReportReader('drift', driftView);
  private readonly uri: string;

  constructor(
    private readonly context: RouterContext,
    options: StatusSourceOptions = {},
  ) {
    const trackingUri = context.config.current.mlflow.tracking_uri;
    this.uri = redactUri(trackingUri);
    this.registry = new RegistryView({
      client: options.registry ?? new MlflowClient(trackingUri, STATUS_REGISTRY_TIMEOUT_MS),
      config: () => context.config.current,
      now: () => context.clock.now(),
      ttlMs: options.ttlMs ?? STATUS_REGISTRY_TTL_MS,
      redact: (message) => message.split(trackingUri).join(this.uri),
    });
  }

  async collect(): Promise<StatusData> {
    const { context } = this;
    const config = context.config.current;
    const models = context.models.status();
    const shadow = context.shadow.status();
    const shown = (status: AliasStatus): string | null => status.version ?? status.resolved;
    const versions = [shown(models.prod), models.staging.state === 'absent' ? null : shown(models.staging)].filter((v): v is string => v !== null);
    const [read, ab, drift, failures] = await Promise.all([
      this.registry.read(versions),
      this.ab.read(config.ab.reports_dir),
      this.drift.read(config.drift.reports_dir),
      this.failures(),
    ]);
    const versionStatus = (status: AliasStatus): VersionStatus => {
      const version = shown(status);
      const metrics = version === null ? undefined : read.metrics.get(version);
      let note: string | null = null;
      if (version !== null && metrics === undefined) note = read.unreachableSince === null ? 'not read from the registry yet' : `registry unreachable since ${iso(read.unreachableSince)}`;
      else if (version !== null && metrics === null) note = `version ${version} of ${config.mlflow.model_name} is not in the registry`;
      return { alias: status.alias, version: status.version, resolved: status.resolved, state: status.state, error: status.error, metrics: metrics ?? null, metrics_note: note };
    };
    const traffic = (variant: Variant, alias: string): VariantTraffic => {
      const byCode = failures[variant];
      return { alias, predictions: context.counts[variant], failures: Object.values(byCode).reduce((a, b) => a + b, 0), failures_by_code: byCode };
    };
    return {
      generated_at: new Date(context.clock.now()).toISOString(),
      model_name: config.mlflow.model_name,
      registry: {
        uri: this.uri,
        reachable: read.reachable,
        unreachable_since: iso(read.unreachableSince),
        error: read.error,
        last_read: iso(read.lastSuccess),
        aliases_resolved_at: models.registry.last_success,
      },
      versions: { prod: versionStatus(models.prod), staging: models.staging.state === 'absent' ? null : versionStatus(models.staging) },
      split: { ab_split_b: config.router.ab_split_b, shadow_share: config.router.shadow_share },
      shadow: { kind: shadow.kind, alias: shadow.alias, version: shadow.version, wanted: shadow.wanted, state: shadow.state, share: shadow.share, error: shadow.error },
      traffic: { A: traffic('A', config.mlflow.prod_alias), B: traffic('B', config.mlflow.staging_alias) },
      ab,
      drift,
      pending_transition: pending(read),
    };
  }

  /** driftgate_router_prediction_errors_total by variant and code. */
  private async failures(): Promise<Record<Variant, Record<string, number>>> {
    const out: Record<Variant, Record<string, number>> = { A: {}, B: {} };
    for (const { labels, value } of (await this.context.metrics.predictionErrors.get()).values) {
      const variant = labels.variant === 'B' ? 'B' : labels.variant === 'A' ? 'A' : null;
      if (variant === null || value === 0) continue;
      const code = String(labels.code ?? 'unknown');
      out[variant][code] = (out[variant][code] ?? 0) + value;
    }
    return out;
  }
}
