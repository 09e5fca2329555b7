import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import nock from 'nock';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  HubSpotOAuth,
  InstalledPortals,
  HubSpotProfileSource,
  hubspotExtension,
  HUBSPOT_OPTIONAL_SCOPES,
  INSTALL_COOKIE,
  HUBSPOT_REQUIRED_SCOPES,
  parseKey,
  SecretBox,
  signV2,
  signV3,
  SqlitePortalTokens,
  TokenVault,
} from '../../../adapters/hubspot/index.ts';
import type { RunningServer } from '../../../plugin/server/index.ts';
import { FakeHubSpot, VirtualClock } from '../../fakes/hubspot.ts';
import { addApiKey, call, startTestServer, tempDir } from '../../server/helpers.ts';
import { CLIENT_SECRET, installCallback, installPortal, NOW, pacingOn, PRIVATE_TOKEN, startInstall } from './setup.ts';

const TOKEN_KEY = '0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0';
const REDIRECT = 'https://nextbest.example.com/oauth/hubspot/callback';

beforeAll(() => {
  nock.disableNetConnect();
  nock.enableNetConnect('127.0.0.1');
});
afterAll(() => nock.enableNetConnect());

interface Harness {
  clock: VirtualClock;
  fake: FakeHubSpot;
  server: RunningServer;
  vault: TokenVault;
  tokens: SqlitePortalTokens;
  dbPath: string;
  remove: () => Promise<void>;
}

async function harness(): Promise<Harness> {
  const clock = new VirtualClock(NOW);
  const fake = await new FakeHubSpot({
    clock: clock.now,
    clientId: 'app-client',
    clientSecret: CLIENT_SECRET,
    redirectUri: REDIRECT,
    privateAppToken: PRIVATE_TOKEN,
  }).start();
  const dir = await tempDir();
  const dbPath = join(dir.path, 'tokens.db');
  const tokens = new SqlitePortalTokens(dbPath);
  const oauth = new HubSpotOAuth({
    clientId: 'app-client',
    clientSecret: CLIENT_SECRET,
    redirectUri: REDIRECT,
    basePath: fake.url,
    scopes: HUBSPOT_REQUIRED_SCOPES,
    optionalScopes: HUBSPOT_OPTIONAL_SCOPES,
  });
  const vault = new TokenVault(oauth, tokens, new SecretBox(parseKey(TOKEN_KEY)), clock.now);
  const portals = new InstalledPortals({ vault, basePath: fake.url, pacing: pacingOn(clock) });
  const profileSource = new HubSpotProfileSource({
    portals,
    properties: ['lifetime_orders', 'email_subscribed', 'sms_opt_in', 'push_enabled', 'city'],
    pacing: pacingOn(clock),
  });
  const server = await startTestServer({
    clock: clock.now,
    profileSource,
    extensions: [hubspotExtension({ clientSecret: CLIENT_SECRET, portals, oauth: { client: oauth, vault } })],
  });
  return { clock, fake, server, vault, tokens, dbPath, remove: dir.remove };
}

/** POSTs `body` signed the way HubSpot signs (v3 by default; v2 for workflow actions when asked). */
async function signedPost(
  h: Harness,
  path: string,
  body: string,
  opts: { version?: 'v3' | 'v2'; secret?: string; timestamp?: number } = {},
) {
  const uri = `${h.server.url}${path}`;
  const ts = String(opts.timestamp ?? h.clock.now());
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if ((opts.version ?? 'v3') === 'v3') {
    headers['X-HubSpot-Signature-v3'] = signV3(opts.secret ?? CLIENT_SECRET, 'POST', uri, body, ts);
    headers['X-HubSpot-Request-Timestamp'] = ts;
  } else {
    headers['X-HubSpot-Signature'] = signV2(opts.secret ?? CLIENT_SECRET, 'POST', uri, body);
    headers['X-HubSpot-Signature-Version'] = 'v2';
  }
  const res = await fetch(uri, { method: 'POST', headers, body });
  return { status: res.status, body: (await res.json()) as Record<string, any> };
}

