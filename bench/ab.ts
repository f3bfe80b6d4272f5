/**
 * Validity benchmark of the A/B decision (npm run bench:ab) on realistic traffic: users with a
 * heavy-tailed number of requests (geometric, mean 5, plus 2% heavy users with 30–80) and their own
 * difficulty (per-user accuracy from a Beta around the arm's mean), hashed 50/50, evaluated every
 * 50 labels per arm up to 5,000. The user-level rule (what `ab evaluate` decides) and the
 * request-level rule before it run on the same streams, side by side.
 *
 * Targets for the user-level rule: A/A false promotion ≤ 5%; sample-ratio false alarm over a whole
 * test ≤ 0.5%; power ≥ 80% at 0.80 → 0.90 within 2,000 labelled users per arm; a 50% slower B
 * (with the same uplift) caught by the latency guardrail in ≥ 90% of tests.
 *
 * The paired (shadow) design runs beside it on the same traffic model: prod A answers every request
 * and B predicts on each in shadow, a look every 50 labelled pairs up to 5,000. Targets: paired A/A
 * false promotion ≤ 5%; at 0.80 → 0.90 at least 2× fewer labels to promotion than the split design
 * (split: labels per arm × 2; paired: labelled pairs, one label judging both models).
 *
 * Options: --experiments N (default 2000, at least 2000 for the targets), --seed S, --tau X.
 */

import { parseArgs } from 'node:util';
import { DEFAULT_DECISION_CONFIG, PAIRED_LATENCY_NOTE, type DecisionConfig } from '../src/ab/decide.js';
import { simulateExperiments, simulatePairedExperiments, type PairedOutcome, type RuleOutcome, type SimulatedExperiment } from '../src/ab/simulate.js';
import { REALISTIC_TRAFFIC, type ArmModel, type TrafficModel } from '../src/ab/traffic-model.js';
import { AB_DEFAULTS } from '../src/config/config-schema.js';
import { UsageError } from '../src/errors.js';
import { seededRandom } from '../src/random.js';
import { quantileSorted } from '../src/stats/quantile.js';
import { wilsonInterval } from '../src/stats/wilson-interval.js';

const MAX_PER_ARM = 5000;
const POWER_USERS = 2000;
const LATENCY_MS = 20;
const FAILURES = 0.002;

const arm = (accuracy: number, latencyMs = LATENCY_MS, failureRate = FAILURES): ArmModel => ({ accuracy, latencyMs, failureRate });
const model = (A: ArmModel, B: ArmModel): TrafficModel => ({ ...REALISTIC_TRAFFIC, A, B, splitB: 0.5 });

interface Scenario {
  name: string;
  model: TrafficModel;
}

const SCENARIOS: Scenario[] = [
  { name: 'A/A, both 0.90', model: model(arm(0.9), arm(0.9)) },
  { name: 'uplift 0.80 -> 0.90', model: model(arm(0.8), arm(0.9)) },
  { name: 'uplift, B 50% slower', model: model(arm(0.8), arm(0.9, LATENCY_MS * 1.5)) },
  { name: 'uplift, B fails 5%', model: model(arm(0.8), arm(0.9, LATENCY_MS, 0.05)) },
];

/** Paired scenarios draw from seed + this + i, so adding a split scenario never shifts their streams. */
const PAIRED_SEED_OFFSET = 100;

const PAIRED_SCENARIOS: Scenario[] = [
  { name: 'paired A/A, both 0.90', model: model(arm(0.9), arm(0.9)) },
  { name: 'paired uplift 0.80 -> 0.90', model: model(arm(0.8), arm(0.9)) },
  // No slow-B scenario: the paired test reports latency and does not judge it (PAIRED_LATENCY_NOTE).
  { name: 'paired uplift, B fails 5%', model: model(arm(0.8), arm(0.9, LATENCY_MS, 0.05)) },
];

/** The paired design needs at most 1/this of the split design's labels to promotion at 0.80 -> 0.90. */
const LABEL_RATIO_TARGET = 2;

