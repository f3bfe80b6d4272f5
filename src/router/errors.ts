/**
 * The router's HTTP errors: a stable code per failure and only the statuses of the contract
 * (400, 401, 404, 413, 422, 429, 503). The body is always {error: {code, message, field?}}.
 */
import { DriftgateError } from '../errors.js';
import type { LogWriteError } from '../prediction-log/index.js';

export type RouterErrorCode =
  | 'INVALID_JSON'
  | 'VALIDATION_FAILED'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'BAD_REQUEST'
  | 'UNAUTHORIZED'
  | 'ADMIN_DISABLED'
  | 'LABEL_UNAUTHORIZED'
  | 'LABELS_DISABLED'
  | 'NOT_FOUND'
  | 'BODY_TOO_LARGE'
  | 'RATE_LIMITED'
  | 'MODEL_UNAVAILABLE'
  | 'WORKER_FAILED'
  | 'PREDICTION_FAILED'
  | 'DEADLINE_EXCEEDED'
  | 'LOG_UNAVAILABLE'
  | 'NOT_READY'
  | 'SHUTTING_DOWN'
  | 'CONFIG_INVALID'
  | 'CONFIG_NOT_WRITTEN'
  | 'INTERNAL_ERROR';

export type RouterStatus = 400 | 401 | 404 | 413 | 422 | 429 | 503;

export interface ErrorBody {
  error: { code: RouterErrorCode; message: string; field?: string };
}

export class RouterError extends DriftgateError {
  constructor(
    readonly status: RouterStatus,
    readonly routerCode: RouterErrorCode,
    message: string,
    readonly field?: string,
    options: { cause?: unknown } = {},
  ) {
    super(status === 503 ? 'UNAVAILABLE' : status === 404 ? 'NOT_FOUND' : 'INPUT_INVALID', message, { exitCode: status === 503 ? 1 : 2, cause: options.cause });
  }

  toBody(): ErrorBody {
    return { error: { code: this.routerCode, message: this.message, ...(this.field === undefined ? {} : { field: this.field }) } };
  }
}

/** The JSON schema of an error body, for response schemas. */
export const errorBodySchema = {
  type: 'object',
  properties: {
    error: {
      type: 'object',
      properties: { code: { type: 'string' }, message: { type: 'string' }, field: { type: 'string' } },
      required: ['code', 'message'],
    },
  },
  required: ['error'],
} as const;

/** The 503 for a row the log could not take; the client retries (another replica). */
export function logUnavailable(error: LogWriteError): RouterError {
  return new RouterError(503, 'LOG_UNAVAILABLE', `the predictions log cannot be written (${error.errno}), so the request was not answered; retry (another instance)`, undefined, { cause: error });
}
