/** The exact pins of a requirements file: `name==version` lines, each maybe followed by ` \` and its `--hash` lines. */
import { readFileSync } from 'node:fs';

/** Lower-cased package name → pinned version. */
export function readPins(file: string): Map<string, string> {
  const pins = new Map<string, string>();
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const match = /^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s\\;#]+)/.exec(line);
    if (match) pins.set(match[1]!.toLowerCase(), match[2]!);
  }
  return pins;
}
