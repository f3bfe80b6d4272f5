/**
 * A real DAG run through the scheduler (`driftgate airflow trigger`): Airflow 3's public REST API on
 * the profile's API server, with a JWT from the simple auth manager's login. Unpauses the DAG, creates
 * a run, waits for it to end, and reads back the task states and return values as `dags-test` does.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { DriftgateError } from '../errors.js';
import type { DagRunReport, TaskState } from './run-airflow.js';

export interface TriggeredRun extends Omit<DagRunReport, 'log_file' | 'tasks'> {
  tasks: (TaskState & { hostname: string | null })[];
  /** When the run was created and when it ended (ISO), as Airflow recorded them. */
  start_date: string | null;
  end_date: string | null;
}

export interface TriggerOptions {
  url: string;
  user: string;
  password: string | null;
  /** How long to wait for the DAG to be parsed and for the run to end. */
  timeoutMs: number;
  log: (line: string) => void;
  signal?: AbortSignal;
}

const FINISHED = new Set(['success', 'failed']);

class AirflowApi {
  private token: string | null = null;

  constructor(private readonly options: TriggerOptions) {}

  private async login(): Promise<string> {
    const { url, user, password } = this.options;
    if (password === null) throw new DriftgateError('UNAVAILABLE', `no password for Airflow's user ${user}: the API server at ${url} writes it when it first starts (simple auth manager); is the profile up (driftgate airflow status --profile celery)?`);
    const response = await this.send('POST', '/auth/token', {}, { username: user, password });
    if (!response.ok) throw new DriftgateError('UNAVAILABLE', `Airflow at ${url} refused the login of ${user}: HTTP ${response.status} ${(await response.text()).slice(0, 200)}`);
    return ((await response.json()) as { access_token: string }).access_token;
  }

  /** A connection error or a timeout is an UNAVAILABLE error naming the URL. */
  private async send(method: string, endpoint: string, headers: Record<string, string>, body: unknown): Promise<Response> {
    const url = new URL(endpoint, this.options.url);
    try {
      return await fetch(url, {
        method,
        headers: { ...headers, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(30_000),
      });
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause?.code;
      throw new DriftgateError('UNAVAILABLE', `Airflow's API at ${this.options.url} did not answer ${method} ${url.pathname}: ${cause ?? (error as Error).message}; is the profile up (driftgate airflow status --profile celery)?`, { cause: error });
    }
  }

  /** One API call; answers the status and the parsed body. */
  async call<T>(method: string, endpoint: string, body?: unknown): Promise<{ status: number; body: T }> {
    this.token ??= await this.login();
    const response = await this.send(method, endpoint, { authorization: `Bearer ${this.token}` }, body);
    const text = await response.text();
    let parsed: unknown = null;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      parsed = text;
    }
    return { status: response.status, body: parsed as T };
  }

  async expect<T>(method: string, endpoint: string, body?: unknown): Promise<T> {
    const answer = await this.call<T>(method, endpoint, body);
    if (answer.status < 200 || answer.status > 299) throw new DriftgateError('CHILD_FAILED', `Airflow answered ${method} ${endpoint} with HTTP ${answer.status}: ${JSON.stringify(answer.body).slice(0, 300)}`);
    return answer.body;
  }
}

/** A bash task's return value is its JSON line as a string: parse it when it is JSON, else keep the text. */
function xcomValue(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value) as unknown;
  } catch {
    return value;
  }
}

export async function triggerDag(dagId: string, options: TriggerOptions): Promise<TriggeredRun> {
  const api = new AirflowApi(options);
  const dag = `/api/v2/dags/${encodeURIComponent(dagId)}`;
  const deadline = Date.now() + options.timeoutMs;
  const waitOut = (what: string): void => {
    if (options.signal?.aborted) throw new DriftgateError('CHILD_FAILED', `stopped while waiting for ${what}`);
    if (Date.now() > deadline) throw new DriftgateError('UNAVAILABLE', `gave up after ${Math.round(options.timeoutMs / 1000)} s waiting for ${what}`);
  };
  // A new or regenerated file is in the API once the dag-processor has parsed it.
  while ((await api.call('GET', dag)).status === 404) {
    waitOut(`the dag-processor to parse DAG ${dagId}`);
    await sleep(2000);
  }
  await api.expect('PATCH', dag, { is_paused: false });
  const created = await api.expect<{ dag_run_id: string }>('POST', `${dag}/dagRuns`, { logical_date: null });
  const run = `${dag}/dagRuns/${encodeURIComponent(created.dag_run_id)}`;
  options.log(`[airflow] triggered ${dagId} run ${created.dag_run_id}`);
  let state = '';
  let info: { state: string; start_date: string | null; end_date: string | null } = { state: '', start_date: null, end_date: null };
  for (;;) {
    info = await api.expect<typeof info>('GET', run);
    if (info.state !== state) options.log(`[airflow] ${dagId} run ${created.dag_run_id}: ${info.state}`);
    state = info.state;
    if (FINISHED.has(state)) break;
    waitOut(`DAG run ${created.dag_run_id} of ${dagId} to end (it is ${state})`);
    await sleep(1000);
  }
  const listed = await api.expect<{ task_instances: { task_id: string; state: string | null; try_number: number; hostname: string | null }[] }>('GET', `${run}/taskInstances`);
  const tasks = listed.task_instances.map((t) => ({ task_id: t.task_id, state: t.state, try_number: t.try_number, hostname: t.hostname || null })).sort((a, b) => a.task_id.localeCompare(b.task_id));
  const xcom: Record<string, unknown> = {};
  for (const task of tasks.filter((t) => t.state === 'success')) {
    const entry = await api.call<{ value: unknown }>('GET', `${run}/taskInstances/${encodeURIComponent(task.task_id)}/xcomEntries/return_value`);
    if (entry.status === 200) xcom[task.task_id] = xcomValue(entry.body.value);
  }
  return { dag_id: dagId, run_id: created.dag_run_id, state, tasks, xcom, start_date: info.start_date, end_date: info.end_date };
}
