/**
 * A drift input named by a path or a glob (several router replicas each write their own log, e.g.
 * `logs/predictions-*.csv`): the files it stands for, read together.
 */

import { stat } from 'node:fs/promises';
import path from 'node:path';
import { InputError } from '../errors.js';
import { expandsAsGlob, globFiles, isGlob } from '../fs-glob.js';

export { isGlob } from '../fs-glob.js';

export interface InputFiles {
  /** What the user or the config wrote, resolved against the working directory. */
  pattern: string;
  /** The matching files, sorted. */
  files: string[];
}

/** The files of a path or glob; a missing file or a glob without matches is an InputError. */
export async function resolveInput(pattern: string, cwd = process.cwd()): Promise<InputFiles> {
  const absolute = path.resolve(cwd, pattern);
  if (!(await expandsAsGlob(absolute))) {
    let info;
    try {
      info = await stat(absolute);
    } catch (error) {
      throw new InputError(`${absolute}: file not found`, { code: 'INPUT_NOT_FOUND', cause: error });
    }
    if (info.isDirectory()) throw new InputError(`${absolute}: expected a CSV file, got a directory`);
    return { pattern: absolute, files: [absolute] };
  }
  const files = await globFiles(absolute);
  if (files.length === 0) throw new InputError(`${absolute}: no files match`, { code: 'INPUT_NOT_FOUND' });
  return { pattern: absolute, files };
}

/** The input as messages name it: the file, or the glob and how many files it matched. */
export function describeInput(input: InputFiles): string {
  if (input.files.length === 1 && (input.files[0] === input.pattern || !isGlob(input.pattern))) return input.files[0]!;
  return `${input.pattern} (${input.files.length} file${input.files.length === 1 ? '' : 's'})`;
}
