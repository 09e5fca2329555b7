/** The console's session cookie. */
export const SESSION_COOKIE = 'nextbest_session';
/** The header a state-changing request of a session must carry, with the session's CSRF token. */
export const CSRF_HEADER = 'x-nextbest-csrf';

/** The value of cookie `name` in a Cookie header, if it is there. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/**
 * The Set-Cookie value of a session: HttpOnly (no script reads it), SameSite=Strict (no other
 * site's page sends it), Path=/, an expiry, and Secure when the request came over HTTPS.
 */
export function sessionCookie(id: string, maxAgeMs: number, secure: boolean): string {
  const attributes = [`${SESSION_COOKIE}=${id}`, 'HttpOnly', 'SameSite=Strict', 'Path=/'];
  attributes.push(`Max-Age=${Math.max(0, Math.floor(maxAgeMs / 1000))}`);
  if (secure) attributes.push('Secure');
  return attributes.join('; ');
}
