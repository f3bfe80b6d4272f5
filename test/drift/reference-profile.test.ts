import { copyFileSync, readFileSync, statSync, truncateSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { DriftgateError, UsageError } from '../../src/errors.js';
import { makeReferenceProfile, PROFILE_SUFFIX } from '../../src/drift/reference-profile.js';
import { runDrift, type DriftRunOptions } from '../../src/drift/run-drift.js';
import { PROJECT_ROOT } from '../../src/project.js';
import { tempDir, writeConfig } from '../helpers/config.js';
import { useTmpfs } from '../helpers/tmpfs.js';

const IRIS = path.join(PROJECT_ROOT, 'data', 'iris.csv');

/** A copy of Iris with a categorical column (the petal length rounded down, as text), and the petals stretched for the current set. */
function writeSets(dir: string): { reference: string; current: string } {
  const lines = readFileSync(IRIS, 'utf8').trim().split('\n');
  const withShade = (line: string, stretch: boolean): string => {
    const [a, b, c, d, s] = line.split(',');
    const petal = stretch ? Number(c) * 1.25 + 0.4 : Number(c);
    return [a, b, petal.toFixed(2), d, `s${Math.floor(petal)}`, s].join(',');
  };
  const header = 'sepal_length,sepal_width,petal_length,petal_width,shade,species';
  const reference = path.join(dir, 'reference.csv');
  const current = path.join(dir, 'current.csv');
  writeFileSync(reference, `${[header, ...lines.slice(1).map((l) => withShade(l, false))].join('\n')}\n`);
  writeFileSync(current, `${[header, ...lines.slice(1).map((l) => withShade(l, true))].join('\n')}\n`);
  return { reference, current };
}

const FEATURES = ['sepal_length', 'sepal_width', 'petal_length', 'petal_width', { name: 'shade', type: 'categorical' }];

function setup(patch: Record<string, unknown> = {}) {
  const dir = tempDir('driftgate-profile-');
  const sets = writeSets(dir);
  const config = loadConfig(writeConfig(dir, { dataset: { reference: sets.reference, features: FEATURES }, ...patch }));
  return { dir, config, ...sets };
}

let runs = 0;
/** A fixed time and a new report id per run. */
function pinned(dir: string): Pick<DriftRunOptions, 'now' | 'newId' | 'cwd'> {
  return { now: () => new Date('2026-12-02T10:00:00.000Z'), newId: () => `20261202T100000Z-${String(++runs).padStart(6, '0')}`, cwd: dir };
}

describe('driftgate drift profile', () => {
  it('writes the reference beside it, and drift then gives the same numbers from the profile as from the CSV', async () => {
    const { dir, config, reference, current } = setup();
    const fromCsv = await runDrift(config, { current, ...pinned(dir) });
    expect(fromCsv.reference.profile).toBeNull();

    const made = await makeReferenceProfile(config, { cwd: dir, now: new Date('2026-12-02T10:00:00.000Z') });
    const profile = `${reference}${PROFILE_SUFFIX}`;
    // 16-byte prefix, the header padded to 8 bytes, and 4 numeric columns × 150 float64 values.
    expect(made).toEqual({ profile, reference, files: [reference], rows: 150, features: 5, bytes: statSync(profile).size });
    expect((made.bytes - 16 - 4 * 150 * 8) % 8).toBe(0);

    const logged: string[] = [];
    const fromProfile = await runDrift(config, { current, ...pinned(dir), log: (l) => logged.push(l) });
    expect(fromProfile.reference.profile).toEqual({ path: profile, used: true, reason: null });
    expect(logged).toEqual([`[drift] reference read from its profile ${profile} (made 2026-12-02T10:00:00.000Z)`, `[drift] 2 of 5 features drifted; report ${fromProfile.report_dir}`]);
    const { timings_ms: _a, reference: _ra, id: _ia, report_dir: _da, ...csvRest } = fromCsv;
    const { timings_ms: _b, reference: _rb, id: _ib, report_dir: _db, ...profileRest } = fromProfile;
    expect(profileRest).toEqual(csvRest);
    expect(fromProfile.n_drifted).toBe(2);
    expect(fromProfile.target).toEqual(fromCsv.target);
  });

  it('a profile the reference file no longer matches is not used: drift reads the CSV and says why', async () => {
    const { dir, config, reference, current } = setup();
    await makeReferenceProfile(config, { cwd: dir });
    const before = statSync(reference);
    writeFileSync(reference, readFileSync(reference, 'utf8') + '5.0,3.4,1.5,0.2,s1,setosa\n');
    utimesSync(reference, new Date('2026-12-01T00:00:00Z'), new Date('2026-12-01T00:00:00Z'));
    const logged: string[] = [];
    const result = await runDrift(config, { current, ...pinned(dir), log: (l) => logged.push(l) });
    const reason = `${reference} changed since the profile was made (size ${before.size} → ${before.size + 26} bytes, modified ${new Date(before.mtimeMs).toISOString()} → 2026-12-01T00:00:00.000Z)`;
    expect(result.reference.profile).toEqual({ path: `${reference}.profile`, used: false, reason });
    expect(result.n_reference).toBe(151);
    expect(logged).toContain(`[drift] reference profile ${reference}.profile not used: ${reason}; reading ${reference} (run driftgate drift profile to refresh it)`);
  });

  it('a profile made for other features, a torn profile and a file that is not one are not used, each with its reason', async () => {
    const { dir, config, reference, current } = setup();
    await makeReferenceProfile(config, { cwd: dir });
    const profile = `${reference}.profile`;
    const good = readFileSync(profile);

    const fewer = loadConfig(writeConfig(dir, { dataset: { reference, features: ['sepal_length', 'petal_length'] } }, 'fewer.yaml'));
    const other = await runDrift(fewer, { current, ...pinned(dir) });
    expect(other.reference.profile?.reason).toBe(
      'it holds the features sepal_length:numeric, sepal_width:numeric, petal_length:numeric, petal_width:numeric, shade:categorical, the config asks for sepal_length:numeric, petal_length:numeric',
    );
    expect(other.n_drifted).toBe(1);

    truncateSync(profile, good.length - 8);
    const torn = await runDrift(config, { current, ...pinned(dir) });
    expect(torn.reference.profile).toEqual({ path: profile, used: false, reason: `it has ${good.length - 8} bytes, its header describes ${good.length}` });
    expect(torn.n_reference).toBe(150);

    writeFileSync(profile, 'sepal_length,sepal_width\n');
    const notOne = await runDrift(config, { current, ...pinned(dir) });
    expect(notOne.reference.profile?.reason).toBe('it is not a Driftgate reference profile');
  });

  it('a copied reference (another path) does not use the original one\'s profile; drift.reference_profile names where it lies', async () => {
    const { dir, config, reference, current } = setup({ drift: { reference_profile: 'profiles/iris.profile' } });
    const made = await makeReferenceProfile(config, { cwd: dir });
    expect(made.profile).toBe(path.join(dir, 'profiles', 'iris.profile'));
    const used = await runDrift(config, { current, ...pinned(dir) });
    expect(used.reference.profile).toEqual({ path: made.profile, used: true, reason: null });

    const copy = path.join(dir, 'copy.csv');
    copyFileSync(reference, copy);
    const result = await runDrift(config, { current, reference: copy, ...pinned(dir) });
    expect(result.reference.profile?.reason).toBe(`it was made from ${reference}, not ${copy}`);
  });

  it('a glob reference needs drift.reference_profile', async () => {
    const { dir, config } = setup({ dataset: { reference: 'ref-*.csv', features: FEATURES } });
    const made = makeReferenceProfile(config, { cwd: dir });
    await expect(made).rejects.toBeInstanceOf(UsageError);
    await expect(made).rejects.toThrow(
      `drift profile: the reference ${path.join(dir, 'ref-*.csv')} is a glob, so there is no file to put the profile beside; set drift.reference_profile in ${config.source.file}`,
    );
  });

  describe('on a full disk', () => {
    const disk = path.join(tempDir('driftgate-profile-disk-'), 'disk');
    useTmpfs(() => disk, '64k');

    it('a profile that does not fit fails with its path and keeps the one before, which drift then reports as stale', async () => {
      const { dir, config, reference, current } = setup({ drift: { reference_profile: path.join(disk, 'reference.profile') } });
      const profile = path.join(disk, 'reference.profile');
      await makeReferenceProfile(config, { cwd: dir });
      const before = readFileSync(profile);

      // 3,000 rows × 4 numeric columns: 96,000 bytes of float64, more than the 64 KiB disk holds.
      const rows = readFileSync(reference, 'utf8').trim().split('\n');
      writeFileSync(reference, `${[rows[0], ...Array.from({ length: 20 }, () => rows.slice(1)).flat()].join('\n')}\n`);
      const failed = makeReferenceProfile(config, { cwd: dir });
      await expect(failed).rejects.toBeInstanceOf(DriftgateError);
      await expect(failed).rejects.toThrow(`writing the reference profile ${profile} failed: ENOSPC: no space left on device, write; the profile there before, if any, is unchanged`);
      expect(readFileSync(profile).equals(before)).toBe(true);

      const result = await runDrift(config, { current, ...pinned(dir) });
      expect(result.reference.profile?.used).toBe(false);
      expect(result.reference.profile?.reason).toMatch(new RegExp(`^${reference.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} changed since the profile was made`));
      expect(result.n_reference).toBe(3000);
    });
  });
});
