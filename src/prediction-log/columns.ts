/**
 * The predictions log's columns and event kinds: the contract every writer and reader shares.
 * `ts,event,request_id,user_id,variant,model_alias,model_version,<features in config order>,prediction,label,latency_ms,error_code,ab_split_b,probabilities`.
 */
import type { Config, Feature } from '../config/index.js';
import { ConfigError } from '../errors.js';

export const LOG_HEAD_COLUMNS = ['ts', 'event', 'request_id', 'user_id', 'variant', 'model_alias', 'model_version'] as const;
export const LOG_TAIL_COLUMNS = ['prediction', 'label', 'latency_ms'] as const;
/**
 * Trailing columns added after the first layout, in the order they came. A file written before them
 * (a log of an older router) lacks them and still reads: their cells read as empty.
 */
export const LOG_OPTIONAL_COLUMNS = ['error_code', 'ab_split_b', 'probabilities'] as const;
/** How many optional columns each earlier layout had, newest first: issue 13's (error_code, ab_split_b), then the first. */
export const OLDER_OPTIONAL_COUNTS = [2, 0] as const;
export type FixedColumn = (typeof LOG_HEAD_COLUMNS)[number] | (typeof LOG_TAIL_COLUMNS)[number] | (typeof LOG_OPTIONAL_COLUMNS)[number];

/** A/B variants as the log writes them: A is served by prod, B by staging. */
export type Variant = 'A' | 'B';

/** Every event kind a row may carry; the README's log section documents each one. */
export const EVENT_KINDS = ['prediction', 'feedback', 'failure', 'split', 'shadow'] as const;
export type EventKind = (typeof EVENT_KINDS)[number];

/** What rows are checked against: the configured features and classes. */
export interface LogSchema {
  features: readonly Feature[];
  classes: readonly string[];
}

export function logSchema(config: Pick<Config, 'dataset'>): LogSchema {
  return { features: config.dataset.features, classes: config.dataset.classes };
}

/** The log's columns for a config: the fixed ones around the feature columns in config order. */
export function logColumns(schema: Pick<LogSchema, 'features'> | Pick<Config, 'dataset'>): string[] {
  return [...legacyLogColumns(schema), ...LOG_OPTIONAL_COLUMNS];
}

/** The headers this config's log had before the current one, newest first. */
export function olderLogColumns(schema: Pick<LogSchema, 'features'> | Pick<Config, 'dataset'>): string[][] {
  return OLDER_OPTIONAL_COUNTS.map((count) => [...legacyLogColumns(schema), ...LOG_OPTIONAL_COLUMNS.slice(0, count)]);
}

/** The columns a log of this config had before the optional ones: the ones every header must have. */
export function legacyLogColumns(schema: Pick<LogSchema, 'features'> | Pick<Config, 'dataset'>): string[] {
  const features = 'dataset' in schema ? schema.dataset.features : schema.features;
  return [...LOG_HEAD_COLUMNS, ...features.map((f) => f.name), ...LOG_TAIL_COLUMNS];
}

/** A feature named like a log column would make the header ambiguous; refuse it at start-up. */
export function checkLogColumns(config: Pick<Config, 'dataset' | 'source'>): void {
  const fixed = new Set<string>([...LOG_HEAD_COLUMNS, ...LOG_TAIL_COLUMNS, ...LOG_OPTIONAL_COLUMNS]);
  config.dataset.features.forEach((feature, i) => {
    if (fixed.has(feature.name)) {
      throw new ConfigError(
        config.source.file,
        `dataset.features[${i}]`,
        `expected a name that is not a column of the predictions log (${[...fixed].join(', ')}), got ${JSON.stringify(feature.name)}`,
      );
    }
  });
}

/** The fixed leading columns; a CSV file whose header starts so is read as a predictions log. */
export const LOG_HEADER_START = ['ts', 'event', 'request_id'] as const;

export function isLogHeader(header: readonly string[]): boolean {
  return LOG_HEADER_START.every((name, i) => header[i] === name);
}
