/**
 * Validity benchmark of the A/B decision (npm run bench:ab): seeded A/A experiments must promote
 * at most alpha of the time under continuous monitoring, and a 0.80 → 0.90 uplift must promote
 * within 2,000 labelled rows per arm at least 80% of the time, sooner than a fixed-horizon test.
 *
 * Options: --tau X (default AB_DEFAULTS.tau, the config's), --experiments N (default 5000), --seed S, --sweep (a table over tau).
 */

import { parseArgs } from 'node:util';
import { DEFAULT_DECISION_CONFIG, type DecisionConfig } from '../src/ab/decide.js';
import { wilsonInterval } from '../src/stats/wilson-interval.js';
import { AB_DEFAULTS } from '../src/config/config-schema.js';
import { UsageError } from '../src/errors.js';
import { createRandom, simulateExperiments, type ExperimentOutcome, type ExperimentScenario } from '../src/ab/simulate.js';
import { normalCdf, normalQuantile } from '../src/stats/normal.js';

const ALPHA = 0.05;
const BATCH = 50;
const MAX_PER_ARM = 5000;
const POWER_HORIZON = 2000;
const SWEEP_TAUS = [0.02, 0.03, 0.05, 0.065, 0.08, 0.1, 0.13, 0.2, 0.3];

/**
 * Per-arm sample size of the fixed-horizon two-proportion z-test (pooled variance under H0, no
 * continuity correction): n = (z_α' √(2 p̄ q̄) + z_power √(p1 q1 + p2 q2))² / (p2 − p1)², α' = α or α/2.
 */
function fixedHorizonPerArm(p1: number, p2: number, alpha: number, power: number, sides: 1 | 2): number {
  const pBar = (p1 + p2) / 2;
  const zAlpha = normalQuantile(1 - alpha / sides);
  const zPower = normalQuantile(power);
  const root = zAlpha * Math.sqrt(2 * pBar * (1 - pBar)) + zPower * Math.sqrt(p1 * (1 - p1) + p2 * (1 - p2));
  return Math.ceil((root * root) / ((p2 - p1) * (p2 - p1)));
}

/** Power of that fixed-horizon test with n rows per arm, the inverse of fixedHorizonPerArm. */
function fixedHorizonPower(p1: number, p2: number, alpha: number, n: number, sides: 1 | 2): number {
  const pBar = (p1 + p2) / 2;
  const zAlpha = normalQuantile(1 - alpha / sides);
  const shift = Math.abs(p2 - p1) * Math.sqrt(n) - zAlpha * Math.sqrt(2 * pBar * (1 - pBar));
  return normalCdf(shift / Math.sqrt(p1 * (1 - p1) + p2 * (1 - p2)));
}

function count(outcomes: readonly ExperimentOutcome[], test: (o: ExperimentOutcome) => boolean): number {
  return outcomes.reduce((n, o) => n + (test(o) ? 1 : 0), 0);
}

function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
}

interface TauResult {
  tau: number;
  falsePromotions: number;
  aaRejects: number;
  promotedWithin: number;
  mean: number;
  median: number;
  p90: number;
  experiments: number;
}

function runTau(tau: number, experiments: number, seed: number): TauResult {
  const config: DecisionConfig = { ...DEFAULT_DECISION_CONFIG, alpha: ALPHA, tau, maxLabeledPerArm: MAX_PER_ARM, splitB: 0.5 };
  const base = { batchPerArm: BATCH, maxPerArm: MAX_PER_ARM };
  const aa: ExperimentScenario = { ...base, accuracyA: 0.9, accuracyB: 0.9 };
  const uplift: ExperimentScenario = { ...base, accuracyA: 0.8, accuracyB: 0.9 };
  // Separate streams per scenario, so changing one scenario's length never shifts the other's draws.
  const aaOut = simulateExperiments(createRandom(seed), aa, config, experiments);
  const upOut = simulateExperiments(createRandom(seed + 1), uplift, config, experiments);
  const rows = upOut.map((o) => o.rowsPerArm).sort((a, b) => a - b);
  return {
    tau,
    experiments,
    falsePromotions: count(aaOut, (o) => o.decision === 'promote'),
    aaRejects: count(aaOut, (o) => o.decision === 'reject' && o.rowsPerArm < MAX_PER_ARM),
    promotedWithin: count(upOut, (o) => o.decision === 'promote' && o.rowsPerArm <= POWER_HORIZON),
    mean: rows.reduce((s, r) => s + r, 0) / rows.length,
    median: quantile(rows, 0.5),
    p90: quantile(rows, 0.9),
  };
}

function pct(x: number): string {
  return x.toFixed(4);
}

function verdict(ok: boolean): string {
  return ok ? 'PASS' : 'FAIL';
}