describe('HubSpot OAuth install', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await harness();
  });
  afterEach(async () => {
    await h.server.close();
    await h.fake.close();
    await h.tokens.close();
    await h.remove();
    expect(h.fake.violations).toEqual([]);
  });

  const exchanges = () => h.fake.requestsTo('/oauth/v1/token');

  it('redirects an admin to HubSpot with client id, redirect URL, scopes and a state bound to an HttpOnly install cookie', async () => {
    const { status, location, setCookie, state } = await startInstall(h.server);
    expect(status).toBe(302);
    expect(`${location!.origin}${location!.pathname}`).toBe('https://app.hubspot.com/oauth/authorize');
    expect(location!.searchParams.get('client_id')).toBe('app-client');
    expect(location!.searchParams.get('redirect_uri')).toBe(REDIRECT);
    expect(location!.searchParams.get('scope')!.split(' ')).toEqual([...HUBSPOT_REQUIRED_SCOPES]);
    expect(state).toMatch(/^\d+\.[\w-]+\.[\w-]+$/);
    expect(setCookie).toMatch(new RegExp(`^${INSTALL_COOKIE}=[\\w-]{43};`));
    expect(setCookie).toContain('HttpOnly');
    expect(setCookie).toContain('SameSite=Lax');
    expect(setCookie).toContain('Secure'); // the callback is https
    expect(setCookie).toContain('Path=/oauth/hubspot/');
  });

  it.each([
    ['no key', null, 401, 'missing_api_key'],
    ['a decide key', 'nb_decide_key', 403, 'forbidden'],
    ['an unknown key', 'nb_nobody', 401, 'invalid_api_key'],
  ])('refuses to start an install with %s', async (_name, key, status, code) => {
    await addApiKey(h.server, 'nb_decide_key', 'decide');
    const res = await startInstall(h.server, { key });
    expect(res.status).toBe(status);
    expect(res.body.error.code).toBe(code);
    expect(res.location).toBeUndefined();
    expect(res.setCookie).toBeNull();
  });

  it('mints a one-time install link with an admin key, which starts one install, once', async () => {
    const minted = await call(h.server, 'POST', '/v1/hubspot/install-links');
    expect(minted.status).toBe(201);
    expect(minted.body.url).toMatch(/^https:\/\/nextbest\.example\.com\/oauth\/hubspot\/install\?link=[\w-]{43}$/);
    expect(minted.body.expiresAt).toBe(new Date(NOW + 15 * 60_000).toISOString());
    const first = await startInstall(h.server, { link: minted.body.url });
    expect(first.status).toBe(302);
    const done = await installCallback(h.server, { code: h.fake.issueCode(), state: first.state! }, first.nonce);
    expect(done).toMatchObject({ status: 200, body: { installed: true, portalId: '4242424' } });
    const again = await startInstall(h.server, { link: minted.body.url });
    expect(again.status).toBe(401);
    expect(again.body.error.code).toBe('invalid_install_link');
  });

  it('refuses an install link opened after 15 minutes', async () => {
    const minted = await call(h.server, 'POST', '/v1/hubspot/install-links');
    h.clock.current += 15 * 60_000 + 1;
    const res = await startInstall(h.server, { link: minted.body.url });
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('invalid_install_link');
  });

  it('mints install links only for an admin key', async () => {
    await addApiKey(h.server, 'nb_decide_key', 'decide');
    expect((await call(h.server, 'POST', '/v1/hubspot/install-links', { key: null })).status).toBe(401);
    expect((await call(h.server, 'POST', '/v1/hubspot/install-links', { key: 'nb_decide_key' })).status).toBe(403);
  });

  it('exchanges the code, stores the tokens encrypted and creates the property group and nb_ properties', async () => {
    const res = await installPortal(h.server, h.fake);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      installed: true,
      portalId: '4242424',
      defaultPortalId: '4242424',
      propertyGroupCreated: true,
    });
    expect(h.fake.groups.has('nextbest')).toBe(true);
    expect([...h.fake.properties.keys()]).toEqual(
      expect.arrayContaining([
        'nb_decision_id',
        'nb_send_at',
        'nb_frequency',
        'nb_channel',
        'nb_send_time',
        'nb_subject_line',
        'nb_content_block',
      ]),
    );
    const token = await h.vault.accessToken('4242424');
    expect(token).toMatch(/^access-/);
    // the bytes on disk (database and write-ahead log) never hold the tokens in clear
    const bytes = Buffer.concat([
      readFileSync(h.dbPath),
      ...(existsSync(`${h.dbPath}-wal`) ? [readFileSync(`${h.dbPath}-wal`)] : []),
    ]);
    expect(bytes.includes(Buffer.from(token))).toBe(false);
    expect(bytes.includes(Buffer.from('refresh-'))).toBe(false);
    expect(exchanges()[0].body as Record<string, string>).toMatchObject({
      grant_type: 'authorization_code',
      client_id: 'app-client',
      client_secret: CLIENT_SECRET,
      redirect_uri: REDIRECT,
    });
  });

  it('refreshes the access token before it expires, with the refresh_token grant', async () => {
    await installPortal(h.server, h.fake);
    const first = await h.vault.accessToken('4242424');
    h.clock.current += 1400 * 1000; // 23 of the token's 30 minutes: still outside the 5-minute margin
    expect(await h.vault.accessToken('4242424')).toBe(first);
    h.clock.current += 200 * 1000; // now within 5 minutes of expiry
    const [a, b] = await Promise.all([h.vault.accessToken('4242424'), h.vault.accessToken('4242424')]);
    expect(a).not.toBe(first);
    expect(b).toBe(a);
    expect(exchanges().map((r) => (r.body as Record<string, string>).grant_type)).toEqual([
      'authorization_code',
      'refresh_token',
    ]);
  });

  it('creates nothing twice when the app is installed again', async () => {
    for (let i = 0; i < 2; i++) {
      const res = await installPortal(h.server, h.fake);
      expect(res.status).toBe(200);
      if (i === 1) expect(res.body).toMatchObject({ propertyGroupCreated: false, propertiesCreated: [] });
    }
    const creates = h.fake.requestsTo(/^\/crm\/v3\/properties\/contacts/);
    expect(creates.filter((r) => r.status === 201)).toHaveLength(h.fake.properties.size + 1);
    expect(creates.filter((r) => r.status === 409)).toHaveLength(h.fake.properties.size + 1);
  });

  it('refuses a second callback with the same state: one state installs one portal', async () => {
    const start = await startInstall(h.server);
    const first = await installCallback(h.server, { code: h.fake.issueCode(), state: start.state! }, start.nonce);
    expect(first.status).toBe(200);
    const second = await installCallback(h.server, { code: h.fake.issueCode(777), state: start.state! }, start.nonce);
    expect(second.status).toBe(401);
    expect(second.body.error).toMatchObject({ code: 'invalid_state' });
    expect(second.body.error.message).toContain('already used');
    expect(exchanges()).toHaveLength(1);
    expect(await h.tokens.portals()).toEqual(['4242424']);
  });

  it.each([
    ['without the install cookie', undefined],
    ['with the install cookie of another browser', 'another-browsers-nonce'],
  ])('refuses a callback %s and exchanges nothing', async (_name, nonce) => {
    const start = await startInstall(h.server);
    const res = await installCallback(h.server, { code: h.fake.issueCode(), state: start.state! }, nonce);
    expect(res.status).toBe(401);
    expect(res.body.error).toMatchObject({ code: 'invalid_state' });
    expect(res.body.error.message).toContain('not started in this browser');
    expect(exchanges()).toEqual([]);
    expect(await h.tokens.portals()).toEqual([]);
  });

  it.each([
    ['a forged state', (s: string) => s.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A')), 0],
    ['an expired state', (s: string) => s, 11 * 60_000],
  ])('refuses a callback with %s', async (_name, mangle, advance) => {
    const start = await startInstall(h.server);
    h.clock.current += advance;
    const res = await installCallback(h.server, { code: h.fake.issueCode(), state: mangle(start.state!) }, start.nonce);
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('invalid_state');
    expect(exchanges()).toEqual([]);
  });
});

