/** A typed client for the parts of MLflow's REST API that Driftgate uses (registry, runs, experiments). */
import type { Config } from '../config/index.js';
import { DriftgateError } from '../errors.js';

export interface ModelVersion {
  name: string;
  version: string;
  run_id?: string;
  source?: string;
  status?: string;
  creation_timestamp?: number;
  tags?: { key: string; value: string }[];
  aliases?: string[];
}

export interface RegisteredModel {
  name: string;
  aliases?: { alias: string; version: string }[];
  tags?: { key: string; value: string }[];
}

export interface Run {
  info: { run_id: string; status: string; experiment_id: string; artifact_uri: string; run_name?: string; start_time?: number; end_time?: number };
  data: {
    params?: { key: string; value: string }[];
    metrics?: { key: string; value: number }[];
    tags?: { key: string; value: string }[];
  };
}

/** An answer from MLflow that is not 2xx; `errorCode` is MLflow's (RESOURCE_DOES_NOT_EXIST, …). */
export class MlflowApiError extends DriftgateError {
  constructor(
    readonly status: number,
    readonly errorCode: string,
    message: string,
    /** The body was MLflow's JSON error ({error_code, message}), not some other server's page. */
    readonly mlflowAnswer = false,
  ) {
    super('MLFLOW_ERROR', message);
  }
}

export interface Metric {
  key: string;
  value: number;
  /** Milliseconds since the epoch; now when absent. */
  timestamp?: number;
  step?: number;
}

type Query = Record<string, string | number | undefined>;

export class MlflowClient {
  constructor(
    readonly uri: string,
    private readonly timeoutMs = 15_000,
  ) {}

  private async call<T>(method: 'GET' | 'POST' | 'PATCH' | 'DELETE', endpoint: string, payload: Query | Record<string, unknown> = {}): Promise<T> {
    const url = new URL(`/api/2.0/mlflow/${endpoint}`, this.uri);
    if (method === 'GET') {
      for (const [key, value] of Object.entries(payload)) if (value !== undefined) url.searchParams.set(key, String(value));
    }
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        headers: { 'content-type': 'application/json' },
        body: method === 'GET' ? undefined : JSON.stringify(payload),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (error) {
      throw unreachable(this.uri, error);
    }
    const text = await response.text();
    if (!response.ok) {
      let errorCode = `HTTP_${response.status}`;
      let message = text.slice(0, 300);
      let mlflowAnswer = false;
      try {
        const body = JSON.parse(text) as { error_code?: unknown; message?: unknown };
        if (typeof body.error_code === 'string') {
          errorCode = body.error_code;
          mlflowAnswer = true;
          if (typeof body.message === 'string') message = body.message;
        }
      } catch {
        // not JSON (a proxy's error page): keep the text
      }
      throw new MlflowApiError(response.status, errorCode, `MLflow ${method} ${endpoint} failed (${response.status} ${errorCode}): ${message}`, mlflowAnswer);
    }
    return (text ? JSON.parse(text) : {}) as T;
  }

  /** Fails fast, before any expensive work, when the server cannot be reached. */
  async ping(): Promise<void> {
    try {
      const response = await fetch(new URL('/health', this.uri), { signal: AbortSignal.timeout(5000) });
      if (!response.ok) throw new Error(`GET /health answered ${response.status}`);
    } catch (error) {
      throw unreachable(this.uri, error);
    }
  }

  async getRegisteredModel(name: string): Promise<RegisteredModel | null> {
    return orNull((await this.maybe(() => this.call<{ registered_model: RegisteredModel }>('GET', 'registered-models/get', { name })))?.registered_model);
  }

  async createRegisteredModel(name: string): Promise<RegisteredModel> {
    return (await this.call<{ registered_model: RegisteredModel }>('POST', 'registered-models/create', { name })).registered_model;
  }

  async deleteRegisteredModel(name: string): Promise<void> {
    await this.maybe(() => this.call('DELETE', 'registered-models/delete', { name }));
  }

  async getVersion(name: string, version: string): Promise<ModelVersion | null> {
    return orNull((await this.maybe(() => this.call<{ model_version: ModelVersion }>('GET', 'model-versions/get', { name, version })))?.model_version);
  }

  async getVersionByAlias(name: string, alias: string): Promise<ModelVersion | null> {
    try {
      return orNull((await this.maybe(() => this.call<{ model_version: ModelVersion }>('GET', 'registered-models/alias', { name, alias })))?.model_version);
    } catch (error) {
      // MLflow answers a missing alias with 400 INVALID_PARAMETER_VALUE "Registered model alias X not found."
      if (error instanceof MlflowApiError && error.mlflowAnswer && error.errorCode === 'INVALID_PARAMETER_VALUE' && /alias .* not found/i.test(error.message)) return null;
      throw error;
    }
  }

