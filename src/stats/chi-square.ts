/**
 * Chi-square survival function through the regularized upper incomplete gamma function,
 * Q(a, x) = Γ(a, x) / Γ(a). Series for P below the transition point, Lentz's continued fraction
 * for Q above it, so tiny upper tails (p ≈ 1e-300) keep their relative precision.
 */

import { InputError, describe } from '../errors.js';
import { continuedFraction } from './continued-fraction.js';

const LN_SQRT_2PI = 0.5 * Math.log(2 * Math.PI);
const EPS = Number.EPSILON;
const MAX_ITERATIONS = 1_000_000;

// Godfrey's Lanczos coefficients (g = 607/128, 15 terms): Γ to ~1e-15 relative for a > 0.
const LANCZOS_G = 607 / 128;
const LANCZOS_C = [
  0.99999999999999709182, 57.156235665862923517, -59.597960355475491248, 14.136097974741747174,
  -0.49191381609762019978, 0.33994649984811888699e-4, 0.46523628927048575665e-4, -0.98374475304879564677e-4,
  0.15808870322491248884e-3, -0.21026444172410488319e-3, 0.2174396181152126432e-3, -0.16431810653676389022e-3,
  0.84418223983852743293e-4, -0.2619083840158140867e-4, 0.36899182659531622704e-5,
] as const;

/** Lanczos sum A_g(a) for Γ(a) = sqrt(2π) t^(a-1/2) e^(-t) A_g(a), t = a - 1/2 + g. */
function lanczosSum(a: number): number {
  const z = a - 1;
  let sum = LANCZOS_C[0];
  for (let i = 1; i < LANCZOS_C.length; i++) sum += (LANCZOS_C[i] as number) / (z + i);
  return sum;
}

/** Stirling remainder lnΓ(a) − [(a − 1/2) ln a − a + ln √(2π)], accurate to < 1e-17 for a ≥ 10. */
function stirlingCorrection(a: number): number {
  const r = 1 / a;
  const r2 = r * r;
  return (
    r *
    (1 / 12 +
      r2 * (-1 / 360 + r2 * (1 / 1260 + r2 * (-1 / 1680 + r2 * (1 / 1188 + r2 * (-691 / 360360 + r2 * (1 / 156)))))))
  );
}

/** ln(1 + d) − d without cancellation near d = 0. */
function log1pmx(d: number): number {
  if (Math.abs(d) > 0.5) return Math.log1p(d) - d;
  // Alternating series −d²/2 + d³/3 − …; |d| ≤ 0.5 converges to EPS in < 55 terms.
  let term = d;
  let sum = 0;
  for (let k = 2; k < 200; k++) {
    term *= -d;
    const next = term / k;
    sum += next;
    if (Math.abs(next) <= EPS * Math.abs(sum)) break;
  }
  return sum;
}

/** exp(s + y) keeping the rounding error of the sum, so large exponents do not lose ~|s|·1e-16. */
function expSum(s: number, y: number): number {
  const total = s + y;
  const bv = total - s;
  const err = s - (total - bv) + (y - bv);
  return Math.exp(total) * (1 + err);
}

/** x^a e^(−x) / Γ(a), the common prefactor of the series and the continued fraction. */
function gammaPrefix(a: number, x: number): number {
  if (a >= 10) {
    // Factor Stirling out of Γ(a) so the exponent is a·(ln t − t + 1), small when x ≈ a.
    const d = (x - a) / a;
    return Math.sqrt(a / (2 * Math.PI)) * expSum(a * log1pmx(d), -stirlingCorrection(a));
  }
  const t = a - 0.5 + LANCZOS_G;
  const lnGamma = LN_SQRT_2PI + (a - 0.5) * Math.log(t) - t + Math.log(lanczosSum(a));
  if (x <= 700 && x >= 1e-300) {
    const gamma = Math.exp(lnGamma);
    return (Math.pow(x, a) * Math.exp(-x)) / gamma;
  }
  return expSum(-x, a * Math.log(x) - lnGamma);
}

/** Lower regularized gamma by its power series; converges fast for x < a + 1. */
function lowerSeries(a: number, x: number): number {
  let term = 1 / a;
  let sum = term;
  for (let n = 1; n < MAX_ITERATIONS; n++) {
    term *= x / (a + n);
    sum += term;
    if (Math.abs(term) <= EPS * Math.abs(sum)) return sum * gammaPrefix(a, x);
  }
  throw new InputError(`incomplete gamma series did not converge: expected convergence, got a = ${a}, x = ${x}`);
}

/** Upper regularized gamma by the Legendre continued fraction; x ≥ a + 1. */
function upperContinuedFraction(a: number, x: number): number {
  // Γ(a, x) e^x x^-a = 1/(x + 1 − a − 1·(1 − a)/(x + 3 − a − 2·(2 − a)/(x + 5 − a − …)))
  const fraction = continuedFraction(x + 1 - a, (i) => [-i * (i - a), x + 1 - a + 2 * i], EPS, `incomplete gamma (a = ${a}, x = ${x})`, MAX_ITERATIONS);
  return gammaPrefix(a, x) / fraction;
}

/** Regularized upper incomplete gamma Q(a, x) = Γ(a, x)/Γ(a) for a > 0, x ≥ 0. */
export function regularizedGammaQ(a: number, x: number): number {
  if (!(a > 0) || !Number.isFinite(a)) throw new InputError(`gamma shape: expected a finite number > 0, got ${describe(a)}`);
  if (Number.isNaN(x)) throw new InputError(`gamma argument: expected a number, got ${describe(x)}`);
  if (x <= 0) return 1;
  if (x === Infinity) return 0;
  if (x < a + 1) return Math.min(1, Math.max(0, 1 - lowerSeries(a, x)));
  return upperContinuedFraction(a, x);
}

/** Upper tail P(X > x) of a chi-square distribution with `df` degrees of freedom. */
export function chiSquareSf(x: number, df: number): number {
  if (!(df > 0) || !Number.isFinite(df)) throw new InputError(`chi-square df: expected a finite number > 0, got ${describe(df)}`);
  return regularizedGammaQ(df / 2, x / 2);
}

export interface ChiSquareTestResult {
  /** Pearson's Σ (observed − expected)²/expected; Infinity when a cell with nothing expected was observed. */
  statistic: number;
  pvalue: number;
  /** Cells − 1. */
  df: number;
}

/**
 * Pearson's chi-square goodness of fit, scipy.stats.chisquare(f_obs, f_exp): the one chi-square test
 * (drift's categorical test, the A/B sample-ratio check). A single cell cannot differ: p = 1 (scipy
 * answers NaN, chi2 with df = 0).
 */
export function chiSquareTest(observed: readonly number[], expected: readonly number[]): ChiSquareTestResult {
  let statistic = 0;
  for (let i = 0; i < expected.length; i++) {
    const diff = observed[i]! - expected[i]!;
    statistic += (diff * diff) / expected[i]!;
  }
  const df = expected.length - 1;
  if (df === 0) return { statistic, pvalue: 1, df };
  return { statistic, pvalue: chiSquareSf(statistic, df), df };
}
