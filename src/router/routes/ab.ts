/**
 * GET /ab (the split in force, the versions, the counts, who may send labels) and PUT /ab (admin:
 * rewrite the split in the YAML). The assignment seed is shown to the admin token only: with it,
 * anyone could pick user ids that land in B.
 */
import type { FastifyInstance } from 'fastify';
import { ASSIGNMENT_HASH_VERSION } from '../assign.js';
import type { RouterContext } from '../context.js';
import type { AliasStatus } from '../model-set.js';
import { splitBodySchema, type SplitBody } from '../schemas.js';
import { BearerTokens, requireAdmin } from './admin-auth.js';

function aliasView(status: AliasStatus): { version: string | null; state: AliasStatus['state'] } {
  return { version: status.version, state: status.state };
}

/** The GET /ab body; `admin`: the caller holds the admin token, so the assignment seed is included. */
export function abState(context: RouterContext, admin: boolean) {
  const status = context.models.status();
  const router = context.config.current.router;
  return {
    ab_split_b: router.ab_split_b,
    prod: aliasView(status.prod),
    staging: status.staging.state === 'absent' ? null : aliasView(status.staging),
    counts: { ...context.counts },
    assignment: {
      hash_version: ASSIGNMENT_HASH_VERSION,
      ...(admin ? { seed: router.assignment_seed } : {}),
      staging_available: context.models.servable('staging'),
    },
    labels: router.labels,
  };
}

export async function abRoutes(app: FastifyInstance, context: RouterContext): Promise<void> {
  const admin = new BearerTokens([context.config.current.adminToken]);
  // A missing or wrong token is no error here: GET /ab is public, only the seed is withheld.
  app.get('/ab', async (request) => abState(context, admin.verify(request.headers.authorization) === 'ok'));
  app.put('/ab', { preParsing: requireAdmin(context.config.current.adminToken), schema: { body: splitBodySchema } }, async (request) => {
    const { ab_split_b: split } = request.body as SplitBody;
    await context.config.setSplit(split);
    context.metrics.split.set(context.config.current.router.ab_split_b);
    request.log.info({ event: 'split_set', ab_split_b: split, file: context.config.current.source.file }, `PUT /ab set ab_split_b to ${split}`);
    return abState(context, true);
  });
}
