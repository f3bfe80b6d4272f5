/** Report ids, drift's and A/B's: `20261128T043512Z-1a2b3c`, UTC seconds then 6 random hex digits; they sort by time. */

import { randomBytes } from 'node:crypto';

export function reportId(now: Date, randomHex: () => string = () => randomBytes(3).toString('hex')): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return `${stamp}-${randomHex()}`;
}
