import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';

import type * as ThreadsModule from '../../src/drift/analyze-threads.js';
import { analyzeDrift, type AnalyzeSettings, type FeatureColumns } from '../../src/drift/analyze.js';
import { PROJECT_ROOT } from '../../src/project.js';
import { gaussian, seededRandom } from '../../src/random.js';

// The analysis thread runs the compiled worker: `npm run build` (npm test does it) before these tests.
let threads: typeof ThreadsModule;

const SETTINGS: AnalyzeSettings = { psiThreshold: 0.2, ksAlpha: 0.05, rule: 'any', share: 0.5, binning: 'sturges', quantileBins: 10, psiRule: 'both', ksMinStatistic: 0, correction: 'bh' };

/** Seeded features: numeric ones of `rows` per side (shifted by 0, 0.05, 0.5), one categorical. */
function columns(rows: number): FeatureColumns[] {
  const next = gaussian(seededRandom(7));
  const numeric = (shift: number): Float64Array => Float64Array.from({ length: rows }, () => next() + shift);
  return [
    { name: 'a', type: 'numeric', reference: numeric(0), current: numeric(0) },
    { name: 'kind', type: 'categorical', reference: new Map([['x', 10], ['y', 30]]), current: new Map([['x', 25], ['y', 15]]) },
    { name: 'b', type: 'numeric', reference: numeric(0), current: numeric(0.05) },
    { name: 'c', type: 'numeric', reference: numeric(0), current: numeric(0.5) },
  ];
}

/** A deep copy: both analyses sort their columns in place, and the thread takes its own. */
function copy(input: FeatureColumns[]): FeatureColumns[] {
  return input.map((c) => (c.type === 'numeric' ? { ...c, reference: c.reference.slice(), current: c.current.slice() } : { ...c }));
}

beforeAll(async () => {
  threads = (await import(pathToFileURL(path.join(PROJECT_ROOT, 'dist', 'src', 'drift', 'analyze-threads.js')).href)) as typeof ThreadsModule;
});

describe('analyzeDriftInThreads', () => {
  it('gives exactly analyzeDrift\'s analysis, in the features\' order, with part of them measured in a worker thread', async () => {
    const input = columns(300_000);
    const expected = analyzeDrift(copy(input), SETTINGS);
    const given = copy(input);
    const actual = await threads.analyzeDriftInThreads(given, SETTINGS);
    expect(actual).toEqual(expected);
    expect(actual.features.map((f) => f.name)).toEqual(['a', 'kind', 'b', 'c']);
    // The worker's columns were handed over (transferred), so at least one is gone from this thread.
    expect(given.some((c) => c.type === 'numeric' && c.current.length === 0)).toBe(true);
  });

  it('below ANALYZE_THREAD_MIN_VALUES it stays in this thread: nothing is handed over', async () => {
    const input = columns(1000);
    const actual = await threads.analyzeDriftInThreads(input, SETTINGS);
    expect(actual).toEqual(analyzeDrift(copy(columns(1000)), SETTINGS));
    expect(input.every((c) => c.type === 'categorical' || c.current.length === 1000)).toBe(true);
  });

  it('a bad value measured in the worker fails as it does here: the same InputError', async () => {
    const input = columns(300_000);
    // Of three equal numeric features the worker takes the second one dealt, b; only b holds the bad value.
    const b = input[2]!;
    if (b.type === 'numeric') b.current[12] = Number.NaN;
    const here = (() => {
      try {
        analyzeDrift(copy(input), SETTINGS);
      } catch (error) {
        return error as Error;
      }
      return new Error('expected a throw');
    })();
    const handed = copy(input);
    const there = (await threads.analyzeDriftInThreads(handed, SETTINGS).then(() => new Error('expected a rejection'), (e: unknown) => e)) as Error & { code: string };
    // b went to the worker (its columns were transferred away from this thread), so the error came from there.
    expect(handed[2]!.type === 'numeric' && handed[2]!.current.length).toBe(0);
    expect(here.message).toBe('current: expected finite numbers, got NaN');
    expect({ name: there.name, message: there.message, code: there.code }).toEqual({ name: 'InputError', message: here.message, code: 'INPUT_INVALID' });
  });
});
