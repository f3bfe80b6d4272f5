/**
 * Always-valid sample-ratio-mismatch test over a stream of users (Lindon & Malek 2022, "Anytime-valid
 * inference for multinomial count data"): the Dirichlet–multinomial mSPRT, which for two arms is a
 * Beta–binomial Bayes factor of a prior on B's share against the configured share s.
 *
 * Per period (a run of users seen at one configured share s) with prior Beta(k s, k(1 − s)):
 *   BF = B(k s + b, k(1 − s) + a) / B(k s, k(1 − s)) / (s^b (1 − s)^a)
 * after a users in A and b in B, updated in O(1) per user by its predictive ratio. Each period's BF is a
 * test martingale under "assignment follows the configured share"; periods run one after the other, so
 * their product is one too, and Ville's inequality makes the running minimum of 1/BF a p-value that
 * stays valid however often it is looked at.
 */

import { InputError, describe } from '../errors.js';

/**
 * Prior concentration k of Beta(k s, k(1 − s)) on B's share. The prior sd √(s(1 − s)/(k + 1)) is ≈ 0.05
 * at s = 1/2: a broken assignment shows imbalances of that order, and 10^2..10^4 users measure the share
 * to 0.05..0.005, so the mixture puts its weight where such tests have power; a wider prior wastes it on
 * shares no real bug produces, a narrower one needs far more users to reject.
 */
export const SRM_PRIOR_CONCENTRATION = 100;

export interface SrmPeriod {
  /** The configured share of B during the period. */
  shareB: number;
  /** Users first seen in each arm during the period. */
  users: { A: number; B: number };
  /** ln BF of the period alone. */
  logBayesFactor: number;
}

/** A period's running state, with the constants of its O(1) update computed once. */
interface PeriodState {
  shareB: number;
  a: number;
  b: number;
  logBayesFactor: number;
  priorB: number;
  priorA: number;
  logShareB: number;
  logShareA: number;
}

export class SequentialSrm {
  private readonly concentration: number;
  private readonly history: PeriodState[] = [];
  /** ln BF of the periods before the current one. */
  private finished = 0;
  private minimumP = 1;
  private skippedUsers = 0;
  private usersA = 0;
  private usersB = 0;

  constructor(concentration = SRM_PRIOR_CONCENTRATION) {
    if (!(concentration > 0) || !Number.isFinite(concentration)) {
      throw new InputError(`SRM prior concentration: expected a finite number > 0, got ${describe(concentration)}`);
    }
    this.concentration = concentration;
  }

  /**
   * One newly seen user, assigned to `arm` while the configured share of B was `shareB`. A share other
   * than the last one's starts a new period (a split change); shares 0 and 1 carry no information and
   * are skipped (counted in `skipped`) without ending the current period.
   */
  observe(arm: 'A' | 'B', shareB: number): void {
    if (arm !== 'A' && arm !== 'B') throw new InputError(`SRM arm: expected "A" or "B", got ${describe(arm)}`);
    if (typeof shareB !== 'number' || !(shareB >= 0 && shareB <= 1)) {
      throw new InputError(`SRM share of B: expected a number in [0, 1], got ${describe(shareB)}`);
    }
    // At share 0 or 1 every user lands in one arm whatever is broken: the likelihood ratio is 1.
    if (shareB === 0 || shareB === 1) {
      this.skippedUsers++;
      return;
    }
    let period = this.history.at(-1);
    if (!period || period.shareB !== shareB) {
      this.finished += period?.logBayesFactor ?? 0;
      const k = this.concentration;
      period = { shareB, a: 0, b: 0, logBayesFactor: 0, priorB: k * shareB, priorA: k * (1 - shareB), logShareB: Math.log(shareB), logShareA: Math.log1p(-shareB) };
      this.history.push(period);
    }
    const seen = period.a + period.b;
    // The user's predictive probability under the mixture over its probability under the null.
    if (arm === 'B') {
      period.logBayesFactor += Math.log((period.priorB + period.b) / (this.concentration + seen)) - period.logShareB;
      period.b++;
      this.usersB++;
    } else {
      period.logBayesFactor += Math.log((period.priorA + period.a) / (this.concentration + seen)) - period.logShareA;
      period.a++;
      this.usersA++;
    }
    const total = this.finished + period.logBayesFactor;
    if (total > 0) this.minimumP = Math.min(this.minimumP, Math.exp(-total));
  }

  /** Always-valid p: running minimum over every observation of min(1, exp(−total ln BF)). */
  get pValue(): number {
    return this.minimumP;
  }

  /** Total ln BF now, Σ over periods. */
  get logBayesFactor(): number {
    return this.finished + (this.history.at(-1)?.logBayesFactor ?? 0);
  }

  /** Every period so far, the current one last (copies: the test's state stays its own). */
  get periods(): readonly SrmPeriod[] {
    return this.history.map((p) => ({ shareB: p.shareB, users: { A: p.a, B: p.b }, logBayesFactor: p.logBayesFactor }));
  }

  /** Users counted in the test (skipped users are not among them). */
  get users(): { A: number; B: number } {
    return { A: this.usersA, B: this.usersB };
  }

  /** Users seen while the share was 0 or 1. */
  get skipped(): number {
    return this.skippedUsers;
  }
}
