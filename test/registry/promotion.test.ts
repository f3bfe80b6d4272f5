import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config/index.js';
import { InputError } from '../../src/errors.js';
import { MlflowClient } from '../../src/registry/client.js';
import { endWatch, promote, recover, reject, rollback, type PromotionDeps } from '../../src/registry/promotion.js';
import { registryState } from '../../src/registry/aliases.js';
import { FakeRegistry } from '../helpers/ab-fake-registry.js';
import { snapshot, stubModel } from '../helpers/ab-registry.js';
import { startMlflow, type MlflowFixture } from '../helpers/mlflow.js';

let mlflow: MlflowFixture;
const AT = new Date(Date.UTC(2025, 8, 17, 12));

beforeAll(async () => {
  mlflow = await startMlflow();
});
afterAll(async () => {
  await mlflow?.stop();
});

function deps(config: Config, client = new MlflowClient(config.mlflow.tracking_uri)): PromotionDeps & { splits: number[] } {
  const splits: number[] = [];
  return { client, config, log: () => undefined, resetSplit: () => void splits.push(0), now: () => AT, splits };
}

async function model(aliases: Record<string, string>, count = 3): Promise<Config> {
  const config = await stubModel(mlflow.config, count);
  const client = new MlflowClient(config.mlflow.tracking_uri);
  for (const [alias, version] of Object.entries(aliases)) await client.setAlias(config.mlflow.model_name, alias, version);
  return config;
}

const WRITES = new Set(['setAlias', 'deleteAlias', 'setVersionTag', 'setModelTag', 'deleteModelTag']);

/** A real client that dies (throws) at its k-th registry write, the way a killed process stops. */
function crashingDeps(config: Config, crashAt: number): PromotionDeps & { writes: () => number } {
  const real = new MlflowClient(config.mlflow.tracking_uri);
  let writes = 0;
  const step = (): void => {
    if (writes++ === crashAt) throw new Error(`simulated crash at write ${crashAt}`);
  };
  const client = new Proxy(real, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof value !== 'function') return value;
      return WRITES.has(String(prop))
        ? async (...args: unknown[]) => {
            step();
            return (value as (...a: unknown[]) => unknown).apply(target, args);
          }
        : (value as (...a: unknown[]) => unknown).bind(target);
    },
  });
  return { client, config, log: () => undefined, resetSplit: step, now: () => AT, writes: () => writes };
}

describe('promote', () => {
  it('moves prod to staging’s version, keeps the old prod findable, removes staging, resets the split', async () => {
    const config = await model({ prod: '1', staging: '2' });
    const d = deps(config);
    const result = await promote(d, { version: '2', decision: 'promoted', reason: 'B beats A', runId: 'run-1' });
    expect(result.message).toBe('version 2 is now prod; version 1 is kept as previous_prod');
    expect(result.steps).toEqual([
      'version 2 tagged driftgate.decision=promoted',
      'alias prod -> version 2 (was 1)',
      'alias previous_prod -> version 1',
      'version 1 tagged driftgate.decision=replaced',
      'router.ab_split_b and router.shadow_share reset to 0',
      'alias staging removed (was version 2)',
      'watch started: version 2 beside version 1 in shadow, for 1000 labelled pairs or 24 hours',
    ]);
    expect(d.splits).toEqual([0]);
    // The watch (ab.watch): the replaced prod predicts in shadow beside the new one.
    expect((await registryState(d.client, config)).watch).toEqual({ version: '2', previous: '1', started_at: AT.toISOString(), labels: 1000, hours: 24 });
    expect(await snapshot(config)).toEqual({
      aliases: { previous_prod: '1', prod: '2' },
      journal: null,
      tags: {
        '1': { 'driftgate.decision': 'replaced', 'driftgate.decision_reason': 'B beats A', 'driftgate.decision_run_id': 'run-1', 'driftgate.replaced_by': '2' },
        '2': { 'driftgate.decision': 'promoted', 'driftgate.decision_reason': 'B beats A', 'driftgate.decision_run_id': 'run-1', 'driftgate.previous_prod': '1' },
      },
    });
    const again = await promote(d, { version: '2', decision: 'promoted', reason: 'B beats A', runId: 'run-1' });
    expect(again).toMatchObject({ transition: null, steps: [], message: 'version 2 is already prod; nothing to do' });
  });

  it('an operator’s choice of a non-staging version leaves the running test’s staging alone', async () => {
    const config = await model({ prod: '1', staging: '3' });
    const d = deps(config);
    await promote(d, { version: '2', decision: 'manual-promote', reason: 'hotfix' });
    expect((await snapshot(config)).aliases).toEqual({ previous_prod: '1', prod: '2', staging: '3' });
    expect(d.splits).toEqual([]);
    expect((await snapshot(config)).tags['2']).toMatchObject({ 'driftgate.decision': 'manual-promote', 'driftgate.previous_prod': '1' });
  });

  it('an unknown version is bad input', async () => {
    const config = await model({ prod: '1' });
    const missing = promote(deps(config), { version: '9', decision: 'manual-promote', reason: 'x' });
    await expect(missing).rejects.toBeInstanceOf(InputError);
    await expect(missing).rejects.toThrow(`version 9 of ${config.mlflow.model_name} does not exist in the registry`);
    await expect(promote(deps(config), { version: 'v2', decision: 'manual-promote', reason: 'x' })).rejects.toThrow('--version: expected a registry version number, got "v2"');
  });
});

