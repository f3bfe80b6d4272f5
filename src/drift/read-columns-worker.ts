/** The worker thread of read-columns-thread.ts: reads (and sorts) one data set and posts the columns back, transferred. */

import { parentPort } from 'node:worker_threads';
import { replyOf } from '../worker-thread.js';
import { readAndSort, type ThreadRequest } from './read-columns-thread.js';

parentPort!.once('message', async (job: ThreadRequest) => {
  const reply = await replyOf(() => readAndSort(job.files, job.request, { parser: job.parser, sort: job.sort }));
  const transfer = reply.ok ? [...new Set([...reply.value.numeric.values()].map((column) => column.buffer as ArrayBuffer))] : [];
  parentPort!.postMessage(reply, transfer);
});
