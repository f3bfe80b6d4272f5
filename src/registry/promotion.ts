/**
 * Registry transitions: promote, reject, rollback. Each one is written to a journal (a tag on the
 * registered model) before its first step and removed after its last, and every step is idempotent
 * ("set X to Y"), so a crash at any point is completed by the next transition or `ab evaluate
 * --apply`, and re-running a finished one changes nothing. `prod` is an alias, which MLflow keeps
 * unique per model: moving it is the single atomic commit point, and no two versions are ever prod.
 */
import type { Config } from '../config/index.js';
import { DriftgateError, InputError } from '../errors.js';
import { registryState, type RegistryState } from './aliases.js';
import { type MlflowClient, type ModelVersion, versionTag } from './client.js';
import { JOURNAL_TAG, previousAlias, VERSION_TAGS, WATCH_TAG, type DecisionTag } from './vocabulary.js';
import { readWatch, type Watch } from './watch.js';

export interface Transition {
  kind: 'promote' | 'reject' | 'rollback';
  /** promote: the new prod; reject: the rejected staging version; rollback: the version restored to prod. */
  version: string;
  /** The decision tag the transition writes on `version` (promote: promoted or manual-promote). */
  decision: DecisionTag;
  /** promote: the prod it replaces; rollback: the prod it undoes; reject: null. */
  replaced: string | null;
  /** Where the previous-prod alias points afterwards (null: removed); unused by reject. */
  previousAfter: string | null;
  /** Whether `version` was staging when the transition started (then staging goes and the split resets). */
  fromStaging: boolean;
  reason: string;
  /** The MLflow run of the evaluation that decided it, if any. */
  runId: string | null;
  at: string;
  /** promote: the watch the new prod starts under (ab.watch), or null (none configured, nothing replaced). Absent in older journals. */
  watch?: { labels: number; hours: number } | null;
}

/** The registry calls a transition makes; MlflowClient in production. */
export type RegistryClient = Pick<
  MlflowClient,
  'getRegisteredModel' | 'getVersion' | 'setAlias' | 'deleteAlias' | 'setVersionTag' | 'setModelTag' | 'deleteModelTag'
>;

export interface PromotionDeps {
  client: RegistryClient;
  config: Config;
  /** Sets router.ab_split_b and router.shadow_share to 0 in the config file (resetShares in production; a spy in tests). */
  resetSplit: () => void;
  log: (line: string) => void;
  now?: () => Date;
}

export interface TransitionResult {
  transition: Transition | null;
  /** What changed, one line per step; empty when there was nothing to do. */
  steps: string[];
  /** A transition that an earlier, interrupted command had started and this call completed. */
  recovered: Transition | null;
  message: string;
}

// MLflow caps tag values at 5000 characters.
function tagValue(text: string): string {
  return text.length > 4000 ? `${text.slice(0, 3997)}...` : text;
}

