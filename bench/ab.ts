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
 * Options: --experiments N (default 2000, at least 2000 for the targets), --seed S, --tau X.
 */

import { parseArgs } from 'node:util';
import { DEFAULT_DECISION_CONFIG, type DecisionConfig } from '../src/ab/decide.js';
import { simulateExperiments, type RuleOutcome, type SimulatedExperiment } from '../src/ab/simulate.js';
import { REALISTIC_TRAFFIC, type ArmModel, type TrafficModel } from '../src/ab/traffic-model.js';
import { AB_DEFAULTS } from '../src/config/config-schema.js';
import { UsageError } from '../src/errors.js';
import { seededRandom } from '../src/random.js';
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

type Rule = 'userLevel' | 'requestLevel';

function share(outcomes: readonly SimulatedExperiment[], rule: Rule, test: (o: RuleOutcome) => boolean): { k: number; n: number } {
  return { k: outcomes.reduce((k, o) => k + (test(o[rule]) ? 1 : 0), 0), n: outcomes.length };
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
      `failing B: rejected by the failure guardrail ${rate(share(failing, 'userLevel', (o) => o.guardrail === 'failures'))}\n` +
      `runtime ${((performance.now() - started) / 1000).toFixed(1)} s\n`,
  );
  if (!ok) process.exitCode = 1;
}

try {
  main();
} catch (error) {
  if (!(error instanceof UsageError)) throw error;
  process.stderr.write(`bench:ab: ${error.message}\n`);
  process.exitCode = 2;
}
