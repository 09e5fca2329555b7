import { Router } from 'express';
import type { RouteContext } from './context.ts';

/** GET /healthz and GET /metrics (Prometheus): no key. */
export function operationRoutes(ctx: RouteContext): Router {
  const router = Router();
  router.get('/healthz', async (_req, res) => {
    res.json({ status: 'ok', workspaces: [...ctx.services.keys()] });
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
