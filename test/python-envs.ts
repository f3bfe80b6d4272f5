/**
 * Setup file of the integration project: the pinned Python environments exist before its tests run.
 * The first file builds them (minutes on a fresh machine); later files find the pins unchanged and
 * go on at once. Unit tests never load this.
 */
import { beforeAll } from 'vitest';
import { ENVIRONMENTS, ensurePythonEnv } from '../src/python/bootstrap.js';

beforeAll(async () => {
  const log = (line: string): void => void process.stderr.write(`${line}\n`);
  await ensurePythonEnv(ENVIRONMENTS.train, { log });
  await ensurePythonEnv(ENVIRONMENTS.airflow, { log });
});
