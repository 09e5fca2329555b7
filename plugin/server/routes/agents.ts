import { Router } from 'express';
import { parseBody, reportQuerySchema } from '../../service/index.ts';
import { ADMIN } from '../auth.ts';
import type { RouteContext } from './context.ts';

/** An agent's config (read, create or update: versioned) and its report. */
export function agentRoutes(ctx: RouteContext): Router {
  const router = Router();
  router.get(
    '/v1/agents/:agentId',
    ctx.authed(ADMIN, async (req, res, { service }) => {
      const agentId = String(req.params.agentId);
      res.json({ id: agentId, ...service.getAgent(agentId) });
    }),
  );

  router.put(
    '/v1/agents/:agentId',
    ctx.json,
    ctx.authed(ADMIN, async (req, res, { service, keyLabel }) => {
      const agentId = String(req.params.agentId);
      const result = await service.putAgent(agentId, req.body, `api-key:${keyLabel}`);
      res.status(result.version === 1 && result.changed ? 201 : 200).json({ id: agentId, ...result });
    }),
  );

  router.get(
    '/v1/agents/:agentId/report',
    ctx.authed(ADMIN, async (req, res, { service }) => {
      const query = parseBody(reportQuerySchema, req.query, 'query');
      res.json(await service.report(String(req.params.agentId), query));
    }),
  );
  return router;
}
