/**
 * Bearer-token checks: the one comparison both tokens go through (admin routes, labels), and the
 * admin routes' hook. Tokens only ever come from the environment (DRIFTGATE_ADMIN_TOKEN,
 * DRIFTGATE_LABEL_TOKEN).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { RouterError } from '../errors.js';

const digest = (text: string): Buffer => createHash('sha256').update(text).digest();

/** What an Authorization header carried, measured against the tokens a route accepts. */
export type BearerVerdict = 'ok' | 'no_header' | 'not_bearer' | 'wrong_token';

/** The tokens a route accepts, held as digests; null entries (a variable not set) are left out. */
export class BearerTokens {
  private readonly expected: readonly Buffer[];

  constructor(tokens: readonly (string | null)[]) {
    this.expected = tokens.filter((token): token is string => token !== null).map(digest);
  }

  /** False when none of the tokens is configured. */
  get configured(): boolean {
    return this.expected.length > 0;
  }

  verify(header: string | undefined): BearerVerdict {
    if (header === undefined) return 'no_header';
    const given = /^Bearer\s+(\S+)\s*$/i.exec(header)?.[1];
    if (given === undefined) return 'not_bearer';
    const actual = digest(given);
    // Digests keep each comparison constant-time whatever the lengths; every token is compared, so the
    // time does not tell which one matched either.
    let ok = false;
    for (const expected of this.expected) ok = timingSafeEqual(actual, expected) || ok;
    return ok ? 'ok' : 'wrong_token';
  }
}

/** The "got …" half of a 401 message; never the token itself. */
export function describeBearer(verdict: Exclude<BearerVerdict, 'ok'>): string {
  switch (verdict) {
    case 'no_header':
      return 'no Authorization header';
    case 'not_bearer':
      return 'a header that is not a bearer token';
    case 'wrong_token':
      return 'a wrong token';
  }
}

/**
 * A check as a preParsing hook: after the rate limiter (an onRequest hook), so guessing tokens is
 * rate-limited too, and before the body is read, so an unauthenticated body is never parsed.
 */
export function beforeBody(check: (request: FastifyRequest) => void) {
  return async <T>(request: FastifyRequest, _reply: FastifyReply, payload: T): Promise<T> => {
    check(request);
    return payload;
  };
}

/** The admin routes' check. Without a configured token they are off: 401 ADMIN_DISABLED says how to turn them on. */
export function requireAdmin(token: string | null) {
  const tokens = new BearerTokens([token]);
  return beforeBody((request) => {
    if (!tokens.configured) {
      throw new RouterError(401, 'ADMIN_DISABLED', 'expected the router to be started with DRIFTGATE_ADMIN_TOKEN set for admin routes, got no token; admin routes are disabled');
    }
    const verdict = tokens.verify(request.headers.authorization);
    if (verdict !== 'ok') throw new RouterError(401, 'UNAUTHORIZED', `expected Authorization: Bearer <admin token>, got ${describeBearer(verdict)}`);
  });
}
