/**
 * POST /predict: assign a variant, predict with its model (batched), log the row, answer. The
 * answer leaves only once its row is written (router.log_ack: written), so an answered prediction
 * is never missing from the log; a row that cannot be written is refused (503 LOG_UNAVAILABLE) or,
 * with router.log_failure: serve, answered unlogged and counted.
 */
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import { classProbabilities, LogWriteError, type FailureRecord } from '../../prediction-log/index.js';
import { assignVariant, type Variant } from '../assign.js';
import type { RouterContext } from '../context.js';
import { logUnavailable, RouterError } from '../errors.js';
import { predictBodySchema, predictResponseSchema, type PredictBody } from '../schemas.js';
import { labelCheck } from './label-auth.js';

/**
 * The prediction, or 503 DEADLINE_EXCEEDED once `ms` have passed (queue, batch and worker together).
 * A request still waiting for its batch then leaves the queue; one whose batch is running is answered
 * with the error, and its late prediction is neither sent nor logged.
 */
async function withDeadline<T>(ms: number, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      const error = new RouterError(503, 'DEADLINE_EXCEEDED', `no prediction within ${ms} ms (router.request_timeout_ms); the inference workers are overloaded or hung; retry`);
      controller.abort(error);
      reject(error);
    }, ms);
  });
  try {
    return await Promise.race([work(controller.signal), deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * A request that failed after its variant was assigned leaves a failure row, so the A/B analysis
 * sees each arm's failures. The answer stays the original error: a row that cannot be written is
 * counted (an unexpected error also logged), never answered instead.
 */
async function logFailure(context: RouterContext, log: FastifyBaseLogger, record: FailureRecord): Promise<void> {
  try {
    await context.log.appendFailure(record);
    context.metrics.logRows.inc({ event: 'failure' });
  } catch (error) {
    context.metrics.logRowsFailed.inc({ event: 'failure' });
    if (!(error instanceof LogWriteError)) log.error({ err: error }, 'the failure row could not be written');
  }
}

export async function predictRoutes(app: FastifyInstance, context: RouterContext): Promise<void> {
  const config = context.config.current;
  const featureNames = config.dataset.features.map((f) => f.name);
  const checkLabel = labelCheck(context);

  app.post('/predict', { schema: { body: predictBodySchema(config), response: { 200: predictResponseSchema } } }, async (request, reply) => {
    const body = request.body as PredictBody;
    // Only a request that carries a label needs the label token; it is refused before any prediction or row.
    if (body.label !== undefined) checkLabel(request);
    const live = context.config.current.router;
    const assigned = assignVariant(body.user_id, {
      splitB: live.ab_split_b,
      seed: live.assignment_seed,
      stagingAvailable: context.models.servable('staging'),
    });
    const row = featureNames.map((name) => body.features[name] as number | string);
    let served;
    try {
      served = await withDeadline(live.request_timeout_ms, (signal) => context.models.predict(assigned === 'A' ? 'prod' : 'staging', row, signal));
    } catch (error) {
      const code = error instanceof RouterError ? error.routerCode : 'INTERNAL_ERROR';
      context.metrics.predictionErrors.inc({ variant: assigned, code });
      const alias = assigned === 'A' ? 'prod' : 'staging';
      await logFailure(context, request.log, {
        ts: context.clock.now(),
        requestId: request.id,
        userId: body.user_id,
        variant: assigned,
        alias: alias === 'prod' ? config.mlflow.prod_alias : config.mlflow.staging_alias,
        version: context.models.status()[alias].version,
        features: row,
        errorCode: code,
        latencyMs: reply.elapsedTime,
      });
      throw error;
    }
    // The variant is the one whose model answered (B falls back to A only if staging retired).
    const variant: Variant = served.alias === 'prod' ? 'A' : 'B';
    const latencyMs = reply.elapsedTime;
    const label = body.label ?? null;
    let logged = false;
    try {
      await context.log.appendPrediction({
        ts: context.clock.now(),
        requestId: request.id,
        userId: body.user_id,
        variant,
        alias: served.aliasName,
        version: served.version,
        features: row,
        prediction: served.prediction,
        label,
        latencyMs,
        probabilities: classProbabilities(served.probabilities, config.dataset.classes),
      });
      context.metrics.logRows.inc({ event: 'prediction' });
      logged = true;
    } catch (error) {
      if (!(error instanceof LogWriteError)) throw error;
      context.metrics.logRowsFailed.inc({ event: 'prediction' });
      if (live.log_failure === 'refuse') {
        context.metrics.predictionErrors.inc({ variant, code: 'LOG_UNAVAILABLE' });
        reply.header('retry-after', '1');
        throw logUnavailable(error);
      }
    }
    // The shadow (router.shadow_share) predicts prod's answered, logged requests off the reply path:
    // offer() only queues, so its row follows this one, and nothing it does reaches this reply.
    if (variant === 'A' && logged) {
      try {
        context.shadow.offer({ requestId: request.id, userId: body.user_id, features: row, prediction: served.prediction, latencyMs, inferenceMs: served.inferenceMs });
      } catch (error) {
        request.log.error({ err: error }, 'the shadow could not take the request');
      }
    }
    if (label !== null) context.labels.remember(request.id, label);
    context.counts[variant] += 1;
    context.metrics.observePrediction(variant, served.aliasName, served.version, latencyMs / 1000);
    request.served = { variant, model_version: served.version };
    return {
      request_id: request.id,
      variant,
      alias: served.aliasName,
      model_version: served.version,
      prediction: served.prediction,
      probabilities: served.probabilities,
    };
  });
}
