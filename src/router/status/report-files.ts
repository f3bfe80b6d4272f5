/**
 * The report folders the router shows and serves read-only: `<reports_dir>/<id>/report.{json,html}`.
 * Only an id of the report-id pattern names a folder (no `..`, no slash, however encoded), and only a
 * real folder holding a regular file counts: a symlink at either step is not followed, so nothing
 * outside the reports folder is ever read. Hidden temp folders (a report being written) never match.
 */
import { constants } from 'node:fs';
import { lstat, open, readdir } from 'node:fs/promises';
import path from 'node:path';
import { isReportId } from '../../report/index.js';

export const REPORT_FILES = ['report.html', 'report.json'] as const;
export type ReportFile = (typeof REPORT_FILES)[number];

export function isReportFile(name: string): name is ReportFile {
  return (REPORT_FILES as readonly string[]).includes(name);
}

/** The newest report id in the folder (ids sort by time), or null when there is none (or no folder). */
export async function newestReportId(reportsDir: string): Promise<string | null> {
  let names: string[];
  try {
    names = (await readdir(reportsDir, { withFileTypes: true }))
      .filter((entry) => entry.isDirectory() && isReportId(entry.name))
      .map((entry) => entry.name);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  return names.sort().at(-1) ?? null;
}

/**
 * The file's bytes, or null when there is no such report file: a bad id or name, a missing folder or
 * file, or a symlink where the folder or the file should be.
 */
export async function readReportFile(reportsDir: string, id: string, file: string): Promise<Buffer | null> {
  if (!isReportId(id) || !isReportFile(file)) return null;
  const folder = path.join(reportsDir, id);
  try {
    if (!(await lstat(folder)).isDirectory()) return null;
    // O_NOFOLLOW: a symlink in the file's place fails to open (ELOOP) rather than being read through.
    const handle = await open(path.join(folder, file), constants.O_RDONLY | constants.O_NOFOLLOW);
    try {
      if (!(await handle.stat()).isFile()) return null;
      return await handle.readFile();
    } finally {
      await handle.close();
    }
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ELOOP' || code === 'ENOTDIR' || code === 'EISDIR') return null;
    throw error;
  }
}
