/**
 * Report JSON: JSON has no literal for infinity or NaN, and JSON.stringify would write null without
 * a word. Every report (drift, A/B) writes a non-finite number as the string "Infinity",
 * "-Infinity" or "NaN" instead, which Number() in JavaScript and float() in Python read back.
 */

export function toJsonText(value: unknown, indent?: number): string {
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v), indent);
}

/** A copy that JSON.stringify turns into the same text as toJsonText (for a --json line). */
export function jsonSafe<T>(value: T): T {
  return JSON.parse(toJsonText(value)) as T;
}

/** A report file's text: the JSON, indented, with a final newline. */
export function reportJsonText(value: unknown): string {
  return `${toJsonText(value, 2)}\n`;
}
