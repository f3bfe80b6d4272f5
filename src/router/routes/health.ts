/** GET /health (alive), GET /ready (the models it needs are loaded), GET /metrics (Prometheus). */
import type { FastifyInstance } from 'fastify';
import type { RouterContext } from '../context.js';

export async function healthRoutes(app: FastifyInstance, context: RouterContext): Promise<void> {
  // Probes and scrapes are not rate limited: an overloaded router must still say so.
  const unlimited = { rateLimit: false } as const;

  app.get('/health', { config: unlimited }, async () => ({ status: 'ok', uptime_s: Math.round((Date.now() - context.startedAt) / 1000) }));

  app.get('/ready', { config: unlimited }, async (_request, reply) => {
    const { starting } = context.lifecycle;
    if (starting !== null) return reply.code(503).send({ error: { code: 'NOT_READY', message: starting }, status: 'starting', reasons: [starting] });
    const readiness = context.models.readiness();
    const logProblem = context.logProblem();
    const reasons = logProblem ? [...readiness.reasons, logProblem] : readiness.reasons;
    const status = context.models.status();
    // The shadow is reported, never a reason: it cannot make prod unready or degraded.
    const body = { models: { prod: status.prod, staging: status.staging }, registry: status.registry, workers: status.workers, shadow: context.shadow.status(), reasons };
    // A log that cannot take rows refuses predictions (router.log_failure: refuse): send traffic elsewhere.
    const refusing = logProblem !== null && context.config.current.router.log_failure === 'refuse';
    if (!readiness.ready || refusing) {
      return reply.code(503).send({ error: { code: 'NOT_READY', message: reasons.join('; ') }, status: 'not_ready', ...body });
    }
    return { status: readiness.degraded || logProblem ? 'degraded' : 'ready', ...body };
  });

  app.get('/metrics', { config: unlimited }, async (_request, reply) => {
    context.metrics.split.set(context.config.current.router.ab_split_b);
    const shadow = context.shadow.status();
    context.metrics.shadowShare.set(shadow.share);
    context.metrics.shadowQueue.set(shadow.queue.length);
    context.metrics.setRegistryStatus(context.models.status().registry);
    const text = await context.metrics.registry.metrics();
    return reply.type(context.metrics.registry.contentType).send(text);
  });
}
