/**
 * The one rule for a number read from text (a data set's cell, a predictions log's cell) and for a
 * feature value anywhere: a plain decimal as pandas reads it, finite, and within the float32 range.
 */

/**
 * The largest feature magnitude Driftgate accepts: float32's maximum. scikit-learn's tree models
 * compute in float32, and within it every sum, range and square the drift math takes stays finite in
 * float64 (a pooled range of ±1e308 overflows to Infinity and cannot be binned).
 */
export const FEATURE_LIMIT = 3.4028234663852886e38;

/**
 * A plain decimal number ("1.5", "-2e-3", "+7", ".5") as pandas reads it, else NaN. Number() alone
 * would also take "0x1A", "0b11" and "0o7", and turns "" into 0; infinities count as not a number.
 */
export function parseDecimal(text: string): number {
  if (text.length === 0) return Number.NaN;
  const value = Number(text);
  if (value - value !== 0) return Number.NaN;
  if (text.length > 2 && text.charCodeAt(0) === 48) {
    const radix = text.charCodeAt(1) | 32;
    // 'x', 'b', 'o' after a leading 0: a JavaScript integer literal, not a decimal number.
    if (radix === 120 || radix === 98 || radix === 111) return Number.NaN;
  }
  return value;
}

/** True for a finite number within ±FEATURE_LIMIT. */
export function isFeatureNumber(value: number): boolean {
  return value >= -FEATURE_LIMIT && value <= FEATURE_LIMIT;
}

/** A feature cell: NaN unless parseDecimal reads it and it is within ±FEATURE_LIMIT. */
export function parseFeatureNumber(text: string): number {
  const value = parseDecimal(text);
  return isFeatureNumber(value) ? value : Number.NaN;
}

/** What a feature cell that parseFeatureNumber refused should have been, for "expected X, got Y". */
export function featureNumberExpectation(text: string): string {
  return Number.isNaN(parseDecimal(text)) ? 'a number' : `a number within ±${FEATURE_LIMIT} (the float32 range)`;
}
