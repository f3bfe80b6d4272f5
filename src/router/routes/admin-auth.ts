/** Bearer-token check of the admin routes; the token only ever comes from DRIFTGATE_ADMIN_TOKEN. */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { RouterError } from '../errors.js';

const digest = (text: string): Buffer => createHash('sha256').update(text).digest();

/**
 * An onRequest hook, so an unauthenticated body is never parsed. Without a configured token the
 * admin routes are off: 401 ADMIN_DISABLED says how to turn them on.
 */
export function requireAdmin(token: string | null) {
  const expected = token === null ? null : digest(token);
  return async (request: FastifyRequest): Promise<void> => {
    if (expected === null) {
      throw new RouterError(401, 'ADMIN_DISABLED', 'expected the router to be started with DRIFTGATE_ADMIN_TOKEN set for admin routes, got no token; admin routes are disabled');
    }
    const header = request.headers.authorization;
    const given = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '')?.[1];
    // Comparing digests keeps the comparison constant-time whatever the lengths.
    if (given === undefined || !timingSafeEqual(digest(given), expected)) {
      throw new RouterError(401, 'UNAUTHORIZED', `expected Authorization: Bearer <admin token>, got ${header === undefined ? 'no Authorization header' : given === undefined ? 'a header that is not a bearer token' : 'a wrong token'}`);
    }
  };
}
