import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { LRUCache } from 'lru-cache';
import type { Logger } from 'pino';
import { RunError, type BackgroundRuns } from '../run/index.ts';
import type { ApiKeyRow, KeyScope, RunRow, Store } from '../store/index.ts';
import { AuthError, HttpError, NotFoundError, parseBody } from './errors.ts';
import { generateApiKey, hashApiKey } from './keys.ts';
import type { Metrics } from './metrics.ts';
import { connectedContentQuerySchema, createKeySchema, runRequestSchema, decideBatchSchema, decideRequestSchema, eventBatchSchema, EVENTS_BODY_LIMIT, PUBLIC_CONTEXT_FIELDS, PUBLIC_DECIDE_FIELDS, segmentEventSchema, type SegmentEvent } from './schemas.ts';
import type { DecisionService } from './service.ts';

/** How long an API key lookup is remembered. */
export const KEY_CACHE_TTL_MS = 30_000;

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
  /** Batch runs started over HTTP; without it the runs routes answer 501. */
  runs?: BackgroundRuns;
}

interface Authed {
  service: DecisionService;
  scope: KeyScope;
  keyLabel: string;
}

type Handler = (req: Request, res: Response, auth: Authed) => Promise<void>;

/**
 * The HTTP API (shared/DESIGN.md "The HTTP API"). Every body is parsed with zod and rejected
 * with a 400 naming the field; errors are `{error: {code, message, issues?}}`.
 */
