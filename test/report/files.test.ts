import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { reportId } from '../../src/report/id.js';
import { writeReportDir } from '../../src/report/files.js';
import { tempDir } from '../helpers/config.js';

describe('reportId', () => {
  it('is the UTC second then six hex digits, so ids sort by time', () => {
    expect(reportId(new Date('2026-11-28T04:35:12.999Z'), () => '0a1b2c')).toBe('20261128T043512Z-0a1b2c');
    expect(reportId(new Date('2026-11-28T04:35:12Z'))).toMatch(/^20261128T043512Z-[0-9a-f]{6}$/);
    const ids = ['2026-01-02T00:00:00Z', '2025-12-31T23:59:59Z', '2026-01-01T12:00:00Z'].map((t) => reportId(new Date(t), () => '000000'));
    expect([...ids].sort()).toEqual([ids[1], ids[2], ids[0]]);
  });
});

describe('writeReportDir', () => {
  it('writes the files into <dir>/<id> through a hidden temp folder, leaving nothing else behind', () => {
    const dir = path.join(tempDir('driftgate-report-'), 'reports', 'drift');
    const target = writeReportDir(dir, 'abc', { 'report.json': '{}\n', 'report.html': '<!doctype html>' });
    expect(target).toBe(path.join(dir, 'abc'));
    expect(readFileSync(path.join(target, 'report.json'), 'utf8')).toBe('{}\n');
    expect(readdirSync(dir)).toEqual(['abc']);
  });

  it('refuses to overwrite a report', () => {
    const dir = tempDir('driftgate-report-');
    writeReportDir(dir, 'same', { 'a.txt': '1' });
    expect(() => writeReportDir(dir, 'same', { 'a.txt': '2' })).toThrow(`${path.join(dir, 'same')}: a report with this id exists already`);
    expect(readFileSync(path.join(dir, 'same', 'a.txt'), 'utf8')).toBe('1');
    expect(existsSync(path.join(dir, `.same.${process.pid}.tmp`))).toBe(false);
  });
});
