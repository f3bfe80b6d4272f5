/**
 * Corrections for testing many features at once: adjusted p-values, so a feature is flagged when its
 * adjusted p is at most alpha. Benjamini–Hochberg controls the false discovery rate (the expected share
 * of flagged features that did not drift); Holm controls the family-wise error rate (the chance of
 * flagging any feature that did not drift). Both as statsmodels' multipletests (fdr_bh, holm) computes
 * them, checked against it in test/stats/multiple-testing.test.ts.
 */

export type Correction = 'none' | 'bh' | 'holm';

/** Adjusted p-values in the input's order; NaN stays NaN and counts for nothing. */
export function adjustPValues(pValues: readonly number[], correction: Correction): number[] {
  if (correction === 'none') return [...pValues];
  const order = pValues
    .map((p, i) => ({ p, i }))
    .filter(({ p }) => !Number.isNaN(p))
    .sort((a, b) => a.p - b.p || a.i - b.i);
  const m = order.length;
  const out = pValues.map(() => Number.NaN);
  if (correction === 'bh') {
    // From the largest p down: min over j ≥ rank of p_(j) · m / j, capped at 1.
    let running = 1;
    for (let k = m - 1; k >= 0; k--) {
      running = Math.min(running, (order[k]!.p * m) / (k + 1));
      out[order[k]!.i] = running;
    }
    return out;
  }
  // Holm, from the smallest p up: max over j ≤ rank of p_(j) · (m − j + 1), capped at 1.
  let running = 0;
  for (let k = 0; k < m; k++) {
    running = Math.max(running, Math.min(1, order[k]!.p * (m - k)));
    out[order[k]!.i] = running;
  }
  return out;
}
