import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import type { Logger } from 'pino';
import { assetRoutes, consoleAssetsDir, ConsoleSessions, securityHeaders, sessionRoutes } from '../console/index.ts';
import type { BackgroundRuns } from '../run/index.ts';
import {
  EVENTS_BODY_LIMIT,
  idFlaw,
  RequestError,
  ValidationError,
  type DecisionService,
  type Metrics,
} from '../service/index.ts';
import type { Store } from '../store/index.ts';
import { bearerAuth } from './auth.ts';
import { jsonBody } from './body.ts';
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
  /** Largest JSON body accepted outside /v1/events (which follows Segment's 500 KB); default 1mb. */
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
  /** The console's sessions (plugin/console); default: DEFAULT_SESSION_LIFETIME_MS on the wall clock. */
  sessions?: ConsoleSessions;
  /** The console's built files (default consoleAssetsDir()); without them `GET /` is a 404. */
  consoleAssets?: string;
}

/**
 * The HTTP API (docs/service.md): one router per resource (routes/), the bearer-key check
 * (auth.ts) and the one error mapping (errors.ts). Paths are checked before any route (body.ts
 * reads bodies); every body is parsed with zod and rejected with a 400 naming the field; errors
 * are `{error: {code, message, issues?}}`.
 */
export function createApp(options: AppOptions): express.Express {
  const { store, services, logger, metrics } = options;
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use(accessLog(logger, metrics));
  app.use(securityHeaders);
  app.use(refuseMalformedPath);
  app.use(PATH_IDS, refuseMalformedPathIds);
  const sessions = options.sessions ?? new ConsoleSessions();
  const ctx: RouteContext = {
    store,
    services,
    logger,
    metrics,
    authed: bearerAuth(store, services, sessions),
    json: jsonBody(options.bodyLimit ?? '1mb'),
    eventsJson: jsonBody(EVENTS_BODY_LIMIT),
    corsOrigins: options.corsOrigins ?? [],
    publicRates: options.publicRates,
    runs: options.runs,
  };
  for (const routes of [operationRoutes, decisionRoutes, eventRoutes, agentRoutes, runRoutes, adminRoutes])
    app.use(routes(ctx));
  app.use(sessionRoutes({ store, services, sessions, json: ctx.json }));
  const assets = options.consoleAssets ?? consoleAssetsDir();
  if (assets) app.use(assetRoutes(assets));
  for (const router of options.routers ?? []) app.use(router);
  app.use((_req: Request, _res: Response, next: NextFunction) =>
    next(new RequestError(404, 'not_found', 'no such route')),
  );
  app.use(answerErrors(logger));
  return app;
}

/** A path that is not valid percent-encoding is refused before any route tries to decode it. */
function refuseMalformedPath(req: Request, _res: Response, next: NextFunction) {
  try {
    decodeURIComponent(req.path);
  } catch {
    return next(
      new RequestError(
        400,
        'malformed_path',
        'the path is not valid percent-encoding (a % not followed by two hex digits, or not UTF-8)',
      ),
    );
  }
  next();
}

/** The routes whose path names an id a caller chose (a user's, or an id echoed back into logs and answers). */
const PATH_IDS = [
  '/v1/agents/:agentId',
  '/v1/connected-content/:agentId',
  '/v1/decisions/:decisionId',
  '/v1/users/:userId',
  '/v1/runs/:runId',
];

/** Ids in the path follow the rules of ids in bodies (`idFlaw`): a 400 naming the parameter. */
function refuseMalformedPathIds(req: Request, _res: Response, next: NextFunction) {
  for (const [name, value] of Object.entries(req.params as Record<string, string>)) {
    const flaw = idFlaw(value);
    if (flaw) return next(new ValidationError(`${name}: ${flaw}`, [{ path: name, message: flaw }]));
  }
  next();
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
