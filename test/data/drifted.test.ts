import { readFileSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { ENVIRONMENTS, venvPython } from '../../src/python/bootstrap.js';
import { lastJson, runCli } from '../helpers/cli.js';
import { tempDir, writeConfig } from '../helpers/config.js';

describe('driftgate data drifted|plain', () => {
  const dir = tempDir();
  const config = writeConfig(dir);

  it('writes a seeded, labelled batch that is byte-identical for the same seed', async () => {
    const a = path.join(dir, 'a.csv');
    const b = path.join(dir, 'b.csv');
    const first = await runCli(['data', 'drifted', '--config', config, '--out', a, '--json']);
    expect(first.exitCode).toBe(0);
    expect(lastJson(first.stdout)).toEqual({
      kind: 'drifted',
      path: a,
      rows: 300,
      shifts: [
        { feature: 'petal_length', scale: 1.25, offset: 0.4 },
        { feature: 'petal_width', scale: 1.3, offset: 0.15 },
      ],
    });
    await runCli(['data', 'drifted', '--config', config, '--out', b]);
    expect(readFileSync(a, 'utf8')).toBe(readFileSync(b, 'utf8'));
    const lines = readFileSync(a, 'utf8').trimEnd().split('\n');
    expect(lines[0]).toBe('sepal_length,sepal_width,petal_length,petal_width,species');
    expect(lines).toHaveLength(301);
  });

  it('defaults to dataset.current for drifted', async () => {
    const { exitCode, stdout } = await runCli(['data', 'drifted', '--config', config, '--rows', '10']);
    expect(exitCode).toBe(0);
    expect(stdout).toBe(`wrote 10 drifted rows to ${path.join(dir, 'iris-drifted.csv')}\n`);
  });

  it('the drift hurts a model trained on plain Iris, and retraining on drifted data recovers', async () => {
    const drifted = path.join(dir, 'a.csv');
    const script = `
import sys, pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_score, train_test_split
ref = pd.read_csv(sys.argv[1]); dr = pd.read_csv(sys.argv[2])
F = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
print(round(cross_val_score(LogisticRegression(max_iter=1000), ref[F], ref.species, cv=5).mean(), 4))
print(round((LogisticRegression(max_iter=1000).fit(ref[F], ref.species).predict(dr[F]) == dr.species).mean(), 4))
a, b = train_test_split(dr, test_size=0.5, random_state=0, stratify=dr.species)
print(round((LogisticRegression(max_iter=1000).fit(a[F], a.species).predict(b[F]) == b.species).mean(), 4))
`;
    const { stdout } = await execa(venvPython(ENVIRONMENTS.train.venvDir), ['-c', script, path.resolve('data/iris.csv'), drifted]);
    // Plain Iris ~0.97; the plain model on drifted data ~0.67; a model retrained on drifted data ~0.97.
    expect(stdout.trim().split('\n')).toEqual(['0.9733', '0.6733', '0.9667']);
  }, 60_000);

  it('plain needs --out, and bad flags exit 2 with one line', async () => {
    const plain = await runCli(['data', 'plain', '--config', config]);
    expect(plain.exitCode).toBe(2);
    expect(plain.stderr).toBe('driftgate: data plain: expected --out PATH\n');
    const shift = await runCli(['data', 'drifted', '--config', config, '--shift', 'petal_length:x:1']);
    expect(shift.exitCode).toBe(2);
    expect(shift.stderr).toBe('driftgate: --shift: expected FEATURE:SCALE:OFFSET (e.g. petal_length:1.25:0.4), got "petal_length:x:1"\n');
    const unknown = await runCli(['data', 'drifted', '--config', config, '--shift', 'stem:1:1']);
    expect(unknown.stderr).toBe('driftgate: --shift: expected a numeric feature of the config (sepal_length, sepal_width, petal_length, petal_width), got "stem"\n');
    const kind = await runCli(['data', 'sideways', '--config', config]);
    expect(kind.stderr).toBe('driftgate: data: expected "drifted" or "plain", got "sideways"\n');
  });
});
