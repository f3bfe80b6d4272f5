export { configPath, DEFAULT_CONFIG_PATH, loadConfig, parseConfig, type Config, type Env } from './load.js';
export type { Feature } from './config-schema.js';
