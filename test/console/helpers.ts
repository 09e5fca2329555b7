/**
 * Helpers of the console's tests: signing in over HTTP (the session cookie and CSRF token as a
 * browser would hold them) and calling the API with them.
 */
import type { ApiResponse } from '../server/helpers.ts';

type Json = any;

export interface TestSession {
  cookie: string;
  csrfToken: string;
  setCookie: string;
}

/** `POST /console/session {key}`: the answer, and the session when one was opened. */
export async function signIn(
  server: { url: string },
  key: string,
  headers: Record<string, string> = {},
): Promise<{ res: ApiResponse; session?: TestSession }> {
  const r = await fetch(`${server.url}/console/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ key }),
  });
  const text = await r.text();
  const res = { status: r.status, headers: r.headers, text, body: parse(text) };
  const setCookie = r.headers.get('set-cookie');
  if (r.status !== 201 || !setCookie) return { res };
  return { res, session: { cookie: setCookie.split(';')[0]!, csrfToken: res.body.csrfToken, setCookie } };
}

/** One request carrying a session's cookie; the CSRF header only when `csrf` is given. */
export async function sessionCall(
  server: { url: string },
  method: string,
  path: string,
  options: { session?: TestSession; csrf?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<ApiResponse> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.session) headers.cookie = options.session.cookie;
  if (options.csrf !== undefined) headers['x-nextbest-csrf'] = options.csrf;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const r = await fetch(`${server.url}${path}`, {
    method,
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  const text = await r.text();
  return { status: r.status, headers: r.headers, text, body: parse(text) };
}

function parse(text: string): Json {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
