import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { configPath, loadConfig, parseConfig } from '../../src/config/index.js';
import { ConfigError } from '../../src/errors.js';
import { DEFAULT_CONFIG, tempDir } from '../helpers/config.js';

const FILE = '/etc/driftgate/test.yaml';

const MINIMAL = `
dataset:
  reference: data.csv
  target: label
  features: [a, b]
  classes: [x, y]
`;

function messageOf(text: string): string {
  try {
    parseConfig(text, FILE, {});
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).exitCode).toBe(2);
    return (error as Error).message;
  }
  throw new Error('expected the config to be rejected');
}

describe('loadConfig', () => {
  it('loads the shipped config with every default filled and paths resolved against the file', () => {
    const config = loadConfig(DEFAULT_CONFIG, {});
    const root = path.dirname(path.dirname(DEFAULT_CONFIG));
    expect(config.dataset.reference).toBe(path.join(root, 'data', 'iris.csv'));
    expect(config.dataset.features).toEqual([
      { name: 'sepal_length', type: 'numeric' },
      { name: 'sepal_width', type: 'numeric' },
      { name: 'petal_length', type: 'numeric' },
      { name: 'petal_width', type: 'numeric' },
    ]);
    expect(config.dataset.classes).toEqual(['setosa', 'versicolor', 'virginica']);
    expect(config.router.ab_split_b).toBe(0);
    expect(config.router.log_path).toBe(path.join(root, '.driftgate', 'predictions.csv'));
    expect(config.mlflow.tracking_uri).toBe('http://127.0.0.1:5000');
    expect(config.adminToken).toBeNull();
  });

  it('fills defaults for omitted sections', () => {
    const config = parseConfig(MINIMAL, FILE, {});
    expect(config.drift).toEqual({
      psi_threshold: 0.2,
      ks_alpha: 0.05,
      rule: 'any',
      psi_rule: 'threshold',
      ks_min_statistic: 0,
      correction: 'none',
      share: 0.5,
      binning: 'sturges',
      quantile_bins: 10,
      log_window: 1000,
      min_rows: 30,
      reports_dir: '/etc/reports/drift',
      reference_profile: null,
    });
    expect(config.dataset.current).toBeNull();
    expect(config.dataset.reference).toBe('/etc/driftgate/data.csv');
  });

  it('accepts numeric class labels and typed features', () => {
    const config = parseConfig(MINIMAL.replace('[x, y]', '[0, 1]').replace('[a, b]', '[a, {name: color, type: categorical}]'), FILE, {});
    expect(config.dataset.classes).toEqual(['0', '1']);
    expect(config.dataset.features).toEqual([
      { name: 'a', type: 'numeric' },
      { name: 'color', type: 'categorical' },
    ]);
  });
});

describe('bad config: one line naming the file, the key path, what was expected and what was found', () => {
  const cases: [string, string, string][] = [
    ['broken YAML', 'dataset: [a, b\n', `${FILE}: line 2, column 1: broken YAML: Flow sequence in block collection must be sufficiently indented and end with a ]`],
    ['a wrong type', MINIMAL + 'router:\n  port: eighty\n', `${FILE}: router.port: expected an integer >= 0 and <= 65535, got "eighty"`],
    ['ab_split_b out of range', MINIMAL + 'router:\n  ab_split_b: 1.7\n', `${FILE}: router.ab_split_b: expected a number >= 0 and <= 1, got number 1.7`],
    ['a negative threshold', MINIMAL + 'drift:\n  psi_threshold: -0.1\n', `${FILE}: drift.psi_threshold: expected a number > 0, got number -0.1`],
    ['an unknown key (a typo)', MINIMAL + 'drift:\n  psi_treshold: 0.3\n', `${FILE}: drift.psi_treshold: unknown key "psi_treshold"; expected one of psi_threshold, ks_alpha, rule, psi_rule, ks_min_statistic, correction, share, binning, quantile_bins, log_window, min_rows, reports_dir, reference_profile`],
    ['an unknown section', MINIMAL + 'routr: {}\n', `${FILE}: routr: unknown key "routr"; expected one of dataset, drift, training, mlflow, router, ab, performance, airflow`],
    ['a feature listed twice', MINIMAL.replace('[a, b]', '[a, b, a]'), `${FILE}: dataset.features[2]: expected unique entries, got "a" again (first at dataset.features[0])`],
    ['no features', MINIMAL.replace('[a, b]', '[]'), `${FILE}: dataset.features: expected a list of at least 1, got 0`],
    ['a missing required key', MINIMAL.replace('  target: label\n', ''), `${FILE}: dataset.target: expected a column name (letters, digits, _ . -, not starting with a digit), got nothing (the key is required)`],
    ['the target as a feature', MINIMAL.replace('[a, b]', '[a, label]'), `${FILE}: dataset.features[1]: expected a feature column, got the target "label"`],
    ['a bad enum', MINIMAL + 'drift:\n  rule: sometimes\n', `${FILE}: drift.rule: expected one of "psi", "ks", "any", "all", got "sometimes"`],
    ['a duplicate key', MINIMAL + 'router:\n  port: 1\n  port: 2\n', `${FILE}: line 9, column 3: broken YAML: Map keys must be unique`],
    ['a list where a mapping belongs', MINIMAL + 'router: [1]\n', `${FILE}: router: expected a mapping, got a list`],
    ['the same alias twice', MINIMAL + 'mlflow:\n  staging_alias: prod\n', `${FILE}: mlflow.staging_alias: expected an alias different from prod_alias, got "prod" for both`],
    ['a non-inferiority margin of 1 (no test could reject it)', MINIMAL + 'ab:\n  margin: 1\n', `${FILE}: ab.margin: expected a number >= 0 and < 1, got number 1`],
    ['an alpha above 0.5', MINIMAL + 'ab:\n  alpha: 0.6\n', `${FILE}: ab.alpha: expected a number > 0 and <= 0.5, got number 0.6`],
    ['a log policy that does not exist', MINIMAL + 'router:\n  log_fsync: sometimes\n', `${FILE}: router.log_fsync: expected one of "never", "interval", "always", got "sometimes"`],
    ['a negative rotation size', MINIMAL + 'router:\n  log_rotate:\n    max_size_mb: -1\n', `${FILE}: router.log_rotate.max_size_mb: expected a number >= 0, got number -1`],
  ];
  it.each(cases)('%s', (_name, text, expected) => {
    expect(messageOf(text)).toBe(expected);
  });

  it('a missing file', () => {
    const missing = path.join(tempDir(), 'nope.yaml');
    expect(() => loadConfig(missing, {})).toThrow(`${missing}: file not found (pass --config PATH or set DRIFTGATE_CONFIG)`);
  });

  it('an empty file', () => {
    expect(messageOf('')).toBe(`${FILE}: dataset: expected a mapping, got nothing (the key is required)`);
  });
});

