import { Router } from 'express';
import type { RouteContext } from './context.ts';

/**
 * GET /healthz and GET /metrics (Prometheus): no key. /healthz answers 503 with the store's fault
 * while the store cannot keep writes (see Store.health), and says whether this instance is the learner.
 */
export function operationRoutes(ctx: RouteContext): Router {
  const router = Router();
  router.get('/healthz', async (_req, res, next) => {
    try {
      const fault = await ctx.store.health();
      if (fault) res.status(503).json({ status: 'unavailable', error: { code: fault.code, message: fault.message } });
      else
        res.json({
          status: 'ok',
          workspaces: [...ctx.services.keys()],
          // several instances on one database: exactly one of them learns
          learner: [...ctx.services.values()].some((s) => s.isLearner()),
        });
    } catch (err) {
      next(err);
    }
  });
  router.get('/metrics', async (_req, res, next) => {
    try {
      res.set('Content-Type', ctx.metrics.registry.contentType).send(await ctx.metrics.registry.metrics());
    } catch (err) {
      next(err);
    }
  });
  return router;
}
