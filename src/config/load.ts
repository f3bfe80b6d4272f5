/** Load, validate and resolve config/driftgate.yaml once; every command goes through here. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import { ConfigError, describe } from '../errors.js';
import { configSchema, type RawConfig } from './config-schema.js';
import { SchemaIssue } from './schema.js';

export const DEFAULT_CONFIG_PATH = 'config/driftgate.yaml';

export type Config = RawConfig & {
  /** The file it came from (absolute) and the folder its relative paths are resolved against. */
  source: { file: string; dir: string };
  /** Bearer token for the router's admin routes, only ever from DRIFTGATE_ADMIN_TOKEN. */
  adminToken: string | null;
  /** Bearer token clients send labels with (router.labels: token), only ever from DRIFTGATE_LABEL_TOKEN. */
  labelToken: string | null;
  /** The key request ids are signed with (DRIFTGATE_REQUEST_KEY); null: a key file beside the log. */
  requestKey: string | null;
};

export type Env = Readonly<Record<string, string | undefined>>;

/** `--config` wins, then DRIFTGATE_CONFIG, then the default path under the working directory. */
export function configPath(flag: string | undefined, env: Env = process.env, cwd = process.cwd()): string {
  return path.resolve(cwd, flag ?? env.DRIFTGATE_CONFIG ?? DEFAULT_CONFIG_PATH);
}

export function loadConfig(file: string, env: Env = process.env): Config {
  const text = readConfigText(file);
  return parseConfig(text, file, env);
}

function readConfigText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      throw new ConfigError(file, '', 'file not found (pass --config PATH or set DRIFTGATE_CONFIG)', { cause: error, code: 'CONFIG_NOT_FOUND' });
    }
    if (code === 'EISDIR') throw new ConfigError(file, '', 'expected a YAML file, got a directory', { cause: error });
    throw new ConfigError(file, '', `cannot read the file (${code ?? String(error)})`, { cause: error });
  }
}

/** Validate YAML text; `file` names the source in messages and anchors relative paths. */
export function parseConfig(text: string, file: string, env: Env = process.env): Config {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: false, lineCounter });
  const yamlError = doc.errors[0];
  if (yamlError) {
    const at = lineCounter.linePos(yamlError.pos[0]);
    const where = `line ${at.line}, column ${at.col}`;
    throw new ConfigError(file, where, `broken YAML: ${yamlError.message.split('\n')[0]}`, { cause: yamlError });
  }
  let raw: RawConfig;
  try {
    raw = configSchema.parse(doc.toJS(), '');
  } catch (error) {
    if (error instanceof SchemaIssue) throw new ConfigError(file, error.keyPath, error.detail, { cause: error });
    throw error;
  }
  checkCrossFields(raw, file);
  const dir = path.dirname(path.resolve(file));
  const config: Config = { ...raw, source: { file: path.resolve(file), dir }, adminToken: null, labelToken: null, requestKey: null };
  applyEnv(config, env);
  resolvePaths(config, dir);
  return config;
}

function checkCrossFields(raw: RawConfig, file: string): void {
  const { dataset, mlflow, ab } = raw;
  const targetIndex = dataset.features.findIndex((f) => f.name === dataset.target);
  if (targetIndex >= 0) {
    throw new ConfigError(file, `dataset.features[${targetIndex}]`, `expected a feature column, got the target ${JSON.stringify(dataset.target)}`);
  }
  if (mlflow.prod_alias === mlflow.staging_alias) {
    throw new ConfigError(file, 'mlflow.staging_alias', `expected an alias different from prod_alias, got ${describe(mlflow.staging_alias)} for both`);
  }
  if (ab.max_labeled < ab.min_labeled) {
    throw new ConfigError(file, 'ab.max_labeled', `expected a number >= ab.min_labeled (${ab.min_labeled}), got ${ab.max_labeled}`);
  }
}

/** Twelve-factor overrides for the deployment fields; a bad value names the variable. */
function applyEnv(config: Config, env: Env): void {
  const set = (name: string): string | undefined => {
    const value = env[name];
    return value === undefined || value === '' ? undefined : value;
  };
  const uri = set('MLFLOW_TRACKING_URI');
  if (uri !== undefined) {
    if (!/^https?:\/\//.test(uri)) {
      throw new ConfigError('environment', 'MLFLOW_TRACKING_URI', `expected an http(s):// tracking server URI, got ${describe(uri)}`);
    }
    config.mlflow.tracking_uri = uri;
  }
  const host = set('DRIFTGATE_ROUTER_HOST');
  if (host !== undefined) config.router.host = host;
  const port = set('DRIFTGATE_ROUTER_PORT');
  if (port !== undefined) {
    const parsed = Number(port);
    if (!/^\d+$/.test(port) || parsed > 65535) {
      throw new ConfigError('environment', 'DRIFTGATE_ROUTER_PORT', `expected an integer from 0 to 65535, got ${describe(port)}`);
    }
    config.router.port = parsed;
  }
  const logPath = set('DRIFTGATE_LOG_PATH');
  // An env path is relative to where the process runs, like any path given on a command line.
  if (logPath !== undefined) config.router.log_path = path.resolve(logPath);
  config.adminToken = set('DRIFTGATE_ADMIN_TOKEN') ?? null;
  config.labelToken = set('DRIFTGATE_LABEL_TOKEN') ?? null;
  const requestKey = set('DRIFTGATE_REQUEST_KEY');
  if (requestKey !== undefined && requestKey.length < 16) {
    throw new ConfigError('environment', 'DRIFTGATE_REQUEST_KEY', `expected a secret of at least 16 characters, got ${requestKey.length}`);
  }
  config.requestKey = requestKey ?? null;
}

/** Relative paths in the file are relative to the file, so a command works from any directory. */
function resolvePaths(config: Config, dir: string): void {
  const at = (p: string): string => path.resolve(dir, p);
  config.dataset.reference = at(config.dataset.reference);
  if (config.dataset.current !== null) config.dataset.current = at(config.dataset.current);
  config.drift.reports_dir = at(config.drift.reports_dir);
  if (config.drift.reference_profile !== null) config.drift.reference_profile = at(config.drift.reference_profile);
  config.ab.reports_dir = at(config.ab.reports_dir);
  config.mlflow.state_dir = at(config.mlflow.state_dir);
  config.router.log_path = at(config.router.log_path);
  config.router.model_cache_dir = at(config.router.model_cache_dir);
}
