/**
 * The console's security over a real server: an admin key exchanged for an HttpOnly,
 * SameSite=Strict session cookie with an expiry; decide and public keys refused; without a session
 * every API call the console makes refuses; cross-site state-changing requests refused; the
 * session expires on the server's clock; strict headers and a page without inline script.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consoleAssetsDir, CONTENT_SECURITY_POLICY } from '../../plugin/console/index.ts';
import type { RunningServer } from '../../plugin/server/index.ts';
import { addApiKey, API_KEY, call, EXAMPLE_AGENT, NOW, startTestServer } from '../server/helpers.ts';
import { sessionCall, signIn, type TestSession } from './helpers.ts';

const LIFETIME_MS = 30 * 60_000;
let now = NOW;
let server: RunningServer;

beforeAll(async () => {
  server = await startTestServer({ clock: () => now, sessionLifetimeMs: LIFETIME_MS });
  await addApiKey(server, 'nb_decide_key_console', 'decide');
  await addApiKey(server, 'nb_pk_public_key_console', 'public');
});
afterAll(() => server.close());

/** Every call the console's pages make, with a body that would be accepted. */
const CONSOLE_CALLS: [string, string, unknown?][] = [
  ['GET', '/console/session'],
  ['DELETE', '/console/session'],
  ['GET', '/v1/agents'],
  ['GET', `/v1/agents/${EXAMPLE_AGENT}`],
  ['GET', `/v1/agents/${EXAMPLE_AGENT}/versions`],
  ['GET', `/v1/agents/${EXAMPLE_AGENT}/audit`],
  ['GET', `/v1/agents/${EXAMPLE_AGENT}/report`],
  ['POST', `/v1/agents/${EXAMPLE_AGENT}/check`, { yaml: 'id: winback' }],
  ['PUT', `/v1/agents/${EXAMPLE_AGENT}`, { id: EXAMPLE_AGENT }],
  ['POST', `/v1/agents/${EXAMPLE_AGENT}/decide`, { userId: 'console-test-1' }],
  ['GET', '/v1/runs'],
  ['POST', `/v1/agents/${EXAMPLE_AGENT}/runs`, { audience: 'file:members.ndjson', dryRun: true }],
];

async function versionCount(): Promise<number> {
  return (await call(server, 'GET', `/v1/agents/${EXAMPLE_AGENT}/versions`)).body.versions.length;
}

describe('signing in', () => {
  it('exchanges an admin key for an HttpOnly, SameSite=Strict cookie with an expiry, and answers no key', async () => {
    const { res, session } = await signIn(server, API_KEY);
    expect(res.status).toBe(201);
    expect(session!.setCookie).toMatch(/^nextbest_session=[A-Za-z0-9_-]{40,};/);
    expect(session!.setCookie).toContain('HttpOnly');
    expect(session!.setCookie).toContain('SameSite=Strict');
    expect(session!.setCookie).toContain(`Max-Age=${LIFETIME_MS / 1000}`);
    expect(res.text).not.toContain(API_KEY);
    expect(res.body.expiresAt).toBe(new Date(now + LIFETIME_MS).toISOString());
  });

  it('refuses a wrong key, a decide key and a public key', async () => {
    expect((await signIn(server, 'nb_not_a_key')).res.status).toBe(401);
    const decide = await signIn(server, 'nb_decide_key_console');
    expect(decide.res.status).toBe(403);
    expect(decide.res.body.error.code).toBe('admin_key_required');
    expect(decide.session).toBeUndefined();
    const pub = await signIn(server, 'nb_pk_public_key_console');
    expect(pub.res.status).toBe(403);
    expect(pub.session).toBeUndefined();
  });

  it('refuses a body without the key, naming the field', async () => {
    const res = await sessionCall(server, 'POST', '/console/session', { body: { apiKey: API_KEY } });
    expect(res.status).toBe(400);
    expect(res.text).toContain('key');
  });

  it('refuses a sign-in posted by another site', async () => {
    const { res } = await signIn(server, API_KEY, { origin: 'https://evil.example' });
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe('cross_site_refused');
  });
});

describe('without a session', () => {
  it.each(CONSOLE_CALLS)('%s %s refuses with 401', async (method, path, body) => {
    const res = await sessionCall(server, method, path, { body });
    expect(res.status).toBe(401);
  });

  it('refuses with a made-up session cookie', async () => {
    const forged: TestSession = { cookie: 'nextbest_session=forged', csrfToken: 'x', setCookie: '' };
    const res = await sessionCall(server, 'GET', '/v1/agents', { session: forged });
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('session_expired');
  });
});

