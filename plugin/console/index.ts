/**
 * The admin console's server side: sessions (an admin key exchanged for an HttpOnly cookie),
 * their cross-site checks, the security headers and the console's files. The pages themselves
 * are in console/ (bundled by console/build.ts); they read the same HTTP API integrations use.
 */
export { ASSETS_PATH, assetRoutes, consoleAssetsDir, INDEX_FILE } from './assets.ts';
export { cookieValue, CSRF_HEADER, SESSION_COOKIE, sessionCookie } from './cookies.ts';
export { hasSessionCookie, refuseCrossSite, sessionOf } from './guard.ts';
export { CONTENT_SECURITY_POLICY, securityHeaders } from './headers.ts';
export { sessionRoutes, type SessionRouteOptions } from './session-routes.ts';
export { ConsoleSessions, csrfMatches, DEFAULT_SESSION_LIFETIME_MS, type ConsoleSession } from './sessions.ts';
