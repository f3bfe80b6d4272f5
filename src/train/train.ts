/**
 * `driftgate train`: check the data, make sure MLflow answers, run python/train.py (PyCaret, logging
 * straight to MLflow), then move an alias. Any failure leaves prod and staging exactly as they were.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Config } from '../config/index.js';
import { ChildProcessError, DriftgateError } from '../errors.js';
import { runChild } from '../process/run.js';
import { PROJECT_ROOT } from '../project.js';
import { ENVIRONMENTS, ensurePythonEnv } from '../python/bootstrap.js';
import { readPins } from '../python/pins.js';
import { assignNewVersion, connectRegistry, TRAINING_TAGS, VERSION_TAGS, versionTag, type MlflowClient, type ModelVersion } from '../registry/index.js';
import { checkTrainingData } from './training-data.js';

export type Trigger = 'drift' | 'performance' | 'manual' | 'schedule';

export interface TrainOptions {
  trigger: Trigger;
  /** Airflow's run id: a retry with the same id reuses the version instead of training again. */
  orchestratorRunId?: string;
  /** A drift report folder to attach to the run. */
  driftReportDir?: string;
  log: (line: string) => void;
  signal?: AbortSignal;
}

export interface TrainResult {
  run_id: string;
  model_name: string;
  version: string;
  best_model: string;
  metrics: { cv: Record<string, number>; holdout: Record<string, number> };
  alias: string | null;
  gate: string;
  reused: boolean;
  timings?: Record<string, number>;
}

// The packages a logged model needs to load: the pinned versions of the training environment.
const MODEL_REQUIREMENTS = ['pycaret', 'scikit-learn', 'pandas', 'numpy', 'scipy', 'cloudpickle', 'mlflow'];

function modelRequirements(): string[] {
  const pins = readPins(ENVIRONMENTS.train.requirements);
  return MODEL_REQUIREMENTS.map((name) => (pins.has(name) ? `${name}==${pins.get(name)}` : name));
}

async function findRetriedVersion(client: MlflowClient, config: Config, runId: string): Promise<ModelVersion | null> {
  const versions = await client.searchVersions(config.mlflow.model_name).catch(() => []);
  return versions.find((v) => versionTag(v, VERSION_TAGS.orchestratorRunId) === runId) ?? null;
}

async function resultOfVersion(client: MlflowClient, config: Config, version: ModelVersion, log: (line: string) => void): Promise<TrainResult> {
  const run = version.run_id ? await client.getRun(version.run_id) : null;
  const metrics = { cv: {} as Record<string, number>, holdout: {} as Record<string, number> };
  for (const { key, value } of run?.data.metrics ?? []) {
    if (key.startsWith('cv_')) metrics.cv[key.slice(3)] = value;
    if (key.startsWith('holdout_')) metrics.holdout[key.slice(8)] = value;
  }
  const gate = versionTag(version, VERSION_TAGS.gate) ?? 'passed';
  const alias = await assignNewVersion(client, config, version.version, gate);
  log(`[train] version ${version.version} was already registered for this orchestrator run; not training again`);
  return {
    run_id: version.run_id ?? '',
    model_name: config.mlflow.model_name,
    version: version.version,
    best_model: versionTag(version, VERSION_TAGS.bestModel) ?? '',
    metrics,
    alias,
    gate,
    reused: true,
  };
}

export async function train(config: Config, options: TrainOptions): Promise<TrainResult> {
  const { log } = options;
  const client = await connectRegistry(config);
  const sources = await checkTrainingData(config, log);

  if (options.orchestratorRunId) {
    const existing = await findRetriedVersion(client, config, options.orchestratorRunId);
    if (existing) return resultOfVersion(client, config, existing, log);
  }

  const { python } = await ensurePythonEnv(ENVIRONMENTS.train, { log });
  const work = mkdtempSync(path.join(os.tmpdir(), 'driftgate-train-'));
  const specFile = path.join(work, 'spec.json');
  writeFileSync(
    specFile,
    JSON.stringify({
      tracking_uri: config.mlflow.tracking_uri,
      experiment: config.mlflow.experiment,
      model_name: config.mlflow.model_name,
      dataset_name: config.dataset.name,
      data: sources.map(({ path: p, role }) => ({ path: p, role })),
      target: config.dataset.target,
      features: config.dataset.features,
      train_size: config.training.train_size,
      folds: config.training.folds,
      session_id: config.training.session_id,
      sort: config.training.sort,
      include: config.training.include,
      exclude: config.training.exclude,
      min_holdout_accuracy: config.training.min_holdout_accuracy,
      trigger: options.trigger,
      orchestrator_run_id: options.orchestratorRunId ?? null,
      drift_report_dir: options.driftReportDir ?? null,
      drift_report_id: options.driftReportDir ? path.basename(options.driftReportDir) : null,
      pip_requirements: modelRequirements(),
      tags: TRAINING_TAGS,
    }),
  );
  let runId: string | null = null;
  let stdout: string;
  try {
    ({ stdout } = await runChild(python, [path.join(PROJECT_ROOT, 'python', 'train.py'), specFile], {
      label: 'python/train.py',
      timeoutMs: config.training.timeout_s * 1000,
      killAfterMs: 10_000,
      signal: options.signal,
      env: { MLFLOW_TRACKING_URI: config.mlflow.tracking_uri, PYTHONUNBUFFERED: '1' },
      inherit: ['python', 'mlflow'],
      onStderrLine: (line) => {
        const marker = /^DRIFTGATE_RUN_ID=(\w+)$/.exec(line);
        if (marker) runId = marker[1]!;
        else log(line);
      },
    }));
  } catch (error) {
    if (runId) await markFailed(client, runId, log);
    if (error instanceof ChildProcessError) {
      throw new DriftgateError('CHILD_FAILED', `training failed: ${error.message}\nNo alias was moved.`, { cause: error });
    }
    throw error;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  const lastLine = stdout.trimEnd().split('\n').at(-1) ?? '';
  let parsed: Omit<TrainResult, 'alias' | 'reused'>;
  try {
    parsed = JSON.parse(lastLine) as Omit<TrainResult, 'alias' | 'reused'>;
  } catch (error) {
    throw new DriftgateError('CHILD_FAILED', `python/train.py printed no JSON result (last stdout line: ${JSON.stringify(lastLine.slice(0, 200))}); no alias was moved`, { cause: error });
  }
  const alias = await assignNewVersion(client, config, parsed.version, parsed.gate);
  if (alias === null) log(`[train] version ${parsed.version} failed the quality gate (holdout accuracy ${parsed.metrics.holdout.Accuracy} < ${config.training.min_holdout_accuracy}); it is tagged rejected and gets no alias`);
  else log(`[train] ${config.mlflow.model_name} version ${parsed.version} is now '${alias}'`);
  return { ...parsed, alias, reused: false };
}

/** The child died before it could end its run: mark it FAILED so MLflow tells the truth. */
async function markFailed(client: MlflowClient, runId: string, log: (line: string) => void): Promise<void> {
  try {
    const run = await client.getRun(runId);
    if (run?.info.status === 'RUNNING' || run?.info.status === 'SCHEDULED') {
      await client.updateRun(runId, 'FAILED');
      log(`[train] marked MLflow run ${runId} FAILED`);
    }
  } catch (error) {
    log(`[train] could not mark MLflow run ${runId} FAILED: ${(error as Error).message}`);
  }
}
