/** Continued fractions, evaluated one way for every statistic that needs one (the gamma tail, the normal tail). */
import { InputError } from '../errors.js';

const TINY = 1e-300;

/**
 * b0 + a1/(b1 + a2/(b2 + …)) by the modified Lentz method, until a step changes the value by less
 * than `eps` relative; `term(i)` gives [a_i, b_i] for i = 1, 2, …. `what` names it if it does not converge.
 */
export function continuedFraction(b0: number, term: (i: number) => readonly [number, number], eps: number, what: string, maxTerms = 10_000): number {
  let f = Math.abs(b0) < TINY ? TINY : b0;
  let c = f;
  let d = 0;
  for (let i = 1; i < maxTerms; i++) {
    const [a, b] = term(i);
    d = b + a * d;
    if (Math.abs(d) < TINY) d = TINY;
    c = b + a / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) <= eps) return f;
  }
  throw new InputError(`${what} continued fraction did not converge: expected convergence within ${maxTerms} terms`);
}
