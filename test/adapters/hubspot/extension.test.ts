import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import nock from 'nock';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  HubSpotCrm,
  HubSpotOAuth,
  HubSpotProfileSource,
  hubspotExtension,
  HUBSPOT_OPTIONAL_SCOPES,
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
import { call, startTestServer, tempDir } from '../../server/helpers.ts';
import { CLIENT_SECRET, NOW, pacingOn, PRIVATE_TOKEN } from './setup.ts';

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
  const crm = new HubSpotCrm({ basePath: fake.url, accessToken: async () => PRIVATE_TOKEN });
  const profileSource = new HubSpotProfileSource({
    crm,
    properties: ['lifetime_orders', 'email_subscribed', 'sms_opt_in', 'push_enabled', 'city'],
    pacing: pacingOn(clock),
  });
  const server = await startTestServer({
    clock: clock.now,
    profileSource,
    extensions: [
      hubspotExtension({ clientSecret: CLIENT_SECRET, oauth: { client: oauth, vault, basePath: fake.url } }),
    ],
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

  const install = async () => {
    const res = await fetch(`${h.server.url}/oauth/hubspot/install`, { redirect: 'manual' });
    return { status: res.status, location: new URL(res.headers.get('location')!) };
  };

  it('redirects the installer to HubSpot with client id, redirect URL, scopes and a signed state', async () => {
    const { status, location } = await install();
    expect(status).toBe(302);
    expect(`${location.origin}${location.pathname}`).toBe('https://app.hubspot.com/oauth/authorize');
    expect(location.searchParams.get('client_id')).toBe('app-client');
    expect(location.searchParams.get('redirect_uri')).toBe(REDIRECT);
    expect(location.searchParams.get('scope')!.split(' ')).toEqual([...HUBSPOT_REQUIRED_SCOPES]);
    expect(location.searchParams.get('state')).toMatch(/^\d+\.[\w-]+\.[\w-]+$/);
  });

  it('exchanges the code, stores the tokens encrypted and creates the property group and nb_ properties', async () => {
    const { location } = await install();
    const res = await call(
      h.server,
      'GET',
      `/oauth/hubspot/callback?code=${h.fake.issueCode()}&state=${encodeURIComponent(location.searchParams.get('state')!)}`,
      { key: null },
    );
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ installed: true, portalId: '4242424', propertyGroupCreated: true });
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
    const token2 = h.fake.requestsTo('/oauth/v1/token')[0].body as Record<string, string>;
    expect(token2).toMatchObject({
      grant_type: 'authorization_code',
      client_id: 'app-client',
      client_secret: CLIENT_SECRET,
      redirect_uri: REDIRECT,
    });
  });

  it('refreshes the access token before it expires, with the refresh_token grant', async () => {
    const { location } = await install();
    await call(
      h.server,
      'GET',
      `/oauth/hubspot/callback?code=${h.fake.issueCode()}&state=${encodeURIComponent(location.searchParams.get('state')!)}`,
      { key: null },
    );
    const first = await h.vault.accessToken();
    h.clock.current += 1400 * 1000; // 23 of the token's 30 minutes: still outside the 5-minute margin
    expect(await h.vault.accessToken()).toBe(first);
    h.clock.current += 200 * 1000; // now within 5 minutes of expiry
    const [a, b] = await Promise.all([h.vault.accessToken(), h.vault.accessToken()]);
    expect(a).not.toBe(first);
    expect(b).toBe(a);
    const grants = h.fake.requestsTo('/oauth/v1/token').map((r) => (r.body as Record<string, string>).grant_type);
    expect(grants).toEqual(['authorization_code', 'refresh_token']);
  });

  it('creates nothing twice when the app is installed again', async () => {
    for (let i = 0; i < 2; i++) {
      const { location } = await install();
      const res = await call(
        h.server,
        'GET',
        `/oauth/hubspot/callback?code=${h.fake.issueCode()}&state=${encodeURIComponent(location.searchParams.get('state')!)}`,
        { key: null },
      );
      expect(res.status).toBe(200);
      if (i === 1) expect(res.body).toMatchObject({ propertyGroupCreated: false, propertiesCreated: [] });
    }
    const creates = h.fake.requestsTo(/^\/crm\/v3\/properties\/contacts/);
    expect(creates.filter((r) => r.status === 201)).toHaveLength(h.fake.properties.size + 1);
    expect(creates.filter((r) => r.status === 409)).toHaveLength(h.fake.properties.size + 1);
  });

  it.each([
    ['a forged state', (s: string) => s.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A')), 0],
    ['an expired state', (s: string) => s, 11 * 60_000],
  ])('refuses a callback with %s', async (_name, mangle, advance) => {
    const { location } = await install();
    h.clock.current += advance;
    const res = await call(
      h.server,
      'GET',
      `/oauth/hubspot/callback?code=${h.fake.issueCode()}&state=${encodeURIComponent(mangle(location.searchParams.get('state')!))}`,
      { key: null },
    );
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('invalid_state');
    expect(h.fake.requestsTo('/oauth/v1/token')).toEqual([]);
  });
});

describe('POST /v1/webhooks/hubspot', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await harness();
    h.fake.seedContacts(101, 1, () => ({ lifetime_orders: '3', email_subscribed: 'true', city: 'Lyon' }));
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
    expect(res).toEqual({ status: 200, body: { received: 1, profilesInvalidated: 1 } });
    await call(h.server, 'POST', '/v1/agents/winback/decide', { body: { userId: '101' } });
    expect(reads()).toBe(2);
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

  it('answers the same decision for the same callbackId (HubSpot retries)', async () => {
    const a = await signedPost(h, '/v1/hubspot/workflow-actions/decide', action());
    const b = await signedPost(h, '/v1/hubspot/workflow-actions/decide', action(), { version: 'v2' });
    expect(b.status).toBe(200);
    expect(b.body.outputFields).toEqual(a.body.outputFields);
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