export function createApp(options: AppOptions): express.Express {
  const { store, services, logger, metrics } = options;
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);

  // Access log without raw user ids: the route pattern, never the URL.
  app.use((req, res, next) => {
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const route = (req.route?.path as string | undefined) ?? 'unmatched';
      metrics.httpRequests.inc({ route, status: String(res.statusCode) });
      if (res.statusCode >= 500) logger.error({ method: req.method, route, status: res.statusCode }, 'request failed');
      else logger.debug({ method: req.method, route, status: res.statusCode, ms: Number(process.hrtime.bigint() - started) / 1e6 }, 'request');
    });
    next();
  });

  // Bodies are JSON whatever the Content-Type says (curl -d sends form encoding by default).
  const json = express.json({ limit: options.bodyLimit ?? '1mb', strict: false, type: () => true });
  const eventsJson = express.json({ limit: EVENTS_BODY_LIMIT, strict: false, type: () => true });

  // Valid keys are remembered for KEY_CACHE_TTL_MS (otherwise every request pays a hash and a
  // query); unknown keys are always looked up, so a key added to the store works at once.
  const keys = new LRUCache<string, ApiKeyRow>({ max: 10_000, ttl: KEY_CACHE_TTL_MS });
  const findKey = async (key: string): Promise<ApiKeyRow | undefined> => {
    const hit = keys.get(key);
    if (hit) return hit;
    const row = await store.findApiKey(hashApiKey(key));
    if (row) keys.set(key, row);
    return row;
  };

  const authed = (scopes: readonly KeyScope[], handler: Handler) => async (req: Request, res: Response, next: NextFunction) => {
    try {
      const header = req.get('authorization');
      if (!header) throw new AuthError(401, 'missing_api_key', 'Authorization: Bearer <workspace api key> is required');
      const match = /^Bearer\s+(\S+)$/i.exec(header);
      if (!match) throw new AuthError(401, 'invalid_authorization', 'the Authorization header must be "Bearer <workspace api key>"');
      const key = await findKey(match[1]);
      if (!key) throw new AuthError(401, 'invalid_api_key', 'this API key is not valid');
      if (!scopes.includes(key.scope)) throw new AuthError(403, 'forbidden', `this key has scope "${key.scope}"; this route needs ${scopes.map((s) => `"${s}"`).join(' or ')}`);
      const service = services.get(key.workspace);
      if (!service) throw new AuthError(403, 'forbidden', `workspace "${key.workspace}" is not served by this instance`);
      await handler(req, res, { service, scope: key.scope, keyLabel: key.label });
    } catch (err) {
      next(err);
    }
  };
  const ANY: KeyScope[] = ['admin', 'decide'];
  const DECIDERS: KeyScope[] = ['admin', 'decide', 'public'];
  const ADMIN: KeyScope[] = ['admin'];

  app.get('/healthz', async (_req, res) => {
    res.json({ status: 'ok', workspaces: [...services.keys()] });
  });

  app.get('/metrics', async (_req, res, next) => {
    try {
      res.set('Content-Type', metrics.registry.contentType).send(await metrics.registry.metrics());
    } catch (err) {
      next(err);
    }
  });

  // A browser asks first (preflight) whether it may send the Authorization header cross-origin.
  const origins = new Set(options.corsOrigins ?? []);
  const cors = (req: Request, res: Response, next: NextFunction) => {
    const origin = req.get('origin');
    if (origin && (origins.has('*') || origins.has(origin))) {
      res.set({ 'Access-Control-Allow-Origin': origin, Vary: 'Origin', 'Access-Control-Allow-Headers': 'authorization, content-type', 'Access-Control-Allow-Methods': 'POST', 'Access-Control-Max-Age': '600' });
    }
    if (req.method === 'OPTIONS') {
      res.status(204).end();
      return;
    }
    next();
  };
  app.options('/v1/agents/:agentId/decide', cors);

  app.post(
    '/v1/agents/:agentId/decide',
    cors,
    json,
    authed(DECIDERS, async (req, res, { service, scope }) => {
      if (scope === 'public' && typeof req.body === 'object' && req.body !== null) {
        const refused = Object.keys(req.body).filter((k) => !(PUBLIC_DECIDE_FIELDS as readonly string[]).includes(k));
        if (refused.length > 0) {
          throw new AuthError(403, 'forbidden_field', `a public key may send only ${PUBLIC_DECIDE_FIELDS.join(', ')}; refused: ${refused.join(', ')} (profiles come from the ProfileSource)`);
        }
        const context = (req.body as { context?: unknown }).context;
        if (context && typeof context === 'object') {
          const bad = Object.keys(context).filter((k) => !(PUBLIC_CONTEXT_FIELDS as readonly string[]).includes(k));
          if (bad.length > 0) {
            throw new AuthError(403, 'forbidden_field', `a public key may send only context.${PUBLIC_CONTEXT_FIELDS.join(', context.')}; refused: ${bad.map((k) => `context.${k}`).join(', ')}`);
          }
        }
      }
      const body = parseBody(decideRequestSchema, req.body);
      // An onsite render is not a message: it must not use up the customer's frequency caps.
      res.json(await service.decide(String(req.params.agentId), body, { recordSend: scope !== 'public' }));
    }),
  );

  // Express reads ':' as a parameter marker, so the literal `decide:batch` is matched by a regex.
  app.post(
    /^\/v1\/agents\/([^/]+)\/decide:batch$/,
    json,
    authed(ANY, async (req, res, { service }) => {
      const agentId = decodeURIComponent((req.params as Record<string, string>)[0]);
      const body = parseBody(decideBatchSchema, req.body);
      service.getAgent(agentId); // 404 before streaming starts
      res.status(200).type('application/x-ndjson');
      for (const user of body.users) res.write(`${JSON.stringify(await service.decide(agentId, user))}\n`);
      res.end();
    }),
  );

  app.get(
    '/v1/connected-content/:agentId',
    authed(ANY, async (req, res, { service }) => {
      const query = parseBody(connectedContentQuerySchema, req.query, 'query');
      res.json(await service.connectedContent(String(req.params.agentId), query.user_id, { requestId: query.request_id }));
    }),
  );

  app.post(
    '/v1/events',
    eventsJson,
    authed(ANY, async (req, res, { service }) => {
      // Segment's HTTP API shapes: one event, or {batch: [...]}.
      const isBatch = typeof req.body === 'object' && req.body !== null && 'batch' in req.body;
      const events: SegmentEvent[] = isBatch ? parseBody(eventBatchSchema, req.body).batch : [parseBody(segmentEventSchema, req.body)];
      const result = await service.ingest(events);
      res.status(200).json({ success: true, ...result });
    }),
  );

  app.get(
    '/v1/agents/:agentId',
    authed(ADMIN, async (req, res, { service }) => {
      const agentId = String(req.params.agentId);
      res.json({ id: agentId, ...service.getAgent(agentId) });
    }),
  );

  app.put(
    '/v1/agents/:agentId',
    json,
    authed(ADMIN, async (req, res, { service, keyLabel }) => {
      const agentId = String(req.params.agentId);
      const result = await service.putAgent(agentId, req.body, `api-key:${keyLabel}`);
      res.status(result.version === 1 && result.changed ? 201 : 200).json({ id: agentId, ...result });
    }),
  );

  app.get(
    '/v1/agents/:agentId/report',
    authed(ADMIN, async (req, res, { service }) => {
      res.json(await service.report(String(req.params.agentId)));
    }),
  );

  app.get(
    '/v1/decisions/:decisionId',
    authed(ADMIN, async (req, res, { service }) => {
      const d = await service.getDecision(String(req.params.decisionId));
      if (!d) throw new NotFoundError(`decision "${String(req.params.decisionId)}"`);
      res.json(d);
    }),
  );

  const runView = (run: RunRow) => ({
    runId: run.runId,
    agentId: run.agentId,
    audience: run.audience,
    status: run.status,
    active: options.runs?.isActive(run.runId) ?? false,
    progress: run.checkpoint,
    summary: run.summary,
    createdAt: new Date(run.createdAt).toISOString(),
    updatedAt: new Date(run.updatedAt).toISOString(),
  });
  const RUN_ERROR_STATUS = { not_found: 404, conflict: 409, not_configured: 422, bad_request: 400 } as const;

  app.post(
    '/v1/agents/:agentId/runs',
    json,
    authed(ADMIN, async (req, res, { service }) => {
      const body = parseBody(runRequestSchema, req.body);
      if (!options.runs) throw new HttpError(501, 'runs_unavailable', 'this server does not run batch runs');
      try {
        const run = await options.runs.start(service, { agentId: String(req.params.agentId), ...body });
        res.status(202).location(`/v1/runs/${run.runId}`).json(runView(run));
      } catch (err) {
        if (err instanceof RunError) throw new HttpError(RUN_ERROR_STATUS[err.code], err.code, err.message);
        throw err;
      }
    }),
  );

  app.get(
    '/v1/runs',
    authed(ADMIN, async (_req, res, { service }) => {
      res.json({ runs: (await store.listRuns(service.workspace, 100)).map(runView) });
    }),
  );

  app.get(
    '/v1/runs/:runId',
    authed(ADMIN, async (req, res, { service }) => {
      const run = await store.getRun(service.workspace, String(req.params.runId));
      if (!run) throw new NotFoundError(`run "${String(req.params.runId)}"`);
      res.json(runView(run));
    }),
  );

  app.post(
    '/v1/keys',
    json,
    authed(ADMIN, async (req, res, { service, keyLabel }) => {
      const body = parseBody(createKeySchema, req.body);
      const key = generateApiKey(body.scope === 'public' ? 'nb_pk_' : undefined);
      await store.addApiKey({ keyHash: hashApiKey(key), workspace: service.workspace, scope: body.scope, label: body.label, createdAt: Date.now() });
      logger.info({ scope: body.scope, label: body.label, by: keyLabel }, 'api key created');
      res.status(201).json({ key, scope: body.scope, label: body.label, note: 'shown once; only its hash is stored' });
    }),
  );

  app.delete(
    '/v1/users/:userId',
    authed(ADMIN, async (req, res, { service }) => {
      res.json({ erased: await service.eraseUser(String(req.params.userId)) });
    }),
  );

  for (const router of options.routers ?? []) app.use(router);

  app.use((_req: Request, _res: Response, next: NextFunction) => next(new HttpError(404, 'not_found', 'no such route')));

  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    if (err instanceof HttpError) {
      res.status(err.status).json({ error: { code: err.code, message: err.message, ...(err.issues ? { issues: err.issues } : {}) } });
      return;
    }
    const e = err as { type?: string; status?: number; message?: string; limit?: number };
    if (e?.type === 'entity.too.large') {
      res.status(413).json({ error: { code: 'body_too_large', message: `the body is larger than the ${e.limit} bytes this route accepts` } });
      return;
    }
    if (e?.type === 'entity.parse.failed') {
      res.status(400).json({ error: { code: 'malformed_json', message: `the body is not valid JSON: ${e.message}` } });
      return;
    }
    if (e?.type === 'encoding.unsupported' || e?.type === 'charset.unsupported') {
      res.status(415).json({ error: { code: 'unsupported_encoding', message: String(e.message) } });
      return;
    }
    logger.error({ err }, 'unhandled error');
    res.status(500).json({ error: { code: 'internal', message: 'internal error' } });
  });

  return app;
}
