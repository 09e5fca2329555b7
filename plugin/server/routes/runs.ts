import { Router } from 'express';
import { RunError } from '../../run/index.ts';
import { NotFoundError, parseBody, RequestError, runRequestSchema } from '../../service/index.ts';
import type { RunRow } from '../../store/index.ts';
import { ADMIN } from '../auth.ts';
import type { RouteContext } from './context.ts';

const RUN_ERROR_STATUS = { not_found: 404, conflict: 409, not_configured: 422, bad_request: 400 } as const;

/** Batch runs over an audience: start one (in the background), list them, follow one. */
export function runRoutes(ctx: RouteContext): Router {
  const router = Router();
  const runView = (run: RunRow) => ({
    runId: run.runId,
    agentId: run.agentId,
    audience: run.audience,
    status: run.status,
    active: ctx.runs?.isActive(run.runId) ?? false,
    progress: run.checkpoint,
    summary: run.summary,
    createdAt: new Date(run.createdAt).toISOString(),
    updatedAt: new Date(run.updatedAt).toISOString(),
  });

  router.post(
    '/v1/agents/:agentId/runs',
    ctx.json,
    ctx.authed(ADMIN, async (req, res, { service }) => {
      const body = parseBody(runRequestSchema, req.body);
      if (!ctx.runs) throw new RequestError(501, 'runs_unavailable', 'this server does not run batch runs');
      try {
        const run = await ctx.runs.start(service, { agentId: String(req.params.agentId), ...body });
        res.status(202).location(`/v1/runs/${run.runId}`).json(runView(run));
      } catch (err) {
        if (err instanceof RunError) throw new RequestError(RUN_ERROR_STATUS[err.code], err.code, err.message);
        throw err;
      }
    }),
  );

  router.get(
    '/v1/runs',
    ctx.authed(ADMIN, async (_req, res, { service }) => {
      res.json({ runs: (await ctx.store.listRuns(service.workspace, 100)).map(runView) });
    }),
  );

  router.get(
    '/v1/runs/:runId',
    ctx.authed(ADMIN, async (req, res, { service }) => {
      const run = await ctx.store.getRun(service.workspace, String(req.params.runId));
      if (!run) throw new NotFoundError(`run "${String(req.params.runId)}"`);
      res.json(runView(run));
    }),
  );
  return router;
}
