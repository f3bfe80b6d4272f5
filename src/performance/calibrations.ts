/**
 * Each model version's calibration for CBPE: the held-out predictions its training run logged
 * (python/train.py, `calibration/holdout.json`), learned into an isotonic fit. A version without the
 * artifact (trained before it existed, or registered by hand) has none, and its rows are counted but
 * not estimated; a file that is not the format is an error naming the version and the file.
 */

import { DriftgateError } from '../errors.js';
import type { MlflowClient } from '../registry/client.js';
import { learnCalibration, type Calibration } from '../stats/cbpe.js';

export const CALIBRATION_ARTIFACT = 'calibration/holdout.json';
const FORMAT = 'driftgate.calibration/1';

interface CalibrationFile {
  format: string;
  classes: string[];
  rows: { label: string; prediction: string; probabilities: number[] }[];
}

function parseCalibration(text: string, where: string): Calibration {
  let file: CalibrationFile;
  try {
    file = JSON.parse(text) as CalibrationFile;
  } catch {
    throw new DriftgateError('MLFLOW_ERROR', `${where}: expected JSON, got ${JSON.stringify(text.slice(0, 40))}`);
  }
  if (file?.format !== FORMAT || !Array.isArray(file.classes) || !Array.isArray(file.rows)) throw new DriftgateError('MLFLOW_ERROR', `${where}: expected a ${FORMAT} file with classes and rows`);
  const rows = file.rows.map((row, i) => {
    const at = file.classes.indexOf(row?.prediction);
    const confidence = Array.isArray(row?.probabilities) ? row.probabilities[at] : undefined;
    if (at === -1 || typeof confidence !== 'number' || !(confidence >= 0 && confidence <= 1)) {
      throw new DriftgateError('MLFLOW_ERROR', `${where}: row ${i + 1}: expected a prediction among the classes and its probability in [0, 1]`);
    }
    return { confidence, correct: row.label === row.prediction };
  });
  return learnCalibration(rows);
}

/** The calibration of every version in `versions` (null where its run logged none). */
export async function loadCalibrations(client: MlflowClient, modelName: string, versions: Iterable<string>): Promise<Map<string, Calibration | null>> {
  const out = new Map<string, Calibration | null>();
  for (const version of versions) {
    const registered = await client.getVersion(modelName, version);
    const run = registered?.run_id ? await client.getRun(registered.run_id) : null;
    const text = run ? await client.downloadArtifact(run, CALIBRATION_ARTIFACT) : null;
    out.set(version, text === null ? null : parseCalibration(text, `${modelName} version ${version}: ${CALIBRATION_ARTIFACT}`));
  }
  return out;
}
