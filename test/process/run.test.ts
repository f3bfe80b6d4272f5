import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runChild } from '../../src/process/run.js';
import { NODE_BIN } from '../../src/project.js';

const saved = { ...process.env };
/** Replace this process's whole environment, so the child's can be asserted exactly. */
function setParentEnv(env: Record<string, string>): void {
  for (const name of Object.keys(process.env)) delete process.env[name];
  Object.assign(process.env, env);
}
afterEach(() => setParentEnv(saved as Record<string, string>));

const PARENT = {
  PATH: `${path.dirname(NODE_BIN)}:/usr/bin:/bin`,
  HOME: '/home/op',
  LANG: 'C.UTF-8',
  LC_CTYPE: 'C.UTF-8',
  TZ: 'UTC',
  HTTPS_PROXY: 'http://proxy.internal:3128',
  SSL_CERT_FILE: '/etc/ssl/certs/ca-certificates.crt',
  PYTHONWARNINGS: 'ignore',
  PIP_INDEX_URL: 'https://mirror.internal/simple',
  MLFLOW_TRACKING_USERNAME: 'op',
  DRIFTGATE_STATE_DIR: '/srv/driftgate-state',
  DRIFTGATE_ADMIN_TOKEN: 'admin-token-s3cret',
  DRIFTGATE_REQUEST_KEY: 'request-key-0123456789abcdef',
  AWS_SECRET_ACCESS_KEY: 'aws-secret',
  SOME_OTHER_VAR: 'x',
};

async function childEnvOf(options: Parameters<typeof runChild>[2]): Promise<Record<string, string>> {
  const { stdout } = await runChild(NODE_BIN, ['-e', 'console.log(JSON.stringify(process.env))'], options);
  return JSON.parse(stdout) as Record<string, string>;
}

describe('runChild gives the child an allowlisted environment, never the secrets', () => {
  it('a training-like child (python + mlflow) sees the allowlist and its explicit extra, and neither secret', async () => {
    setParentEnv(PARENT);
    const env = await childEnvOf({ inherit: ['python', 'mlflow'], env: { MLFLOW_TRACKING_URI: 'http://127.0.0.1:5000', PYTHONUNBUFFERED: '1' } });
    expect(Object.keys(env).sort()).toEqual(
      ['HOME', 'HTTPS_PROXY', 'LANG', 'LC_CTYPE', 'MLFLOW_TRACKING_URI', 'MLFLOW_TRACKING_USERNAME', 'PATH', 'PYTHONUNBUFFERED', 'PYTHONWARNINGS', 'SSL_CERT_FILE', 'TZ'].sort(),
    );
    expect(env.MLFLOW_TRACKING_URI).toBe('http://127.0.0.1:5000');
    expect(env.PATH).toBe(PARENT.PATH);
    expect(env.DRIFTGATE_ADMIN_TOKEN).toBeUndefined();
    expect(env.DRIFTGATE_REQUEST_KEY).toBeUndefined();
  });

  it('a caller that does not say what its child is (the bootstrap, the demo) gets every non-secret kind, still without the secrets', async () => {
    setParentEnv(PARENT);
    const env = await childEnvOf({ env: { EXTRA_ONE: 'given' } });
    expect(Object.keys(env).sort()).toEqual(
      ['DRIFTGATE_STATE_DIR', 'EXTRA_ONE', 'HOME', 'HTTPS_PROXY', 'LANG', 'LC_CTYPE', 'MLFLOW_TRACKING_USERNAME', 'PATH', 'PIP_INDEX_URL', 'PYTHONWARNINGS', 'SSL_CERT_FILE', 'TZ'].sort(),
    );
    expect(env.EXTRA_ONE).toBe('given');
  });

  it('passes a named secret only when asked (passEnv)', async () => {
    setParentEnv(PARENT);
    const env = await childEnvOf({ inherit: [], passEnv: ['DRIFTGATE_REQUEST_KEY'] });
    expect(env).toEqual({ PATH: PARENT.PATH, HOME: '/home/op', LANG: 'C.UTF-8', LC_CTYPE: 'C.UTF-8', TZ: 'UTC', HTTPS_PROXY: PARENT.HTTPS_PROXY, SSL_CERT_FILE: PARENT.SSL_CERT_FILE, DRIFTGATE_REQUEST_KEY: PARENT.DRIFTGATE_REQUEST_KEY });
  });
});
