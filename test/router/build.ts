/** An app over stub models and a real config file, for app.inject() tests. */
import type { FastifyInstance } from 'fastify';
import { loadConfig, type Config } from '../../src/config/index.js';
import { createRouter } from '../../src/router/create-router.js';
import type { LiveConfig } from '../../src/router/live-config.js';
import { RouterMetrics } from '../../src/router/metrics.js';
import type { Lifecycle } from '../../src/router/context.js';
import type { ModelSet, ServedRecord } from '../../src/router/model-set.js';
import type { ShadowRunner } from '../../src/router/shadow.js';
import { LabelIndex } from '../../src/router/label-index.js';
import { RequestIds } from '../../src/router/request-id.js';
import { tempDir, writeConfig } from '../helpers/config.js';
import { ArraySink, StubPool, StubRegistry } from './stubs.js';

export interface TestRouter {
  app: FastifyInstance;
  config: LiveConfig;
  configFile: string;
  models: ModelSet;
  pool: StubPool;
  /** The shadow's own pool, and the shadow (loaded on refresh when router.shadow_share > 0). */
  shadowPool: StubPool;
  shadow: ShadowRunner;
  registry: StubRegistry;
  sink: ArraySink;
  metrics: RouterMetrics;
  lifecycle: Lifecycle;
  requestIds: RequestIds;
}

export const TEST_REQUEST_KEY = 'test-request-key-0123456789';

/** Request ids as the router issues them, from a fixed key, clock and counter, so tests pin them. */
export function testRequestIds(now: () => number = () => FIXED_NOW): RequestIds {
  let n = 0;
  return new RequestIds({
    key: TEST_REQUEST_KEY,
    now,
    random: (bytes) => {
      const out = Buffer.alloc(bytes);
      out.writeUInt32BE(++n, bytes - 4);
      return out;
    },
  });
}

export const FIXED_NOW = Date.UTC(2026, 4, 6, 7, 8, 9, 10);

/** The n-th request id (1-based) a test router issues. */
export function requestIdNo(n: number): string {
  const ids = testRequestIds();
  let id = '';
  for (let i = 0; i < n; i++) id = ids.issue();
  return id;
}

export async function testRouter(
  options: {
    patch?: Record<string, unknown>;
    aliases?: Record<string, string>;
    env?: Record<string, string>;
    load?: boolean;
    served?: ServedRecord;
    /** The registry's answer before the first poll: an error message makes it unreachable. */
    registryDown?: string;
    /** Tags on the registered model (the watch tag). */
    tags?: Record<string, string>;
  } = {},
): Promise<TestRouter> {
  const dir = tempDir('driftgate-router-');
  const patch = options.patch ?? {};
  // The stub registry's address, as messages name it.
  const configFile = writeConfig(dir, { ...patch, mlflow: { tracking_uri: 'http://registry.test', ...(patch.mlflow as object | undefined) } });
  const env = options.env ?? { DRIFTGATE_ADMIN_TOKEN: 'test-admin-token', DRIFTGATE_LABEL_TOKEN: 'test-label-token' };
  const initial: Config = loadConfig(configFile, env);
  const pool = new StubPool();
  const shadowPool = new StubPool();
  const registry = new StubRegistry();
  registry.aliases = options.aliases ?? { prod: '1', staging: '2' };
  registry.tags = options.tags ?? {};
  registry.down = options.registryDown ?? null;
  const sink = new ArraySink();
  const requestIds = testRequestIds();
  const router = createRouter(initial, env, {
    pool,
    shadow: { pool: shadowPool },
    ...(options.served ? { served: options.served } : {}),
    registry,
    log: sink,
    logProblem: () => (sink.failing ? `the predictions log cannot be written (${sink.failing})` : null),
    labels: new LabelIndex(1000),
    requestIds,
    metrics: new RouterMetrics(),
    clock: { now: () => FIXED_NOW },
    logger: false,
  });
  const { app, models, metrics, lifecycle, live: config } = router;
  const shadow = router.shadow!;
  shadow.start(app.log);
  if (options.load !== false) {
    await models.refresh();
    await shadow.sync();
  }
  await app.ready();
  return { app, config, configFile, models, pool, shadowPool, shadow, registry, sink, metrics, lifecycle, requestIds };
}

export const IRIS_ROW = { sepal_length: 5.1, sepal_width: 3.5, petal_length: 1.4, petal_width: 0.2 };

export function predictBody(userId: string, features: Record<string, unknown> = IRIS_ROW, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ user_id: userId, features, ...extra });
}
