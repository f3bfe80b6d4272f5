/**
 * A router with a known state for the status page tests: a stand-in MLflow server holding the
 * versions' tags and the journal, an A/B report and a drift report written by the real writers into
 * the config's report folders, and live traffic with failures on both variants.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { AbEvaluation } from '../../src/ab/evaluation.js';
import { reportFiles } from '../../src/ab/report-json.js';
import { runDrift } from '../../src/drift/run-drift.js';
import { PROJECT_ROOT } from '../../src/project.js';
import { JOURNAL_TAG, VERSION_TAGS, type Transition } from '../../src/registry/index.js';
import { writeReportDir } from '../../src/report/index.js';
import { assignVariant } from '../../src/router/assign.js';
import { rejectedForLatency } from '../helpers/ab-evaluation.js';
import { freePort } from '../helpers/net.js';
import { IRIS_ROW, predictBody, testRouter, type TestRouter } from './build.js';

/** The assignment seed: it must appear on no status page. */
export const SECRET_SEED = 'seed-that-must-stay-secret-5d1f';
export const MODEL_NAME = 'iris <status> & "co"';
export const SPLIT = 0.3;
export const AB_ID = '20260506T070000Z-a1b2c3';
/** An older evaluation: the page shows the newest. */
export const OLD_AB_ID = '20260505T070000Z-0f0f0f';
export const DRIFT_ID = '20260506T060000Z-d1d2d3';
export const AB_REASON = 'the latency guardrail is breached: mean latency B 20.0 ms vs A 12.5 ms <b>(+60%)</b>, always-valid p = 0.00012 < alpha 0.05';

export const VERSION_TAG_VALUES: Record<string, Record<string, string>> = {
  '1': { [VERSION_TAGS.holdoutAccuracy]: '0.966667', [VERSION_TAGS.cvAccuracy]: '0.950000', [VERSION_TAGS.bestModel]: 'LogisticRegression', [VERSION_TAGS.trigger]: 'manual' },
  '2': { [VERSION_TAGS.holdoutAccuracy]: '0.933333', [VERSION_TAGS.cvAccuracy]: '0.941667', [VERSION_TAGS.bestModel]: 'Random Forest <Classifier>', [VERSION_TAGS.trigger]: 'drift' },
};

export const JOURNAL: Transition = {
  kind: 'promote',
  version: '2',
  decision: 'promoted',
  replaced: '1',
  previousAfter: '1',
  fromStaging: true,
  reason: 'B beats A <i>by 0.15</i>',
  runId: 'run-9',
  at: '2026-05-06T07:05:00.000Z',
};

/** A stand-in for MLflow's registry REST API: model-versions/get and registered-models/get, with a count of calls. */
export class FakeMlflow {
  readonly calls: string[] = [];
  modelTags: Record<string, string> = {};
  private server: http.Server | null = null;

  constructor(
    readonly modelName: string,
    readonly versions: Record<string, Record<string, string>>,
  ) {}

