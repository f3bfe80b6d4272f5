import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeInput, isGlob, resolveInput } from '../../src/drift/input-files.js';
import { tempDir } from '../helpers/config.js';

const dir = tempDir('driftgate-inputs-');
mkdirSync(path.join(dir, 'logs'));
for (const name of ['predictions-b.csv', 'predictions-a.csv', 'other.csv']) writeFileSync(path.join(dir, 'logs', name), 'x\n');
mkdirSync(path.join(dir, 'logs', 'predictions-dir.csv'));
symlinkSync(path.join(dir, 'logs', 'other.csv'), path.join(dir, 'logs', 'predictions-link.csv'));

describe('resolveInput', () => {
  it('a plain path is itself', async () => {
    const file = path.join(dir, 'logs', 'other.csv');
    expect(await resolveInput(file)).toEqual({ pattern: file, files: [file] });
  });

  it('a relative path resolves against the working directory', async () => {
    expect((await resolveInput('logs/other.csv', dir)).files).toEqual([path.join(dir, 'logs', 'other.csv')]);
  });

  it('a glob is every matching file (symlinks to files too), sorted; directories are left out', async () => {
    const input = await resolveInput(path.join(dir, 'logs', 'predictions-*.csv'));
    expect(input.files).toEqual(['predictions-a.csv', 'predictions-b.csv', 'predictions-link.csv'].map((n) => path.join(dir, 'logs', n)));
    expect(describeInput(input)).toBe(`${path.join(dir, 'logs', 'predictions-*.csv')} (3 files)`);
  });

  it('a missing file, a directory and a glob without matches are input errors', async () => {
    const missing = path.join(dir, 'missing.csv');
    await expect(resolveInput(missing)).rejects.toThrow(`${missing}: file not found`);
    await expect(resolveInput(dir)).rejects.toThrow(`${dir}: expected a CSV file, got a directory`);
    const none = path.join(dir, 'logs', 'nothing-*.csv');
    await expect(resolveInput(none)).rejects.toThrow(`${none}: no files match`);
  });

  it('an existing file whose name has glob characters is taken literally', async () => {
    const odd = path.join(dir, 'logs', 'run[1]{a}.csv');
    writeFileSync(odd, 'x\n1\n');
    const input = await resolveInput(odd);
    expect(input.files).toEqual([odd]);
    expect(describeInput(input)).toBe(odd);
  });

  it('knows a glob when it sees one', () => {
    expect(['a/*.csv', 'a/b?.csv', 'a/[ab].csv', 'a/{x,y}.csv'].map(isGlob)).toEqual([true, true, true, true]);
    expect(isGlob('/plain/path.csv')).toBe(false);
  });
});