  /** All versions of a model, newest first. */
  async searchVersions(name: string): Promise<ModelVersion[]> {
    const out: ModelVersion[] = [];
    let pageToken: string | undefined;
    do {
      const page = await this.call<{ model_versions?: ModelVersion[]; next_page_token?: string }>('GET', 'model-versions/search', {
        filter: `name='${name.replace(/'/g, "\\'")}'`,
        max_results: 1000,
        page_token: pageToken,
      });
      out.push(...(page.model_versions ?? []));
      pageToken = page.next_page_token || undefined;
    } while (pageToken);
    return out.sort((a, b) => Number(b.version) - Number(a.version));
  }

  async setAlias(name: string, alias: string, version: string): Promise<void> {
    await this.call('POST', 'registered-models/alias', { name, alias, version });
  }

  async deleteAlias(name: string, alias: string): Promise<void> {
    await this.maybe(() => this.call('DELETE', 'registered-models/alias', { name, alias }));
  }

  async setVersionTag(name: string, version: string, key: string, value: string): Promise<void> {
    await this.call('POST', 'model-versions/set-tag', { name, version, key, value });
  }

  async getRun(runId: string): Promise<Run | null> {
    return orNull((await this.maybe(() => this.call<{ run: Run }>('GET', 'runs/get', { run_id: runId })))?.run);
  }

  async updateRun(runId: string, status: 'FAILED' | 'FINISHED' | 'KILLED'): Promise<void> {
    await this.call('POST', 'runs/update', { run_id: runId, status, end_time: Date.now() });
  }

  async getExperimentByName(name: string): Promise<{ experiment_id: string; name: string } | null> {
    return orNull((await this.maybe(() => this.call<{ experiment: { experiment_id: string; name: string } }>('GET', 'experiments/get-by-name', { experiment_name: name })))?.experiment);
  }

  /** Runs of an experiment matching an MLflow search filter, newest first. */
  async searchRuns(experimentId: string, filter: string): Promise<Run[]> {
    const page = await this.call<{ runs?: Run[] }>('POST', 'runs/search', {
      experiment_ids: [experimentId],
      filter,
      max_results: 100,
      order_by: ['attributes.start_time DESC'],
    });
    return page.runs ?? [];
  }

  async deleteVersionTag(name: string, version: string, key: string): Promise<void> {
    await this.maybe(() => this.call('DELETE', 'model-versions/delete-tag', { name, version, key }));
  }

  async setModelTag(name: string, key: string, value: string): Promise<void> {
    await this.call('POST', 'registered-models/set-tag', { name, key, value });
  }

  async deleteModelTag(name: string, key: string): Promise<void> {
    await this.maybe(() => this.call('DELETE', 'registered-models/delete-tag', { name, key }));
  }

  /** The experiment's id, created on first use; a concurrent creator wins the race harmlessly. */
  async ensureExperiment(name: string): Promise<string> {
    const existing = await this.getExperimentByName(name);
    if (existing) return existing.experiment_id;
    try {
      return (await this.call<{ experiment_id: string }>('POST', 'experiments/create', { name })).experiment_id;
    } catch (error) {
      if (!(error instanceof MlflowApiError && error.errorCode === 'RESOURCE_ALREADY_EXISTS')) throw error;
      const created = await this.getExperimentByName(name);
      if (!created) throw error;
      return created.experiment_id;
    }
  }

  async createRun(experimentId: string, runName: string, tags: Record<string, string> = {}): Promise<Run> {
    const body = {
      experiment_id: experimentId,
      run_name: runName,
      start_time: Date.now(),
      tags: Object.entries(tags).map(([key, value]) => ({ key, value })),
    };
    return (await this.call<{ run: Run }>('POST', 'runs/create', body)).run;
  }

  /** Metrics, params and tags in as many log-batch calls as MLflow's per-request limits need. */
  async logBatch(runId: string, batch: { metrics?: Metric[]; params?: Record<string, string>; tags?: Record<string, string> }): Promise<void> {
    const metrics = batch.metrics ?? [];
    const params = Object.entries(batch.params ?? {}).map(([key, value]) => ({ key, value }));
    const tags = Object.entries(batch.tags ?? {}).map(([key, value]) => ({ key, value }));
    // MLflow takes at most 100 params, 100 tags, and 1000 entries in all per request.
    for (let m = 0, p = 0, t = 0; m < metrics.length || p < params.length || t < tags.length; ) {
      const someParams = params.slice(p, p + 100);
      const someTags = tags.slice(t, t + 100);
      const someMetrics = metrics.slice(m, m + 1000 - someParams.length - someTags.length);
      await this.call('POST', 'runs/log-batch', {
        run_id: runId,
        metrics: someMetrics.map((x) => ({ key: x.key, value: x.value, timestamp: x.timestamp ?? Date.now(), step: x.step ?? 0 })),
        params: someParams,
        tags: someTags,
      });
      p += someParams.length;
      t += someTags.length;
      m += someMetrics.length;
    }
  }

