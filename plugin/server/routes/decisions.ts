import { Router, type NextFunction, type Request, type Response } from 'express';
import type { Logger } from 'pino';
import {
  AuthError,
  connectedContentQuerySchema,
  decideBatchSchema,
  decideRequestSchema,
  NotFoundError,
  parseBody,
  PUBLIC_CONTEXT_FIELDS,
  PUBLIC_DECIDE_FIELDS,
  RequestError,
  type DecideRequest,
  type DecisionService,
} from '../../service/index.ts';
import { ADMIN, ANY, DECIDERS, type Authed } from '../auth.ts';
import { PUBLIC_DECIDE_RATES, RateLimit } from '../rate-limit.ts';
import type { RouteContext } from './context.ts';

/** The trailer of a decide:batch stream: `complete`, or `incomplete; undecided=N` (the error lines name them). */
export const BATCH_STATUS_TRAILER = 'Nextbest-Batch-Status';

/** Decide (one, a batch), Braze Connected Content, and reading a logged decision back. */
export function decisionRoutes(ctx: RouteContext): Router {
  const router = Router();
  const cors = corsFor(new Set(ctx.corsOrigins));
  const throttle = publicThrottle(ctx.publicRates ?? PUBLIC_DECIDE_RATES);
  router.options('/v1/agents/:agentId/decide', cors);

  router.post(
    '/v1/agents/:agentId/decide',
    cors,
    ctx.json,
    ctx.authed(DECIDERS, async (req, res, auth) => {
      if (auth.scope === 'public') refuseWhatAPublicKeyMayNotSend(req.body);
      const body = parseBody(decideRequestSchema, req.body);
      if (auth.scope === 'public') throttle(res, auth, body);
      // A public key's decision is its own kind (see DecideOptions.kind): an onsite render is not a
      // message, and anyone can ask for one.
      const kind = auth.scope === 'public' ? 'public' : 'server';
      res.json(await auth.service.decide(String(req.params.agentId), body, { kind }));
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
      await streamBatch(service, agentId, body.users, res, ctx.logger);
    }),
  );

  router.get(
    '/v1/connected-content/:agentId',
    ctx.authed(ANY, async (req, res, { service }) => {
      const query = parseBody(connectedContentQuerySchema, req.query, 'query');
      res.json(
        await service.connectedContent(String(req.params.agentId), query.user_id, {
          requestId: query.request_id,
          ...(query.channel && { channel: query.channel }),
        }),
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

/**
 * Decides for each user in order, one NDJSON line each. A user who cannot be decided (a requestId
 * already used for another user, …) gets a line `{userId, error}` and the batch goes on; a failure
 * that stops the batch ends it with a line `{error: {code, message, undecided: [userIds]}}`. The
 * trailer says whether every user got a decision. Decisions already made stay logged: the same
 * requestIds sent again are answered with them.
 */
async function streamBatch(
  service: DecisionService,
  agentId: string,
  users: readonly DecideRequest[],
  res: Response,
  logger: Logger,
): Promise<void> {
  res.status(200).type('application/x-ndjson').setHeader('Trailer', BATCH_STATUS_TRAILER);
  let next = 0;
  let undecided = 0;
  try {
    for (; next < users.length && !res.destroyed; next++) {
      const line = await decisionLine(service, agentId, users[next]!);
      if ('error' in line) undecided += 1;
      res.write(`${JSON.stringify(line)}\n`);
    }
  } catch (err) {
    logger.error({ err, agentId, decided: next - undecided }, 'decide:batch failed');
    const rest = users.slice(next).map((u) => u.userId);
    undecided += rest.length;
    const message = 'the batch stopped; the users in `undecided` got no decision (send them again)';
    res.write(`${JSON.stringify({ error: { code: 'batch_failed', message, undecided: rest } })}\n`);
  }
  res.addTrailers({ [BATCH_STATUS_TRAILER]: undecided === 0 ? 'complete' : `incomplete; undecided=${undecided}` });
  res.end();
}

/** One user's line: the decision, or the client error that kept this user from one. */
async function decisionLine(service: DecisionService, agentId: string, user: DecideRequest): Promise<object> {
  try {
    return await service.decide(agentId, user);
  } catch (err) {
    if (!(err instanceof RequestError) || err.status >= 500) throw err;
    return { userId: user.userId, error: { code: err.code, message: err.message } };
  }
}

/** Rate limits of public-key decisions, per key and per user; over either, a 429 with Retry-After. */
function publicThrottle(rates: typeof PUBLIC_DECIDE_RATES) {
  const perKey = new RateLimit(rates.perKey);
  const perUser = new RateLimit(rates.perUser);
  return (res: Response, auth: Authed, body: DecideRequest): void => {
    const now = auth.service.now();
    const wait =
      perKey.take(`${auth.service.workspace}\u0000${auth.keyLabel}`, now) ??
      perUser.take(auth.service.userKey(body.userId), now);
    if (wait === undefined) return;
    res.set('Retry-After', String(wait));
    throw new RequestError(
      429,
      'rate_limited',
      `too many decisions for this public key or this user; retry in ${wait} s`,
    );
  };
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
