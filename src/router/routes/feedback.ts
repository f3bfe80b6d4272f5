/**
 * POST /feedback: the true label of a prediction any replica of this deployment answered (its
 * request id is signed), appended to this replica's log. A request that already has a label here
 * answers "duplicate" and writes nothing; an id no router issued, or one older than
 * router.feedback_max_age_s, is 404. With router.labels: token the label token is checked before the
 * body is read (401 LABEL_UNAUTHORIZED, or LABELS_DISABLED without one).
 */
import type { FastifyInstance } from 'fastify';
import { LogWriteError } from '../../prediction-log/index.js';
import type { RouterContext } from '../context.js';
import { logUnavailable, RouterError } from '../errors.js';
import { feedbackBodySchema, type FeedbackBody } from '../schemas.js';
import { requireLabelToken } from './label-auth.js';

function age(seconds: number): string {
  if (seconds % 86_400 === 0) return `${seconds / 86_400} day${seconds === 86_400 ? '' : 's'}`;
  if (seconds % 3600 === 0) return `${seconds / 3600} hour${seconds === 3600 ? '' : 's'}`;
  return `${seconds} s`;
}

export async function feedbackRoutes(app: FastifyInstance, context: RouterContext): Promise<void> {
  app.post('/feedback', { preParsing: requireLabelToken(context), schema: { body: feedbackBodySchema(context.config.current) } }, async (request, reply) => {
    const body = request.body as FeedbackBody;
    const maxAgeS = context.config.current.router.feedback_max_age_s;
    const verdict = context.requestIds.verify(body.request_id, maxAgeS * 1000);
    if (!verdict.ok) {
      const message =
        verdict.reason === 'expired'
          ? `expected the request_id of a prediction from the last ${age(maxAgeS)} (router.feedback_max_age_s), got one from ${new Date(verdict.issuedAt!).toISOString()}`
          : `expected the request_id of a prediction answered by a router of this deployment, got ${JSON.stringify(body.request_id)}`;
      throw new RouterError(404, 'NOT_FOUND', message, 'request_id');
    }
    const known = context.labels.labelOf(body.request_id);
    if (known !== undefined) {
      context.metrics.feedbackDuplicates.inc();
      return reply.code(202).send({ request_id: body.request_id, label: known, status: 'duplicate' });
    }
    // Taken before the write, so two concurrent copies of one feedback write one row.
    context.labels.remember(body.request_id, body.label);
    try {
      await context.log.appendFeedback({ ts: context.clock.now(), requestId: body.request_id, label: body.label });
    } catch (error) {
      context.labels.forget(body.request_id);
      if (!(error instanceof LogWriteError)) throw error;
      // A label that cannot be recorded is refused whatever router.log_failure says: accepting it would drop it.
      context.metrics.logRowsFailed.inc({ event: 'feedback' });
      reply.header('retry-after', '1');
      throw logUnavailable(error);
    }
    context.metrics.feedback.inc();
    context.metrics.logRows.inc({ event: 'feedback' });
    return reply.code(202).send({ request_id: body.request_id, label: body.label, status: 'accepted' });
  });
}
