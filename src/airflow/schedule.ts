/**
 * Check a configured DAG schedule before it reaches Airflow, so a typo is a config error with the key
 * path at generate time instead of an import error in the scheduler's log.
 */
import { ConfigError, describe } from '../errors.js';

/** Airflow 3's presets; `none` means no schedule (manual and API-triggered runs only). */
export const SCHEDULE_PRESETS = ['@once', '@continuous', '@hourly', '@daily', '@weekly', '@monthly', '@quarterly', '@yearly'] as const;

// Cron fields: digits, names (MON, JAN), ranges, steps, lists and croniter's ? L W # extensions.
const CRON_FIELD = /^[0-9A-Za-z*/,?#-]+$/;

/** The schedule as Airflow takes it: a preset or cron string, or null for `none`. */
export function parseSchedule(value: string, file: string, keyPath: string): string | null {
  const text = value.trim();
  if (text.toLowerCase() === 'none') return null;
  if ((SCHEDULE_PRESETS as readonly string[]).includes(text)) return text;
  const fields = text.split(/\s+/);
  if (fields.length === 5 && fields.every((f) => CRON_FIELD.test(f))) return fields.join(' ');
  throw new ConfigError(file, keyPath, `expected a cron expression with 5 fields, one of ${SCHEDULE_PRESETS.join(', ')}, or none; got ${describe(value)}`);
}
