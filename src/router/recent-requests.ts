/**
 * The request ids that POST /feedback accepts: the last `capacity` predictions, in memory. After a
 * restart the ids of the newest prediction rows of the existing log are read back, so feedback for
 * a prediction made just before the restart is still accepted.
 */
import { open } from 'node:fs/promises';
import { parse } from 'csv-parse/sync';

export const DEFAULT_RECENT_CAPACITY = 100_000;
/** How much of the end of the log is read at start-up (about 150 bytes a row for Iris). */
export const DEFAULT_PRELOAD_BYTES = 32 * 1024 * 1024;

export class RecentRequests {
  private readonly ids = new Set<string>();

  constructor(readonly capacity = DEFAULT_RECENT_CAPACITY) {}

  get size(): number {
    return this.ids.size;
  }

  remember(requestId: string): void {
    this.ids.add(requestId);
    if (this.ids.size > this.capacity) {
      // A Set iterates in insertion order: the first id is the oldest.
      const oldest = this.ids.values().next().value as string;
      this.ids.delete(oldest);
    }
  }

  has(requestId: string): boolean {
    return this.ids.has(requestId);
  }

  /**
   * Remember the request ids of the prediction rows in the last `maxBytes` of a log (oldest
   * first, so the newest survive the capacity). Every row is one line, so starting at a line
   * boundary is safe. Returns how many were read.
   */
  async preload(file: string, columns: readonly string[], maxBytes = DEFAULT_PRELOAD_BYTES): Promise<number> {
    const handle = await open(file, 'r').catch(() => null);
    if (!handle) return 0;
    try {
      const { size } = await handle.stat();
      const start = Math.max(0, size - maxBytes);
      const buffer = Buffer.alloc(size - start);
      await handle.read(buffer, 0, buffer.length, start);
      let text = buffer.toString('utf8');
      // Skip the header, or the partial line where the window begins.
      text = text.slice(text.indexOf('\n') + 1);
      const rows = parse(text, { relax_column_count: true, skip_records_with_error: true, relax_quotes: true }) as string[][];
      const eventAt = columns.indexOf('event');
      const idAt = columns.indexOf('request_id');
      let count = 0;
      for (const row of rows) {
        if (row.length !== columns.length || row[eventAt] !== 'prediction' || !row[idAt]) continue;
        this.remember(row[idAt]);
        count += 1;
      }
      return count;
    } finally {
      await handle.close();
    }
  }
}
