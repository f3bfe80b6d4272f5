/** The worker thread of analyze-threads.ts: measures the features it is handed and posts the numbers back. */

import { parentPort } from 'node:worker_threads';
import { replyOf } from '../worker-thread.js';
import { measureFeature } from './analyze.js';
import type { AnalyzeJob } from './analyze-threads.js';

parentPort!.once('message', async (job: AnalyzeJob) => {
  parentPort!.postMessage(await replyOf(() => job.columns.map((c) => measureFeature(c, job.settings))));
});
