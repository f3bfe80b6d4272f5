import { describe, expect, it } from 'vitest';
import { allowlist, childEnv, parseExtraAllow, SECRETS, type ChildKind } from '../../src/process/child-env.js';

/** A parent environment with something of every sort: system, proxies, each tool's prefix, settings and secrets. */
const PARENT = {
  PATH: '/usr/bin:/bin',
  HOME: '/home/op',
  USER: 'op',
  LANG: 'C.UTF-8',
  LC_ALL: 'C.UTF-8',
  TZ: 'UTC',
  TMPDIR: '/tmp/op',
  HTTPS_PROXY: 'http://proxy:3128',
  no_proxy: 'localhost',
  SSL_CERT_FILE: '/etc/ssl/ca.pem',
  REQUESTS_CA_BUNDLE: '/etc/ssl/ca.pem',
  LD_LIBRARY_PATH: '/opt/python/lib',
  XDG_CACHE_HOME: '/home/op/.cache',
  PYTHONPATH: '/srv/py',
  OMP_NUM_THREADS: '2',
  PIP_INDEX_URL: 'https://mirror.internal/simple',
  MLFLOW_TRACKING_TOKEN: 'mlflow-token',
  AIRFLOW__CORE__FERNET_KEY: 'fernet',
  DRIFTGATE_STATE_DIR: '/srv/state',
  DRIFTGATE_LOG_PATH: '/srv/log.csv',
  DRIFTGATE_ADMIN_TOKEN: 'admin-secret-123',
  DRIFTGATE_LABEL_TOKEN: 'label-secret-456',
  DRIFTGATE_REQUEST_KEY: 'request-key-0123456789',
  DRIFTGATE_FUTURE_SECRET: 'not listed anywhere',
  AWS_SECRET_ACCESS_KEY: 'aws',
  GITHUB_TOKEN: 'gh',
  NODE_OPTIONS: '--max-old-space-size=4096',
  EMPTY_ONE: undefined,
};

const SYSTEM = {
  PATH: '/usr/bin:/bin',
  HOME: '/home/op',
  USER: 'op',
  LANG: 'C.UTF-8',
  LC_ALL: 'C.UTF-8',
  TZ: 'UTC',
  TMPDIR: '/tmp/op',
  HTTPS_PROXY: 'http://proxy:3128',
  no_proxy: 'localhost',
  SSL_CERT_FILE: '/etc/ssl/ca.pem',
  REQUESTS_CA_BUNDLE: '/etc/ssl/ca.pem',
  LD_LIBRARY_PATH: '/opt/python/lib',
  XDG_CACHE_HOME: '/home/op/.cache',
};
const PYTHON = { PYTHONPATH: '/srv/py', OMP_NUM_THREADS: '2' };
const PIP = { PIP_INDEX_URL: 'https://mirror.internal/simple' };
const MLFLOW = { MLFLOW_TRACKING_TOKEN: 'mlflow-token' };
const DRIFTGATE = { DRIFTGATE_STATE_DIR: '/srv/state', DRIFTGATE_LOG_PATH: '/srv/log.csv', NODE_OPTIONS: '--max-old-space-size=4096' };
const AIRFLOW = { AIRFLOW__CORE__FERNET_KEY: 'fernet' };

describe('childEnv: the allowlist per kind of child', () => {
  const table: [string, ChildKind[], Record<string, string>][] = [
    ['nothing but the system variables', [], SYSTEM],
    ['python', ['python'], { ...SYSTEM, ...PYTHON }],
    ['pip (and so python)', ['pip'], { ...SYSTEM, ...PYTHON, ...PIP }],
    ['an MLflow client in Python (training, the workers, the server)', ['python', 'mlflow'], { ...SYSTEM, ...PYTHON, ...MLFLOW }],
    ['the driftgate CLI', ['driftgate'], { ...SYSTEM, ...PYTHON, ...PIP, ...MLFLOW, ...DRIFTGATE }],
    ['Airflow, whose tasks are driftgate CLIs', ['airflow'], { ...SYSTEM, ...PYTHON, ...PIP, ...MLFLOW, ...DRIFTGATE, ...AIRFLOW }],
  ];
  it.each(table)('%s', (_name, inherit, expected) => {
    expect(childEnv({ inherit, from: PARENT })).toEqual(expected);
  });

  it('never passes the admin token, the label token, the request key or an unlisted DRIFTGATE_* name, whatever the kind', () => {
    for (const inherit of [[], ['python'], ['pip'], ['mlflow'], ['driftgate'], ['airflow']] as ChildKind[][]) {
      const env = childEnv({ inherit, from: PARENT });
      for (const name of [...SECRETS, 'DRIFTGATE_FUTURE_SECRET', 'AWS_SECRET_ACCESS_KEY', 'GITHUB_TOKEN']) expect(env[name]).toBeUndefined();
    }
    expect(SECRETS).toEqual(['DRIFTGATE_ADMIN_TOKEN', 'DRIFTGATE_LABEL_TOKEN', 'DRIFTGATE_REQUEST_KEY']);
  });

  it('the escape hatch DRIFTGATE_CHILD_ENV adds names and prefixes, but never a DRIFTGATE_* secret', () => {
    const from = { ...PARENT, DRIFTGATE_CHILD_ENV: 'AWS_*, GITHUB_TOKEN,DRIFTGATE_ADMIN_TOKEN DRIFTGATE_* *' };
    expect(childEnv({ inherit: ['python', 'mlflow'], from })).toEqual({
      ...SYSTEM,
      ...PYTHON,
      ...MLFLOW,
      AWS_SECRET_ACCESS_KEY: 'aws',
      GITHUB_TOKEN: 'gh',
    });
    // A driftgate CLI child gets the hatch itself, so its own children follow the same rule.
    expect(childEnv({ inherit: ['driftgate'], from }).DRIFTGATE_CHILD_ENV).toBe(from.DRIFTGATE_CHILD_ENV);
    expect(parseExtraAllow('A, B_* ,*,,C')).toEqual({ names: ['A', 'C'], prefixes: ['B_'] });
  });

  it('a secret reaches a child only when the caller names it; extras win and undefined removes', () => {
    expect(
      childEnv({
        inherit: ['python'],
        from: PARENT,
        pass: ['DRIFTGATE_REQUEST_KEY', 'NOT_SET_ANYWHERE'],
        extra: { PYTHONUNBUFFERED: '1', PYTHONPATH: undefined, TZ: 'Europe/Paris' },
      }),
    ).toEqual({ ...SYSTEM, TZ: 'Europe/Paris', OMP_NUM_THREADS: '2', PYTHONUNBUFFERED: '1', DRIFTGATE_REQUEST_KEY: 'request-key-0123456789' });
  });

  it('no kind lists a secret', () => {
    const { names, prefixes } = allowlist(['airflow']);
    for (const secret of SECRETS) {
      expect(names).not.toContain(secret);
      expect(prefixes.some((prefix) => secret.startsWith(prefix))).toBe(false);
    }
  });
});
