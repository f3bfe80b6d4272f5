/**
 * Ascending sort of float64 values in place, in the order Float64Array.prototype.sort gives (-0 before
 * +0, NaN last), in O(n): an LSD radix sort of the IEEE-754 bit patterns. Each value's 64 bits, read as
 * two 32-bit words, are mapped to an unsigned key that orders like the number (negative: all bits
 * flipped; positive: the sign bit set), sorted by 11-bit digits, and mapped back. A digit that is the
 * same for every value is skipped. Small arrays (and big-endian hosts) use the built-in sort.
 */

import os from 'node:os';

/** Below this many values the built-in comparison sort is as fast. */
const RADIX_MIN_LENGTH = 4096;
const DIGIT_BITS = 11;
const BUCKETS = 1 << DIGIT_BITS;
const DIGIT_MASK = BUCKETS - 1;
/** 64 bits in 11-bit digits: 6 digits, the last one 9 bits wide. */
const DIGITS = Math.ceil(64 / DIGIT_BITS);
const LITTLE_ENDIAN = os.endianness() === 'LE';

/** The digit-th 11-bit digit of the key whose low and high words are lo and hi. */
function digitOf(lo: number, hi: number, digit: number): number {
  const shift = digit * DIGIT_BITS;
  if (shift + DIGIT_BITS <= 32) return (lo >>> shift) & DIGIT_MASK;
  if (shift >= 32) return (hi >>> (shift - 32)) & DIGIT_MASK;
  // The digit straddles the two words (bits 22..32 with 11-bit digits).
  return ((lo >>> shift) | (hi << (32 - shift))) & DIGIT_MASK;
}

/**
 * One counting-sort pass by the digit at bit `shift` of the 64-bit keys: `offsets` holds each bucket's
 * first slot and is advanced as keys land. Three loops, so that the digit's position is not tested per key.
 */
function scatter(source: Uint32Array, target: Uint32Array, offsets: Uint32Array, n: number, shift: number): void {
  if (shift + DIGIT_BITS <= 32) {
    for (let i = 0; i < n; i++) {
      const lo = source[2 * i]!;
      const at = 2 * offsets[(lo >>> shift) & DIGIT_MASK]!++;
      target[at] = lo;
      target[at + 1] = source[2 * i + 1]!;
    }
  } else if (shift >= 32) {
    const high = shift - 32;
    for (let i = 0; i < n; i++) {
      const hi = source[2 * i + 1]!;
      const at = 2 * offsets[(hi >>> high) & DIGIT_MASK]!++;
      target[at] = source[2 * i]!;
      target[at + 1] = hi;
    }
  } else {
    const up = 32 - shift;
    for (let i = 0; i < n; i++) {
      const lo = source[2 * i]!;
      const hi = source[2 * i + 1]!;
      const at = 2 * offsets[((lo >>> shift) | (hi << up)) & DIGIT_MASK]!++;
      target[at] = lo;
      target[at + 1] = hi;
    }
  }
}

/** Sorts `values` in place and returns it. */
export function sortFloat64(values: Float64Array): Float64Array {
  const n = values.length;
  if (n < RADIX_MIN_LENGTH || !LITTLE_ENDIAN) return values.sort();
  const words = new Uint32Array(values.buffer, values.byteOffset, 2 * n);
  const counts = new Uint32Array(DIGITS * BUCKETS);

  // Keys, and every digit's histogram, in one pass. NaN (either sign) becomes the largest key.
  for (let i = 0; i < n; i++) {
    let lo = words[2 * i]!;
    let hi = words[2 * i + 1]!;
    if (values[i]! !== values[i]!) {
      lo = 0xffffffff;
      hi = 0xffffffff;
    } else {
      const negative = hi >> 31; // -1 for a negative value, else 0
      lo = (lo ^ negative) >>> 0;
      hi = (hi ^ (negative | 0x80000000)) >>> 0;
    }
    words[2 * i] = lo;
    words[2 * i + 1] = hi;
    counts[lo & DIGIT_MASK]!++;
    counts[BUCKETS + ((lo >>> 11) & DIGIT_MASK)]!++;
    counts[2 * BUCKETS + (((lo >>> 22) | (hi << 10)) & DIGIT_MASK)]!++;
    counts[3 * BUCKETS + ((hi >>> 1) & DIGIT_MASK)]!++;
    counts[4 * BUCKETS + ((hi >>> 12) & DIGIT_MASK)]!++;
    counts[5 * BUCKETS + (hi >>> 23)]!++;
  }

  let source: Uint32Array = words;
  let target: Uint32Array = new Uint32Array(2 * n);
  for (let d = 0; d < DIGITS; d++) {
    const base = d * BUCKETS;
    // A digit every key shares does not reorder anything.
    if (counts[base + digitOf(source[0]!, source[1]!, d)] === n) continue;
    let offset = 0;
    for (let b = 0; b < BUCKETS; b++) {
      const c = counts[base + b]!;
      counts[base + b] = offset;
      offset += c;
    }
    scatter(source, target, counts.subarray(base, base + BUCKETS), n, d * DIGIT_BITS);
    [source, target] = [target, source];
  }
  if (source !== words) words.set(source);

  // Keys back to numbers; the NaN key back to the canonical NaN.
  for (let i = 0; i < n; i++) {
    const lo = words[2 * i]!;
    const hi = words[2 * i + 1]!;
    if (lo === 0xffffffff && hi === 0xffffffff) {
      values[i] = Number.NaN;
      continue;
    }
    const positive = hi >>> 31 === 1;
    words[2 * i] = positive ? lo : ~lo >>> 0;
    words[2 * i + 1] = positive ? (hi ^ 0x80000000) >>> 0 : ~hi >>> 0;
  }
  return values;
}
