import { chmodSync, chownSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveWriteTarget, writeFileAtomic } from '../src/fs-atomic.js';
import { tempDir } from './helpers/config.js';

const dir = tempDir('driftgate-atomic-');
const umasked = 0o666 & ~process.umask();

describe('writeFileAtomic (src/fs-atomic.ts)', () => {
  it('without options: the content lands, nothing is left beside it, a link is replaced by a regular file (the callers that want that)', () => {
    const folder = path.join(dir, 'plain');
    const file = path.join(folder, 'deep', 'out.csv');
    expect(writeFileAtomic(file, 'a,b\n')).toBe(file);
    expect(readFileSync(file, 'utf8')).toBe('a,b\n');
    expect(readdirSync(path.dirname(file))).toEqual(['out.csv']);
    const target = path.join(folder, 'target.txt');
    writeFileSync(target, 'old');
    const link = path.join(folder, 'link.txt');
    symlinkSync(target, link);
    writeFileAtomic(link, 'new');
    expect(lstatSync(link).isSymbolicLink()).toBe(false);
    expect(readFileSync(target, 'utf8')).toBe('old');
  });

  it('followSymlinks: writes the final target of a chain, and creates the target of a dangling link', () => {
    const folder = path.join(dir, 'links');
    mkdirSync(folder);
    const target = path.join(folder, 'real.yaml');
    writeFileSync(target, 'old');
    symlinkSync('real.yaml', path.join(folder, 'one.yaml'));
    symlinkSync('one.yaml', path.join(folder, 'two.yaml'));
    expect(writeFileAtomic(path.join(folder, 'two.yaml'), 'new', { followSymlinks: true })).toBe(target);
    expect(readFileSync(target, 'utf8')).toBe('new');
    expect([readlinkSync(path.join(folder, 'two.yaml')), readlinkSync(path.join(folder, 'one.yaml'))]).toEqual(['one.yaml', 'real.yaml']);
    symlinkSync('later.yaml', path.join(folder, 'dangling.yaml'));
    expect(resolveWriteTarget(path.join(folder, 'dangling.yaml'))).toBe(path.join(folder, 'later.yaml'));
    writeFileAtomic(path.join(folder, 'dangling.yaml'), 'made', { followSymlinks: true, durable: true });
    expect(readFileSync(path.join(folder, 'later.yaml'), 'utf8')).toBe('made');
    expect(lstatSync(path.join(folder, 'dangling.yaml')).isSymbolicLink()).toBe(true);
    expect(readdirSync(folder).sort()).toEqual(['dangling.yaml', 'later.yaml', 'one.yaml', 'real.yaml', 'two.yaml']);
  });

  it('keepOwnership: the mode (set-gid included) and the owner of the replaced file stay; a new file gets the umask default', () => {
    const folder = path.join(dir, 'owner');
    mkdirSync(folder);
    const file = path.join(folder, 'driftgate.yaml');
    writeFileSync(file, 'old');
    chownSync(file, 1234, 5678);
    chmodSync(file, 0o2640);
    writeFileAtomic(file, 'new', { keepOwnership: true, durable: true });
    const info = statSync(file);
    expect({ text: readFileSync(file, 'utf8'), mode: info.mode & 0o7777, uid: info.uid, gid: info.gid }).toEqual({ text: 'new', mode: 0o2640, uid: 1234, gid: 5678 });
    const fresh = path.join(folder, 'fresh.yaml');
    writeFileAtomic(fresh, 'x', { keepOwnership: true });
    expect(statSync(fresh).mode & 0o7777).toBe(umasked);
  });

  it('a failed rename (a folder in the way) removes the temp file and names where it failed', () => {
    const folder = path.join(dir, 'blocked');
    const file = path.join(folder, 'taken');
    mkdirSync(file, { recursive: true });
    writeFileSync(path.join(file, 'inside'), '');
    expect(() => writeFileAtomic(file, 'x')).toThrow(/^EISDIR: illegal operation on a directory, rename '.*\/\.taken\.\d+-\d+\.driftgate-tmp' -> '.*\/taken'$/);
    expect(readdirSync(folder)).toEqual(['taken']);
  });

  it('a temp file a dead process with a reused pid left under the same name is replaced, not an error', () => {
    const folder = path.join(dir, 'reused');
    mkdirSync(folder);
    const file = path.join(folder, 'out.txt');
    // This process's next temp names: whichever the counter is at, one of them is taken.
    for (let k = 1; k <= 100; k++) writeFileSync(path.join(folder, `.out.txt.${process.pid}-${k}.driftgate-tmp`), 'leftover');
    writeFileAtomic(file, 'fresh');
    expect(readFileSync(file, 'utf8')).toBe('fresh');
    expect(readdirSync(folder)).toHaveLength(100);
  });
});