describe('environment overrides for the deployment fields', () => {
  it('override the tracking URI, router host, port, log path and admin token', () => {
    const config = parseConfig(MINIMAL, FILE, {
      MLFLOW_TRACKING_URI: 'http://mlflow.internal:5000',
      DRIFTGATE_ROUTER_HOST: '0.0.0.0',
      DRIFTGATE_ROUTER_PORT: '9001',
      DRIFTGATE_LOG_PATH: 'logs/p.csv',
      DRIFTGATE_ADMIN_TOKEN: 's3cret',
    });
    expect(config.mlflow.tracking_uri).toBe('http://mlflow.internal:5000');
    expect(config.router.host).toBe('0.0.0.0');
    expect(config.router.port).toBe(9001);
    expect(config.router.log_path).toBe(path.resolve('logs/p.csv'));
    expect(config.adminToken).toBe('s3cret');
  });

  it('take the label token from DRIFTGATE_LABEL_TOKEN only; router.labels is token unless set to open', () => {
    const config = parseConfig(MINIMAL, FILE, {});
    expect([config.labelToken, config.router.labels]).toEqual([null, 'token']);
    expect(parseConfig(MINIMAL, FILE, { DRIFTGATE_LABEL_TOKEN: 'l4bel' }).labelToken).toBe('l4bel');
    expect(parseConfig(MINIMAL, FILE, { DRIFTGATE_LABEL_TOKEN: '' }).labelToken).toBeNull();
    expect(parseConfig(`${MINIMAL}router:\n  labels: open\n`, FILE, {}).router.labels).toBe('open');
    expect(messageOf(`${MINIMAL}router:\n  labels: anyone\n`)).toBe(`${FILE}: router.labels: expected one of "token", "open", got "anyone"`);
    // Never from the file: a token in the YAML is an unknown key, not a credential.
    expect(messageOf(`${MINIMAL}labelToken: l4bel\n`)).toBe(`${FILE}: labelToken: unknown key "labelToken"; expected one of dataset, drift, training, mlflow, router, ab, performance, airflow`);
    expect(messageOf(`${MINIMAL}router:\n  label_token: l4bel\n`)).toMatch(new RegExp(`^${FILE}: router\\.label_token: unknown key "label_token"; expected one of `));
  });

  it('take the request-id key from DRIFTGATE_REQUEST_KEY, and refuse a short one', () => {
    expect(parseConfig(MINIMAL, FILE, { DRIFTGATE_REQUEST_KEY: 'a-long-enough-secret' }).requestKey).toBe('a-long-enough-secret');
    expect(parseConfig(MINIMAL, FILE, {}).requestKey).toBeNull();
    expect(() => parseConfig(MINIMAL, FILE, { DRIFTGATE_REQUEST_KEY: 'short' })).toThrow('environment: DRIFTGATE_REQUEST_KEY: expected a secret of at least 16 characters, got 5');
  });

  it('reject a bad value naming the variable', () => {
    expect(() => parseConfig(MINIMAL, FILE, { DRIFTGATE_ROUTER_PORT: '80a' })).toThrow(
      'environment: DRIFTGATE_ROUTER_PORT: expected an integer from 0 to 65535, got "80a"',
    );
    expect(() => parseConfig(MINIMAL, FILE, { MLFLOW_TRACKING_URI: 'sqlite:///x.db' })).toThrow(
      'environment: MLFLOW_TRACKING_URI: expected an http(s):// tracking server URI, got "sqlite:///x.db"',
    );
  });

  it('an empty variable is ignored', () => {
    expect(parseConfig(MINIMAL, FILE, { DRIFTGATE_ROUTER_PORT: '' }).router.port).toBe(8000);
  });

  it('--config wins over DRIFTGATE_CONFIG, which wins over the default', () => {
    expect(configPath('a.yaml', { DRIFTGATE_CONFIG: 'b.yaml' }, '/w')).toBe('/w/a.yaml');
    expect(configPath(undefined, { DRIFTGATE_CONFIG: 'b.yaml' }, '/w')).toBe('/w/b.yaml');
    expect(configPath(undefined, {}, '/w')).toBe('/w/config/driftgate.yaml');
  });

  it('loadConfig reads the file from disk', () => {
    const file = path.join(tempDir(), 'c.yaml');
    writeFileSync(file, MINIMAL);
    expect(loadConfig(file, {}).dataset.target).toBe('label');
  });
});
