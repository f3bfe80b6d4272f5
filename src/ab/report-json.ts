/** An evaluation's report: report.json (the whole evaluation) and report.html, rendered once for the disk and MLflow. */
import { reportJsonText } from '../report/json.js';
import type { AbEvaluation } from './evaluation.js';
import { renderReportHtml } from './report-html.js';

export type ReportFiles = Readonly<Record<'report.json' | 'report.html', string>>;

export function reportFiles(evaluation: AbEvaluation): ReportFiles {
  return { 'report.json': reportJsonText(evaluation), 'report.html': renderReportHtml(evaluation) };
}
