import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 600_000,
    // Tests share one MLflow server and Python environments; files run one at a time on 2 cores.
    fileParallelism: false,
  },
});
