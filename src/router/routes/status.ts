/**
 * GET /status (the status page), GET /status.json (its data) and the reports it links to, served
 * read-only: GET /reports/ab/<id>/report.{html,json} and GET /reports/drift/<id>/…. Public like GET /ab:
 * nothing secret is on them. A report path that is not a report (a bad id, `..`, a symlink) is 404.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { toJsonText } from '../../report/index.js';
import type { RouterContext } from '../context.js';
import { RouterError } from '../errors.js';
import { readReportFile, renderStatusHtml, StatusSource, type ReportKind } from '../status/index.js';

/** The pages are self-contained: anything they would fetch (a script, a stylesheet, a frame) is refused. */
const PAGE_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

function page(reply: FastifyReply, type: string): FastifyReply {
  return reply.type(type).header('cache-control', 'no-store').header('x-content-type-options', 'nosniff').header('content-security-policy', PAGE_POLICY);
}

export async function statusRoutes(app: FastifyInstance, context: RouterContext): Promise<void> {
  const source = new StatusSource(context);

  app.get('/status', async (_request, reply) => page(reply, 'text/html; charset=utf-8').send(renderStatusHtml(await source.collect())));
  app.get('/status.json', async (_request, reply) => page(reply, 'application/json; charset=utf-8').send(toJsonText(await source.collect())));

  const reports: Record<ReportKind, () => string> = { ab: () => context.config.current.ab.reports_dir, drift: () => context.config.current.drift.reports_dir };
  for (const kind of ['ab', 'drift'] as const) {
    app.get(`/reports/${kind}/:id/:file`, async (request, reply) => {
      const { id, file } = request.params as { id: string; file: string };
      const bytes = await readReportFile(reports[kind](), id, file);
      if (bytes === null) {
        throw new RouterError(404, 'NOT_FOUND', `expected /reports/${kind}/<report id like 20261128T043512Z-1a2b3c>/report.html or report.json of an existing report, got ${request.url.split('?')[0]}`);
      }
      return page(reply, file === 'report.html' ? 'text/html; charset=utf-8' : 'application/json; charset=utf-8').send(bytes);
    });
  }
}
