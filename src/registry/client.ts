/** A typed client for the parts of MLflow's REST API that Driftgate uses (registry, runs, experiments). */
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
  ) {
    super('MLFLOW_ERROR', message);
  }
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
      try {
        const body = JSON.parse(text) as { error_code?: string; message?: string };
        errorCode = body.error_code ?? errorCode;
        message = body.message ?? message;
      } catch {
        // not JSON (a proxy's error page): keep the text
      }
      throw new MlflowApiError(response.status, errorCode, `MLflow ${method} ${endpoint} failed (${response.status} ${errorCode}): ${message}`);
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

  async getVersion(name: string, version: string): Promise<ModelVersion | null> {
    return orNull((await this.maybe(() => this.call<{ model_version: ModelVersion }>('GET', 'model-versions/get', { name, version })))?.model_version);
  }

  async getVersionByAlias(name: string, alias: string): Promise<ModelVersion | null> {
    return orNull(
      (await this.maybe(() => this.call<{ model_version: ModelVersion }>('GET', 'registered-models/get-model-version-by-alias', { name, alias })))?.model_version,
    );
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

  /** Treat "does not exist" as absence; every other failure propagates. */
  private async maybe<T>(call: () => Promise<T>): Promise<T | null> {
    try {
      return await call();
    } catch (error) {
      if (error instanceof MlflowApiError && (error.status === 404 || error.errorCode === 'RESOURCE_DOES_NOT_EXIST')) return null;
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
