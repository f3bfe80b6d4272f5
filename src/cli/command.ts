/** What every `driftgate <command>` module exports; main.ts owns parsing, config, output and exit codes. */
import type { Config, Env } from '../config/index.js';
import { UsageError } from '../errors.js';

export type OptionSpec = { type: 'string' | 'boolean'; short?: string; multiple?: boolean; description: string; valueName?: string };

export interface CommandContext {
  /** Parsed options of the command (global ones included). */
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
  /** The validated config; loaded before the command runs, so a bad --config always fails first. */
  config: Config;
  env: Env;
  /** Progress and logs: stderr, so stdout's last line stays the --json result. */
  log: (message: string) => void;
  json: boolean;
  signal: AbortSignal;
}

export interface CommandOutcome {
  /** The machine-readable result, printed as one JSON line with --json. */
  result: unknown;
  /** What a person reads without --json; defaults to the JSON pretty-printed. */
  human?: string;
}

export interface Command {
  summary: string;
  /** Words after the command name in the usage line, e.g. "start|stop|status". */
  usage?: string;
  options?: Record<string, OptionSpec>;
  /** Extra help paragraphs. */
  details?: string;
  run(context: CommandContext): Promise<CommandOutcome>;
}

export function stringOption(values: CommandContext['values'], name: string): string | undefined {
  const value = values[name];
  return typeof value === 'string' ? value : undefined;
}

/** A positive whole-number flag; a bad value is a usage error naming the flag. */
export function positiveIntOption(values: CommandContext['values'], name: string, fallback: number): number {
  const text = stringOption(values, name);
  if (text === undefined) return fallback;
  if (!/^\d+$/.test(text) || Number(text) < 1) throw new UsageError(`--${name}: expected a positive integer, got ${JSON.stringify(text)}`);
  return Number(text);
}
