import { defineConfig } from 'vitest/config';

/**
 * The tests that need the pinned Python environments (PyCaret, MLflow, Airflow), or Debian's chromium
 * (status-chromium installs it when missing). Everything else is a unit test: no Python, files in
 * parallel, and it runs first, while nothing waits for pip.
 */
const INTEGRATION = [
  'test/ab/e2e.test.ts',
  'test/airflow/dag-import.test.ts',
  'test/airflow/dags-run.test.ts',
  'test/airflow/python-literal.test.ts',
  'test/data/drifted.test.ts',
  'test/mlflow/server.test.ts',
  'test/python/bootstrap.test.ts',
  'test/registry/client.test.ts',
  'test/registry/promotion.test.ts',
  'test/router/inference/worker-pool.test.ts',
  'test/router/log-faults.test.ts',
  'test/router/serve-cli.test.ts',
  'test/router/serve-faults.test.ts',
  'test/router/serve.test.ts',
  'test/router/shadow-serve.test.ts',
  'test/router/status-chromium.test.ts',
  'test/train/train.test.ts',
];

/**
 * The scale-out loop (test/scale): Airflow on Celery, Redis and PostgreSQL, MLflow on PostgreSQL and
 * router replicas behind HAProxy. Last: it is the slowest, and needs the machine to itself.
 */
const SCALE = ['test/scale/**/*.test.ts'];

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 600_000,
    projects: [
      {
        extends: true,
        test: { name: 'unit', include: ['test/**/*.test.ts'], exclude: [...INTEGRATION, ...SCALE], sequence: { groupOrder: 0 } },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: INTEGRATION,
          // Builds the environments (a no-op when the pins are unchanged) before the first of these files.
          setupFiles: ['test/python-envs.ts'],
          // They share one MLflow server and the Python environments; one file at a time on 2 cores.
          fileParallelism: false,
          sequence: { groupOrder: 1 },
        },
      },
      {
        extends: true,
        test: {
          name: 'scale',
          include: SCALE,
          setupFiles: ['test/python-envs.ts'],
          fileParallelism: false,
          sequence: { groupOrder: 2 },
        },
      },
    ],
  },
});