  /** The proxy URL of a run's artifact (`mlflow server` serves artifacts by default; runs then get an `mlflow-artifacts:/` URI). */
  private artifactUrl(run: Run, artifactPath: string, verb: 'upload' | 'download'): URL {
    const root = /^mlflow-artifacts:\/+(.*)$/.exec(run.info.artifact_uri)?.[1];
    if (root === undefined) {
      throw new DriftgateError(
        'MLFLOW_ERROR',
        `cannot ${verb} ${artifactPath} ${verb === 'upload' ? 'to' : 'from'} run ${run.info.run_id}: expected an mlflow-artifacts:/ artifact URI (a server that proxies artifacts), got ${run.info.artifact_uri}`,
      );
    }
    const segments = [...root.split('/'), ...artifactPath.split('/')].filter((s) => s !== '').map(encodeURIComponent);
    return new URL(`/api/2.0/mlflow-artifacts/artifacts/${segments.join('/')}`, this.uri);
  }

  /** One artifact of a run, as text, through the tracking server's artifact proxy; null when the run has no such file. */
  async downloadArtifact(run: Run, artifactPath: string): Promise<string | null> {
    const url = this.artifactUrl(run, artifactPath, 'download');
    let response: Response;
    try {
      response = await fetch(url, { signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (error) {
      throw unreachable(this.uri, error);
    }
    // The proxy answers 404 for a file that is not there; the run itself was found a step before.
    if (response.status === 404) return null;
    if (!response.ok) {
      const text = (await response.text()).slice(0, 300);
      throw new MlflowApiError(response.status, `HTTP_${response.status}`, `MLflow GET artifact ${artifactPath} failed (${response.status}): ${text}`);
    }
    return response.text();
  }

  /** Upload one file into a run's artifacts through the tracking server's artifact proxy. */
  async uploadArtifact(run: Run, artifactPath: string, content: string | Uint8Array, contentType = 'application/octet-stream'): Promise<void> {
    const url = this.artifactUrl(run, artifactPath, 'upload');
    let response: Response;
    try {
      response = await fetch(url, { method: 'PUT', headers: { 'content-type': contentType }, body: content, signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (error) {
      throw unreachable(this.uri, error);
    }
    if (!response.ok) {
      const text = (await response.text()).slice(0, 300);
      throw new MlflowApiError(response.status, `HTTP_${response.status}`, `MLflow PUT artifact ${artifactPath} failed (${response.status}): ${text}`);
    }
  }

  /** Relative paths of a run's artifacts under `path` (one level). */
  async listArtifacts(runId: string, path = ''): Promise<string[]> {
    const page = await this.call<{ files?: { path: string }[] }>('GET', 'artifacts/list', { run_id: runId, path: path || undefined });
    return (page.files ?? []).map((f) => f.path);
  }

  /**
   * Treat MLflow's own "does not exist" as absence; every other failure propagates. Only the error
   * code in MLflow's JSON error body counts: a 404 page from something else on the tracking URI (a load
   * balancer during a deploy, a proxy, another program on the port) says nothing about the registry.
   */
  private async maybe<T>(call: () => Promise<T>): Promise<T | null> {
    try {
      return await call();
    } catch (error) {
      if (error instanceof MlflowApiError && error.mlflowAnswer && error.errorCode === 'RESOURCE_DOES_NOT_EXIST') return null;
      throw error;
    }
  }
}

function orNull<T>(value: T | undefined): T | null {
  return value ?? null;
}

function unreachable(uri: string, error: unknown): DriftgateError {
  const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message;
  return new DriftgateError(
    'MLFLOW_UNREACHABLE',
    `cannot reach the MLflow tracking server at ${uri} (${cause}); start it with 'driftgate mlflow start' or set MLFLOW_TRACKING_URI`,
    { cause: error },
  );
}

export function versionTag(version: ModelVersion, key: string): string | undefined {
  return version.tags?.find((t) => t.key === key)?.value;
}

/** A tag on the registered model (the journal, the watch), or undefined. */
export function modelTag(model: RegisteredModel | null, key: string): string | undefined {
  return model?.tags?.find((t) => t.key === key)?.value;
}

/** The configured tracking server, checked to answer before anything else is asked of it. */
export async function connectRegistry(config: Pick<Config, 'mlflow'>): Promise<MlflowClient> {
  const client = new MlflowClient(config.mlflow.tracking_uri);
  await client.ping();
  return client;
}
