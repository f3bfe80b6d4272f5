/**
 * A numeric column of unknown length, filled value by value. Readers reserve what a file's size
 * suggests, so a million values land in one array with no doubling copies and no chunk garbage;
 * a wrong guess only costs a copy.
 */

const MIN_CAPACITY = 1024;

export class FloatColumnBuilder {
  private values: Float64Array;
  private size = 0;

  constructor(capacity = MIN_CAPACITY) {
    this.values = new Float64Array(Math.max(capacity, 1));
  }

  get length(): number {
    return this.size;
  }

  /** Makes room for `total` values in all. */
  reserve(total: number): void {
    if (total > this.values.length) this.resize(total);
  }

  push(value: number): void {
    if (this.size === this.values.length) this.resize(Math.max(MIN_CAPACITY, Math.ceil(this.size * 1.5)));
    this.values[this.size++] = value;
  }

  /** The values as one array of exactly `length`; a view when the spare room is small. The builder is spent. */
  finish(): Float64Array {
    const values = this.values;
    this.values = new Float64Array(1);
    const size = this.size;
    this.size = 0;
    // Up to 1/16 spare capacity is cheaper to keep than to copy away.
    return values.length - size <= values.length / 16 ? values.subarray(0, size) : values.slice(0, size);
  }

  private resize(capacity: number): void {
    const bigger = new Float64Array(capacity);
    bigger.set(this.values.subarray(0, this.size));
    this.values = bigger;
  }
}