describe('POST /v1/webhooks/hubspot', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await harness();
    h.fake.seedContacts(101, 1, () => ({ lifetime_orders: '3', email_subscribed: 'true', city: 'Lyon' }));
    await installPortal(h.server, h.fake); // the only portal installed: bare contact ids are its
  });
  afterEach(async () => {
    await h.server.close();
    await h.fake.close();
    await h.tokens.close();
    await h.remove();
  });

  const event = (overrides: Record<string, unknown> = {}) =>
    JSON.stringify([
      {
        eventId: 1,
        subscriptionId: 7,
        portalId: 4242424,
        appId: 777,
        occurredAt: NOW,
        subscriptionType: 'contact.propertyChange',
        attemptNumber: 0,
        objectId: 101,
        propertyName: 'city',
        propertyValue: 'Paris',
        changeSource: 'CRM',
        ...overrides,
      },
    ]);
  const reads = () => h.fake.requestsTo('/crm/v3/objects/contacts/batch/read').length;

  it('invalidates the cached profile of a changed contact, so the next decision reads it again', async () => {
    await call(h.server, 'POST', '/v1/agents/winback/decide', { body: { userId: '101' } });
    await call(h.server, 'POST', '/v1/agents/winback/decide', { body: { userId: '101' } });
    expect(reads()).toBe(1); // cached
    const res = await signedPost(h, '/v1/webhooks/hubspot', event());
    // the contact as 4242424:101 and, its portal being the default one, as 101
    expect(res).toEqual({ status: 200, body: { received: 1, profilesInvalidated: 2, usersErased: 0 } });
    await call(h.server, 'POST', '/v1/agents/winback/decide', { body: { userId: '101' } });
    expect(reads()).toBe(2);
  });

  it('refuses the same v3-signed delivery a second time (401) and changes nothing', async () => {
    const body = event();
    const first = await signedPost(h, '/v1/webhooks/hubspot', body);
    expect(first.status).toBe(200);
    await call(h.server, 'POST', '/v1/agents/winback/decide', { body: { userId: '101' } });
    const replay = await signedPost(h, '/v1/webhooks/hubspot', body);
    expect(replay.status).toBe(401);
    expect(replay.body.error).toMatchObject({ code: 'replayed_request' });
    await call(h.server, 'POST', '/v1/agents/winback/decide', { body: { userId: '101' } });
    expect(reads()).toBe(1); // the profile read after the first delivery is still cached
  });

  it("accepts HubSpot's retry of a delivery, which it signs again with a new timestamp", async () => {
    const body = event();
    expect((await signedPost(h, '/v1/webhooks/hubspot', body)).status).toBe(200);
    h.clock.current += 120_000;
    const retry = await signedPost(h, '/v1/webhooks/hubspot', body);
    expect(retry).toEqual({ status: 200, body: { received: 1, profilesInvalidated: 0, usersErased: 0 } }); // the event was seen
  });

  it.each([
    ['a wrong secret', { secret: 'other-secret' }, 'bad_signature'],
    ['a stale timestamp', { timestamp: NOW - 6 * 60_000 }, 'stale_timestamp'],
    ['a v2 signature only', { version: 'v2' as const }, 'missing_signature'],
  ])('answers 401 for %s and changes nothing', async (_name, opts, code) => {
    await call(h.server, 'POST', '/v1/agents/winback/decide', { body: { userId: '101' } });
    const res = await signedPost(h, '/v1/webhooks/hubspot', event(), opts);
    expect(res.status).toBe(401);
    expect(res.body.error).toMatchObject({ code });
    await call(h.server, 'POST', '/v1/agents/winback/decide', { body: { userId: '101' } });
    expect(reads()).toBe(1);
  });

  it('answers 400 naming the field of a malformed event', async () => {
    const res = await signedPost(
      h,
      '/v1/webhooks/hubspot',
      JSON.stringify([{ eventId: 1, portalId: 1, occurredAt: NOW, subscriptionType: 'contact.propertyChange' }]),
    );
    expect(res.status).toBe(400);
    expect(res.body.error.message).toContain('[0].objectId');
  });
});

