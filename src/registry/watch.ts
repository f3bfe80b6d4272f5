/**
 * The watch after a promotion: while the registered model carries the WATCH_TAG and prod is still the
 * version it names, the replaced prod (`previous`) predicts in shadow beside it. Read like the journal
 * tag (modelTag on the registered model); whoever starts and ends a watch writes the tag.
 */
import { modelTag, type RegisteredModel } from './client.js';
import { WATCH_TAG } from './vocabulary.js';

export interface Watch {
  /** The prod version being watched. */
  version: string;
  /** The prod version it replaced: the shadow during the watch. */
  previous: string;
  /** When the watch began (ISO-8601). */
  started_at: string;
  /** The watch ends after this many labelled pairs or hours, whichever comes first (ab.watch when it began). */
  labels?: number;
  hours?: number;
}

const VERSION = /^\d+$/;

/** The tag's JSON as a Watch, or null when it is not one (missing fields, versions that are not registry version numbers). */
export function parseWatch(text: string): Watch | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return null;
  const { version, previous, started_at: startedAt } = value as Record<string, unknown>;
  // Versions as MLflow writes them (strings); a bare integer is taken too.
  const asVersion = (v: unknown): string | null => (typeof v === 'string' && VERSION.test(v) ? v : Number.isSafeInteger(v) && (v as number) > 0 ? String(v) : null);
  const watched = asVersion(version);
  const replaced = asVersion(previous);
  if (watched === null || replaced === null || watched === replaced || typeof startedAt !== 'string' || !Number.isFinite(Date.parse(startedAt))) return null;
  const { labels, hours } = value as Record<string, unknown>;
  const limit = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : undefined);
  return { version: watched, previous: replaced, started_at: startedAt, ...(limit(labels) === undefined ? {} : { labels: limit(labels) }), ...(limit(hours) === undefined ? {} : { hours: limit(hours) }) };
}

/** The registered model's watch: absent (no tag), or the tag's text with its parse (null: not a valid watch). */
export function readWatch(model: RegisteredModel | null): { text: string; watch: Watch | null } | null {
  const text = modelTag(model, WATCH_TAG);
  return text === undefined ? null : { text, watch: parseWatch(text) };
}
