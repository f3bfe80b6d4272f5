/**
 * One job in a worker thread, one reply: the pattern the drift readers and the drift analysis share.
 * The worker answers with its value or its error (name, code, message); an InputError comes back as the
 * same InputError, anything else as a CHILD_FAILED error naming the job, and so does a thread that dies
 * or exits without answering. An aborted job terminates the thread.
 */

import { Worker } from 'node:worker_threads';
import { DriftgateError, InputError, type ErrorCode } from './errors.js';

export type WorkerReply<T> = { ok: true; value: T } | { ok: false; name: string; code: ErrorCode | null; message: string };

/** The worker side: run the job and turn its outcome into a reply. */
export async function replyOf<T>(job: () => T | Promise<T>): Promise<WorkerReply<T>> {
  try {
    return { ok: true, value: await job() };
  } catch (error) {
    const e = error as Error;
    return { ok: false, name: e.name, code: error instanceof DriftgateError ? error.code : null, message: e.message };
  }
}

/** Starts `file` as a worker thread, posts `message` (handing over `transfer`) and resolves with its one reply. */
export function runInWorker<T>(file: string, message: unknown, options: { transfer?: ArrayBuffer[]; what: string; signal?: AbortSignal }): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const worker = new Worker(file);
    let settled = false;
    const settle = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      options.signal?.removeEventListener('abort', onAbort);
      fn();
    };
    const onAbort = (): void => {
      settle(() => reject(options.signal!.reason));
      void worker.terminate();
    };
    options.signal?.addEventListener('abort', onAbort, { once: true });
    worker.once('message', (reply: WorkerReply<T>) => {
      settle(() => {
        if (reply.ok) resolve(reply.value);
        else if (reply.name === 'InputError') reject(new InputError(reply.message, { code: reply.code ?? undefined }));
        else reject(new DriftgateError(reply.code ?? 'CHILD_FAILED', `${options.what} failed: ${reply.message}`));
      });
      void worker.terminate();
    });
    worker.once('error', (error) => settle(() => reject(new DriftgateError('CHILD_FAILED', `${options.what} failed: its thread died: ${error.message}`))));
    worker.once('exit', (code) => settle(() => reject(new DriftgateError('CHILD_FAILED', `${options.what} failed: its thread exited with code ${code} before answering`))));
    worker.postMessage(message, options.transfer ?? []);
  });
}
