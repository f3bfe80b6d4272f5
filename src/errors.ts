/**
 * One error module: typed errors with stable codes. CLI exit codes and HTTP statuses derive from
 * the class, so every layer reports the same failure the same way.
 */

export type ErrorCode =
  | 'CONFIG_INVALID'
  | 'CONFIG_NOT_FOUND'
  | 'USAGE'
  | 'INPUT_INVALID'
  | 'INPUT_NOT_FOUND'
  | 'MLFLOW_UNREACHABLE'
  | 'MLFLOW_ERROR'
  | 'MLFLOW_ALREADY_RUNNING'
  | 'MLFLOW_NOT_RUNNING'
  | 'PORT_IN_USE'
  | 'BOOTSTRAP_FAILED'
  | 'CHILD_FAILED'
  | 'NOT_FOUND'
  | 'UNAVAILABLE';

export class DriftgateError extends Error {
  readonly code: ErrorCode;
  /** CLI exit status: 2 for bad input, usage or config; 1 for everything unexpected. */
  readonly exitCode: 1 | 2;

  constructor(code: ErrorCode, message: string, options: { exitCode?: 1 | 2; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.exitCode = options.exitCode ?? 1;
  }
}

/** Bad config: the message always names the file, the key path, what was expected and what was found. */
export class ConfigError extends DriftgateError {
  readonly file: string;
  readonly keyPath: string;

  constructor(file: string, keyPath: string, detail: string, options: { cause?: unknown; code?: ErrorCode } = {}) {
    super(options.code ?? 'CONFIG_INVALID', keyPath ? `${file}: ${keyPath}: ${detail}` : `${file}: ${detail}`, {
      exitCode: 2,
      cause: options.cause,
    });
    this.file = file;
    this.keyPath = keyPath;
  }
}

/** Bad user input (a data file, a CLI flag, a log row): exit 2, never a stack trace. */
export class InputError extends DriftgateError {
  constructor(message: string, options: { code?: ErrorCode; cause?: unknown } = {}) {
    super(options.code ?? 'INPUT_INVALID', message, { exitCode: 2, cause: options.cause });
  }
}

export class UsageError extends DriftgateError {
  constructor(message: string) {
    super('USAGE', message, { exitCode: 2 });
  }
}

/** A child process that failed, timed out or was killed; carries what a user needs to see why. */
export class ChildProcessError extends DriftgateError {
  readonly command: string;
  readonly exitStatus: number | undefined;
  readonly signal: string | undefined;
  readonly timedOut: boolean;
  readonly stderrTail: string;

  constructor(fields: {
    command: string;
    exitStatus: number | undefined;
    signal: string | undefined;
    timedOut: boolean;
    stderrTail: string;
    reason?: string;
  }) {
    const why = fields.timedOut
      ? 'timed out'
      : fields.signal
        ? `was killed by ${fields.signal}`
        : `exited with status ${fields.exitStatus ?? 'unknown'}`;
    const tail = fields.stderrTail.trim();
    super('CHILD_FAILED', `${fields.command} ${why}${fields.reason ? ` (${fields.reason})` : ''}${tail ? `; last stderr lines:\n${tail}` : ''}`);
    this.command = fields.command;
    this.exitStatus = fields.exitStatus;
    this.signal = fields.signal;
    this.timedOut = fields.timedOut;
    this.stderrTail = fields.stderrTail;
  }
}

/** Last `lines` lines of a text, for error messages that quote a child's stderr. */
export function tail(text: string, lines = 20): string {
  const all = text.trimEnd().split('\n');
  return all.slice(-lines).join('\n');
}

/** Human description of a value for "expected X, got Y" messages. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  if (typeof value === 'object') return 'a mapping';
  return `${typeof value} ${String(value)}`;
}
