/** POST /admin/reload (admin): resolve the aliases in the registry now instead of at the next poll. */
import type { FastifyInstance } from 'fastify';
import type { RouterContext } from '../context.js';
import { requireAdmin } from './admin-auth.js';

export async function adminRoutes(app: FastifyInstance, context: RouterContext): Promise<void> {
  app.post('/admin/reload', { preParsing: requireAdmin(context.config.current.adminToken) }, async () => {
    const status = await context.models.reload();
    return { prod: status.prod, staging: status.staging, registry: status.registry };
  });
}
