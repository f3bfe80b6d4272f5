/**
 * The router's HTTP app, built from its dependencies so tests drive it with app.inject() and the
 * serve command calls listen(). Every error leaves as {error: {code, message, field?}} with a
 * status from the contract; bad input is never a 500.
 */
import rateLimit from '@fastify/rate-limit';
import Fastify, { LogController, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Config } from '../config/index.js';
import type { Variant } from '../prediction-log/index.js';
import type { RouterContext, RouterDeps } from './context.js';
import { RouterError } from './errors.js';
import { abRoutes } from './routes/ab.js';
import { adminRoutes } from './routes/admin.js';
import { feedbackRoutes } from './routes/feedback.js';
import { healthRoutes } from './routes/health.js';
import { predictRoutes } from './routes/predict.js';
import { NO_SHADOW } from './shadow.js';
import { statusRoutes } from './routes/status.js';
import { explainSchemaFailure, type SchemaFailure } from './schemas.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by /predict for the request log line. */
    served: { variant: Variant; model_version: string } | null;
  }
}

const FRAMEWORK_ERRORS: Record<string, (error: FastifyError, request: FastifyRequest, config: Config) => RouterError> = {
  FST_ERR_CTP_INVALID_JSON_BODY: () =>
    new RouterError(400, 'INVALID_JSON', 'expected a JSON body, got text that does not parse as JSON (NaN and Infinity are not JSON numbers; __proto__ and constructor keys are refused)'),
  FST_ERR_CTP_EMPTY_JSON_BODY: () => new RouterError(400, 'INVALID_JSON', 'expected a JSON body, got an empty body'),
  FST_ERR_CTP_BODY_TOO_LARGE: (_e, _r, config) =>
    new RouterError(413, 'BODY_TOO_LARGE', `expected a body of at most ${config.router.body_limit_bytes} bytes (router.body_limit_bytes), got more`),
  FST_ERR_CTP_INVALID_MEDIA_TYPE: (_e, request) =>
    new RouterError(400, 'UNSUPPORTED_MEDIA_TYPE', `expected Content-Type: application/json, got ${request.headers['content-type'] ? JSON.stringify(request.headers['content-type']) : 'no Content-Type'}`),
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: () => new RouterError(400, 'BAD_REQUEST', 'expected a body as long as its Content-Length, got a different length'),
};

/** Any error a request can raise, as a contract error. */
export function toRouterError(error: FastifyError | Error, request: FastifyRequest, config: Config): RouterError {
  if (error instanceof RouterError) return error;
  const fastifyError = error as FastifyError;
  if (fastifyError.validation?.length) {
    const problem = explainSchemaFailure(fastifyError.validation[0] as unknown as SchemaFailure, request.body, config);
    return new RouterError(400, 'VALIDATION_FAILED', problem.message, problem.field);
  }
  const known = fastifyError.code ? FRAMEWORK_ERRORS[fastifyError.code] : undefined;
  if (known) return known(fastifyError, request, config);
  const status = fastifyError.statusCode ?? 0;
  if (status === 429) return new RouterError(429, 'RATE_LIMITED', error.message);
  if (status === 404) return new RouterError(404, 'NOT_FOUND', error.message);
  if (status >= 400 && status < 500) return new RouterError(400, 'BAD_REQUEST', error.message);
  return new RouterError(503, 'INTERNAL_ERROR', `the router failed to answer (${error.message}); the failure is logged`, undefined, { cause: error });
}

export function buildApp(deps: RouterDeps): FastifyInstance {
  const config = deps.config.current;
  const context: RouterContext = {
    config: deps.config,
    models: deps.models,
    log: deps.log,
    labels: deps.labels,
    requestIds: deps.requestIds,
    metrics: deps.metrics,
    clock: deps.clock ?? { now: Date.now },
    lifecycle: deps.lifecycle ?? { starting: null, draining: false },
    logProblem: deps.logProblem ?? (() => null),
    shadow: deps.shadow ?? NO_SHADOW,
    counts: { A: 0, B: 0 },
    startedAt: Date.now(),
  };
  const app = Fastify({
    logger: deps.logger ?? false,
    // One line per request from onResponse below, with the variant and version; not two.
    logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: 'request_id' }),
    genReqId: () => context.requestIds.issue(),
    bodyLimit: config.router.body_limit_bytes,
    // A request must arrive whole within router.request_timeout_ms (a body trickling in byte by byte is
    // cut: Node answers 408 and closes), checked every 250 ms rather than Node's 30 s; an idle
    // keep-alive connection closes after keep_alive_timeout_ms; a socket silent for both is closed.
    requestTimeout: config.router.request_timeout_ms,
    keepAliveTimeout: config.router.keep_alive_timeout_ms,
    connectionTimeout: config.router.keep_alive_timeout_ms + config.router.request_timeout_ms,
    http: { headersTimeout: config.router.request_timeout_ms, connectionsCheckingInterval: 250 },
    // Draining answers with the contract's error body (onRequest below), not Fastify's.
    return503OnClosing: false,
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, useDefaults: false, allErrors: false } },
  });
  // JSON only: a text/plain body is refused, not parsed into a string that fails later.
  app.removeContentTypeParser('text/plain');
  app.decorateRequest('served', null);

  app.addHook('onRequest', async (_request, reply) => {
    if (context.lifecycle.draining) {
      reply.header('connection', 'close');
      throw new RouterError(503, 'SHUTTING_DOWN', 'the router is shutting down; retry on another instance');
    }
  });
  app.addHook('onResponse', async (request: FastifyRequest, reply: FastifyReply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    context.metrics.httpRequests.inc({ route, method: request.method, status: String(reply.statusCode) });
    request.log.info(
      { method: request.method, url: request.url, status: reply.statusCode, ms: Math.round(reply.elapsedTime * 100) / 100, ...(request.served ?? {}) },
      'request',
    );
  });

  app.setErrorHandler((error: FastifyError, request, reply) => {
    const routerError = toRouterError(error, request, deps.config.current);
    if (routerError.routerCode === 'INTERNAL_ERROR') request.log.error({ err: error }, 'unexpected error');
    else if (routerError.status !== 503) context.metrics.rejected.inc({ code: routerError.routerCode });
    if (routerError.status === 401) reply.header('www-authenticate', 'Bearer realm="driftgate"');
    return reply.code(routerError.status).type('application/json').send(routerError.toBody());
  });
  app.setNotFoundHandler((request, reply) => {
    const error = new RouterError(
      404,
      'NOT_FOUND',
      `expected one of POST /predict, POST /feedback, GET /ab, PUT /ab, POST /admin/reload, GET /health, GET /ready, GET /metrics, GET /status, GET /status.json, GET /reports/<kind>/<id>/<file>; got ${request.method} ${request.url.split('?')[0]}`,
    );
    context.metrics.rejected.inc({ code: 'NOT_FOUND' });
    return reply.code(404).type('application/json').send(error.toBody());
  });

  void app.register(rateLimit, {
    max: config.router.rate_limit.max,
    timeWindow: config.router.rate_limit.window_ms,
    hook: 'onRequest',
    errorResponseBuilder: (_request, limit) =>
      new RouterError(429, 'RATE_LIMITED', `expected at most ${limit.max} requests per ${config.router.rate_limit.window_ms} ms from one client (router.rate_limit), got more; retry in ${limit.after}`),
  });
  void app.register(predictRoutes, context);
  void app.register(feedbackRoutes, context);
  void app.register(abRoutes, context);
  void app.register(adminRoutes, context);
  void app.register(healthRoutes, context);
  void app.register(statusRoutes, context);
  return app;
}
