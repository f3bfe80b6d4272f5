import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/config.js';
import { lastJson, runCli } from '../helpers/cli.js';

describe('driftgate CLI', () => {
  it('--help lists the commands and exits 0', async () => {
    const { exitCode, stdout } = await runCli(['--help']);
    expect(exitCode).toBe(0);
    expect(stdout).toContain('Usage: driftgate <command> [options]');
    expect(stdout).toMatch(/^ {2}mlflow {2,}Start, stop or check the MLflow tracking server$/m);
  });

  it('each command has --help', async () => {
    const { exitCode, stdout } = await runCli(['mlflow', '--help']);
    expect(exitCode).toBe(0);
    expect(stdout.split('\n')[0]).toBe('Usage: driftgate mlflow start|stop|status [options]');
  });

  it('an unknown command exits 2 with one line', async () => {
    const { exitCode, stderr, stdout } = await runCli(['fly']);
    expect(exitCode).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toMatch(/^driftgate: unknown command "fly"; expected one of setup, mlflow, data, drift, train, models, performance, serve, simulate, ab, promote, rollback, generate-dag, airflow, demo, config\n$/);
  });

  it('an unknown option exits 2 with one line', async () => {
    const { exitCode, stderr } = await runCli(['config', '--frobnicate']);
    expect(exitCode).toBe(2);
    expect(stderr).toBe('driftgate: config: unknown option --frobnicate; expected one of --config, --json, --help\n');
    const missingValue = await runCli(['config', '--config']);
    expect(missingValue.exitCode).toBe(2);
    expect(missingValue.stderr).toBe('driftgate: config: option --config expects a value\n');
  });

  const dir = tempDir();
  const bad = path.join(dir, 'bad.yaml');
  writeFileSync(bad, 'dataset:\n  reference: x.csv\n  target: y\n  features: [a]\n  classes: [p, q]\nrouter:\n  ab_split_b: 1.7\n');
  const commands = [['config'], ['mlflow', 'status'], ['mlflow', 'start'], ['mlflow', 'stop'], ['data', 'drifted'], ['setup']];
  it.each(commands)('%s rejects a bad --config with exit 2 and one clear line', async (...command) => {
    const { exitCode, stderr, stdout } = await runCli([...command, '--config', bad]);
    expect(exitCode).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toBe(`driftgate: ${bad}: router.ab_split_b: expected a number >= 0 and <= 1, got number 1.7\n`);
  });

  it('a missing --config file and DRIFTGATE_CONFIG are both honoured', async () => {
    const missing = path.join(dir, 'missing.yaml');
    const viaFlag = await runCli(['config', '--config', missing]);
    expect(viaFlag.exitCode).toBe(2);
    expect(viaFlag.stderr).toBe(`driftgate: ${missing}: file not found (pass --config PATH or set DRIFTGATE_CONFIG)\n`);
    const viaEnv = await runCli(['config'], { env: { DRIFTGATE_CONFIG: bad } });
    expect(viaEnv.exitCode).toBe(2);
  });

  it('--json prints exactly one JSON line last on stdout', async () => {
    const { exitCode, stdout } = await runCli(['config', '--json'], { env: { DRIFTGATE_ROUTER_PORT: '9123', DRIFTGATE_ADMIN_TOKEN: 'x', DRIFTGATE_LABEL_TOKEN: 'label-s3cret' } });
    expect(exitCode).toBe(0);
    expect(stdout.trimEnd().split('\n')).toHaveLength(1);
    const config = lastJson(stdout) as { router: { port: number; labels: string }; adminToken: string; labelToken: string };
    expect(config.router.port).toBe(9123);
    expect(config.adminToken).toBe('(set)');
    // Secrets are shown as set, never printed.
    expect([config.labelToken, config.router.labels]).toEqual(['(set)', 'token']);
    expect(stdout).not.toContain('label-s3cret');
  });
});