describe('reject', () => {
  it('tags staging rejected, removes it, resets the split, and leaves prod alone', async () => {
    const config = await model({ prod: '1', staging: '2' });
    const d = deps(config);
    const result = await reject(d, { version: '2', reason: 'B is worse than A', runId: 'run-2' });
    expect(result.message).toBe('version 2 is rejected; staging removed and the split reset to 0');
    expect(await snapshot(config)).toEqual({
      aliases: { prod: '1' },
      journal: null,
      tags: { '2': { 'driftgate.decision': 'rejected', 'driftgate.decision_reason': 'B is worse than A', 'driftgate.decision_run_id': 'run-2' } },
    });
    expect(d.splits).toEqual([0]);
    expect((await reject(d, { version: '2', reason: 'again' })).message).toBe('version 2 is not staging; nothing to reject');
  });
});

describe('rollback', () => {
  it('restores the previous prod, walks the chain back, and says when there is nothing left', async () => {
    const config = await model({ prod: '1', staging: '2' });
    const d = deps(config);
    await promote(d, { version: '2', decision: 'promoted', reason: 'win' });
    await promote(d, { version: '3', decision: 'manual-promote', reason: 'operator' });
    expect((await snapshot(config)).aliases).toEqual({ previous_prod: '2', prod: '3' });

    const first = await rollback(d);
    expect(first.message).toBe('prod is back on version 2 (version 3 is tagged rolled-back)');
    let state = await snapshot(config);
    expect(state.aliases).toEqual({ previous_prod: '1', prod: '2' });
    expect(state.tags['3']).toMatchObject({ 'driftgate.decision': 'rolled-back', 'driftgate.rolled_back_to': '2' });
    expect(state.tags['2']).toMatchObject({ 'driftgate.decision': 'restored' });

    // A retry of the same rollback is harmless with --from.
    expect((await rollback(d, { from: '3' })).message).toBe('version 3 was already rolled back to 2; nothing to do');
    await expect(rollback(d, { from: '1' })).rejects.toThrow('--from 1: expected the current prod version, got prod = 2');

    await rollback(d);
    state = await snapshot(config);
    expect(state.aliases).toEqual({ prod: '1' });
    const nothing = rollback(d);
    await expect(nothing).rejects.toBeInstanceOf(InputError);
    await expect(nothing).rejects.toThrow('nothing to roll back to: prod version 1 has no previous prod (no alias previous_prod, no tag driftgate.previous_prod)');
  });

  it('without a prod there is nothing to roll back', async () => {
    const config = await model({});
    await expect(rollback(deps(config))).rejects.toThrow(`nothing to roll back: ${config.mlflow.model_name} has no prod version`);
  });
});

