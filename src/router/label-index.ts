/**
 * The request ids that already carry a label (inline with the prediction, or an accepted feedback),
 * the last `capacity` of them: a repeated POST /feedback for one of them is answered "duplicate"
 * and writes nothing, so resending a label never grows the log. After a restart the labels of the
 * log's newest rows are read back. (The first label is the one that counts; readers ignore later
 * ones that reach the log through another replica.)
 */
import { openLogSet, scanLog, type LogSchema } from '../prediction-log/index.js';

export const DEFAULT_LABEL_CAPACITY = 100_000;
/** How much of the end of the log is read back at start-up (about 150 bytes a row for Iris). */
export const DEFAULT_PRELOAD_BYTES = 32 * 1024 * 1024;

export class LabelIndex {
  private readonly labels = new Map<string, string>();

  constructor(readonly capacity = DEFAULT_LABEL_CAPACITY) {}

  get size(): number {
    return this.labels.size;
  }

  /** The label a request already has, if this router knows of one. */
  labelOf(requestId: string): string | undefined {
    return this.labels.get(requestId);
  }

  remember(requestId: string, label: string): void {
    if (this.labels.has(requestId)) return;
    this.labels.set(requestId, label);
    if (this.labels.size > this.capacity) {
      // A Map iterates in insertion order: the first key is the oldest.
      this.labels.delete(this.labels.keys().next().value as string);
    }
  }

  forget(requestId: string): void {
    this.labels.delete(requestId);
  }

  /** Remember the labels in the last `maxBytes` of the log file; returns how many. */
  async preload(file: string, schema: LogSchema, maxBytes = DEFAULT_PRELOAD_BYTES): Promise<number> {
    const set = await openLogSet(file, { rotated: false });
    let count = 0;
    try {
      await scanLog(
        set,
        schema,
        (entry) => {
          // Failure and split rows carry no label.
          if (entry.event !== 'prediction' && entry.event !== 'feedback') return;
          const label = entry.label;
          if (label === null) return;
          this.remember(entry.requestId, label);
          count++;
        },
        { tailBytes: maxBytes, events: ['prediction', 'feedback'] },
      );
    } finally {
      await set.close();
    }
    return count;
  }
}
