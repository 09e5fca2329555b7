import type { NextFunction, Request, Response } from 'express';
import { LRUCache } from 'lru-cache';
import { hasSessionCookie, sessionOf, type ConsoleSessions } from '../console/index.ts';
import { AuthError, hashApiKey, type DecisionService } from '../service/index.ts';
import type { ApiKeyRow, KeyScope, Store } from '../store/index.ts';

/** How long an API key lookup is remembered. */
export const KEY_CACHE_TTL_MS = 30_000;

/** Who is calling: the service of the key's workspace, the key's scope and label. */
export interface Authed {
  service: DecisionService;
  scope: KeyScope;
  keyLabel: string;
}

export type Handler = (req: Request, res: Response, auth: Authed) => Promise<void>;
export type Guard = (
  scopes: readonly KeyScope[],
  handler: Handler,
) => (req: Request, res: Response, next: NextFunction) => Promise<void>;

export const ANY: KeyScope[] = ['admin', 'decide'];
export const DECIDERS: KeyScope[] = ['admin', 'decide', 'public'];
export const ADMIN: KeyScope[] = ['admin'];

/**
 * The bearer-key check every route but health and metrics goes through: the key must exist, have
 * one of the route's scopes, and belong to a workspace this process serves. Valid keys are
 * remembered for KEY_CACHE_TTL_MS (otherwise every request pays a hash and a query); unknown keys
 * are always looked up, so a key added to the store works at once.
 *
 * A request without an Authorization header but with a console session cookie (plugin/console)
 * is an admin of the session's workspace; its state-changing requests must pass the console's
 * cross-site checks (`sessionOf`).
 */
export function bearerAuth(store: Store, services: Map<string, DecisionService>, sessions?: ConsoleSessions): Guard {
  const keys = new LRUCache<string, ApiKeyRow>({ max: 10_000, ttl: KEY_CACHE_TTL_MS });
  const findKey = async (key: string): Promise<ApiKeyRow | undefined> => {
    const hit = keys.get(key);
    if (hit) return hit;
    const row = await store.findApiKey(hashApiKey(key));
    if (row) keys.set(key, row);
    return row;
  };
  return (scopes, handler) => async (req, res, next) => {
    try {
      const key =
        sessions && !req.get('authorization') && hasSessionCookie(req)
          ? sessionKey(sessionOf(req, sessions))
          : await findKey(bearerKey(req.get('authorization')));
      if (!key) throw new AuthError(401, 'invalid_api_key', 'this API key is not valid');
      if (!scopes.includes(key.scope))
        throw new AuthError(
          403,
          'forbidden',
          `this key has scope "${key.scope}"; this route needs ${scopes.map((s) => `"${s}"`).join(' or ')}`,
        );
      const service = services.get(key.workspace);
      if (!service)
        throw new AuthError(403, 'forbidden', `workspace "${key.workspace}" is not served by this instance`);
      await handler(req, res, { service, scope: key.scope, keyLabel: key.label });
    } catch (err) {
      next(err);
    }
  };
}

/** A console session acts as an admin key of its workspace, labelled after the key that opened it. */
function sessionKey(session: { workspace: string; keyLabel: string }): ApiKeyRow {
  return {
    keyHash: '',
    workspace: session.workspace,
    scope: 'admin',
    label: `console:${session.keyLabel}`,
    createdAt: 0,
  };
}

function bearerKey(header: string | undefined): string {
  if (!header) throw new AuthError(401, 'missing_api_key', 'Authorization: Bearer <workspace api key> is required');
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  if (!match)
    throw new AuthError(401, 'invalid_authorization', 'the Authorization header must be "Bearer <workspace api key>"');
  return match[1]!;
}
