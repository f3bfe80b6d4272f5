/**
 * Confidence-based performance estimation (CBPE, as NannyML does it) for accuracy: how often a model is
 * right, estimated from its probabilities alone while labels are missing. Learned once on held-out rows
 * with labels: the isotonic fit of "this prediction was right" on the probability of the predicted class
 * (stats/isotonic.ts). On new rows the estimate is the mean calibrated probability, and its standard
 * error that of a sum of independent Bernoulli trials with those probabilities. It holds while the
 * relation between inputs and labels stays as it was (covariate shift); it cannot see concept drift.
 */

import { InputError } from '../errors.js';
import { fitIsotonic, predictIsotonic, type IsotonicFit } from './isotonic.js';

export interface CalibrationRow {
  /** The probability of the class the model predicted. */
  confidence: number;
  correct: boolean;
}

export interface Calibration {
  fit: IsotonicFit;
  rows: number;
  /** Accuracy on the rows it was learned from. */
  accuracy: number;
}

export interface AccuracyEstimate {
  n: number;
  estimate: number;
  standardError: number;
}

export function learnCalibration(rows: readonly CalibrationRow[]): Calibration {
  if (rows.length === 0) throw new InputError('calibration: expected held-out rows with labels, got none');
  const fit = fitIsotonic(
    rows.map((r) => r.confidence),
    rows.map((r) => (r.correct ? 1 : 0)),
  );
  return { fit, rows: rows.length, accuracy: rows.filter((r) => r.correct).length / rows.length };
}

/** The expected accuracy of predictions made with these confidences; NaN estimate for none. */
export function estimateAccuracy(calibration: Calibration, confidences: readonly number[]): AccuracyEstimate {
  const n = confidences.length;
  if (n === 0) return { n, estimate: Number.NaN, standardError: Number.NaN };
  let sum = 0;
  let variance = 0;
  for (const confidence of confidences) {
    const p = predictIsotonic(calibration.fit, confidence);
    sum += p;
    variance += p * (1 - p);
  }
  return { n, estimate: sum / n, standardError: Math.sqrt(variance) / n };
}
