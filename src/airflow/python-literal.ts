/**
 * Python source literals for values that end up in generated DAG files. Every string is written as a
 * double-quoted, pure-ASCII literal with explicit escapes, so no quote, newline, backslash or `"""`
 * in a value can end the literal or change the code around it.
 */
import { InputError } from '../errors.js';

export type PyValue = string | number | boolean | null | readonly PyValue[] | { readonly [key: string]: PyValue };

const SHORT_ESCAPES: Record<string, string> = { '"': '\\"', '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' };

function hex(codePoint: number, width: number): string {
  return codePoint.toString(16).padStart(width, '0');
}

/** A Python `str` literal equal to `value`, code point for code point. */
export function pyString(value: string): string {
  let out = '"';
  // for...of walks code points: an astral character must become one \U escape, not a surrogate pair
  // (Python would read "\ud83d\ude00" as two lone surrogates, not as the emoji).
  for (const char of value) {
    const codePoint = char.codePointAt(0) ?? 0;
    const short = SHORT_ESCAPES[char];
    if (short !== undefined) out += short;
    else if (codePoint >= 0x20 && codePoint < 0x7f) out += char;
    else if (codePoint < 0x100) out += `\\x${hex(codePoint, 2)}`;
    else if (codePoint >= 0xd800 && codePoint <= 0xdfff) {
      throw new InputError(`expected text without unpaired UTF-16 surrogates, got one (U+${hex(codePoint, 4).toUpperCase()}) in ${JSON.stringify(value)}`);
    } else if (codePoint < 0x10000) out += `\\u${hex(codePoint, 4)}`;
    else out += `\\U${hex(codePoint, 8)}`;
  }
  return `${out}"`;
}

/** A Python literal for JSON-like data: str, int/float, bool, None, list, dict (keys in the given order). */
export function pyValue(value: PyValue): string {
  if (value === null) return 'None';
  if (typeof value === 'string') return pyString(value);
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new InputError(`expected a finite number for a Python literal, got ${value}`);
    // JSON's number syntax (1, 0.25, 1e-7) is also Python's.
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map((v: PyValue) => pyValue(v)).join(', ')}]`;
  const entries = Object.entries(value as { readonly [key: string]: PyValue });
  return `{${entries.map(([k, v]) => `${pyString(k)}: ${pyValue(v)}`).join(', ')}}`;
}

/**
 * A multi-line text constant as a parenthesised run of one literal per line, so the generated file
 * stays readable (Airflow shows it in the Code view) and each line is still fully escaped.
 */
export function pyLines(text: string, indent = '    '): string {
  const lines = text.split(/(?<=\n)/);
  if (lines.length <= 1) return pyString(text);
  return `(\n${lines.map((line) => `${indent}${pyString(line)}`).join('\n')}\n)`;
}

/**
 * A raw triple-quoted literal, for the generator's own constant scripts only (never config values):
 * easier to read than escaped lines. Throws for text a raw literal cannot hold as-is.
 */
export function pyRawBlock(text: string): string {
  if (text.includes('"""') || text.includes('\r') || /["\\]$/.test(text)) {
    throw new Error(`cannot write ${JSON.stringify(text.slice(0, 40))}... as a raw triple-quoted Python literal`);
  }
  return `r"""${text}"""`;
}
