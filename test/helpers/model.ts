/**
 * Real MLflow models for router tests and the router benchmark: small scikit-learn pipelines
 * (python/tools/register_test_model.py) logged with mlflow.sklearn and registered under a name.
 * They stand in for the PyCaret pipeline only to keep the tests fast; the PyCaret path is covered
 * by the training tests.
 */
import path from 'node:path';
import { runChild } from '../../src/process/run.js';
import { ENVIRONMENTS, venvPython } from '../../src/python/bootstrap.js';
import { PROJECT_ROOT } from '../../src/project.js';

export const IRIS_FEATURES = ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'];

export interface TestModel {
  kind: 'lr' | 'lr-strong' | 'tree' | 'log' | 'log-check' | 'slow';
  version: string;
  alias: string | null;
  run_id: string;
  classes: string[];
}

/**
 * Register one version per spec, in order; a spec is KIND[:ALIAS] with KIND lr (scaler + logistic
 * regression), lr-strong (the same, C=100), tree (a depth-2 decision tree, visibly different), or the
 * poisonable log (NaN probabilities for a feature <= 0) and log-check (raises for one), or slow (lr
 * whose every predict call, one per batch, sleeps 2 s first: a slow shadow).
 */
export async function registerTestModels(
  trackingUri: string,
  name: string,
  specs: string[],
  options: { data?: string; features?: string[]; target?: string } = {},
): Promise<TestModel[]> {
  const args = [
    path.join(PROJECT_ROOT, 'python', 'tools', 'register_test_model.py'),
    '--tracking-uri', trackingUri,
    '--name', name,
    '--data', options.data ?? path.join(PROJECT_ROOT, 'data', 'iris.csv'),
    '--features', (options.features ?? IRIS_FEATURES).join(','),
    '--target', options.target ?? 'species',
    ...specs.flatMap((spec) => ['--model', spec]),
  ];
  const { stdout } = await runChild(venvPython(ENVIRONMENTS.train.venvDir), args, {
    label: 'register_test_model.py',
    timeoutMs: 300_000,
    env: { MLFLOW_DISABLE_TELEMETRY: 'true', MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR: 'false' },
  });
  const lines = stdout.trimEnd().split('\n');
  return JSON.parse(lines[lines.length - 1] ?? '[]') as TestModel[];
}