/** Runs the steps of a transition; each step checks or sets, so running it twice is harmless. */
async function execute(deps: PromotionDeps, t: Transition): Promise<string[]> {
  const { client, config } = deps;
  const name = config.mlflow.model_name;
  const prodAlias = config.mlflow.prod_alias;
  const stagingAlias = config.mlflow.staging_alias;
  const steps: string[] = [];
  const tagDecision = async (version: string, decision: DecisionTag, extra: Record<string, string> = {}): Promise<void> => {
    const tags: Record<string, string> = {
      [VERSION_TAGS.decision]: decision,
      [VERSION_TAGS.decisionReason]: tagValue(t.reason),
      ...(t.runId ? { [VERSION_TAGS.decisionRunId]: t.runId } : {}),
      ...extra,
    };
    for (const [key, value] of Object.entries(tags)) await client.setVersionTag(name, version, key, value);
    steps.push(`version ${version} tagged ${VERSION_TAGS.decision}=${decision}`);
  };
  const endStaging = async (): Promise<void> => {
    deps.resetSplit();
    steps.push('router.ab_split_b and router.shadow_share reset to 0');
    // Only remove staging if it still names this version: a newer candidate may have taken it since.
    const now = await registryState(client, config);
    if (now.staging === t.version) {
      await client.deleteAlias(name, stagingAlias);
      steps.push(`alias ${stagingAlias} removed (was version ${t.version})`);
    }
  };

  if (t.kind === 'promote') {
    await tagDecision(t.version, t.decision, t.replaced ? { [VERSION_TAGS.previousProd]: t.replaced } : {});
    await client.setAlias(name, prodAlias, t.version);
    steps.push(`alias ${prodAlias} -> version ${t.version}${t.replaced ? ` (was ${t.replaced})` : ''}`);
    if (t.replaced) {
      await client.setAlias(name, previousAlias(config), t.replaced);
      steps.push(`alias ${previousAlias(config)} -> version ${t.replaced}`);
      await tagDecision(t.replaced, 'replaced', { [VERSION_TAGS.replacedBy]: t.version });
    }
    if (t.fromStaging) await endStaging();
    if (t.replaced && t.watch) {
      const watch: Watch = { version: t.version, previous: t.replaced, started_at: t.at, labels: t.watch.labels, hours: t.watch.hours };
      await client.setModelTag(name, WATCH_TAG, JSON.stringify(watch));
      steps.push(`watch started: version ${t.version} beside version ${t.replaced} in shadow, for ${t.watch.labels} labelled pairs or ${t.watch.hours} hours`);
    } else await clearWatch(deps, steps);
  } else if (t.kind === 'reject') {
    await tagDecision(t.version, 'rejected');
    await endStaging();
  } else {
    if (t.replaced) await tagDecision(t.replaced, 'rolled-back', { [VERSION_TAGS.rolledBackTo]: t.version });
    await tagDecision(t.version, 'restored');
    await client.setAlias(name, prodAlias, t.version);
    steps.push(`alias ${prodAlias} -> version ${t.version}${t.replaced ? ` (was ${t.replaced})` : ''}`);
    if (t.previousAfter) {
      await client.setAlias(name, previousAlias(config), t.previousAfter);
      steps.push(`alias ${previousAlias(config)} -> version ${t.previousAfter}`);
    } else {
      await client.deleteAlias(name, previousAlias(config));
      steps.push(`alias ${previousAlias(config)} removed (nothing older to roll back to)`);
    }
    await clearWatch(deps, steps);
  }
  return steps;
}

/** Ends a watch, if one is on: a rollback or a newer promotion makes it moot. Idempotent. */
async function clearWatch(deps: PromotionDeps, steps: string[]): Promise<void> {
  const name = deps.config.mlflow.model_name;
  const current = readWatch(await deps.client.getRegisteredModel(name));
  if (current === null) return;
  await deps.client.deleteModelTag(name, WATCH_TAG);
  steps.push(`watch ended${current.watch ? ` (version ${current.watch.version} beside ${current.watch.previous})` : ''}`);
}

/** End the watch after a promotion: it ran its course, and the new prod stays. */
export async function endWatch(deps: PromotionDeps): Promise<string[]> {
  const steps: string[] = [];
  await clearWatch(deps, steps);
  return steps;
}

/** Journal, execute, clear: the journal outlives a crash, so the next command can finish the job. */
async function run(deps: PromotionDeps, t: Transition): Promise<string[]> {
  const name = deps.config.mlflow.model_name;
  await deps.client.setModelTag(name, JOURNAL_TAG, JSON.stringify(t));
  const steps = await execute(deps, t);
  await deps.client.deleteModelTag(name, JOURNAL_TAG);
  return steps;
}

/** A journal is replayed only while the registry still looks like the moment it was written. */
function stillApplies(t: Transition, state: RegistryState): boolean {
  if (t.kind === 'reject') return state.prod !== t.version && (state.staging === t.version || state.staging === null);
  return state.prod === t.version || state.prod === t.replaced;
}

