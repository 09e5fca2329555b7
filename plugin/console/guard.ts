import type { Request } from 'express';
import { AuthError } from '../service/index.ts';
import { cookieValue, CSRF_HEADER, SESSION_COOKIE } from './cookies.ts';
import { csrfMatches, type ConsoleSession, type ConsoleSessions } from './sessions.ts';

/** Methods that change nothing: a session's GET needs no CSRF token. */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Whether the request carries a console session cookie (then it is checked as one). */
export function hasSessionCookie(req: Request): boolean {
  return cookieValue(req.get('cookie'), SESSION_COOKIE) !== undefined;
}

/**
 * The console session of a request authenticated by its cookie. A state-changing request must
 * come from the console's own origin and repeat the session's CSRF token in `X-Nextbest-CSRF`:
 * SameSite=Strict already keeps other sites' pages from sending the cookie, and the token
 * refuses what gets past it (an old browser, a sibling subdomain).
 *
 * @throws AuthError 401 when the session is unknown or expired, 403 for a cross-site request.
 */
export function sessionOf(req: Request, sessions: ConsoleSessions): ConsoleSession {
  const id = cookieValue(req.get('cookie'), SESSION_COOKIE) ?? '';
  const session = sessions.find(id);
  if (!session) throw new AuthError(401, 'session_expired', 'the console session is unknown or expired; sign in again');
  if (!SAFE_METHODS.has(req.method)) {
    refuseCrossSite(req);
    if (!csrfMatches(session, req.get(CSRF_HEADER)))
      throw new AuthError(
        403,
        'csrf_refused',
        `a state-changing request of a console session must send ${CSRF_HEADER}`,
      );
  }
  return session;
}

/**
 * Refuses a request a browser says came from another site: `Sec-Fetch-Site` other than
 * same-origin, or an `Origin` other than this server's. Clients that send neither (curl, servers)
 * are not browsers and cannot carry a victim's cookie.
 *
 * @throws AuthError 403 `cross_site_refused`
 */
export function refuseCrossSite(req: Request): void {
  const site = req.get('sec-fetch-site');
  const origin = req.get('origin');
  const own = `${req.protocol}://${req.get('host') ?? ''}`;
  if ((site !== undefined && site !== 'same-origin' && site !== 'none') || (origin !== undefined && origin !== own))
    throw new AuthError(403, 'cross_site_refused', 'the console accepts this request only from its own origin');
}
