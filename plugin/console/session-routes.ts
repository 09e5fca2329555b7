import { Router, type RequestHandler } from 'express';
import { z } from 'zod';
import { AuthError, hashApiKey, parseBody, type DecisionService } from '../service/index.ts';
import type { Store } from '../store/index.ts';
import { SESSION_COOKIE, sessionCookie } from './cookies.ts';
import { refuseCrossSite, sessionOf } from './guard.ts';
import type { ConsoleSession, ConsoleSessions } from './sessions.ts';

const signInSchema = z.strictObject({ key: z.string().min(1).max(200) });

export interface SessionRouteOptions {
  store: Store;
  services: Map<string, DecisionService>;
  sessions: ConsoleSessions;
  /** JSON bodies (the app's parser). */
  json: RequestHandler;
}

/** What the console learns of its session: never the key, nor the cookie's value. */
function sessionView(session: ConsoleSession) {
  return {
    workspace: session.workspace,
    keyLabel: session.keyLabel,
    csrfToken: session.csrfToken,
    expiresAt: new Date(session.expiresAt).toISOString(),
  };
}

/**
 * Sign in (`POST /console/session {key}`: an admin key exchanged for a session cookie), the
 * current session (`GET`, which gives the page its CSRF token after a reload), sign out (`DELETE`).
 */
export function sessionRoutes(options: SessionRouteOptions): Router {
  const { store, services, sessions } = options;
  const router = Router();
  router.post('/console/session', options.json, async (req, res, next) => {
    try {
      refuseCrossSite(req);
      const { key } = parseBody(signInSchema, req.body);
      const row = await store.findApiKey(hashApiKey(key));
      if (!row) throw new AuthError(401, 'invalid_api_key', 'this API key is not valid');
      if (row.scope !== 'admin')
        throw new AuthError(
          403,
          'admin_key_required',
          `only an admin key signs in to the console; this key has scope "${row.scope}"`,
        );
      if (!services.has(row.workspace))
        throw new AuthError(403, 'forbidden', `workspace "${row.workspace}" is not served by this instance`);
      const session = sessions.open(row.workspace, row.label);
      res.set('Set-Cookie', sessionCookie(session.id, sessions.lifetimeMs, req.secure));
      res.set('Cache-Control', 'no-store').status(201).json(sessionView(session));
    } catch (err) {
      next(err);
    }
  });
  router.get('/console/session', (req, res, next) => {
    try {
      res.set('Cache-Control', 'no-store').json(sessionView(sessionOf(req, sessions)));
    } catch (err) {
      next(err);
    }
  });
  router.delete('/console/session', (req, res, next) => {
    try {
      sessions.close(sessionOf(req, sessions).id);
      res.set('Set-Cookie', `${SESSION_COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0`);
      res.status(204).end();
    } catch (err) {
      next(err);
    }
  });
  return router;
}
