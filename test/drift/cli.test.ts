import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../src/project.js';
import { lastJson, runCli } from '../helpers/cli.js';
import { tempDir, writeConfig } from '../helpers/config.js';

// The CLI runs from dist/: `npm run build` (npm test does it) before these tests.

const IRIS = path.join(PROJECT_ROOT, 'data', 'iris.csv');
const IRIS_LINES = readFileSync(IRIS, 'utf8').trim().split('\n');
const HEADER = IRIS_LINES[0]!;
const ROWS = IRIS_LINES.slice(1);
const LOG_HEADER = 'ts,event,request_id,user_id,variant,model_alias,model_version,sepal_length,sepal_width,petal_length,petal_width,prediction,label,latency_ms';

/** Iris with the petals stretched, as `driftgate data drifted` does (without the noise). */
const DRIFTED = ROWS.map((line) => {
  const [a, b, c, d, s] = line.split(',');
  return [a, b, (Number(c) * 1.25 + 0.4).toFixed(2), (Number(d) * 1.3 + 0.15).toFixed(2), s].join(',');
});

let dir: string;
let config: string;

function write(name: string, lines: readonly string[]): string {
  const file = path.join(dir, name);
  writeFileSync(file, lines.length ? `${lines.join('\n')}\n` : '');
  return file;
}

function logLines(rows: readonly string[]): string[] {
  return rows.map((line, i) => {
    const [a, b, c, d, s] = line.split(',');
    return `${new Date(Date.UTC(2026, 10, 28, 3, 0, i)).toISOString()},prediction,r${i},u${i},A,prod,1,${a},${b},${c},${d},${s},,2.5`;
  });
}

async function drift(args: string[], configFile = config): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  return runCli(['drift', '--config', configFile, ...args]);
}

/** Bad input: exit 2, nothing on stdout, exactly one line on stderr. */
async function expectBadInput(args: string[], message: string, configFile = config): Promise<void> {
  const result = await drift(args, configFile);
  expect(result.stderr).toBe(`driftgate: ${message}\n`);
  expect(result.stdout).toBe('');
  expect(result.exitCode).toBe(2);
}

beforeAll(() => {
  dir = tempDir('driftgate-drift-cli-');
  config = writeConfig(dir);
});

