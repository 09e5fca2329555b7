/// <reference lib="dom" />
/**
 * The console's only way to the server: the same HTTP API integrations use, authenticated by the
 * session cookie (HttpOnly: this code never sees it) instead of a bearer key. State-changing
 * requests repeat the session's CSRF token; a 401 means the session is gone (signed out, expired).
 */

export const CSRF_HEADER = 'x-nextbest-csrf';

export interface Session {
  workspace: string;
  keyLabel: string;
  csrfToken: string;
  expiresAt: string;
}

export interface Issue {
  path: string;
  message: string;
  line?: number;
  column?: number;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly issues: Issue[] = [],
  ) {
    super(message);
  }
}

let csrfToken: string | undefined;
let onSignedOut: () => void = () => {};

/** Remembers the session's CSRF token (in memory only) and what to do when the session ends. */
export function useSession(session: Session | undefined, signedOut: () => void): void {
  csrfToken = session?.csrfToken;
  onSignedOut = signedOut;
}

/** One API call; answers the parsed JSON, or throws an ApiError with the server's code and message. */
export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && csrfToken) headers[CSRF_HEADER] = csrfToken;
  const res = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: 'same-origin',
  });
  if (res.status === 204) return undefined as T;
  const json = (await res.json().catch(() => undefined)) as
    { error?: { code: string; message: string; issues?: Issue[] } } | undefined;
  if (!res.ok) {
    const error = json?.error;
    if (res.status === 401 && !path.startsWith('/console/session')) onSignedOut();
    throw new ApiError(res.status, error?.code ?? 'error', error?.message ?? res.statusText, error?.issues ?? []);
  }
  return json as T;
}

/** `/v1/agents/a%2Fb`: ids are encoded into paths. */
export function path(strings: TemplateStringsArray, ...ids: string[]): string {
  return strings.reduce((out, s, i) => out + s + (i < ids.length ? encodeURIComponent(ids[i]!) : ''), '');
}
