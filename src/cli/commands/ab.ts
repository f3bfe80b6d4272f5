import path from 'node:path';
import type { AbEvaluation } from '../../ab/evaluation.js';
import { summaryLine } from '../../ab/evaluate.js';
import { runEvaluation } from '../../ab/run-evaluation.js';
import type { Config } from '../../config/index.js';
import { writeSplit } from '../../config/write-split.js';
import { ConfigError, UsageError } from '../../errors.js';
import { connectRegistry, previousAlias, recover, registryState } from '../../registry/index.js';
import { stringOption, type Command, type CommandContext, type CommandOutcome } from '../command.js';

const SUBCOMMANDS = ['evaluate', 'start', 'status'] as const;
type Subcommand = (typeof SUBCOMMANDS)[number];

/** The --json line stays small for XCom: the p-value path and the full malformed list are in report.json. */
function jsonResult(e: AbEvaluation): Record<string, unknown> {
  const { path: points, log, ...rest } = e;
  return { ...rest, log: { ...log, malformed: log.malformed.slice(0, 5) }, path_points: points.length };
}

async function evaluate({ values, config, log }: CommandContext): Promise<CommandOutcome> {
  const logFlag = stringOption(values, 'log');
  const evaluation = await runEvaluation(config, {
    apply: values.apply === true,
    logPattern: logFlag === undefined ? undefined : path.resolve(logFlag),
    log,
  });
  return { result: jsonResult(evaluation), human: summaryLine(evaluation) };
}

function startSplit(values: CommandContext['values'], config: Config): number {
  const text = stringOption(values, 'split');
  if (text === undefined) {
    const split = config.router.ab_start_split;
    if (!(split > 0 && split < 1)) {
      throw new ConfigError(config.source.file, 'router.ab_start_split', `expected a number > 0 and < 1 to start a test with, got ${split}`);
    }
    return split;
  }
  const split = Number(text);
  if (text.trim() === '' || !(split > 0 && split < 1)) throw new UsageError(`--split: expected a number > 0 and < 1, got ${JSON.stringify(text)}`);
  return split;
}

async function start({ values, config, log }: CommandContext): Promise<CommandOutcome> {
  const split = startSplit(values, config);
  const client = await connectRegistry(config);
  const file = config.source.file;
  await recover({ client, config, log, resetSplit: () => writeSplit(file, 0) });
  const state = await registryState(client, config);
  const { prod_alias: prodAlias, staging_alias: stagingAlias } = config.mlflow;
  const base = { prod: state.prod, staging: state.staging, config_file: file };
  const notStarted = (reason: string): CommandOutcome => ({ result: { started: false, reason, ab_split_b: config.router.ab_split_b, ...base }, human: reason });
  if (state.staging === null) return notStarted(`no ${stagingAlias} version; nothing to start`);
  if (state.prod === null) return notStarted(`no ${prodAlias} version to test ${stagingAlias} version ${state.staging} against; nothing to start`);
  if (state.staging === state.prod) return notStarted(`${stagingAlias} and ${prodAlias} are the same version ${state.prod}; nothing to start`);
  const previous = config.router.ab_split_b;
  writeSplit(file, split);
  log(`[ab] router.ab_split_b ${previous} -> ${split} in ${file}`);
  return {
    result: { started: true, reason: `A/B test of ${stagingAlias} version ${state.staging} against ${prodAlias} version ${state.prod} at split ${split}`, ab_split_b: split, previous_split: previous, ...base },
    human: `A/B test started: ${split * 100}% of users go to ${stagingAlias} version ${state.staging}, the rest to ${prodAlias} version ${state.prod}${previous === split ? ' (the split was already set)' : ''}`,
  };
}

async function status({ config }: CommandContext): Promise<CommandOutcome> {
  const client = await connectRegistry(config);
  const state = await registryState(client, config);
  const split = config.router.ab_split_b;
  const running = state.prod !== null && state.staging !== null && state.staging !== state.prod && split > 0 && split < 1;
  const result = {
    model_name: config.mlflow.model_name,
    prod: state.prod === null ? null : { version: state.prod },
    staging: state.staging === null ? null : { version: state.staging },
    previous_prod: state.previous === null ? null : { version: state.previous, alias: previousAlias(config) },
    ab_split_b: split,
    running,
    pending_transition: state.journal,
  };
  const human = [
    `${config.mlflow.model_name}: ${config.mlflow.prod_alias} ${state.prod ?? '-'}, ${config.mlflow.staging_alias} ${state.staging ?? '-'}, ${previousAlias(config)} ${state.previous ?? '-'}`,
    `router.ab_split_b ${split}: ${running ? 'an A/B test is running' : 'no A/B test is running'}`,
    ...(state.journal ? [`an interrupted ${state.journal.kind} of version ${state.journal.version} is pending ('driftgate ab evaluate --apply' completes it)`] : []),
  ].join('\n');
  return { result, human };
}

const command: Command = {
  summary: 'A/B test of staging against prod: evaluate (and --apply the decision), start, status',
  usage: 'evaluate|start|status',
  details: [
    'evaluate  read the predictions log, run the guardrails and the sequential test, write',
    '          reports/ab/<id>/{report.json,report.html} and an MLflow run; decision promote|reject|continue.',
    '          --apply acts on it: promote moves prod to staging (the old prod stays as previous_prod),',
    '          reject tags staging rejected; both remove staging and reset router.ab_split_b to 0.',
    'start     set router.ab_split_b to --split or router.ab_start_split, when a staging version exists.',
    'status    aliases, split, and any interrupted transition.',
  ].join('\n'),
  options: {
    apply: { type: 'boolean', description: 'evaluate: act on the decision (promote or reject) in the registry and the config' },
    log: { type: 'string', valueName: 'PATH|GLOB', description: 'evaluate: the predictions log(s) to read (default router.log_path)' },
    split: { type: 'string', valueName: 'X', description: 'start: the share of users sent to staging (default router.ab_start_split)' },
  },
  async run(context) {
    const sub = context.positionals[0];
    if (!SUBCOMMANDS.includes(sub as Subcommand) || context.positionals.length > 1) {
      throw new UsageError(`ab: expected one of ${SUBCOMMANDS.join(', ')}, got ${sub === undefined ? 'nothing' : context.positionals.map((p) => JSON.stringify(p)).join(' ')}`);
    }
    const misplaced = (['apply', 'log', 'split'] as const).filter((o) => context.values[o] !== undefined && !(o === 'split' ? sub === 'start' : sub === 'evaluate'));
    if (misplaced.length) throw new UsageError(`ab ${sub}: --${misplaced[0]} does not apply here (${misplaced[0] === 'split' ? 'ab start' : 'ab evaluate'} only)`);
    if (sub === 'evaluate') return evaluate(context);
    if (sub === 'start') return start(context);
    return status(context);
  },
};

export default command;