  async start(port = 0): Promise<string> {
    this.server = http.createServer((request, response) => {
      const url = new URL(request.url ?? '/', 'http://localhost');
      this.calls.push(url.pathname.replace('/api/2.0/mlflow/', ''));
      const send = (status: number, body: unknown): void => void response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      const missing = (): void => send(404, { error_code: 'RESOURCE_DOES_NOT_EXIST', message: 'not found' });
      const name = url.searchParams.get('name');
      if (url.pathname === '/api/2.0/mlflow/model-versions/get') {
        const tags = this.versions[url.searchParams.get('version') ?? ''];
        if (name !== this.modelName || !tags) return missing();
        return send(200, { model_version: { name, version: url.searchParams.get('version'), tags: Object.entries(tags).map(([key, value]) => ({ key, value })) } });
      }
      if (url.pathname === '/api/2.0/mlflow/registered-models/get') {
        if (name !== this.modelName) return missing();
        return send(200, { registered_model: { name, tags: Object.entries(this.modelTags).map(([key, value]) => ({ key, value })) } });
      }
      return missing();
    });
    await new Promise<void>((resolve) => this.server!.listen(port, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/** A whole evaluation, as ab evaluate records it: B more accurate but too slow, rejected (versions 1 and 2). */
export function abEvaluation(id: string, reportsDir: string): AbEvaluation {
  return rejectedForLatency({
    id,
    evaluated_at: '2026-05-06T07:00:00.000Z',
    model_name: MODEL_NAME,
    reason: AB_REASON,
    labels: 'token',
    versions: { A: '1', B: '2' },
    report_dir: path.join(reportsDir, id),
  });
}

/** Iris with the petal columns stretched (the demo's drift): petal_length and petal_width drift, the sepals do not. */
function writeDriftedIris(file: string): void {
  const [header, ...rows] = readFileSync(path.join(PROJECT_ROOT, 'data', 'iris.csv'), 'utf8').trim().split('\n');
  const stretched = rows.map((line) => {
    const [a, b, c, d, species] = line.split(',');
    return [a, b, Math.round((Number(c) * 1.25 + 0.4) * 100) / 100, Math.round((Number(d) * 1.3 + 0.15) * 100) / 100, species].join(',');
  });
  writeFileSync(file, `${header}\n${stretched.join('\n')}\n`);
}

/** A user id that `assignVariant` sends to `variant` under the seeded split (the n-th such). */
export function userFor(variant: 'A' | 'B', n = 0): string {
  for (let i = 0, found = 0; ; i++) {
    const id = `user-${i}`;
    if (assignVariant(id, { splitB: SPLIT, seed: SECRET_SEED, stagingAvailable: true }) === variant && found++ === n) return id;
  }
}

export interface SeededRouter extends TestRouter {
  mlflow: FakeMlflow;
  dir: string;
  close(): Promise<void>;
}

export interface SeedOptions {
  /** Write the A/B and drift reports (default true). */
  reports?: boolean;
  /** Point the router at a port nothing listens on. */
  registryDown?: boolean;
  /** Versions the registry names. */
  aliases?: Record<string, string>;
  /** Tags on the registered model as the router's registry answers them (the watch tag). */
  tags?: Record<string, string>;
  /** More config, merged over the seeded config. */
  patch?: { router?: Record<string, unknown>; ab?: Record<string, unknown> };
  /** The tracking URI to use instead of the stand-in's (with registryDown: one nothing answers at). */
  trackingUri?: string;
}

/** The router with the seeded state: v1 prod, v2 staging, 3 + 2 answered predictions, one failure per variant. */
export async function seededRouter(options: SeedOptions = {}): Promise<SeededRouter> {
  const mlflow = new FakeMlflow(MODEL_NAME, VERSION_TAG_VALUES);
  mlflow.modelTags = { [JOURNAL_TAG]: JSON.stringify(JOURNAL) };
  const uri = options.trackingUri ?? (options.registryDown ? `http://127.0.0.1:${await freePort()}` : await mlflow.start());
  const router = await testRouter({
    patch: { router: { ab_split_b: SPLIT, assignment_seed: SECRET_SEED, ...options.patch?.router }, ...(options.patch?.ab ? { ab: options.patch.ab } : {}), mlflow: { tracking_uri: uri, model_name: MODEL_NAME } },
    aliases: options.aliases ?? { prod: '1', staging: '2' },
    ...(options.tags ? { tags: options.tags } : {}),
  });
  const config = router.config.current;
  const dir = path.dirname(router.configFile);
  if (options.reports !== false) {
    writeReportDir(config.ab.reports_dir, OLD_AB_ID, reportFiles({ ...abEvaluation(OLD_AB_ID, config.ab.reports_dir), decision: 'continue', reason: 'an older evaluation' }));
    writeReportDir(config.ab.reports_dir, AB_ID, reportFiles(abEvaluation(AB_ID, config.ab.reports_dir)));
    const current = path.join(dir, 'drifted.csv');
    writeDriftedIris(current);
    await runDrift(config, { current, now: () => new Date('2026-05-06T06:00:00.000Z'), newId: () => DRIFT_ID, log: () => undefined });
  }
  const predict = (userId: string, features: Record<string, number> = IRIS_ROW) =>
    router.app.inject({ method: 'POST', url: '/predict', payload: predictBody(userId, features), headers: { 'content-type': 'application/json' } });
  const broken = { ...IRIS_ROW, petal_length: -1 };
  const answers = await Promise.all([
    predict(userFor('A', 0)),
    predict(userFor('A', 1)),
    predict(userFor('A', 2)),
    predict(userFor('B', 0)),
    predict(userFor('B', 1)),
    predict(userFor('A', 3), broken),
    predict(userFor('B', 2), broken),
  ]);
  const statuses = answers.map((a) => a.statusCode);
  if (statuses.join() !== '200,200,200,200,200,422,422') throw new Error(`seeding traffic: expected 5 answers and 2 failures, got ${statuses.join()}`);
  return {
    ...router,
    mlflow,
    dir,
    async close() {
      await router.app.close();
      await mlflow.stop();
    },
  };
}
