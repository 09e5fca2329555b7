import { Router, type NextFunction, type Request, type Response } from 'express';
import {
  AuthError,
  connectedContentQuerySchema,
  decideBatchSchema,
  decideRequestSchema,
  NotFoundError,
  parseBody,
  PUBLIC_CONTEXT_FIELDS,
  PUBLIC_DECIDE_FIELDS,
} from '../../service/index.ts';
import { ADMIN, ANY, DECIDERS } from '../auth.ts';
import type { RouteContext } from './context.ts';

/** Decide (one, a batch), Braze Connected Content, and reading a logged decision back. */
export function decisionRoutes(ctx: RouteContext): Router {
  const router = Router();
  const cors = corsFor(new Set(ctx.corsOrigins));
  router.options('/v1/agents/:agentId/decide', cors);

  router.post(
    '/v1/agents/:agentId/decide',
    cors,
    ctx.json,
    ctx.authed(DECIDERS, async (req, res, { service, scope }) => {
      if (scope === 'public') refuseWhatAPublicKeyMayNotSend(req.body);
      const body = parseBody(decideRequestSchema, req.body);
      // An onsite render is not a message: it must not use up the customer's frequency caps.
      res.json(await service.decide(String(req.params.agentId), body, { recordSend: scope !== 'public' }));
    }),
  );

  // Express reads ':' as a parameter marker, so the literal `decide:batch` is matched by a regex.
  router.post(
    /^\/v1\/agents\/([^/]+)\/decide:batch$/,
    ctx.json,
    ctx.authed(ANY, async (req, res, { service }) => {
      const agentId = decodeURIComponent((req.params as Record<string, string>)[0]!);
      const body = parseBody(decideBatchSchema, req.body);
      service.getAgent(agentId); // 404 before streaming starts
      res.status(200).type('application/x-ndjson');
      for (const user of body.users) res.write(`${JSON.stringify(await service.decide(agentId, user))}\n`);
      res.end();
    }),
  );

  router.get(
    '/v1/connected-content/:agentId',
    ctx.authed(ANY, async (req, res, { service }) => {
      const query = parseBody(connectedContentQuerySchema, req.query, 'query');
      res.json(
        await service.connectedContent(String(req.params.agentId), query.user_id, { requestId: query.request_id }),
      );
    }),
  );

  router.get(
    '/v1/decisions/:decisionId',
    ctx.authed(ADMIN, async (req, res, { service }) => {
      const d = await service.getDecision(String(req.params.decisionId));
      if (!d) throw new NotFoundError(`decision "${String(req.params.decisionId)}"`);
      res.json(d);
    }),
  );
  return router;
}

/** A browser asks first (preflight) whether it may send the Authorization header cross-origin. */
function corsFor(origins: Set<string>) {
  return (req: Request, res: Response, next: NextFunction) => {
    const origin = req.get('origin');
    if (origin && (origins.has('*') || origins.has(origin))) {
      res.set({
        'Access-Control-Allow-Origin': origin,
        Vary: 'Origin',
        'Access-Control-Allow-Headers': 'authorization, content-type',
        'Access-Control-Allow-Methods': 'POST',
        'Access-Control-Max-Age': '600',
      });
    }
    if (req.method === 'OPTIONS') {
      res.status(204).end();
      return;
    }
    next();
  };
}

/** A public key (in a web page) sends only the visitor, time zone, page and request id: profiles come from the ProfileSource. */
function refuseWhatAPublicKeyMayNotSend(body: unknown): void {
  if (typeof body !== 'object' || body === null) return;
  const refused = Object.keys(body).filter((k) => !(PUBLIC_DECIDE_FIELDS as readonly string[]).includes(k));
  if (refused.length > 0) {
    throw new AuthError(
      403,
      'forbidden_field',
      `a public key may send only ${PUBLIC_DECIDE_FIELDS.join(', ')}; refused: ${refused.join(', ')} (profiles come from the ProfileSource)`,
    );
  }
  const context = (body as { context?: unknown }).context;
  if (!context || typeof context !== 'object') return;
  const bad = Object.keys(context).filter((k) => !(PUBLIC_CONTEXT_FIELDS as readonly string[]).includes(k));
  if (bad.length > 0) {
    throw new AuthError(
      403,
      'forbidden_field',
      `a public key may send only context.${PUBLIC_CONTEXT_FIELDS.join(', context.')}; refused: ${bad.map((k) => `context.${k}`).join(', ')}`,
    );
  }
}
