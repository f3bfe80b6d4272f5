/** A real embedded MLflow server in a temp state folder on a free port, for one test file. */
import { loadConfig, type Config } from '../../src/config/index.js';
import { start, stop } from '../../src/mlflow/server.js';
import { tempDir, writeConfig } from './config.js';
import { freePort } from './net.js';

export interface MlflowFixture {
  dir: string;
  configFile: string;
  config: Config;
  uri: string;
  stop: () => Promise<void>;
}

export async function startMlflow(patch: Record<string, unknown> = {}): Promise<MlflowFixture> {
  const dir = tempDir('driftgate-mlflow-');
  const port = await freePort();
  const uri = `http://127.0.0.1:${port}`;
  const configFile = writeConfig(dir, { ...patch, mlflow: { tracking_uri: uri, ...((patch.mlflow as object | undefined) ?? {}) } });
  const config = loadConfig(configFile, {});
  await start(config, () => undefined);
  return { dir, configFile, config, uri, stop: async () => void (await stop(config, () => undefined)) };
}

/** POST/GET the MLflow REST API and return the parsed body; fails the test on a non-2xx answer. */
export async function mlflowApi<T>(uri: string, method: 'GET' | 'POST' | 'PATCH' | 'DELETE', endpoint: string, body?: unknown): Promise<T> {
  const url = new URL(`/api/2.0/mlflow/${endpoint}`, uri);
  if (method === 'GET' && body) for (const [k, v] of Object.entries(body as Record<string, string>)) url.searchParams.set(k, v);
  const response = await fetch(url, {
    method,
    headers: { 'content-type': 'application/json' },
    body: method === 'GET' ? undefined : JSON.stringify(body ?? {}),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${endpoint} -> ${response.status}: ${text}`);
  return JSON.parse(text) as T;
}