describe('a crash at any write is completed by the next command', () => {
  type Case = { name: string; start: Record<string, string>; act: (d: PromotionDeps) => Promise<unknown> };
  const cases: Case[] = [
    { name: 'promote', start: { prod: '1', staging: '2', previous_prod: '3' }, act: (d) => promote(d, { version: '2', decision: 'promoted', reason: 'win', runId: 'r' }) },
    { name: 'reject', start: { prod: '1', staging: '2' }, act: (d) => reject(d, { version: '2', reason: 'worse', runId: 'r' }) },
    // --from keeps a re-run from rolling back one step further.
    { name: 'rollback', start: { prod: '2', previous_prod: '1' }, act: (d) => rollback(d, { from: '2' }) },
  ];

  /**
   * Every crash point, on the in-memory registry: the half-done state never shows staging == prod
   * without a journal, the next transition completes the journal (recover), and re-running the
   * command then changes nothing. The end state always equals an uninterrupted run's.
   */
  it.each(cases)('$name: every crash point (in-memory registry)', async ({ start, act }) => {
    const config = { ...mlflow.config, mlflow: { ...mlflow.config.mlflow, model_name: 'fake' } };
    const fakeDeps = (registry: FakeRegistry): PromotionDeps => ({ client: registry, config, log: () => undefined, resetSplit: () => registry.write(), now: () => AT });
    const clean = new FakeRegistry('fake', 3, start);
    await act(fakeDeps(clean));
    const expected = clean.state();
    expect(clean.writes).toBeGreaterThan(5);
    for (let k = 0; k < clean.writes; k++) {
      const registry = new FakeRegistry('fake', 3, start);
      registry.crashAt = k;
      await expect(act(fakeDeps(registry))).rejects.toThrow(`simulated crash at write ${k}`);
      const midway = registry.state();
      expect(midway.aliases.prod !== undefined && midway.aliases.prod === midway.aliases.staging && !('driftgate.transition' in midway.modelTags)).toBe(false);
      registry.crashAt = -1;
      await recover(fakeDeps(registry));
      if (k > 0) expect({ k, state: registry.state() }).toEqual({ k, state: expected });
      await act(fakeDeps(registry));
      expect({ k, state: registry.state() }).toEqual({ k, state: expected });
    }
  });

  it.each(cases)('$name: crash points on the real server', async ({ start, act }) => {
    const clean = await model(start);
    const counting = crashingDeps(clean, -1);
    await act(counting);
    const expected = await snapshot(clean);
    const total = counting.writes();
    for (const k of [1, Math.floor(total / 2), total - 1]) {
      const config = await model(start);
      await expect(act(crashingDeps(config, k))).rejects.toThrow(`simulated crash at write ${k}`);
      await recover(deps(config));
      expect({ k, state: await snapshot(config) }).toEqual({ k, state: expected });
    }
  });

  it('a journal the registry has moved past is dropped, not replayed', async () => {
    const config = await model({ prod: '1', staging: '2' });
    await expect(promote(crashingDeps(config, 0 + 1), { version: '2', decision: 'promoted', reason: 'win' })).rejects.toThrow('simulated crash');
    // Meanwhile an operator moved prod elsewhere by hand.
    await new MlflowClient(config.mlflow.tracking_uri).setAlias(config.mlflow.model_name, 'prod', '3');
    const result = await recover(deps(config));
    expect(result).toEqual({ transition: null, steps: ['dropped the stale journal of the promotion of version 2 over 1'] });
    expect((await snapshot(config)).aliases).toEqual({ prod: '3', staging: '2' });
  });

  it('a staging alias left on prod is removed', async () => {
    const config = await model({ prod: '2', staging: '2' });
    const d = deps(config);
    const result = await recover(d);
    expect(result.steps).toEqual(['router.ab_split_b and router.shadow_share reset to 0', 'alias staging removed (it pointed at prod version 2)']);
    expect((await snapshot(config)).aliases).toEqual({ prod: '2' });
  });
});

describe('the watch after a promotion', () => {
  it('a rollback ends it; endWatch ends it without one; no watch when ab.watch is off', async () => {
    const config = await model({ prod: '1', staging: '2' });
    const d = deps(config);
    await promote(d, { version: '2', decision: 'promoted', reason: 'B beats A' });
    expect((await registryState(d.client, config)).watch).toMatchObject({ version: '2', previous: '1' });
    const undone = await rollback(d, { from: '2', reason: 'worse in the watch' });
    expect(undone.steps.at(-1)).toBe('watch ended (version 2 beside 1)');
    expect((await registryState(d.client, config)).watch).toBeNull();

    await promote(d, { version: '2', decision: 'manual-promote', reason: 'again' });
    expect(await endWatch(d)).toEqual(['watch ended (version 2 beside 1)']);
    expect(await endWatch(d)).toEqual([]);
    expect((await registryState(d.client, config)).prod).toBe('2');

    const off = await model({ prod: '1', staging: '2' });
    const quiet = deps({ ...off, ab: { ...off.ab, watch: { labels: 0, hours: 0, share: 1 } } });
    const promoted = await promote(quiet, { version: '2', decision: 'promoted', reason: 'B beats A' });
    expect(promoted.steps.some((step) => step.startsWith('watch'))).toBe(false);
    expect((await registryState(quiet.client, off)).watch).toBeNull();
  });
});