describe('POST /v1/hubspot/workflow-actions/decide', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await harness();
    await installPortal(h.server, h.fake);
    h.fake.seedContacts(501, 1, () => ({
      lifetime_orders: '3',
      email_subscribed: 'true',
      sms_opt_in: 'true',
      push_enabled: 'true',
      city: 'Lyon',
    }));
  });
  afterEach(async () => {
    await h.server.close();
    await h.fake.close();
    await h.tokens.close();
    await h.remove();
  });

  const action = (overrides: Record<string, unknown> = {}) =>
    JSON.stringify({
      callbackId: 'ap-123-456',
      origin: { portalId: 4242424, actionDefinitionId: 9, actionDefinitionVersion: 1 },
      context: { source: 'WORKFLOWS', workflowId: 33 },
      object: { objectId: 501, objectType: 'CONTACT' },
      inputFields: { agentId: 'winback' },
      ...overrides,
    });

  it('decides for the enrolled contact and answers the decision as output fields', async () => {
    const res = await signedPost(h, '/v1/hubspot/workflow-actions/decide', action());
    expect(res.status).toBe(200);
    const out = res.body.outputFields as Record<string, string>;
    expect(out.hs_execution_state).toBe('SUCCESS');
    expect(Object.values(out).every((v) => typeof v === 'string')).toBe(true);
    const stored = await call(h.server, 'GET', `/v1/decisions/${out.nb_decision_id}`);
    const { hs_execution_state: _state, ...fields } = out;
    expect(fields).toEqual(
      Object.fromEntries(
        Object.entries(stored.body.attributes as Record<string, unknown>).map(([k, v]) => [
          k,
          v === null ? '' : String(v),
        ]),
      ),
    );
    for (const [dim, choice] of Object.entries(stored.body.choices as Record<string, { arm: string }>))
      expect(out[`nb_${dim}`]).toBe(choice.arm);
    expect(h.fake.requestsTo('/crm/v3/objects/contacts/batch/read')).toHaveLength(1); // traits read from HubSpot
  });

  it('answers the same decision to a retry HubSpot signs again (same callbackId, new timestamp)', async () => {
    const a = await signedPost(h, '/v1/hubspot/workflow-actions/decide', action());
    h.clock.current += 60_000;
    const b = await signedPost(h, '/v1/hubspot/workflow-actions/decide', action());
    expect(b.status).toBe(200);
    expect(b.body.outputFields).toEqual(a.body.outputFields);
  });

  const reads = () => h.fake.requestsTo('/crm/v3/objects/contacts/batch/read').length;

  it('refuses a replayed v3-signed action (401) and decides nothing', async () => {
    expect((await signedPost(h, '/v1/hubspot/workflow-actions/decide', action())).status).toBe(200);
    const replay = await signedPost(h, '/v1/hubspot/workflow-actions/decide', action());
    expect(replay.status).toBe(401);
    expect(replay.body.error).toMatchObject({ code: 'replayed_request' });
    expect(reads()).toBe(1);
  });

  it('refuses a v2-signed action once it was answered, even days later, and decides nothing', async () => {
    const first = await signedPost(h, '/v1/hubspot/workflow-actions/decide', action(), { version: 'v2' });
    expect(first.status).toBe(200);
    for (const later of [0, 30 * 86_400_000]) {
      h.clock.current += later;
      const replay = await signedPost(h, '/v1/hubspot/workflow-actions/decide', action(), { version: 'v2' });
      expect(replay.status).toBe(401);
      expect(replay.body.error).toMatchObject({ code: 'replayed_request' });
    }
    expect(reads()).toBe(1);
  });

  it('refuses an answered v3-signed action replayed with its v2 signature alone', async () => {
    expect((await signedPost(h, '/v1/hubspot/workflow-actions/decide', action())).status).toBe(200);
    const stripped = await signedPost(h, '/v1/hubspot/workflow-actions/decide', action(), { version: 'v2' });
    expect(stripped.status).toBe(401);
    expect(stripped.body.error).toMatchObject({ code: 'replayed_request' });
  });

  it('answers another action of the same contact (another callbackId) signed v2', async () => {
    expect((await signedPost(h, '/v1/hubspot/workflow-actions/decide', action(), { version: 'v2' })).status).toBe(200);
    const next = await signedPost(h, '/v1/hubspot/workflow-actions/decide', action({ callbackId: 'ap-123-457' }), {
      version: 'v2',
    });
    expect(next.status).toBe(200);
  });

  it('answers 400 naming inputFields.agentId for an unknown agent', async () => {
    const res = await signedPost(
      h,
      '/v1/hubspot/workflow-actions/decide',
      action({ inputFields: { agentId: 'nope' } }),
    );
    expect(res.status).toBe(400);
    expect(res.body.error.message).toContain('inputFields.agentId');
  });

  it('answers 401 for a tampered body', async () => {
    const body = action();
    const uri = `${h.server.url}/v1/hubspot/workflow-actions/decide`;
    const ts = String(h.clock.now());
    const res = await fetch(uri, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'X-HubSpot-Signature-v3': signV3(CLIENT_SECRET, 'POST', uri, body, ts),
        'X-HubSpot-Request-Timestamp': ts,
      },
      body: body.replace('501', '502'),
    });
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('bad_signature');
  });
});
