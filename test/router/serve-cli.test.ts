import net from 'node:net';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { tempDir, writeConfig } from '../helpers/config.js';
import { freePort } from '../helpers/net.js';

const servers: net.Server[] = [];
afterAll(() => {
  for (const server of servers) server.close();
});

describe('driftgate serve (CLI)', () => {
  it('--help describes the router', async () => {
    const { exitCode, stdout } = await runCli(['serve', '--help']);
    expect(exitCode).toBe(0);
    expect(stdout.split('\n')[0]).toBe('Usage: driftgate serve [options]');
    expect(stdout).toContain('SIGTERM or Ctrl-C: stop accepting, finish in-flight requests, flush, exit 0.');
  });

  it('a taken port exits 2 with one line, before any worker starts', async () => {
    const port = await freePort();
    const holder = net.createServer();
    await new Promise<void>((resolve) => holder.listen(port, '127.0.0.1', resolve));
    servers.push(holder);
    const dir = tempDir();
    const config = writeConfig(dir, { router: { port, log_path: path.join(dir, 'predictions.csv') } });
    const started = Date.now();
    const { exitCode, stdout, stderr } = await runCli(['serve', '--config', config]);
    expect(exitCode).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toBe(`driftgate: cannot listen on 127.0.0.1:${port}: the port is taken; stop that program or set router.port (DRIFTGATE_ROUTER_PORT)\n`);
    expect(Date.now() - started).toBeLessThan(15_000);
  });
});
