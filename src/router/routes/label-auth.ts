/**
 * Who may send labels. Labels decide promotions, so with router.labels: token (the default) a label
 * (POST /feedback, or `label` on POST /predict) needs `Authorization: Bearer <label token>`
 * (DRIFTGATE_LABEL_TOKEN; the admin token works too). router.labels: open takes them from anyone.
 */
import type { FastifyRequest } from 'fastify';
import type { RouterContext } from '../context.js';
import { RouterError } from '../errors.js';
import { BearerTokens, beforeBody, describeBearer } from './admin-auth.js';

export type LabelCheck = (request: FastifyRequest) => void;

/** Throws 401 LABEL_UNAUTHORIZED or LABELS_DISABLED for a request that may not send a label, and counts it. */
export function labelCheck(context: RouterContext): LabelCheck {
  const config = context.config.current;
  if (config.router.labels === 'open') return () => undefined;
  // Without a label token labels are off, even with the admin token: as admin routes without theirs.
  const tokens = new BearerTokens(config.labelToken === null ? [] : [config.labelToken, config.adminToken]);
  return (request) => {
    if (!tokens.configured) {
      context.metrics.labelsRefused.inc({ reason: 'disabled' });
      throw new RouterError(
        401,
        'LABELS_DISABLED',
        'expected the router to be started with DRIFTGATE_LABEL_TOKEN set (or router.labels: open) to accept labels, got no label token; labels are refused',
      );
    }
    const verdict = tokens.verify(request.headers.authorization);
    if (verdict === 'ok') return;
    context.metrics.labelsRefused.inc({ reason: verdict });
    throw new RouterError(401, 'LABEL_UNAUTHORIZED', `expected Authorization: Bearer <label token> (DRIFTGATE_LABEL_TOKEN, or the admin token) to send a label, got ${describeBearer(verdict)}`);
  };
}

/** The hook of POST /feedback (see beforeBody). */
export function requireLabelToken(context: RouterContext) {
  return beforeBody(labelCheck(context));
}
