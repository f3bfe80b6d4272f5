/**
 * Real predictions from registered model versions for A/B end-to-end tests: the drifted traffic a
 * router would have served, predicted by each version through mlflow.pyfunc, as the worker does.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { stringify } from 'csv-stringify/sync';
import type { Config } from '../../src/config/index.js';
import { IRIS_DRIFT, makeBatch } from '../../src/data/drifted.js';
import { readCsv } from '../../src/data/table.js';
import { runChild } from '../../src/process/run.js';
import { ENVIRONMENTS, venvPython } from '../../src/python/bootstrap.js';

const PREDICT = `
import json, sys
import mlflow, pandas as pd
uri, name, versions, data, features = sys.argv[1:6]
mlflow.set_tracking_uri(uri)
frame = pd.read_csv(data)[features.split(",")].astype(float)
out = {}
for version in versions.split(","):
    model = mlflow.pyfunc.load_model(f"models:/{name}/{version}")
    out[version] = [str(p) for p in model.predict(frame)]
print(json.dumps(out))
`;

export interface Traffic {
  file: string;
  rows: Record<string, string>[];
}

/** A seeded, labelled batch with the Iris drift applied, written as CSV (features and target). */
export async function driftedTraffic(config: Config, file: string, rows: number, seed: number): Promise<Traffic> {
  const reference = await readCsv(config.dataset.reference);
  const batch = makeBatch(config, reference, { rows, seed, shifts: IRIS_DRIFT, noise: 0.05 });
  const columns = [...config.dataset.features.map((f) => f.name), config.dataset.target];
  writeFileSync(file, stringify(batch, { header: true, columns }));
  return { file, rows: batch };
}

/** The reference data plus a drifted batch: what a retrained model learns from. */
export async function retrainingData(config: Config, dir: string, seed: number): Promise<string> {
  const reference = await readCsv(config.dataset.reference);
  const drifted = makeBatch(config, reference, { rows: 300, seed, shifts: IRIS_DRIFT, noise: 0.05 });
  const columns = [...config.dataset.features.map((f) => f.name), config.dataset.target];
  const file = path.join(dir, 'retraining.csv');
  writeFileSync(file, stringify([...reference.rows, ...drifted], { header: true, columns }));
  return file;
}

/** Predictions of each version for every row of `data`, keyed by version. */
export async function predictWithVersions(config: Config, versions: string[], data: string): Promise<Record<string, string[]>> {
  const features = config.dataset.features.map((f) => f.name).join(',');
  const { stdout } = await runChild(
    venvPython(ENVIRONMENTS.train.venvDir),
    ['-c', PREDICT, config.mlflow.tracking_uri, config.mlflow.model_name, versions.join(','), data, features],
    { label: 'predict (test helper)', timeoutMs: 300_000, env: { MLFLOW_DISABLE_TELEMETRY: 'true' } },
  );
  return JSON.parse(stdout.trimEnd().split('\n').at(-1) ?? '{}') as Record<string, string[]>;
}
