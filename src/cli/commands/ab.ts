import path from 'node:path';
import type { AbEvaluation } from '../../ab/evaluation.js';
import { summaryLine } from '../../ab/evaluate.js';
import { runEvaluation } from '../../ab/run-evaluation.js';
import type { Config } from '../../config/index.js';
import { resetShares, writeShares, type Shares } from '../../config/write-split.js';
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

/** The shares a test opens with under ab.design: users sent to B (split), requests B also predicts (shadow). */
function startShares(values: CommandContext['values'], config: Config): Required<Shares> {
  const design = config.ab.design;
  if (design === 'shadow' && values.split !== undefined) {
    throw new UsageError(`ab start: --split sends users to staging, but ab.design is shadow in ${config.source.file} (staging predicts in shadow, at router.ab_start_shadow_share); set ab.design to split or both, or leave --split out`);
  }
  return {
    ab_split_b: design === 'shadow' ? 0 : startSplit(values, config),
    shadow_share: design === 'split' ? 0 : config.router.ab_start_shadow_share,
  };
}

async function start({ values, config, log }: CommandContext): Promise<CommandOutcome> {
  const shares = startShares(values, config);
  const split = shares.ab_split_b;
  const client = await connectRegistry(config);
  const file = config.source.file;
  await recover({ client, config, log, resetSplit: () => resetShares(file) });
  const state = await registryState(client, config);
  const { prod_alias: prodAlias, staging_alias: stagingAlias } = config.mlflow;
  const base = { prod: state.prod, staging: state.staging, config_file: file, design: config.ab.design };
  const notStarted = (reason: string): CommandOutcome => ({
    result: { started: false, reason, ab_split_b: config.router.ab_split_b, shadow_share: config.router.shadow_share, ...base },
    human: reason,
  });
  if (state.staging === null) return notStarted(`no ${stagingAlias} version; nothing to start`);
  if (state.prod === null) return notStarted(`no ${prodAlias} version to test ${stagingAlias} version ${state.staging} against; nothing to start`);
  if (state.staging === state.prod) return notStarted(`${stagingAlias} and ${prodAlias} are the same version ${state.prod}; nothing to start`);
  const previous = config.router.ab_split_b;
  writeShares(file, shares);
  const shadowText = config.ab.design === 'split' ? '' : `, router.shadow_share ${config.router.shadow_share} -> ${shares.shadow_share}`;
  log(`[ab] router.ab_split_b ${previous} -> ${split}${shadowText} in ${file}${config.ab.design === 'split' ? '' : ` (ab.design ${config.ab.design})`}`);
  const how = [
    ...(split > 0 ? [`${split * 100}% of users go to ${stagingAlias} version ${state.staging}, the rest to ${prodAlias} version ${state.prod}`] : []),
    ...(shares.shadow_share > 0 ? [`${stagingAlias} version ${state.staging} also predicts in shadow on ${shares.shadow_share * 100}% of the requests ${prodAlias} answers`] : []),
  ].join('; ');
  return {
    result: {
      started: true,
      reason: `A/B test (${config.ab.design}) of ${stagingAlias} version ${state.staging} against ${prodAlias} version ${state.prod}${split > 0 ? ` at split ${split}` : ''}${shares.shadow_share > 0 ? ` with shadow share ${shares.shadow_share}` : ''}`,
      ab_split_b: split,
      previous_split: previous,
      shadow_share: shares.shadow_share,
      ...base,
    },
    human: `A/B test started: ${how}${previous === split && split > 0 ? ' (the split was already set)' : ''}`,
  };
}

async function status({ config }: CommandContext): Promise<CommandOutcome> {
  const client = await connectRegistry(config);
  const state = await registryState(client, config);
  const split = config.router.ab_split_b;
  const shadowShare = config.router.shadow_share;
  // A test runs when staging gets users (the split) or predicts beside prod (the shadow share), as far as ab.design reads them.
  const design = config.ab.design;
  const traffic = (design !== 'shadow' && split > 0 && split < 1) || (design !== 'split' && shadowShare > 0);
  const running = state.prod !== null && state.staging !== null && state.staging !== state.prod && traffic;
  const result = {
    model_name: config.mlflow.model_name,
    prod: state.prod === null ? null : { version: state.prod },
    staging: state.staging === null ? null : { version: state.staging },
    previous_prod: state.previous === null ? null : { version: state.previous, alias: previousAlias(config) },
    ab_split_b: split,
    running,
    pending_transition: state.journal,
    shadow_share: shadowShare,
    watch: state.watch,
  };
  const human = [
    `${config.mlflow.model_name}: ${config.mlflow.prod_alias} ${state.prod ?? '-'}, ${config.mlflow.staging_alias} ${state.staging ?? '-'}, ${previousAlias(config)} ${state.previous ?? '-'}`,
    `router.ab_split_b ${split}, router.shadow_share ${shadowShare} (ab.design ${design}): ${running ? 'an A/B test is running' : 'no A/B test is running'}`,
    ...(state.watch
      ? [`watching ${config.mlflow.prod_alias} version ${state.watch.version} since ${state.watch.started_at}: version ${state.watch.previous} predicts in shadow (ab.watch.share ${config.ab.watch.share}); 'driftgate ab evaluate --apply' rolls back a worse new prod`]
      : []),
    ...(state.journal ? [`an interrupted ${state.journal.kind} of version ${state.journal.version} is pending ('driftgate ab evaluate --apply' completes it)`] : []),
  ].join('\n');
  return { result, human };
}

const command: Command = {
  summary: 'A/B test of staging against prod: evaluate (and --apply the decision), start, status',
  usage: 'evaluate|start|status',
  details: [
    'evaluate  read the predictions log, run the guardrails and the sequential test, write',
    '          reports/ab/<id>/{report.json,report.html} and an MLflow run; decision',
    '          promote|reject|rollback|continue (the paired test for shadow rows, the split test for split rows).',
    '          --apply acts on it: promote moves prod to staging (the old prod stays as previous_prod and is',
    '          watched in shadow, ab.watch), reject tags staging rejected; both remove staging and reset',
    '          router.ab_split_b and router.shadow_share to 0; rollback restores previous_prod after a watch',
    '          found the new prod worse; a watch that has run its course ends.',
    'start     open the test as ab.design says, when a staging version exists: router.ab_split_b to',
    '          --split or router.ab_start_split (split, both), router.shadow_share to',
    '          router.ab_start_shadow_share (shadow, both).',
    'status    aliases, shares, the watch, and any interrupted transition.',
  ].join('\n'),
  options: {
    apply: { type: 'boolean', description: 'evaluate: act on the decision (promote, reject or rollback) in the registry and the config' },
    log: { type: 'string', valueName: 'PATH|GLOB', description: 'evaluate: the predictions log(s) to read (default router.log_path)' },
    split: { type: 'string', valueName: 'X', description: 'start: the share of users sent to staging (default router.ab_start_split; not with ab.design shadow)' },
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
