/** Where an evaluation's report lives, and its machine-readable half: reports/ab/<id>/report.json. */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../fs-atomic.js';
import type { AbEvaluation } from './evaluate.js';

/** A sortable, filesystem-safe id from the evaluation time: 20250917T130501123Z. */
export function reportId(now: Date): string {
  return now.toISOString().replace(/[-:]/g, '').replace('.', '');
}

/** reports_dir/<id>, with -2, -3, … when two evaluations land in the same millisecond. */
export function reportDirFor(reportsDir: string, id: string): { id: string; dir: string } {
  let candidate = id;
  for (let n = 2; existsSync(path.join(reportsDir, candidate)); n++) candidate = `${id}-${n}`;
  return { id: candidate, dir: path.join(reportsDir, candidate) };
}

export function reportJson(evaluation: AbEvaluation): string {
  // JSON has no NaN or Infinity; JSON.stringify would write null silently, so do it on purpose.
  return `${JSON.stringify(evaluation, (_key, value: unknown) => (typeof value === 'number' && !Number.isFinite(value) ? null : value), 2)}\n`;
}

export function writeReportJson(evaluation: AbEvaluation): string {
  const file = path.join(evaluation.report_dir, 'report.json');
  writeFileAtomic(file, reportJson(evaluation));
  return file;
}