function describeTransition(t: Transition): string {
  if (t.kind === 'promote') return `${t.decision === 'manual-promote' ? 'manual promotion' : 'promotion'} of version ${t.version}${t.replaced ? ` over ${t.replaced}` : ''}`;
  if (t.kind === 'reject') return `rejection of version ${t.version}`;
  return `rollback from version ${t.replaced} to ${t.version}`;
}

/**
 * Finish a transition an earlier command started but did not complete (a crash, a killed task), and
 * remove a leftover staging alias that points at prod. Returns the completed transition, if any.
 */
export async function recover(deps: PromotionDeps): Promise<{ transition: Transition | null; steps: string[] }> {
  const { client, config, log } = deps;
  const state = await registryState(client, config);
  const steps: string[] = [];
  let transition: Transition | null = null;
  if (state.journal) {
    if (stillApplies(state.journal, state)) {
      log(`[registry] completing an interrupted ${describeTransition(state.journal)} (started ${state.journal.at})`);
      steps.push(...(await run(deps, state.journal)));
      transition = state.journal;
    } else {
      log(`[registry] the registry changed since an interrupted ${describeTransition(state.journal)} was started; not replaying it`);
      await client.deleteModelTag(config.mlflow.model_name, JOURNAL_TAG);
      steps.push(`dropped the stale journal of the ${describeTransition(state.journal)}`);
    }
  }
  const now = transition ? await registryState(client, config) : state;
  if (now.staging !== null && now.staging === now.prod) {
    log(`[registry] ${config.mlflow.staging_alias} and ${config.mlflow.prod_alias} both point at version ${now.prod}; removing the leftover ${config.mlflow.staging_alias}`);
    deps.resetSplit();
    await client.deleteAlias(config.mlflow.model_name, config.mlflow.staging_alias);
    steps.push('router.ab_split_b and router.shadow_share reset to 0', `alias ${config.mlflow.staging_alias} removed (it pointed at prod version ${now.prod})`);
  }
  return { transition, steps };
}

async function requireVersion(client: RegistryClient, config: Config, version: string): Promise<ModelVersion> {
  if (!/^\d+$/.test(version)) throw new InputError(`--version: expected a registry version number, got ${JSON.stringify(version)}`);
  const found = await client.getVersion(config.mlflow.model_name, version);
  if (!found) throw new InputError(`version ${version} of ${config.mlflow.model_name} does not exist in the registry`, { code: 'NOT_FOUND' });
  return found;
}

/** The watch a promotion over `replaced` starts: ab.watch, unless both of its limits are 0 or nothing is replaced. */
function watchFor(config: Config, replaced: string | null): Transition['watch'] {
  const { labels, hours } = config.ab.watch;
  return replaced !== null && (labels > 0 || hours > 0) ? { labels, hours } : null;
}

function stamp(deps: PromotionDeps): string {
  return (deps.now?.() ?? new Date()).toISOString();
}

/** Move prod to `version` (the A/B winner, or an operator's choice); the replaced prod stays findable. */
export async function promote(
  deps: PromotionDeps,
  options: { version: string; decision: 'promoted' | 'manual-promote'; reason: string; runId?: string | null },
): Promise<TransitionResult> {
  const recovered = await recover(deps);
  await requireVersion(deps.client, deps.config, options.version);
  const state = await registryState(deps.client, deps.config);
  if (state.prod === options.version) {
    return { transition: null, steps: recovered.steps, recovered: recovered.transition, message: `version ${options.version} is already ${deps.config.mlflow.prod_alias}; nothing to do` };
  }
  const t: Transition = {
    kind: 'promote',
    version: options.version,
    decision: options.decision,
    replaced: state.prod,
    previousAfter: state.prod,
    fromStaging: state.staging === options.version,
    reason: options.reason,
    runId: options.runId ?? null,
    at: stamp(deps),
    watch: watchFor(deps.config, state.prod),
  };
  const steps = await run(deps, t);
  return { transition: t, steps: [...recovered.steps, ...steps], recovered: recovered.transition, message: `version ${t.version} is now ${deps.config.mlflow.prod_alias}${t.replaced ? `; version ${t.replaced} is kept as ${previousAlias(deps.config)}` : ''}` };
}

