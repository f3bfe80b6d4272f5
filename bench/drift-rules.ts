/**
 * Are the drift rules honest at every sample size? (npm run sim:drift) A seeded simulation through the
 * real analyzeDrift: 4 numeric features, reference and current of n rows each from N(0, 1), with no
 * drift, with every feature's current mean shifted by 0.5 sd (a shift that matters), or by 0.02 sd (one
 * nobody acts on). For each n (100, 1,000, 100,000) and rule it prints the share of runs in which the
 * data set is flagged (drift.share 0.5: 2 of 4 features): the false alarm rate, the detection rate, and
 * how often the negligible shift is flagged.
 *
 *   node dist/bench/drift-rules.js [--runs N] [--seed S] [--json]
 */

import { parseArgs } from 'node:util';
import { analyzeDrift, type AnalyzeSettings, type FeatureColumns } from '../src/drift/analyze.js';
import { adjustedPValues, decideDataset, decideFeature } from '../src/drift/decide.js';
import { UsageError } from '../src/errors.js';
import { gaussian, seededRandom } from '../src/random.js';
import { wilsonInterval } from '../src/stats/wilson-interval.js';

const FEATURES = 4;
const SIZES = [100, 1000, 100_000] as const;
const SCENARIOS = [
  { name: 'false alarm (no drift)', shift: 0 },
  { name: 'detection (0.5-sd shift)', shift: 0.5 },
  { name: 'flagged on a 0.02-sd shift', shift: 0.02 },
] as const;

/** What each rule sets over Evidently's defaults (PSI 0.2 or KS p 0.05, rule any, no correction). */
const BASE: AnalyzeSettings = { psiThreshold: 0.2, ksAlpha: 0.05, rule: 'any', share: 0.5, binning: 'sturges', quantileBins: 10, psiRule: 'threshold', ksMinStatistic: 0, correction: 'none' };
const RULES: { name: string; settings: Partial<AnalyzeSettings> }[] = [
  { name: 'PSI >= 0.1 (fixed threshold)', settings: { rule: 'psi', psiThreshold: 0.1 } },
  { name: 'PSI >= 0.2 (fixed threshold)', settings: { rule: 'psi' } },
  { name: 'PSI significant (p <= 0.05)', settings: { rule: 'psi', psiRule: 'significant' } },
  { name: 'PSI significant, BH', settings: { rule: 'psi', psiRule: 'significant', correction: 'bh' } },
  { name: 'PSI both (>= 0.2 and significant), BH', settings: { rule: 'psi', psiRule: 'both', correction: 'bh' } },
  { name: 'KS p <= 0.05', settings: { rule: 'ks' } },
  { name: 'KS p <= 0.05, BH', settings: { rule: 'ks', correction: 'bh' } },
  { name: 'KS p <= 0.05, BH, statistic >= 0.05', settings: { rule: 'ks', correction: 'bh', ksMinStatistic: 0.05 } },
  { name: 'any (PSI >= 0.2 or KS), no correction', settings: {} },
  { name: 'any, PSI significant, BH', settings: { psiRule: 'significant', correction: 'bh' } },
  { name: 'any, PSI significant, BH, KS statistic >= 0.05', settings: { psiRule: 'significant', correction: 'bh', ksMinStatistic: 0.05 } },
  { name: 'any, PSI both, BH', settings: { psiRule: 'both', correction: 'bh' } },
  { name: 'any, PSI both, BH, KS statistic >= 0.05 (the bundled config)', settings: { psiRule: 'both', correction: 'bh', ksMinStatistic: 0.05 } },
];

function sample(next: () => number, n: number, shift: number): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = next() + shift;
  return out;
}

/**
 * The share of runs flagged, per rule, for one size and shift. Each run is analysed once (the numbers do
 * not depend on the rule) and judged by every rule through the same functions analyzeDrift decides with.
 */
function flagged(n: number, shift: number, runs: number, seed: string): number[] {
  const next = gaussian(seededRandom(seed));
  const hits = RULES.map(() => 0);
  for (let r = 0; r < runs; r++) {
    const columns: FeatureColumns[] = Array.from({ length: FEATURES }, (_, f) => ({ name: `f${f}`, type: 'numeric', reference: sample(next, n, 0), current: sample(next, n, shift) }));
    const { features } = analyzeDrift(columns, BASE);
    RULES.forEach((rule, k) => {
      const settings = { ...BASE, ...rule.settings };
      const adjusted = adjustedPValues(features, settings);
      const drifted = features.map((f, i) =>
        decideFeature({ psi: f.psi, psiPvalueAdjusted: adjusted.psiPvalue[i]!, pvalueAdjusted: adjusted.pvalue[i]!, test: f.test, statistic: f.statistic }, settings).drifted,
      );
      if (decideDataset(drifted, settings).driftDetected) hits[k]! += 1;
    });
  }
  return hits.map((h) => h / runs);
}

function main(): void {
  const { values } = parseArgs({ options: { runs: { type: 'string', default: '400' }, seed: { type: 'string', default: '20261202' }, json: { type: 'boolean', default: false } } });
  const runs = Number(values.runs);
  if (!Number.isInteger(runs) || runs < 1) throw new UsageError(`--runs: expected a positive integer, got ${JSON.stringify(values.runs)}`);
  const began = performance.now();
  const results = SIZES.map((n) => ({
    n,
    // Fewer runs at 100,000 rows: each sorts 8 columns of 100,000.
    runs: n >= 100_000 ? Math.max(1, Math.round(runs / 8)) : runs,
  })).map(({ n, runs: count }) => ({
    n,
    runs: count,
    rates: SCENARIOS.map((scenario) => flagged(n, scenario.shift, count, `${values.seed}:${scenario.shift}:${n}`)),
  }));
  const rate = (x: number, count: number): string => {
    const ci = wilsonInterval(Math.round(x * count), count, 0.95);
    return `${x.toFixed(3)} [${ci.lower.toFixed(3)}, ${ci.upper.toFixed(3)}]`;
  };
  const width = Math.max(...RULES.map((r) => r.name.length)) + 4;
  const lines = [
    `drift rules on ${FEATURES} N(0, 1) features, reference and current of n rows each; the data set drifts when 2 of 4 features do (drift.share 0.5); seed ${values.seed}`,
    `share of runs flagged, each with its 95% Wilson interval; runs per size: ${results.map((r) => `${r.runs} at n=${r.n}`).join(', ')}`,
    '',
    ...SCENARIOS.flatMap((scenario, s) => [
      `${scenario.name.padEnd(width)}${results.map((r) => `n=${r.n}`.padEnd(22)).join('')}`,
      ...RULES.map((rule, k) => `${`  ${rule.name}`.padEnd(width)}${results.map((r) => rate(r.rates[s]![k]!, r.runs).padEnd(22)).join('')}`),
      '',
    ]),
    `runtime ${((performance.now() - began) / 1000).toFixed(1)} s`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  if (values.json) process.stdout.write(`${JSON.stringify({ rules: RULES.map((r) => r.name), results })}\n`);
}

try {
  main();
} catch (error) {
  process.stderr.write(`sim:drift: ${(error as Error).message}\n`);
  process.exitCode = error instanceof UsageError ? 2 : 1;
}
