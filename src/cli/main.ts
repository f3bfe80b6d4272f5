/** The `driftgate` CLI: exit 0 ok, 2 bad input/usage/config (one line on stderr), 1 unexpected. */
import net from 'node:net';
import { parseArgs } from 'node:util';
import { configPath, loadConfig } from '../config/index.js';
import { DriftgateError, UsageError } from '../errors.js';
import type { Command, OptionSpec } from './command.js';

// Command modules load lazily so `driftgate --help` starts without pulling in Fastify or csv-parse.
const commands: Record<string, { summary: string; load: () => Promise<Command> }> = {
  setup: { summary: 'Build the pinned Python environments (done on first use anyway)', load: async () => (await import('./commands/setup.js')).default },
  mlflow: { summary: 'Start, stop or check the MLflow tracking server', load: async () => (await import('./commands/mlflow.js')).default },
  data: { summary: 'Write data sets for demos and tests (drifted batch)', load: async () => (await import('./commands/data.js')).default },
  drift: { summary: 'Measure data drift of current data or live traffic (PSI + KS) and write a report', load: async () => (await import('./commands/drift.js')).default },
  train: { summary: 'Retrain with PyCaret, log to MLflow, register, and set staging', load: async () => (await import('./commands/train.js')).default },
  models: { summary: 'List registered versions with aliases, metrics and tags', load: async () => (await import('./commands/models.js')).default },
  performance: { summary: "Estimate each model's accuracy from its logged probabilities (CBPE), beside the realised one", load: async () => (await import('./commands/performance.js')).default },
  serve: { summary: 'Run the A/B router (prod vs staging) with batched Python inference workers', load: async () => (await import('./commands/serve.js')).default },
  simulate: { summary: 'Send plain or drifted traffic to the router, labels inline or as feedback', load: async () => (await import('./commands/simulate.js')).default },
  ab: { summary: 'A/B test staging against prod: evaluate [--apply], start, status', load: async () => (await import('./commands/ab.js')).default },
  promote: { summary: "Make a version prod by an operator's choice (promote --version N)", load: async () => (await import('./commands/promote.js')).default },
  rollback: { summary: 'Restore the previous prod version', load: async () => (await import('./commands/rollback.js')).default },
  'generate-dag': { summary: 'Write the Airflow DAGs (drift monitor, A/B evaluation) from the config into dags/', load: async () => (await import('./commands/generate-dag.js')).default },
  airflow: { summary: "Run the generated DAGs in Driftgate's own Airflow 3 (check, dags-test, standalone; up, down, trigger on Celery)", load: async () => (await import('./commands/airflow.js')).default },
  demo: { summary: 'Run the whole loop on embedded defaults and print a summary', load: async () => (await import('./commands/demo.js')).default },
  config: { summary: 'Validate the config and print it resolved', load: async () => (await import('./commands/config.js')).default },
};

const globalOptions: Record<string, OptionSpec> = {
  config: { type: 'string', valueName: 'PATH', description: 'config file (default config/driftgate.yaml; env DRIFTGATE_CONFIG)' },
  json: { type: 'boolean', description: 'print the result as one JSON line, last on stdout' },
  help: { type: 'boolean', short: 'h', description: 'show help' },
};

function optionLines(options: Record<string, OptionSpec>): string {
  return Object.entries(options)
    .map(([name, spec]) => {
      const flag = `${spec.short ? `-${spec.short}, ` : '    '}--${name}${spec.type === 'string' ? ` ${spec.valueName ?? 'VALUE'}` : ''}`;
      return `  ${flag.padEnd(30)} ${spec.description}`;
    })
    .join('\n');
}

function mainHelp(): string {
  const width = Math.max(...Object.keys(commands).map((n) => n.length)) + 2;
  return [
    'Usage: driftgate <command> [options]',
    '',
    'Watches a production classifier for data drift, retrains with PyCaret, and promotes through an A/B test.',
    '',
    'Commands:',
    ...Object.entries(commands).map(([name, c]) => `  ${name.padEnd(width)}${c.summary}`),
    '',
    'Global options:',
    optionLines(globalOptions),
    '',
    "Run 'driftgate <command> --help' for a command's options.",
  ].join('\n');
}

function commandHelp(name: string, command: Command): string {
  return [
    `Usage: driftgate ${name}${command.usage ? ` ${command.usage}` : ''} [options]`,
    '',
    command.summary,
    ...(command.details ? ['', command.details] : []),
    '',
    'Options:',
    optionLines({ ...command.options, ...globalOptions }),
  ].join('\n');
}