function report(r: TauResult, seed: number): boolean {
  const n = r.experiments;
  const fp = wilsonInterval(r.falsePromotions, n);
  const pw = wilsonInterval(r.promotedWithin, n);
  // The fixed design gets the benefit of the doubt: its power is the lower 95% bound of ours (finite even at n/n).
  const matchedPower = pw.lower;
  const fixedOne = fixedHorizonPerArm(0.8, 0.9, ALPHA, matchedPower, 1);
  const fixedTwo = fixedHorizonPerArm(0.8, 0.9, ALPHA, matchedPower, 2);
  const ratio = r.mean / fixedOne;
  const okFp = fp.estimate <= ALPHA;
  const okPower = pw.estimate >= 0.8;
  const okRatio = ratio < 0.6;
  const lines = [
    `Driftgate A/B benchmark: mSPRT (one-sided half-normal mixtures) tau ${r.tau}, alpha ${ALPHA}, min ${DEFAULT_DECISION_CONFIG.minLabeledPerArm} labelled rows per arm, ` +
      `evaluated every ${BATCH} labelled rows per arm up to ${MAX_PER_ARM}, seed ${seed}`,
    `A/A, both arms 0.90, ${n} experiments:`,
    `  false-promotion rate         ${pct(fp.estimate)} (${r.falsePromotions}/${n}), 95% Wilson CI [${pct(fp.lower)}, ${pct(fp.upper)}]   target <= ${ALPHA}: ${verdict(okFp)}`,
    `  early rejections (B "worse")  ${pct(r.aaRejects / n)} (${r.aaRejects}/${n}); the rest reject at the ${MAX_PER_ARM}-row maximum`,
    `Uplift 0.80 -> 0.90, ${n} experiments:`,
    `  power (promoted within ${POWER_HORIZON} rows per arm)  ${pct(pw.estimate)} (${r.promotedWithin}/${n}), 95% Wilson CI [${pct(pw.lower)}, ${pct(pw.upper)}]   target >= 0.8: ${verdict(okPower)}`,
    `  mean rows per arm to a decision  ${r.mean.toFixed(1)} (median ${r.median}, 90th percentile ${r.p90})`,
    `  fixed-horizon two-proportion z-test at the same power (${pct(matchedPower)}, lower CI bound), alpha ${ALPHA} one-sided: ${fixedOne} per arm ` +
      `(two-sided: ${fixedTwo})`,
    `  ratio mean/fixed (one-sided)     ${ratio.toFixed(3)}   target < 0.6: ${verdict(okRatio)}`,
    `  for reference, fixed horizon at 80% power: ${fixedHorizonPerArm(0.8, 0.9, ALPHA, 0.8, 1)} per arm one-sided, ` +
      `${fixedHorizonPerArm(0.8, 0.9, ALPHA, 0.8, 2)} two-sided; a fixed test with n = ${Math.round(r.mean)} per arm ` +
      `(our mean) has power ${pct(fixedHorizonPower(0.8, 0.9, ALPHA, Math.round(r.mean), 1))} one-sided`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  return okFp && okPower && okRatio;
}

function main(): void {
  const { values } = parseArgs({
    options: {
      tau: { type: 'string' },
      experiments: { type: 'string', default: '5000' },
      seed: { type: 'string', default: '20250917' },
      sweep: { type: 'boolean', default: false },
    },
  });
  const experiments = Number(values.experiments);
  const seed = Number(values.seed);
  const tau = values.tau === undefined ? AB_DEFAULTS.tau : Number(values.tau);
  if (!Number.isInteger(experiments) || experiments < 1000) throw new UsageError(`--experiments: expected an integer >= 1000, got ${values.experiments}`);
  if (!Number.isInteger(seed)) throw new UsageError(`--seed: expected an integer, got ${values.seed}`);
  if (!(tau > 0)) throw new UsageError(`--tau: expected a number > 0, got ${values.tau}`);
  const started = performance.now();
  if (values.sweep) {
    process.stdout.write('tau     A/A promote  A/A early reject  power@2000  mean rows  median  p90\n');
    for (const t of SWEEP_TAUS) {
      const r = runTau(t, experiments, seed);
      process.stdout.write(
        `${t.toFixed(3).padEnd(8)}${pct(r.falsePromotions / experiments).padEnd(13)}${pct(r.aaRejects / experiments).padEnd(18)}` +
          `${pct(r.promotedWithin / experiments).padEnd(12)}${r.mean.toFixed(1).padEnd(11)}${String(r.median).padEnd(8)}${r.p90}\n`,
      );
    }
    process.stdout.write(`runtime ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
    return;
  }
  const ok = report(runTau(tau, experiments, seed), seed);
  process.stdout.write(`runtime ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
  if (!ok) process.exitCode = 1;
}

try {
  main();
} catch (error) {
  if (!(error instanceof UsageError)) throw error;
  process.stderr.write(`bench:ab: ${error.message}\n`);
  process.exitCode = 2;
}