type Rule = 'userLevel' | 'requestLevel';

function share(outcomes: readonly SimulatedExperiment[], rule: Rule, test: (o: RuleOutcome) => boolean): { k: number; n: number } {
  return { k: outcomes.reduce((k, o) => k + (test(o[rule]) ? 1 : 0), 0), n: outcomes.length };
}

function count<T>(outcomes: readonly T[], test: (o: T) => boolean): { k: number; n: number } {
  return { k: outcomes.reduce((k, o) => k + (test(o) ? 1 : 0), 0), n: outcomes.length };
}

/** Labels to promotion of the promoted tests: mean, median, and the labels by which 80% of all tests had promoted (power 0.8). */
function labelsToPromotion(labels: number[], tests: number): { mean: number; median: number; power80: number } {
  const sorted = Float64Array.from(labels).sort();
  const k = Math.ceil(0.8 * tests);
  return {
    mean: labels.reduce((s, x) => s + x, 0) / Math.max(1, labels.length),
    median: sorted.length > 0 ? quantileSorted(sorted, 0.5) : Number.NaN,
    power80: k <= sorted.length ? sorted[k - 1]! : Number.POSITIVE_INFINITY,
  };
}

function rate({ k, n }: { k: number; n: number }): string {
  const ci = wilsonInterval(k, n);
  return `${(k / n).toFixed(4)} [${ci.lower.toFixed(4)}, ${ci.upper.toFixed(4)}]`;
}