describe('driftgate drift', () => {
  it('finds the Iris drift: exit 0, one JSON line with the contract fields, report.json and report.html written', async () => {
    const current = write('drifted.csv', [HEADER, ...DRIFTED]);
    const { exitCode, stdout, stderr } = await drift(['--current', current, '--json']);
    expect(exitCode).toBe(0);
    expect(stdout.trimEnd().split('\n')).toHaveLength(1);
    const result = lastJson(stdout) as Record<string, unknown> & { features: Record<string, unknown>[]; report_dir: string; id: string };
    expect(result).toMatchObject({ status: 'ok', drift_detected: true, share_drifted: 0.5, n_reference: 150, n_current: 150 });
    expect(result.id).toMatch(/^\d{8}T\d{6}Z-[0-9a-f]{6}$/);
    expect(result.features.map((f) => [f.name, f.type, f.test, f.drifted])).toEqual([
      ['sepal_length', 'numeric', 'ks', false],
      ['sepal_width', 'numeric', 'ks', false],
      ['petal_length', 'numeric', 'ks', true],
      ['petal_width', 'numeric', 'ks', true],
    ]);
    for (const f of result.features) {
      expect(Object.keys(f)).toEqual(['name', 'type', 'psi', 'ks_statistic', 'ks_pvalue', 'test', 'statistic', 'pvalue', 'psi_expected', 'psi_pvalue', 'psi_pvalue_method', 'pvalue_adjusted', 'psi_pvalue_adjusted', 'psi_drifted', 'test_drifted', 'drifted']);
    }
    expect(result.report_dir).toBe(path.join(dir, 'reports', 'drift', result.id));
    expect(existsSync(path.join(result.report_dir, 'report.json'))).toBe(true);
    expect(existsSync(path.join(result.report_dir, 'report.html'))).toBe(true);
    expect(stderr).toBe(`[drift] 2 of 4 features drifted; report ${result.report_dir}\n`);
  });

  it('prints a table for people without --json', async () => {
    const current = write('drifted-human.csv', [HEADER, ...DRIFTED]);
    const { exitCode, stdout } = await drift(['--current', current]);
    expect(exitCode).toBe(0);
    expect(stdout).toContain('DRIFT DETECTED: 2 of 4 features drifted (50%; threshold 50%)');
    expect(stdout).toMatch(/^petal_length {2}numeric +[\d.]+ {2}ks +[\d.]+ +[\de.-]+ {2}yes$/m);
    expect(stdout).toMatch(/report: .*\/report\.html\n$/);
  });

  describe('bad input exits 2 with what and where', () => {
    it('a missing reference or current file', async () => {
      const missing = path.join(dir, 'missing.csv');
      await Promise.all([
        expectBadInput(['--current', missing], `${missing}: file not found`),
        expectBadInput(['--reference', missing, '--current', IRIS], `${missing}: file not found`),
      ]);
    });

    it('a glob without matches', async () => {
      const pattern = path.join(dir, 'nothing-*.csv');
      await expectBadInput(['--current', pattern], `${pattern}: no files match`);
    });

    it('a missing feature column, named', async () => {
      const current = write('no-petal-width.csv', [HEADER.replace(',petal_width', ''), ...ROWS.map((line) => line.replace(/,[^,]+(,[^,]+)$/, '$1'))]);
      await expectBadInput(['--current', current], `${current}: missing column "petal_width" (found sepal_length, sepal_width, petal_length, species)`);
    });

    it('a non-numeric value: file, line, column', async () => {
      const rows = [...DRIFTED];
      rows[3] = rows[3]!.replace(/^([^,]+,[^,]+,)[^,]+/, '$1n/a');
      const current = write('non-numeric.csv', [HEADER, ...rows]);
      await expectBadInput(['--current', current], `${current}: line 5, column "petal_length": expected a number, got "n/a"`);
    });

    it('an empty value: file, line, column', async () => {
      const rows = [...ROWS];
      rows[9] = rows[9]!.replace(/^[^,]+/, '');
      const reference = write('empty-value.csv', [HEADER, ...rows]);
      await expectBadInput(['--reference', reference, '--current', IRIS], `${reference}: line 11, column "sepal_length": expected a number, got an empty value`);
    });

    it('an empty reference set and an empty current set', async () => {
      const empty = write('header-only.csv', [HEADER]);
      const blank = write('blank.csv', []);
      await Promise.all([
        expectBadInput(['--reference', empty, '--current', IRIS], `reference set ${empty} is empty: expected at least one data row, got none`),
        expectBadInput(['--current', empty], `current set ${empty} is empty: expected at least one data row, got none`),
        expectBadInput(['--current', blank], `${blank}: expected a header row, got an empty file`),
      ]);
    });

    it('a config with no features', async () => {
      const noFeatures = writeConfig(dir, { dataset: { features: [] } }, 'no-features.yaml');
      await expectBadInput(['--current', IRIS], `${noFeatures}: dataset.features: expected a list of at least 1, got 0`, noFeatures);
    });

    it('fewer rows than drift.min_rows in a data file', async () => {
      const current = write('twelve.csv', [HEADER, ...DRIFTED.slice(0, 12)]);
      await expectBadInput(['--current', current], `not enough current rows: expected at least 30, got 12 from ${current}`);
    });

    it('usage: no --current, a bad --window or --since, --window on a data file', async () => {
      const usageConfig = writeConfig(dir, { router: { log_path: 'usage-predictions.csv' } }, 'usage.yaml');
      write('usage-predictions.csv', [LOG_HEADER]);
      await Promise.all([
        expectBadInput([], 'drift: expected --current PATH|log', usageConfig),
        expectBadInput(['--current', 'log', '--window', '0'], '--window: expected a positive integer, got "0"', usageConfig),
        expectBadInput(['--current', 'log', '--since', 'yesterday'], '--since: expected an ISO-8601 time (e.g. 2026-11-28T04:00:00Z), got "yesterday"', usageConfig),
        expectBadInput(['--current', IRIS, '--window', '10'], `--window applies to a predictions log (--current log or a log file), got the data set ${IRIS}`, usageConfig),
      ]);
    });
  });

  describe('--current log (live traffic)', () => {
    it('tests the last --window prediction rows of router.log_path', async () => {
      write('predictions.csv', [LOG_HEADER, ...logLines(DRIFTED)]);
      const { exitCode, stdout } = await drift(['--current', 'log', '--window', '100', '--json']);
      expect(exitCode).toBe(0);
      expect(lastJson(stdout)).toMatchObject({
        status: 'ok',
        drift_detected: true,
        n_current: 100,
        current: { kind: 'log', files: [path.join(dir, 'predictions.csv')], window: 100 },
        target: { name: 'species', current_source: 'prediction', current: { setosa: 0, versicolor: 0.5, virginica: 0.5 } },
      });
    });

    it('before traffic arrives: exit 0, status insufficient_data, drift_detected false, the reason on stderr', async () => {
      const log = write('predictions.csv', [LOG_HEADER, ...logLines(ROWS.slice(0, 12))]);
      const { exitCode, stdout, stderr } = await drift(['--current', 'log', '--json']);
      const reason = `not enough current rows: expected at least 30, got 12 from ${log}`;
      expect(exitCode).toBe(0);
      expect(lastJson(stdout)).toMatchObject({ status: 'insufficient_data', reason, drift_detected: false, share_drifted: 0, n_current: 12, features: [], report_dir: null });
      expect(stderr).toBe(`[drift] ${reason}; nothing tested, reporting no drift (status insufficient_data)\n`);

      write('predictions.csv', [LOG_HEADER]);
      const empty = await drift(['--current', 'log', '--json']);
      expect(empty.exitCode).toBe(0);
      expect(lastJson(empty.stdout)).toMatchObject({ status: 'insufficient_data', n_current: 0, drift_detected: false });
    });

    it('±1e308 rows (accepted by an older router) are left out with file and line; the rest is analysed, exit 0', async () => {
      const lines = logLines(DRIFTED);
      lines[3] = lines[3]!.replace(/,prediction,r3,u3,A,prod,1,[^,]+,/, ',prediction,r3,u3,A,prod,1,1e308,');
      lines[4] = lines[4]!.replace(/,prediction,r4,u4,A,prod,1,[^,]+,/, ',prediction,r4,u4,A,prod,1,-1e308,');
      const log = write('predictions.csv', [LOG_HEADER, ...lines]);
      const { exitCode, stdout, stderr } = await drift(['--current', 'log', '--json']);
      expect(exitCode).toBe(0);
      const result = lastJson(stdout) as { n_current: number; drift_detected: boolean; current: { quality: unknown } };
      expect([result.n_current, result.drift_detected]).toEqual([148, true]);
      const problem = (line: number, value: string) => ({ file: log, line, problem: `sepal_length: expected a number within ±3.4028234663852886e+38 (the float32 range), got "${value}"` });
      expect(result.current.quality).toEqual({ rows_read: 150, malformed_rows: 2, malformed: [problem(5, '1e308'), problem(6, '-1e308')], unreadable: [], headerless: [] });
      expect(stderr).toContain(`[drift] 2 malformed log rows left out (first: ${log}:5: sepal_length: expected a number within`);
    });

    it('reads the rotated files beside the log too, merged by time', async () => {
      const lines = logLines(DRIFTED);
      write('predictions.csv.20261128T030100.000Z', [LOG_HEADER, ...lines.slice(0, 100)]);
      write('predictions.csv', [LOG_HEADER, ...lines.slice(100)]);
      const { exitCode, stdout } = await drift(['--current', 'log', '--json']);
      expect(exitCode).toBe(0);
      expect(lastJson(stdout)).toMatchObject({
        n_current: 150,
        current: { files: [path.join(dir, 'predictions.csv.20261128T030100.000Z'), path.join(dir, 'predictions.csv')] },
      });
      rmSync(path.join(dir, 'predictions.csv.20261128T030100.000Z'));
    });

    it('a missing log is a missing file: the router is not running or router.log_path is wrong', async () => {
      const elsewhere = writeConfig(dir, { router: { log_path: 'nowhere/predictions.csv' } }, 'no-log.yaml');
      await expectBadInput(['--current', 'log'], `${path.join(dir, 'nowhere', 'predictions.csv')}: file not found`, elsewhere);
    });
  });

  it('--help documents the decision rule, live traffic and the insufficient-data outcome', async () => {
    const { exitCode, stdout } = await runCli(['drift', '--help']);
    expect(exitCode).toBe(0);
    expect(stdout.split('\n')[0]).toBe('Usage: driftgate drift --current PATH|log [--reference PATH] | profile [--reference PATH] [options]');
    expect(stdout).toContain('exits 0 with status "insufficient_data", drift_detected false');
    expect(stdout).toContain('--window N');
    expect(stdout).toContain('--since ISO_TIME');
  });

  describe('drift profile', () => {
    it('writes the profile beside the reference; drift then reads it (reference.profile in the JSON), with the same numbers', async () => {
      const reference = write('profiled.csv', IRIS_LINES);
      const current = write('profiled-current.csv', [HEADER, ...DRIFTED]);
      const before = lastJson((await drift(['--reference', reference, '--current', current, '--json'])).stdout) as { features: unknown[]; reference: { profile: unknown } };
      expect(before.reference.profile).toBeNull();

      const made = await drift(['profile', '--reference', reference, '--json']);
      expect(made.exitCode).toBe(0);
      const size = statSync(`${reference}.profile`).size;
      expect(lastJson(made.stdout)).toEqual({ profile: `${reference}.profile`, reference, files: [reference], rows: 150, features: 4, bytes: size });
      expect(made.stderr).toBe(`[drift] profile of 150 reference rows × 4 features written to ${reference}.profile (${size} bytes)\n`);

      const after = lastJson((await drift(['--reference', reference, '--current', current, '--json'])).stdout) as typeof before;
      expect(after.reference.profile).toEqual({ path: `${reference}.profile`, used: true, reason: null });
      expect(after.features).toEqual(before.features);
    });

    it('takes only --reference, and drift takes no other argument', async () => {
      await expectBadInput(['profile', '--current', 'x.csv'], 'drift profile: takes only --reference (the current set is not part of a profile)');
      await expectBadInput(['profiel'], 'drift: expected no argument or profile, got "profiel"');
    });
  });
});
