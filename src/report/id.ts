/** Report ids, drift's and A/B's: `20261128T043512Z-1a2b3c`, UTC seconds then 6 random hex digits; they sort by time. */

import { randomBytes } from 'node:crypto';

/** What reportId() makes, and all a reader may take for a report id (a folder name: no dots, no slashes). */
export const REPORT_ID_PATTERN = /^\d{8}T\d{6}Z-[0-9a-f]{6}$/;

export function reportId(now: Date, randomHex: () => string = () => randomBytes(3).toString('hex')): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return `${stamp}-${randomHex()}`;
}

export function isReportId(text: string): boolean {
  return REPORT_ID_PATTERN.test(text);
}
