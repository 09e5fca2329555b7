import { Router } from 'express';
import { z } from 'zod';
import { parseBody, reportQuerySchema } from '../../service/index.ts';
import { ADMIN } from '../auth.ts';
import type { RouteContext } from './context.ts';

/** A config text to check: YAML (or JSON), as an admin edits it. */
const configTextSchema = z.strictObject({ yaml: z.string().max(1_000_000) });

/** The agents (list with state), an agent's config (read, check, create or update: versioned), its versions, audit and report. */
export function agentRoutes(ctx: RouteContext): Router {
  const router = Router();
  router.get(
    '/v1/agents',
    ctx.authed(ADMIN, async (_req, res, { service }) => {
      res.json({ agents: await service.agentSummaries() });
    }),
  );

  router.get(
    '/v1/agents/:agentId/versions',
    ctx.authed(ADMIN, async (req, res, { service }) => {
      res.json({ versions: await service.agentVersions(String(req.params.agentId)) });
    }),
  );

  router.get(
    '/v1/agents/:agentId/audit',
    ctx.authed(ADMIN, async (req, res, { service }) => {
      const entries = await service.agentAudit(String(req.params.agentId));
      res.json({ entries: entries.map((e) => ({ ...e, at: new Date(e.at).toISOString() })) });
    }),
  );

  router.post(
    '/v1/agents/:agentId/check',
    ctx.json,
    ctx.authed(ADMIN, async (req, res, { service }) => {
      const { yaml } = parseBody(configTextSchema, req.body);
      res.json(service.checkAgentText(String(req.params.agentId), yaml));
    }),
  );

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
