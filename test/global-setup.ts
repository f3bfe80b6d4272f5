/** Build the pinned Python environments once before any test (a no-op when the pins are unchanged). */
import { ENVIRONMENTS, ensurePythonEnv } from '../src/python/bootstrap.js';

export default async function setup(): Promise<void> {
  const log = (line: string): void => void process.stderr.write(`${line}\n`);
  await ensurePythonEnv(ENVIRONMENTS.train, { log });
  await ensurePythonEnv(ENVIRONMENTS.airflow, { log });
}