describe('with a session', () => {
  let session: TestSession;
  beforeAll(async () => {
    session = (await signIn(server, API_KEY)).session!;
  });

  it('reads the API as an admin', async () => {
    const res = await sessionCall(server, 'GET', '/v1/agents', { session });
    expect(res.status).toBe(200);
    expect(res.body.agents.map((a: any) => a.id)).toEqual([EXAMPLE_AGENT]);
  });

  it('refuses a state-changing request without the CSRF token, and saves nothing', async () => {
    const before = await versionCount();
    const config = (await call(server, 'GET', `/v1/agents/${EXAMPLE_AGENT}`)).body.config;
    const res = await sessionCall(server, 'PUT', `/v1/agents/${EXAMPLE_AGENT}`, {
      session,
      body: { ...config, holdout: 0.2 },
    });
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe('csrf_refused');
    expect(await versionCount()).toBe(before);
  });

  it('refuses a cross-site POST even with the token (Origin or Sec-Fetch-Site of another site)', async () => {
    const crossSite: Record<string, string>[] = [
      { origin: 'https://evil.example' },
      { 'sec-fetch-site': 'cross-site' },
    ];
    for (const headers of crossSite) {
      const res = await sessionCall(server, 'POST', `/v1/agents/${EXAMPLE_AGENT}/decide`, {
        session,
        csrf: session.csrfToken,
        headers,
        body: { userId: 'console-test-1' },
      });
      expect(res.status).toBe(403);
      expect(res.body.error.code).toBe('cross_site_refused');
    }
  });

  it('refuses another session’s CSRF token', async () => {
    const other = (await signIn(server, API_KEY)).session!;
    const res = await sessionCall(server, 'POST', `/v1/agents/${EXAMPLE_AGENT}/check`, {
      session,
      csrf: other.csrfToken,
      body: { yaml: 'id: winback' },
    });
    expect(res.status).toBe(403);
  });

  it('accepts a same-origin state-changing request with the token', async () => {
    const res = await sessionCall(server, 'POST', `/v1/agents/${EXAMPLE_AGENT}/check`, {
      session,
      csrf: session.csrfToken,
      headers: { origin: server.url, 'sec-fetch-site': 'same-origin' },
      body: { yaml: 'id: winback' },
    });
    expect(res.status).toBe(200);
    expect(res.body.ok).toBe(false);
  });

  it('signs out: the cookie is cleared and the session refuses afterwards', async () => {
    const mine = (await signIn(server, API_KEY)).session!;
    const out = await sessionCall(server, 'DELETE', '/console/session', { session: mine, csrf: mine.csrfToken });
    expect(out.status).toBe(204);
    expect(out.headers.get('set-cookie')).toContain('Max-Age=0');
    expect((await sessionCall(server, 'GET', '/v1/agents', { session: mine })).status).toBe(401);
  });
});

describe('a session expires', () => {
  it('answers until its lifetime has passed on the server clock, then 401', async () => {
    const session = (await signIn(server, API_KEY)).session!;
    now += LIFETIME_MS - 1;
    expect((await sessionCall(server, 'GET', '/v1/agents', { session })).status).toBe(200);
    now += 1;
    const res = await sessionCall(server, 'GET', '/v1/agents', { session });
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('session_expired');
  });
});

describe('security headers and the page', () => {
  it('sends the strict CSP, no framing and nosniff on the page and on the API', async () => {
    for (const path of ['/', '/v1/agents', '/healthz']) {
      const res = await fetch(`${server.url}${path}`);
      expect(res.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY);
      expect(res.headers.get('x-frame-options')).toBe('DENY');
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    }
    expect(CONTENT_SECURITY_POLICY).toContain("script-src 'self'");
    expect(CONTENT_SECURITY_POLICY).toContain("frame-ancestors 'none'");
    expect(CONTENT_SECURITY_POLICY).not.toContain('unsafe-inline');
    expect(CONTENT_SECURITY_POLICY).not.toContain('unsafe-eval');
  });

  it('serves a page whose scripts all come from its own files: no inline script, no handler attribute', async () => {
    const page = await (await fetch(`${server.url}/`)).text();
    const scripts = [...page.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/gi)];
    expect(scripts.length).toBeGreaterThan(0);
    for (const [, attributes, body] of scripts) {
      expect(attributes).toMatch(/\bsrc="\/console\//);
      expect(body!.trim()).toBe('');
    }
    expect(page).not.toMatch(/\son[a-z]+\s*=/i);
    expect(page).not.toMatch(/(?:src|href)="(?:https?:)?\/\//i);
  });

  it('serves the script and style from the package, with their types', async () => {
    const dir = consoleAssetsDir()!;
    for (const [file, type] of [
      ['app.js', 'text/javascript'],
      ['app.css', 'text/css'],
    ]) {
      const res = await fetch(`${server.url}/console/${file}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toContain(type);
      expect(await res.text()).toBe(await readFile(join(dir, file), 'utf8'));
    }
  });
});
