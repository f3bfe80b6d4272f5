/**
 * JSON schemas of the router's requests and responses, built from the config (feature names and
 * class labels), and the translation of a schema failure into one "expected X, got Y" message.
 */
import type { Config } from '../config/index.js';
import { describe } from '../errors.js';
import { FEATURE_LIMIT } from '../stats/number.js';

export const USER_ID_MAX = 128;
export const CATEGORY_MAX = 256;
/**
 * No control characters (every log row stays one line, and a log line cannot be forged) and no lone
 * surrogate (it cannot be written as UTF-8: the log would hold another string than the one hashed).
 * Ajv compiles patterns with the u flag, so a surrogate pair is one code point and passes.
 */
const PRINTABLE = '^[^\\u0000-\\u001f\\u007f\\ud800-\\udfff]*$';

export interface PredictBody {
  user_id: string;
  features: Record<string, number | string>;
  label?: string;
}

export interface FeedbackBody {
  request_id: string;
  label: string;
}

export interface SplitBody {
  ab_split_b: number;
}

export function predictBodySchema(config: Pick<Config, 'dataset'>) {
  const features = config.dataset.features;
  return {
    type: 'object',
    required: ['user_id', 'features'],
    additionalProperties: false,
    properties: {
      user_id: { type: 'string', minLength: 1, maxLength: USER_ID_MAX, pattern: PRINTABLE },
      features: {
        type: 'object',
        required: features.map((f) => f.name),
        additionalProperties: false,
        properties: Object.fromEntries(
          features.map((f) => [
            f.name,
            f.type === 'numeric'
              ? { type: 'number', minimum: -FEATURE_LIMIT, maximum: FEATURE_LIMIT }
              : { type: ['string', 'number'], minLength: 1, maxLength: CATEGORY_MAX, pattern: PRINTABLE },
          ]),
        ),
      },
      label: { type: 'string', enum: config.dataset.classes },
    },
  } as const;
}

export function feedbackBodySchema(config: Pick<Config, 'dataset'>) {
  return {
    type: 'object',
    required: ['request_id', 'label'],
    additionalProperties: false,
    properties: {
      request_id: { type: 'string', minLength: 1, maxLength: USER_ID_MAX, pattern: PRINTABLE },
      label: { type: 'string', enum: config.dataset.classes },
    },
  } as const;
}

export const splitBodySchema = {
  type: 'object',
  required: ['ab_split_b'],
  additionalProperties: false,
  properties: { ab_split_b: { type: 'number', minimum: 0, maximum: 1 } },
} as const;

export const predictResponseSchema = {
  type: 'object',
  properties: {
    request_id: { type: 'string' },
    variant: { type: 'string' },
    alias: { type: 'string' },
    model_version: { type: 'string' },
    prediction: { type: 'string' },
    probabilities: { type: 'object', additionalProperties: { type: 'number' } },
  },
  required: ['request_id', 'variant', 'alias', 'model_version', 'prediction', 'probabilities'],
} as const;

/** The subset of an Ajv error that Fastify hands to the error handler. */
export interface SchemaFailure {
  keyword: string;
  instancePath: string;
  params: Record<string, unknown>;
}

export interface FieldProblem {
  /** Dotted path of the offending field (features.petal_width); absent for the body itself. */
  field?: string;
  message: string;
}

function pointerToField(instancePath: string): string[] {
  return instancePath
    .split('/')
    .slice(1)
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function valueAt(body: unknown, parts: readonly string[]): unknown {
  let node = body;
  for (const part of parts) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  return node;
}

function described(value: unknown): string {
  if (typeof value === 'string' && value.length > USER_ID_MAX) return `a string of ${value.length} characters`;
  if (typeof value === 'string' && !value.isWellFormed()) return 'a string with a lone surrogate (not well-formed Unicode)';
  if (typeof value === 'string' && new RegExp(PRINTABLE, 'u').test(value) === false) return 'a string with control characters';
  return describe(value);
}

const TYPE_WORDS: Record<string, string> = {
  number: 'a finite number',
  string: 'a string',
  object: 'a JSON object',
  'string,number': 'a string or a finite number',
};

/**
 * One readable problem per schema failure. `schema` supplies what the message needs (the feature
 * names, the classes) so the text reads "expected X, got Y" with X spelled out.
 */
export function explainSchemaFailure(failure: SchemaFailure, body: unknown, config: Pick<Config, 'dataset'>): FieldProblem {
  const parts = pointerToField(failure.instancePath);
  const value = valueAt(body, parts);
  const fieldOf = (extra?: string): string | undefined => {
    const all = extra === undefined ? parts : [...parts, extra];
    return all.length ? all.join('.') : undefined;
  };
  const featureNames = config.dataset.features.map((f) => f.name).join(', ');
  const inFeatures = parts[0] === 'features';
  const topFields = (p: readonly string[]): string => (p.length === 0 ? '' : p.join('.'));
  switch (failure.keyword) {
    case 'required': {
      const missing = String(failure.params.missingProperty);
      const field = fieldOf(missing);
      if (parts.length === 1 && inFeatures) return { field, message: `expected the feature ${JSON.stringify(missing)} (features must be exactly ${featureNames}), got nothing` };
      return { field, message: `expected ${field}, got nothing` };
    }
    case 'additionalProperties': {
      const extra = String(failure.params.additionalProperty);
      const field = fieldOf(extra);
      if (parts.length === 1 && inFeatures) return { field, message: `expected only the features ${featureNames}, got an unknown feature ${JSON.stringify(extra)}` };
      const where = topFields(parts);
      return { field, message: `expected no field ${JSON.stringify(extra)}${where ? ` in ${where}` : ''}, got one` };
    }
    case 'type': {
      const wanted = String(failure.params.type);
      return { field: fieldOf(), message: `expected ${TYPE_WORDS[wanted] ?? wanted}, got ${described(value)}` };
    }
    case 'minLength':
    case 'maxLength':
    case 'pattern': {
      const max = parts[0] === 'features' ? CATEGORY_MAX : USER_ID_MAX;
      return {
        field: fieldOf(),
        message: `expected a non-empty string of at most ${max} characters without control characters or lone surrogates, got ${value === '' ? 'an empty string' : described(value)}`,
      };
    }
    case 'enum': {
      const allowed = (failure.params.allowedValues as unknown[] | undefined) ?? config.dataset.classes;
      return { field: fieldOf(), message: `expected one of the classes ${allowed.map(String).join(', ')}, got ${described(value)}` };
    }
    case 'minimum':
    case 'maximum':
      if (inFeatures) return { field: fieldOf(), message: `expected a finite number within ±${FEATURE_LIMIT} (the float32 range), got ${described(value)}` };
      return { field: fieldOf(), message: `expected a number from 0 to 1, got ${described(value)}` };
    default:
      return { field: fieldOf(), message: `expected a valid value (${failure.keyword}), got ${described(value)}` };
  }
}
