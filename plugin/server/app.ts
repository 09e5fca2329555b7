import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import type { Logger } from 'pino';
import type { BackgroundRuns } from '../run/index.ts';
import { EVENTS_BODY_LIMIT, RequestError, type DecisionService, type Metrics } from '../service/index.ts';
import type { Store } from '../store/index.ts';
import { bearerAuth } from './auth.ts';
import { answerErrors } from './errors.ts';
import type { Rate } from './rate-limit.ts';
import {
  adminRoutes,
  agentRoutes,
  decisionRoutes,
  eventRoutes,
  operationRoutes,
  runRoutes,
  type RouteContext,
} from './routes/index.ts';

export { KEY_CACHE_TTL_MS } from './auth.ts';

export interface AppOptions {
  store: Store;
  /** The service of each workspace this process serves. */
  services: Map<string, DecisionService>;
  logger: Logger;
  metrics: Metrics;
  /** Largest JSON body accepted outside /v1/events (which follows Segment's 500 KB). */
  bodyLimit?: string;
  /** Routes added by adapters (see ServerExtension), mounted before the 404 handler. */
  routers?: Router[];
  /**
   * Web origins allowed to call `decide` from a browser (CORS), e.g. `https://shop.example.com`;
   * `*` allows any. Empty (the default): no CORS headers, so browsers refuse cross-origin calls.
   */
  corsOrigins?: string[];
  /** Rate limits of public-key decisions, per key and per user (default PUBLIC_DECIDE_RATES). */
  publicRates?: { perKey: Rate; perUser: Rate };
  /** Batch runs started over HTTP; without it the runs routes answer 501. */
  runs?: BackgroundRuns;
}

/**
 * The HTTP API (docs/service.md): one router per resource (routes/), the bearer-key check
 * (auth.ts) and the one error mapping (errors.ts). Every body is parsed with zod and rejected with
 * a 400 naming the field; errors are `{error: {code, message, issues?}}`.
 */
export function createApp(options: AppOptions): express.Express {
  const { store, services, logger, metrics } = options;
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use(accessLog(logger, metrics));
  const ctx: RouteContext = {
    store,
    services,
    logger,
    metrics,
    authed: bearerAuth(store, services),
    // Bodies are JSON whatever the Content-Type says (curl -d sends form encoding by default).
    json: express.json({ limit: options.bodyLimit ?? '1mb', strict: false, type: () => true }),
    eventsJson: express.json({ limit: EVENTS_BODY_LIMIT, strict: false, type: () => true }),
    corsOrigins: options.corsOrigins ?? [],
    publicRates: options.publicRates,
    runs: options.runs,
  };
  for (const routes of [operationRoutes, decisionRoutes, eventRoutes, agentRoutes, runRoutes, adminRoutes])
    app.use(routes(ctx));
  for (const router of options.routers ?? []) app.use(router);
  app.use((_req: Request, _res: Response, next: NextFunction) =>
    next(new RequestError(404, 'not_found', 'no such route')),
  );
  app.use(answerErrors(logger));
  return app;
}

/** Access log and request counts without raw user ids: the route pattern, never the URL. */
function accessLog(logger: Logger, metrics: Metrics) {
  return (req: Request, res: Response, next: NextFunction) => {
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const route = (req.route?.path as string | undefined) ?? 'unmatched';
      metrics.httpRequests.inc({ route, status: String(res.statusCode) });
      if (res.statusCode >= 500) logger.error({ method: req.method, route, status: res.statusCode }, 'request failed');
      else
        logger.debug(
          { method: req.method, route, status: res.statusCode, ms: Number(process.hrtime.bigint() - started) / 1e6 },
          'request',
        );
    });
    next();
  };
}
