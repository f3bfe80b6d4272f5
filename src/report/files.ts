/**
 * A report folder appears whole or not at all: its files are written into a hidden temp folder
 * beside it, which is then renamed. Readers listing the reports folder skip names starting with ".".
 */

import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** Writes `files` (name → content) to `<reportsDir>/<id>/`; returns that folder. */
export function writeReportDir(reportsDir: string, id: string, files: Readonly<Record<string, string>>): string {
  const target = path.join(reportsDir, id);
  if (existsSync(target)) throw new Error(`${target}: a report with this id exists already`);
  mkdirSync(reportsDir, { recursive: true });
  const temp = path.join(reportsDir, `.${id}.${process.pid}.tmp`);
  mkdirSync(temp);
  try {
    for (const [name, content] of Object.entries(files)) writeFileSync(path.join(temp, name), content);
    renameSync(temp, target);
  } catch (error) {
    rmSync(temp, { recursive: true, force: true });
    throw error;
  }
  return target;
}
