import { describe, expect, it } from 'vitest';
import { FloatColumnBuilder } from '../../src/drift/float-column.js';

describe('FloatColumnBuilder', () => {
  it('keeps values in order across growth', () => {
    const builder = new FloatColumnBuilder(4);
    for (let i = 0; i < 5000; i++) builder.push(i / 2);
    expect(builder.length).toBe(5000);
    const values = builder.finish();
    expect(values.length).toBe(5000);
    expect(values[0]).toBe(0);
    expect(values[4999]).toBe(2499.5);
  });

  it('finishes a well-reserved column as a view of its buffer, a badly reserved one as a copy', () => {
    const close = new FloatColumnBuilder(1);
    close.reserve(1000);
    for (let i = 0; i < 990; i++) close.push(i);
    const view = close.finish();
    expect(view.length).toBe(990);
    expect(view.buffer.byteLength).toBe(1000 * 8);

    const far = new FloatColumnBuilder(1);
    far.reserve(1000);
    for (let i = 0; i < 10; i++) far.push(i);
    const copy = far.finish();
    expect([...copy]).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(copy.buffer.byteLength).toBe(10 * 8);
  });

  it('reserve never shrinks and keeps what is there', () => {
    const builder = new FloatColumnBuilder(2);
    builder.push(1);
    builder.push(2);
    builder.reserve(1);
    builder.reserve(10);
    builder.push(3);
    expect([...builder.finish()]).toEqual([1, 2, 3]);
  });

  it('an empty builder finishes empty', () => {
    expect(new FloatColumnBuilder().finish().length).toBe(0);
  });
});
