/**
 * Coalesce concurrent requests into batches. A batch leaves when it reaches maxSize, or when its
 * first item has waited maxWaitMs and there is capacity to run it (`canRun`). While every worker
 * is busy, waiting items keep coalescing instead of queueing in a pipe as tiny batches: under
 * load batches grow by themselves, and an idle router still answers after maxWaitMs.
 * Each item gets its own result back: an output, or an Error for that item alone.
 */

export interface BatcherOptions<I, O> {
  maxSize: number;
  maxWaitMs: number;
  /** Runs one batch; must return one output per input, in order (an Error fails that item only). */
  run: (items: I[]) => Promise<(O | Error)[]>;
  /** Whether a batch would start at once (an idle worker); call wake() when that changes. */
  canRun?: () => boolean;
}

const RECHECK_MS = 10;

interface Waiting<I, O> {
  item: I;
  resolve: (value: O) => void;
  reject: (error: unknown) => void;
}

export class Batcher<I, O> {
  private queue: Waiting<I, O>[] = [];
  private timer: NodeJS.Timeout | null = null;
  /** The first waiting item has waited maxWaitMs; the next wake() sends the batch. */
  private due = false;
  private running = 0;

  constructor(private readonly options: BatcherOptions<I, O>) {}

  /** Items waiting for their batch to leave, and batches that left and have not come back. */
  get depth(): { queued: number; running: number } {
    return { queued: this.queue.length, running: this.running };
  }

  /** An item whose `signal` aborts while it still waits for its batch leaves the queue, rejected with the reason. */
  submit(item: I, signal?: AbortSignal): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      const waiting: Waiting<I, O> = { item, resolve, reject };
      if (signal) {
        signal.addEventListener(
          'abort',
          () => {
            const index = this.queue.indexOf(waiting);
            if (index < 0) return;
            this.queue.splice(index, 1);
            reject(signal.reason);
          },
          { once: true },
        );
      }
      this.queue.push(waiting);
      // A full batch cannot grow any more: send it even if it has to queue behind another.
      if (this.queue.length >= this.options.maxSize) this.flush();
      else if (this.timer === null && !this.due) this.timer = setTimeout(() => this.onTimer(), this.options.maxWaitMs);
    });
  }

  private onTimer(): void {
    this.timer = null;
    this.due = true;
    this.wake();
  }

  /** Capacity may have freed up: send a batch that is due. */
  wake(): void {
    if (!this.due || this.queue.length === 0) return;
    if (this.options.canRun?.() ?? true) this.flush();
    // Look again shortly even without a wake(), so a missed notification delays but never strands.
    else if (this.timer === null) this.timer = setTimeout(() => this.onTimer(), RECHECK_MS);
  }

  /** Send everything queued now, in batches of at most maxSize. */
  flush(): void {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    this.due = false;
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, this.options.maxSize);
      void this.dispatch(batch);
    }
  }

  private async dispatch(batch: Waiting<I, O>[]): Promise<void> {
    this.running += 1;
    try {
      const outputs = await this.options.run(batch.map((w) => w.item));
      if (outputs.length !== batch.length) throw new Error(`expected ${batch.length} batch results, got ${outputs.length}`);
      batch.forEach((w, i) => {
        const output = outputs[i] as O | Error;
        if (output instanceof Error) w.reject(output);
        else w.resolve(output);
      });
    } catch (error) {
      for (const w of batch) w.reject(error);
    } finally {
      this.running -= 1;
    }
  }
}
