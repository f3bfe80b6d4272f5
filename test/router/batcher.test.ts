import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { Batcher } from '../../src/router/batcher.js';

function recorder(options: { maxSize: number; maxWaitMs: number; canRun?: () => boolean }) {
  const batches: number[][] = [];
  const batcher = new Batcher<number, string>({
    ...options,
    run: async (items) => {
      batches.push(items);
      return items.map((i) => `r${i}`);
    },
  });
  return { batches, batcher };
}

describe('Batcher', () => {
  it('sends a full batch at once and the rest after maxWaitMs, each item getting its own result', async () => {
    const { batches, batcher } = recorder({ maxSize: 4, maxWaitMs: 30 });
    const results = Array.from({ length: 6 }, (_, i) => batcher.submit(i));
    expect(batches).toEqual([[0, 1, 2, 3]]);
    await sleep(5);
    expect(batches).toEqual([[0, 1, 2, 3]]);
    expect(await Promise.all(results)).toEqual(['r0', 'r1', 'r2', 'r3', 'r4', 'r5']);
    expect(batches).toEqual([
      [0, 1, 2, 3],
      [4, 5],
    ]);
  });

  it('keeps coalescing while no worker is free, and sends one batch when woken', async () => {
    let free = false;
    const { batches, batcher } = recorder({ maxSize: 100, maxWaitMs: 1, canRun: () => free });
    const first = [1, 2, 3].map((i) => batcher.submit(i));
    await sleep(20);
    const later = [4, 5].map((i) => batcher.submit(i));
    await sleep(20);
    expect(batches).toEqual([]);
    free = true;
    batcher.wake();
    expect(await Promise.all([...first, ...later])).toEqual(['r1', 'r2', 'r3', 'r4', 'r5']);
    expect(batches).toEqual([[1, 2, 3, 4, 5]]);
  });

  it('still delivers when a wake-up is missed: it looks again on its own', async () => {
    let free = false;
    const { batches, batcher } = recorder({ maxSize: 100, maxWaitMs: 1, canRun: () => free });
    const result = batcher.submit(7);
    await sleep(15);
    free = true;
    expect(await result).toBe('r7');
    expect(batches).toEqual([[7]]);
  });

  it('fails every item of a failed batch with the error', async () => {
    const batcher = new Batcher<number, string>({
      maxSize: 2,
      maxWaitMs: 1,
      run: async () => {
        throw new Error('worker died');
      },
    });
    const outcomes = await Promise.allSettled([batcher.submit(1), batcher.submit(2)]);
    expect(outcomes.map((o) => (o.status === 'rejected' ? (o.reason as Error).message : 'ok'))).toEqual(['worker died', 'worker died']);
  });

  it('takes an item whose signal aborts out of the queue; one already sent gets its result', async () => {
    let free = false;
    const { batches, batcher } = recorder({ maxSize: 100, maxWaitMs: 1, canRun: () => free });
    const controller = new AbortController();
    const kept = batcher.submit(1);
    const dropped = batcher.submit(2, controller.signal);
    await sleep(10);
    controller.abort(new Error('deadline'));
    await expect(dropped).rejects.toThrow('deadline');
    expect(batcher.depth).toEqual({ queued: 1, running: 0 });
    free = true;
    batcher.wake();
    expect(await kept).toBe('r1');
    expect(batches).toEqual([[1]]);
  });

  it('fails only the items whose output is an Error', async () => {
    const batcher = new Batcher<number, string>({ maxSize: 3, maxWaitMs: 1, run: async (items) => items.map((i) => (i === 2 ? new Error(`no answer for ${i}`) : `r${i}`)) });
    const results = await Promise.allSettled([1, 2, 3].map((i) => batcher.submit(i)));
    expect(results.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as Error).message))).toEqual(['r1', 'no answer for 2', 'r3']);
  });
});