/** End the A/B test against staging `version`: tag it rejected, remove staging, reset the split. */
export async function reject(deps: PromotionDeps, options: { version: string; reason: string; runId?: string | null }): Promise<TransitionResult> {
  const recovered = await recover(deps);
  const state = await registryState(deps.client, deps.config);
  if (state.staging !== options.version) {
    return { transition: null, steps: recovered.steps, recovered: recovered.transition, message: `version ${options.version} is not ${deps.config.mlflow.staging_alias}; nothing to reject` };
  }
  const t: Transition = {
    kind: 'reject',
    version: options.version,
    decision: 'rejected',
    replaced: null,
    previousAfter: null,
    fromStaging: true,
    reason: options.reason,
    runId: options.runId ?? null,
    at: stamp(deps),
  };
  const steps = await run(deps, t);
  return { transition: t, steps: [...recovered.steps, ...steps], recovered: recovered.transition, message: `version ${t.version} is rejected; ${deps.config.mlflow.staging_alias} removed and the split reset to 0` };
}

/**
 * Restore the previous prod. `from` makes a retry idempotent: when prod is no longer `from` because
 * this very rollback already happened, nothing more is rolled back.
 */
export async function rollback(deps: PromotionDeps, options: { from?: string; reason?: string } = {}): Promise<TransitionResult> {
  const { client, config } = deps;
  const recovered = await recover(deps);
  const state = await registryState(client, config);
  const name = config.mlflow.model_name;
  const prodAlias = config.mlflow.prod_alias;
  if (state.prod === null) throw new InputError(`nothing to roll back: ${name} has no ${prodAlias} version`, { code: 'NOT_FOUND' });
  if (options.from !== undefined && options.from !== state.prod) {
    const undone = await requireVersion(client, config, options.from);
    if (versionTag(undone, VERSION_TAGS.decision) === 'rolled-back' && versionTag(undone, VERSION_TAGS.rolledBackTo) === state.prod) {
      return { transition: null, steps: recovered.steps, recovered: recovered.transition, message: `version ${options.from} was already rolled back to ${state.prod}; nothing to do` };
    }
    throw new InputError(`--from ${options.from}: expected the current ${prodAlias} version, got ${prodAlias} = ${state.prod}`);
  }
  const current = await requireVersion(client, config, state.prod);
  const target = state.previous ?? versionTag(current, VERSION_TAGS.previousProd) ?? null;
  if (target === null || target === state.prod) {
    throw new InputError(
      `nothing to roll back to: ${prodAlias} version ${state.prod} has no previous prod (no alias ${previousAlias(config)}, no tag ${VERSION_TAGS.previousProd})`,
      { code: 'NOT_FOUND' },
    );
  }
  const restored = await client.getVersion(name, target);
  if (!restored) throw new DriftgateError('NOT_FOUND', `cannot roll back to version ${target}: it no longer exists in the registry`, { exitCode: 2 });
  const older = versionTag(restored, VERSION_TAGS.previousProd) ?? null;
  const t: Transition = {
    kind: 'rollback',
    version: target,
    decision: 'restored',
    replaced: state.prod,
    previousAfter: older !== null && older !== target && older !== state.prod ? older : null,
    fromStaging: false,
    reason: options.reason ?? `operator rollback from version ${state.prod} to ${target}`,
    runId: null,
    at: stamp(deps),
  };
  const steps = await run(deps, t);
  return { transition: t, steps: [...recovered.steps, ...steps], recovered: recovered.transition, message: `${prodAlias} is back on version ${target} (version ${state.prod} is tagged rolled-back)` };
}
