/** POST /feedback: the true label of a recent prediction, appended to the log. */
import type { FastifyInstance } from 'fastify';
import type { RouterContext } from '../app.js';
import { RouterError } from '../errors.js';
import { feedbackBodySchema, type FeedbackBody } from '../schemas.js';

export async function feedbackRoutes(app: FastifyInstance, context: RouterContext): Promise<void> {
  app.post('/feedback', { schema: { body: feedbackBodySchema(context.config.current) } }, async (request, reply) => {
    const body = request.body as FeedbackBody;
    if (!context.recent.has(body.request_id)) {
      throw new RouterError(
        404,
        'NOT_FOUND',
        `expected the request_id of one of the last ${context.recent.capacity} predictions of this router, got ${JSON.stringify(body.request_id)}`,
        'request_id',
      );
    }
    context.log.appendFeedback({ ts: context.clock.now(), requestId: body.request_id, label: body.label });
    context.metrics.feedback.inc();
    context.metrics.logRows.inc({ event: 'feedback' });
    return reply.code(202).send({ request_id: body.request_id, label: body.label, status: 'accepted' });
  });
}
