/**
 * PSI when nothing drifted. PSI = Σ (p − q)·ln(p/q) is the symmetric (Jeffreys) divergence of the two
 * histograms; its second-order expansion around p = q is the two-sample chi-square statistic of
 * homogeneity divided by nm/(n + m). So with k bins that hold data, n reference and m current rows
 * drawn from one distribution, PSI · nm/(n + m) is asymptotically χ² with k − 1 degrees of freedom:
 *   E[PSI] ≈ (k − 1)(1/n + 1/m)        p = P(χ²_{k−1} ≥ PSI · nm/(n + m)).
 * A fixed threshold therefore means different things at different sizes: 0.1 at k = 10 and n = m = 100
 * is about the mean of pure noise (0.18), and at a million rows almost any change passes it.
 */
import { chiSquareSf } from './chi-square.js';

function checkSizes(bins: number, n: number, m: number): void {
  if (!Number.isInteger(bins) || bins < 1) throw new RangeError(`bins: expected a whole number >= 1, got ${bins}`);
  if (!(n > 0) || !(m > 0)) throw new RangeError(`sample sizes: expected two numbers > 0, got ${n} and ${m}`);
}

/** The PSI to expect from sampling noise alone, for `bins` bins holding data and samples of n and m. */
export function psiExpected(bins: number, n: number, m: number): number {
  checkSizes(bins, n, m);
  return (bins - 1) * (1 / n + 1 / m);
}

/** The chi-square p-value of a PSI (1 with a single bin: nothing can differ). */
export function psiPValue(psi: number, bins: number, n: number, m: number): number {
  checkSizes(bins, n, m);
  if (bins === 1) return 1;
  if (!(psi >= 0)) throw new RangeError(`psi: expected a number >= 0, got ${psi}`);
  return chiSquareSf((psi * n * m) / (n + m), bins - 1);
}