/** Node's parseArgs messages are long and version-dependent; say it in our words. */
function argumentProblem(error: NodeJS.ErrnoException, options: Record<string, OptionSpec>): string {
  const flag = /'(-[^']*)'/.exec(error.message)?.[1] ?? '';
  const known = Object.keys(options).map((o) => `--${o}`).join(', ');
  if (error.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') return `unknown option ${flag}; expected one of ${known}`;
  if (error.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') return `option ${flag.split(' ')[0]} ${/argument missing/.test(error.message) ? 'expects a value' : 'takes no value'}`;
  return error.message.split('\n')[0] ?? 'bad arguments';
}

/**
 * bin/driftgate.js re-runs itself on the pinned Node and hands the child one end of a socket pair
 * as fd DRIFTGATE_PARENT_FD: when the wrapper dies (even by kill -9) the child reads EOF and stops,
 * so it is never left running on its own.
 */
function watchParent(onGone: () => void): { stop(): void } | null {
  const fd = Number(process.env.DRIFTGATE_PARENT_FD);
  if (!Number.isInteger(fd) || fd < 3) return null;
  // Children of this process (Python, Airflow) must not take the fd for theirs.
  delete process.env.DRIFTGATE_PARENT_FD;
  let socket: net.Socket;
  try {
    socket = new net.Socket({ fd, readable: true, writable: false });
  } catch {
    return null;
  }
  socket.on('end', onGone).on('close', onGone).on('error', onGone);
  socket.resume();
  socket.unref();
  return {
    stop: () => {
      socket.removeAllListeners();
      socket.on('error', () => undefined);
      socket.destroy();
    },
  };
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(`${mainHelp()}\n`);
    return name === undefined ? 2 : 0;
  }
  if (name === '--version') {
    process.stdout.write('driftgate 0.1.0\n');
    return 0;
  }
  const entry = commands[name];
  try {
    if (!entry) throw new UsageError(`unknown command ${JSON.stringify(name)}; expected one of ${Object.keys(commands).join(', ')}`);
    const command = await entry.load();
    const options = { ...command.options, ...globalOptions };
    let parsed: ReturnType<typeof parseArgs>;
    try {
      parsed = parseArgs({ args: rest, options, allowPositionals: true, strict: true });
    } catch (error) {
      throw new UsageError(`${name}: ${argumentProblem(error as NodeJS.ErrnoException, options)}`);
    }
    const { values, positionals } = parsed;
    if (values.help) {
      process.stdout.write(`${commandHelp(name, command)}\n`);
      return 0;
    }
    const config = loadConfig(configPath(values.config as string | undefined));
    const json = values.json === true;
    const controller = new AbortController();
    // The first SIGINT or SIGTERM stops the command; more of them (a Ctrl-C reaches a wrapper and
    // its child alike) must not cut the graceful stop short.
    const onSignal = (signal: NodeJS.Signals): void => {
      if (!controller.signal.aborted) controller.abort();
      else process.stderr.write(`driftgate: ${signal} again: already stopping (SIGKILL stops at once)\n`);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    const parent = watchParent(() => {
      if (controller.signal.aborted) return;
      process.stderr.write('driftgate: the wrapper process that started this one is gone; stopping\n');
      controller.abort();
    });
    try {
      const outcome = await command.run({
        values: values as Record<string, string | boolean | string[] | undefined>,
        positionals,
        config,
        env: process.env,
        log: (message) => process.stderr.write(`${message}\n`),
        json,
        signal: controller.signal,
      });
      if (json) process.stdout.write(`${JSON.stringify(outcome.result)}\n`);
      else process.stdout.write(`${outcome.human ?? JSON.stringify(outcome.result, null, 2)}\n`);
      return 0;
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      parent?.stop();
    }
  } catch (error) {
    if (error instanceof DriftgateError) {
      process.stderr.write(`driftgate: ${error.message}\n`);
      if (process.env.DRIFTGATE_DEBUG && error.cause) process.stderr.write(`${String((error.cause as Error).stack ?? error.cause)}\n`);
      return error.exitCode;
    }
    process.stderr.write(`driftgate: unexpected error: ${(error as Error).message ?? String(error)}\n`);
    if (process.env.DRIFTGATE_DEBUG) process.stderr.write(`${(error as Error).stack}\n`);
    return 1;
  }
}
