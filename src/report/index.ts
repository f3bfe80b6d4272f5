export { writeReportDir } from './files.js';
export { escapeHtml, formatNumber, htmlPage, niceCeiling, svgChart } from './html.js';
export { isReportId, REPORT_ID_PATTERN, reportId } from './id.js';
export { jsonSafe, reportJsonText, toJsonText } from './json.js';
export { textTable } from './text-table.js';
