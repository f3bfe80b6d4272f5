/** An app over stub models and a real config file, for app.inject() tests. */
import type { FastifyInstance } from 'fastify';
import { loadConfig, type Config } from '../../src/config/index.js';
import { buildApp } from '../../src/router/app.js';
import { LiveConfig } from '../../src/router/live-config.js';
import { RouterMetrics } from '../../src/router/metrics.js';
import { ModelSet } from '../../src/router/model-set.js';
import { RecentRequests } from '../../src/router/recent-requests.js';
import { tempDir, writeConfig } from '../helpers/config.js';
import { ArraySink, StubPool, StubRegistry } from './stubs.js';

export interface TestRouter {
  app: FastifyInstance;
  config: LiveConfig;
  configFile: string;
  models: ModelSet;
  pool: StubPool;
  registry: StubRegistry;
  sink: ArraySink;
  metrics: RouterMetrics;
  lifecycle: { draining: boolean };
}

export const FIXED_NOW = Date.UTC(2026, 4, 6, 7, 8, 9, 10);

export async function testRouter(
  options: { patch?: Record<string, unknown>; aliases?: Record<string, string>; env?: Record<string, string>; load?: boolean } = {},
): Promise<TestRouter> {
  const dir = tempDir('driftgate-router-');
  const configFile = writeConfig(dir, options.patch ?? {});
  const env = options.env ?? { DRIFTGATE_ADMIN_TOKEN: 'test-admin-token' };
  const initial: Config = loadConfig(configFile, env);
  const config = new LiveConfig(initial, env);
  const pool = new StubPool();
  const registry = new StubRegistry();
  registry.aliases = options.aliases ?? { prod: '1', staging: '2' };
  const metrics = new RouterMetrics();
  const models = new ModelSet({
    pool,
    registry,
    registryUri: 'http://registry.test',
    modelName: initial.mlflow.model_name,
    aliases: { prod: initial.mlflow.prod_alias, staging: initial.mlflow.staging_alias },
    features: initial.dataset.features,
    classes: initial.dataset.classes,
    batch: { maxSize: initial.router.batch_max_size, maxWaitMs: initial.router.batch_max_wait_ms },
    pollMs: 60_000,
    workers: 2,
    onBatch: (alias, size) => metrics.batchSize.observe({ alias }, size),
  });
  if (options.load !== false) await models.refresh();
  const sink = new ArraySink();
  const lifecycle = { draining: false };
  let n = 0;
  const app = buildApp({
    config,
    models,
    log: sink,
    recent: new RecentRequests(1000),
    metrics,
    lifecycle,
    clock: { now: () => FIXED_NOW },
    newRequestId: () => `req-${++n}`,
  });
  await app.ready();
  return { app, config, configFile, models, pool, registry, sink, metrics, lifecycle };
}

export const IRIS_ROW = { sepal_length: 5.1, sepal_width: 3.5, petal_length: 1.4, petal_width: 0.2 };

export function predictBody(userId: string, features: Record<string, unknown> = IRIS_ROW, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ user_id: userId, features, ...extra });
}
