/**
 * A small typed schema for the YAML config. Each node validates one value and reports failures as
 * "expected X, got Y" at a key path; the output type is inferred from the schema, so the config
 * type is written once.
 */
import { describe } from '../errors.js';

export class SchemaIssue extends Error {
  constructor(
    readonly keyPath: string,
    readonly detail: string,
  ) {
    super(`${keyPath}: ${detail}`);
  }
}

export interface Schema<T> {
  /** What a valid value looks like, for messages. */
  readonly expected: string;
  readonly hasDefault: boolean;
  parse(value: unknown, keyPath: string): T;
}

type Infer<S> = S extends Schema<infer T> ? T : never;

function fail(keyPath: string, expected: string, value: unknown): never {
  throw new SchemaIssue(keyPath, `expected ${expected}, got ${describe(value)}`);
}

function node<T>(expected: string, parse: (value: unknown, keyPath: string) => T, fallback?: { value: T }): Schema<T> {
  return {
    expected,
    hasDefault: fallback !== undefined,
    parse: (value, keyPath) => (value === undefined && fallback ? structuredClone(fallback.value) : parse(value, keyPath)),
  };
}

export interface NumberOptions {
  min?: number;
  max?: number;
  /** Lower bound excluded (a strictly positive number). */
  above?: number;
  /** Upper bound excluded. */
  below?: number;
  integer?: boolean;
  default?: number;
}

export function number(options: NumberOptions = {}): Schema<number> {
  const kind = options.integer ? 'an integer' : 'a number';
  const bounds: string[] = [];
  if (options.above !== undefined) bounds.push(`> ${options.above}`);
  if (options.min !== undefined) bounds.push(`>= ${options.min}`);
  if (options.max !== undefined) bounds.push(`<= ${options.max}`);
  if (options.below !== undefined) bounds.push(`< ${options.below}`);
  const expected = bounds.length ? `${kind} ${bounds.join(' and ')}` : kind;
  return node(
    expected,
    (value, keyPath) => {
      if (typeof value !== 'number' || !Number.isFinite(value)) fail(keyPath, expected, value);
      if (options.integer && !Number.isInteger(value)) fail(keyPath, expected, value);
      if (options.above !== undefined && !(value > options.above)) fail(keyPath, expected, value);
      if (options.min !== undefined && value < options.min) fail(keyPath, expected, value);
      if (options.max !== undefined && value > options.max) fail(keyPath, expected, value);
      if (options.below !== undefined && !(value < options.below)) fail(keyPath, expected, value);
      return value;
    },
    options.default === undefined ? undefined : { value: options.default },
  );
}

export function string(options: { default?: string; pattern?: RegExp; patternText?: string } = {}): Schema<string> {
  const expected = options.patternText ?? 'a non-empty string';
  return node(
    expected,
    (value, keyPath) => {
      if (typeof value !== 'string' || value.trim() === '') fail(keyPath, expected, value);
      if (options.pattern && !options.pattern.test(value)) fail(keyPath, expected, value);
      return value;
    },
    options.default === undefined ? undefined : { value: options.default },
  );
}

export function oneOf<const V extends string>(values: readonly V[], options: { default?: V } = {}): Schema<V> {
  const expected = `one of ${values.map((v) => JSON.stringify(v)).join(', ')}`;
  return node(
    expected,
    (value, keyPath) => {
      if (typeof value !== 'string' || !(values as readonly string[]).includes(value)) fail(keyPath, expected, value);
      return value as V;
    },
    options.default === undefined ? undefined : { value: options.default },
  );
}

export function boolean(options: { default?: boolean } = {}): Schema<boolean> {
  return node(
    'true or false',
    (value, keyPath) => (typeof value === 'boolean' ? value : fail(keyPath, 'true or false', value)),
    options.default === undefined ? undefined : { value: options.default },
  );
}

/** A value that may be absent or null. */
export function optional<T>(inner: Schema<T>): Schema<T | null> {
  return node(`${inner.expected} or nothing`, (value, keyPath) => (value === null ? null : inner.parse(value, keyPath)), {
    value: null,
  });
}

export function list<T>(
  item: Schema<T>,
  options: { minLength?: number; uniqueBy?: (item: T) => string; default?: T[] } = {},
): Schema<T[]> {
  const expected = `a list${options.minLength ? ` of at least ${options.minLength}` : ''}`;
  return node(
    expected,
    (value, keyPath) => {
      if (!Array.isArray(value)) fail(keyPath, expected, value);
      if (options.minLength !== undefined && value.length < options.minLength) {
        throw new SchemaIssue(keyPath, `expected ${expected}, got ${value.length}`);
      }
      const out = value.map((entry, i) => item.parse(entry, `${keyPath}[${i}]`));
      if (options.uniqueBy) {
        const seen = new Map<string, number>();
        out.forEach((entry, i) => {
          const key = options.uniqueBy!(entry);
          const first = seen.get(key);
          if (first !== undefined) {
            throw new SchemaIssue(`${keyPath}[${i}]`, `expected unique entries, got ${JSON.stringify(key)} again (first at ${keyPath}[${first}])`);
          }
          seen.set(key, i);
        });
      }
      return out;
    },
    options.default === undefined ? undefined : { value: options.default },
  );
}

type Shape = Record<string, Schema<unknown>>;
type ObjectOf<S extends Shape> = { [K in keyof S]: Infer<S[K]> };

/** A mapping with exactly these keys; an unknown key is an error, so a typo never passes silently. */
export function object<S extends Shape>(shape: S, options: { optional?: boolean } = {}): Schema<ObjectOf<S>> {
  const allDefaulted = Object.values(shape).every((s) => s.hasDefault);
  const parse = (value: unknown, keyPath: string): ObjectOf<S> => {
    const source = value === undefined || value === null ? {} : value;
    if (typeof source !== 'object' || Array.isArray(source)) fail(keyPath || 'the top level', 'a mapping', value);
    const record = source as Record<string, unknown>;
    const known = Object.keys(shape);
    for (const key of Object.keys(record)) {
      if (!known.includes(key)) {
        const where = keyPath ? `${keyPath}.${key}` : key;
        throw new SchemaIssue(where, `unknown key ${JSON.stringify(key)}; expected one of ${known.join(', ')}`);
      }
    }
    const out: Record<string, unknown> = {};
    for (const [key, schema] of Object.entries(shape)) {
      const where = keyPath ? `${keyPath}.${key}` : key;
      if (record[key] === undefined && !schema.hasDefault) {
        throw new SchemaIssue(where, `expected ${schema.expected}, got nothing (the key is required)`);
      }
      out[key] = schema.parse(record[key], where);
    }
    return out as ObjectOf<S>;
  };
  return {
    expected: 'a mapping',
    hasDefault: allDefaulted || options.optional === true,
    parse,
  };
}
