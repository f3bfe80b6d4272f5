/**
 * The environment a child process gets: an allowlist, never the whole parent environment. The
 * router's admin token, its request-id signing key and any other DRIFTGATE_* secret reach a child
 * only when its caller names them; a Python worker that unpickles a registry model must not be able
 * to read them.
 */

export type Env = Readonly<Record<string, string | undefined>>;

/**
 * What a child is; each kind inherits what its programs read. Every kind gets BASE too.
 * - python: any Python of the pinned environments (PYTHON*, thread knobs, matplotlib's config dir);
 * - pip: pip while an environment is built (PIP_*, netrc);
 * - mlflow: the MLflow client or server (MLFLOW_*: tracking URI, its credentials, S3 endpoint...);
 * - driftgate: the driftgate CLI itself (its non-secret DRIFTGATE_* settings) and so everything
 *   the children it starts may need;
 * - airflow: Airflow, whose tasks run the driftgate CLI (AIRFLOW_* plus all of the above).
 */
export type ChildKind = 'python' | 'pip' | 'mlflow' | 'driftgate' | 'airflow';

interface Allow {
  names: readonly string[];
  prefixes: readonly string[];
}

/** Every child: finding programs, the user, locale and time, temp files, proxies, CA bundles. */
const BASE: Allow = {
  names: [
    'PATH',
    'HOME',
    'USER',
    'LOGNAME',
    'SHELL',
    'LANG',
    'LANGUAGE',
    'TZ',
    'TZDIR',
    'TMPDIR',
    'TEMP',
    'TMP',
    'HTTP_PROXY',
    'HTTPS_PROXY',
    'NO_PROXY',
    'ALL_PROXY',
    'http_proxy',
    'https_proxy',
    'no_proxy',
    'all_proxy',
    'SSL_CERT_FILE',
    'SSL_CERT_DIR',
    'REQUESTS_CA_BUNDLE',
    'CURL_CA_BUNDLE',
    'NODE_EXTRA_CA_CERTS',
    // A Python built with --enable-shared outside the default library path (pyenv, /opt, conda) does not start without it.
    'LD_LIBRARY_PATH',
    // Opting out of telemetry is the user's wish for every tool.
    'DO_NOT_TRACK',
  ],
  prefixes: ['LC_', 'XDG_'],
};

const KINDS: Record<ChildKind, Allow> = {
  python: {
    names: ['OMP_NUM_THREADS', 'OPENBLAS_NUM_THREADS', 'MKL_NUM_THREADS', 'NUMEXPR_NUM_THREADS', 'NUMEXPR_MAX_THREADS', 'MPLCONFIGDIR', 'MPLBACKEND'],
    prefixes: ['PYTHON'],
  },
  pip: { names: ['NETRC'], prefixes: ['PIP_'] },
  mlflow: { names: [], prefixes: ['MLFLOW_'] },
  driftgate: {
    // Deployment settings the CLI reads (see config/load.ts, project.ts, cli/main.ts); no secret is among them.
    names: [
      'DRIFTGATE_CONFIG',
      'DRIFTGATE_STATE_DIR',
      'DRIFTGATE_PYTHON',
      'DRIFTGATE_LOG_PATH',
      'DRIFTGATE_LOG_LEVEL',
      'DRIFTGATE_ROUTER_HOST',
      'DRIFTGATE_ROUTER_PORT',
      'DRIFTGATE_DEBUG',
      'DRIFTGATE_CHILD_ENV',
      'NODE_OPTIONS',
    ],
    prefixes: [],
  },
  airflow: { names: ['SCARF_ANALYTICS'], prefixes: ['AIRFLOW_', '_AIRFLOW_'] },
};

/** A driftgate CLI child starts Python, pip and MLflow clients itself; Airflow's tasks are driftgate CLIs. */
const INCLUDES: Record<ChildKind, readonly ChildKind[]> = {
  python: ['python'],
  pip: ['python', 'pip'],
  mlflow: ['mlflow'],
  driftgate: ['python', 'pip', 'mlflow', 'driftgate'],
  airflow: ['python', 'pip', 'mlflow', 'driftgate', 'airflow'],
};

/** The escape hatch: `DRIFTGATE_CHILD_ENV=NAME,PREFIX_*` adds parent variables to every child. */
export const EXTRA_ALLOW_VARIABLE = 'DRIFTGATE_CHILD_ENV';

/** Never inherited through an allowlist entry or DRIFTGATE_CHILD_ENV, only through `pass` (nor is any unlisted DRIFTGATE_*). */
export const SECRETS: readonly string[] = ['DRIFTGATE_ADMIN_TOKEN', 'DRIFTGATE_LABEL_TOKEN', 'DRIFTGATE_REQUEST_KEY'];

export interface ChildEnvOptions {
  /** What the child is (see ChildKind); BASE alone when empty. */
  inherit?: readonly ChildKind[];
  /** Set for the child whatever the parent has; they win over inherited values; undefined removes one. */
  extra?: Readonly<Record<string, string | undefined>>;
  /** Parent variables passed by name although no kind allows them: the only way a secret reaches a child. */
  pass?: readonly string[];
  /** The parent's environment; process.env by default. */
  from?: Env;
}

/** `NAME` or `PREFIX_*` entries of DRIFTGATE_CHILD_ENV, split on commas and spaces. */
export function parseExtraAllow(value: string | undefined): Allow {
  const names: string[] = [];
  const prefixes: string[] = [];
  for (const entry of (value ?? '').split(/[\s,]+/)) {
    if (entry === '' || entry === '*') continue;
    if (entry.endsWith('*')) prefixes.push(entry.slice(0, -1));
    else names.push(entry);
  }
  return { names, prefixes };
}

/** The names and prefixes a child of these kinds inherits, BASE included, without the escape hatch. */
export function allowlist(inherit: readonly ChildKind[] = []): Allow {
  const kinds = new Set(inherit.flatMap((kind) => INCLUDES[kind]));
  const parts = [BASE, ...[...kinds].map((kind) => KINDS[kind])];
  return { names: parts.flatMap((p) => p.names), prefixes: parts.flatMap((p) => p.prefixes) };
}

/** Build a child's whole environment: the allowed parent variables, then `pass`, then `extra`. */
export function childEnv(options: ChildEnvOptions = {}): Record<string, string> {
  const from = options.from ?? process.env;
  const listed = allowlist(options.inherit);
  const hatch = parseExtraAllow(from[EXTRA_ALLOW_VARIABLE]);
  const settings = new Set(listed.names.filter((name) => name.startsWith('DRIFTGATE_') && !SECRETS.includes(name)));
  const names = new Set([...listed.names, ...hatch.names]);
  const prefixes = [...listed.prefixes, ...hatch.prefixes];
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(from)) {
    if (value === undefined) continue;
    if (!names.has(name) && !prefixes.some((prefix) => name.startsWith(prefix))) continue;
    // A DRIFTGATE_* name no kind lists is a secret (a secret added later is safe by default), whatever the hatch says.
    if (name.startsWith('DRIFTGATE_') && !settings.has(name)) continue;
    env[name] = value;
  }
  for (const name of options.pass ?? []) {
    const value = from[name];
    if (value !== undefined) env[name] = value;
  }
  for (const [name, value] of Object.entries(options.extra ?? {})) {
    if (value === undefined) delete env[name];
    else env[name] = value;
  }
  return env;
}