function main(): void {
  const { values } = parseArgs({
    options: {
      experiments: { type: 'string', default: '2000' },
      seed: { type: 'string', default: '20261202' },
      tau: { type: 'string' },
    },
  });
  const experiments = Number(values.experiments);
  const seed = Number(values.seed);
  const tau = values.tau === undefined ? AB_DEFAULTS.tau : Number(values.tau);
  if (!Number.isInteger(experiments) || experiments < 100) throw new UsageError(`--experiments: expected an integer >= 100, got ${values.experiments}`);
  if (!Number.isInteger(seed)) throw new UsageError(`--seed: expected an integer, got ${values.seed}`);
  if (!(tau > 0)) throw new UsageError(`--tau: expected a number > 0, got ${values.tau}`);
  const config: DecisionConfig = { ...DEFAULT_DECISION_CONFIG, tau, maxLabeledPerArm: MAX_PER_ARM, splitB: 0.5 };
  const started = performance.now();
  const t = REALISTIC_TRAFFIC;
  process.stdout.write(
    `Driftgate A/B benchmark: ${experiments} experiments per scenario, seed ${seed}; alpha ${config.alpha}, tau ${tau}, srm_alpha ${config.srmAlpha}, ` +
      `min ${config.minLabeledPerArm} labels and ${config.minUsersPerArm} users per arm, a look every ${config.checkpointEvery} labels per arm up to ${MAX_PER_ARM}; ` +
      `guardrails: latency +${config.latencyMargin * 100}%, failures +${config.failureMargin * 100} points\n` +
      `traffic: requests per user geometric (mean ${t.meanRequests}) plus ${t.heavyShare * 100}% heavy users with ${t.heavyMin}-${t.heavyMax}; ` +
      `per-user accuracy Beta(kappa ${t.userConcentration}); latency lognormal (sigma ${t.latencySigma}, mean ${LATENCY_MS} ms); failures ${FAILURES * 100}%; every answered request labelled\n`,
  );
  const runs = SCENARIOS.map((s, i) => {
    const t0 = performance.now();
    // One stream per scenario, so changing one scenario never shifts another's draws.
    const outcomes = simulateExperiments(seededRandom(seed + i), s.model, config, { maxLabeledPerArm: MAX_PER_ARM }, experiments);
    process.stderr.write(`[bench:ab] ${s.name}: ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
    return outcomes;
  });
  const [aa, uplift, slow, failing] = runs as [SimulatedExperiment[], SimulatedExperiment[], SimulatedExperiment[], SimulatedExperiment[]];
  const rows: { what: string; target: string; measure: (rule: Rule) => { k: number; n: number }; pass: (x: number) => boolean }[] = [
    { what: 'A/A false promotion', target: '<= 0.05', measure: (r) => share(aa, r, (o) => o.decision === 'promote'), pass: (x) => x <= 0.05 },
    { what: 'A/A sample-ratio false alarm (whole test)', target: '<= 0.005', measure: (r) => share(aa, r, (o) => o.srmFlagged), pass: (x) => x <= 0.005 },
    {
      what: `power 0.80 -> 0.90 (promoted within ${POWER_USERS} labelled users per arm)`,
      target: '>= 0.80',
      measure: (r) => share(uplift, r, (o) => o.decision === 'promote' && o.usersPerArm <= POWER_USERS),
      pass: (x) => x >= 0.8,
    },
    { what: 'B 50% slower caught (not promoted)', target: '>= 0.90', measure: (r) => share(slow, r, (o) => o.decision !== 'promote'), pass: (x) => x >= 0.9 },
    { what: 'B failing 5% caught (not promoted)', target: '>= 0.90', measure: (r) => share(failing, r, (o) => o.decision !== 'promote'), pass: (x) => x >= 0.9 },
  ];
  const width = Math.max(...rows.map((r) => r.what.length)) + 2;
  process.stdout.write(`\n${'measure'.padEnd(width)}${'target'.padEnd(10)}${'user-level (ab evaluate)'.padEnd(34)}${'request-level (before)'.padEnd(30)}\n`);
  let ok = true;
  for (const row of rows) {
    const user = row.measure('userLevel');
    const request = row.measure('requestLevel');
    const pass = row.pass(user.k / user.n);
    ok &&= pass;
    process.stdout.write(`${row.what.padEnd(width)}${row.target.padEnd(10)}${`${rate(user)} ${pass ? 'PASS' : 'FAIL'}`.padEnd(34)}${rate(request)}\n`);
  }
  const promoted = uplift.filter((o) => o.userLevel.decision === 'promote');
  const mean = (xs: number[]): number => xs.reduce((s, x) => s + x, 0) / Math.max(1, xs.length);
  process.stdout.write(
    `\nuplift, user-level: mean labels per arm at promotion ${mean(promoted.map((o) => o.userLevel.labeledPerArm)).toFixed(0)}, ` +
      `mean labelled users per arm ${mean(promoted.map((o) => o.userLevel.usersPerArm)).toFixed(0)}\n` +
      `slow B, user-level: rejected by the latency guardrail ${rate(share(slow, 'userLevel', (o) => o.guardrail === 'latency'))}; ` +
      `failing B: rejected by the failure guardrail ${rate(share(failing, 'userLevel', (o) => o.guardrail === 'failures'))}\n`,
  );
  ok = pairedDesign(seed, experiments, config, uplift) && ok;
  process.stdout.write(`\nruntime ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
  if (!ok) process.exitCode = 1;
}

/** The paired (shadow) scenarios, their table and the label comparison with the split design's uplift runs; true when every target passes. */
function pairedDesign(seed: number, experiments: number, config: DecisionConfig, splitUplift: readonly SimulatedExperiment[]): boolean {
  const runs = PAIRED_SCENARIOS.map((s, i) => {
    const t0 = performance.now();
    const outcomes = simulatePairedExperiments(seededRandom(seed + PAIRED_SEED_OFFSET + i), s.model, config, { maxLabeledPerArm: MAX_PER_ARM }, experiments);
    process.stderr.write(`[bench:ab] ${s.name}: ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
    return outcomes;
  });
  const [aa, uplift, failing] = runs as [PairedOutcome[], PairedOutcome[], PairedOutcome[]];
  const t = REALISTIC_TRAFFIC;
  process.stdout.write(
    `\npaired (shadow) design on the same traffic: prod A answers every request, B predicts on each in shadow (verdicts coupled: ` +
      `with probability ${t.pairCoupling} both from one difficulty draw, else independent); a look every ${config.checkpointEvery} labelled pairs up to ${MAX_PER_ARM}, ` +
      `min ${config.minLabeledPerArm} labelled pairs from ${config.minUsersPerArm} users\n`,
  );
  const rows: { what: string; target: string; measure: { k: number; n: number }; pass: (x: number) => boolean }[] = [
    { what: 'paired A/A false promotion', target: '<= 0.05', measure: count(aa, (o) => o.decision === 'promote'), pass: (x) => x <= 0.05 },
    { what: `paired power 0.80 -> 0.90 (promoted within ${MAX_PER_ARM} labelled pairs)`, target: '>= 0.80', measure: count(uplift, (o) => o.decision === 'promote'), pass: (x) => x >= 0.8 },
    { what: 'paired B failing 5% caught (not promoted)', target: '>= 0.90', measure: count(failing, (o) => o.decision !== 'promote'), pass: (x) => x >= 0.9 },
  ];
  const width = Math.max(...rows.map((r) => r.what.length)) + 2;
  process.stdout.write(`\n${'measure'.padEnd(width)}${'target'.padEnd(10)}paired (shadow)\n`);
  let ok = true;
  for (const row of rows) {
    const pass = row.pass(row.measure.k / row.measure.n);
    ok &&= pass;
    process.stdout.write(`${row.what.padEnd(width)}${row.target.padEnd(10)}${rate(row.measure)} ${pass ? 'PASS' : 'FAIL'}\n`);
  }
  process.stdout.write(
    `failing B: rejected by the failure guardrail ${rate(count(failing, (o) => o.guardrail === 'failures'))}; ` +
      `latency is reported, not judged, in the paired test (${PAIRED_LATENCY_NOTE})\n`,
  );
  // Split: both arms' labels (per arm × 2); paired: labelled pairs, each one label that judges both models.
  const splitPromoted = splitUplift.filter((o) => o.userLevel.decision === 'promote');
  const pairedPromoted = uplift.filter((o) => o.decision === 'promote');
  const split = labelsToPromotion(splitPromoted.map((o) => 2 * o.userLevel.labeledPerArm), splitUplift.length);
  const paired = labelsToPromotion(pairedPromoted.map((o) => o.labeledPairs), uplift.length);
  const ratio = { mean: split.mean / paired.mean, median: split.median / paired.median, power80: split.power80 / paired.power80 };
  const pass = ratio.mean >= LABEL_RATIO_TARGET;
  const cells = (cols: string[]): string => cols.map((c, i) => c.padEnd([26, 30, 10, 10, 20][i]!)).join('');
  process.stdout.write(
    `\nlabels to promotion at 0.80 -> 0.90 (total labels: split = labels per arm x 2, paired = labelled pairs)\n` +
      `${cells(['design', 'power (promoted at all)', 'mean', 'median', '80% promoted by'])}\n` +
      `${cells(['split (user-level)', rate(count(splitUplift, (o) => o.userLevel.decision === 'promote')), split.mean.toFixed(0), split.median.toFixed(0), split.power80.toFixed(0)])}\n` +
      `${cells(['paired (shadow)', rate(count(uplift, (o) => o.decision === 'promote')), paired.mean.toFixed(0), paired.median.toFixed(0), paired.power80.toFixed(0)])}\n` +
      `${cells(['split / paired', '', `${ratio.mean.toFixed(2)}x`, `${ratio.median.toFixed(2)}x`, `${ratio.power80.toFixed(2)}x`])}` +
      `target mean ratio >= ${LABEL_RATIO_TARGET} ${pass ? 'PASS' : 'FAIL'}\n`,
  );
  return ok && pass;
}

try {
  main();
} catch (error) {
  if (!(error instanceof UsageError)) throw error;
  process.stderr.write(`bench:ab: ${error.message}\n`);
  process.exitCode = 2;
}
