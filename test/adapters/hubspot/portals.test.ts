import { join } from 'node:path';
import Database from 'better-sqlite3';
import nock from 'nock';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { hubspotFromEnv, SqlitePortalTokens, type HubSpotConnection } from '../../../adapters/hubspot/index.ts';
import { ConfigError } from '../../../adapters/kit/index.ts';
import { loadConfigFile } from '../../../plugin/agent/index.ts';
import type { RunningServer } from '../../../plugin/server/index.ts';
import { FakeHubSpot, VirtualClock } from '../../fakes/hubspot.ts';
import { call, EXAMPLE_CONFIG, startTestServer, tempDir } from '../../server/helpers.ts';
import { CLIENT_SECRET, installPortal, NOW, pacingOn, postSignedByHubSpot } from './setup.ts';

const REDIRECT = 'https://nextbest.example.com/oauth/hubspot/callback';
const KEY_A = Buffer.alloc(32, 7).toString('base64');
const KEY_B = Buffer.alloc(32, 8).toString('base64');
const TRAITS = { lifetime_orders: '3', email_subscribed: 'true', sms_opt_in: 'true', push_enabled: 'true' };

beforeAll(() => {
  nock.disableNetConnect();
  nock.enableNetConnect('127.0.0.1');
});
afterAll(() => nock.enableNetConnect());

/** The adapter connected the way `nextbest serve` connects it (OAuth, tokens in a SQLite file), serving decide. */
interface Connected {
  adapter: HubSpotConnection;
  server: RunningServer;
}

describe('HubSpot with several portals installed', () => {
  let clock: VirtualClock;
  let fake: FakeHubSpot;
  let dir: { path: string; remove: () => Promise<void> };
  let open: Connected[];

  beforeEach(async () => {
    clock = new VirtualClock(NOW);
    fake = await new FakeHubSpot({
      clock: clock.now,
      clientId: 'app-client',
      clientSecret: CLIENT_SECRET,
      redirectUri: REDIRECT,
    }).start();
    // contact 101 exists in both portals: two customers' contacts
    fake.portal(500).seedContacts(101, 1, () => ({ ...TRAITS, city: 'Lyon' }));
    fake.portal(40).seedContacts(101, 1, () => ({ ...TRAITS, city: 'Oslo' }));
    dir = await tempDir();
    open = [];
  });
  afterEach(async () => {
    for (const c of open) {
      await c.server.close();
      await c.adapter.close();
    }
    await fake.close();
    await dir.remove();
  });

  const connect = async (env: Record<string, string> = {}): Promise<Connected> => {
    const adapter = hubspotFromEnv(
      {
        HUBSPOT_CLIENT_ID: 'app-client',
        HUBSPOT_CLIENT_SECRET: CLIENT_SECRET,
        HUBSPOT_REDIRECT_URI: REDIRECT,
        HUBSPOT_TOKEN_KEY: KEY_A,
        HUBSPOT_BASE_PATH: fake.url,
        HUBSPOT_TOKEN_DB: join(dir.path, 'tokens.db'),
        ...env,
      },
      { agents: (await loadConfigFile(EXAMPLE_CONFIG)).agents, pacing: pacingOn(clock) },
    );
    const server = await startTestServer({
      clock: clock.now,
      profileSource: adapter.profileSource,
      extensions: [adapter.extension!],
    });
    open.push({ adapter, server });
    return { adapter, server };
  };
  const decide = (c: Connected, userId: string) =>
    call(c.server, 'POST', '/v1/agents/winback/decide', { body: { userId } });
  const reads = () => fake.requestsTo('/crm/v3/objects/contacts/batch/read');
  const both = async (env: Record<string, string> = {}) => {
    const c = await connect(env);
    await installPortal(c.server, fake, 500);
    await installPortal(c.server, fake, 40);
    return c;
  };

  it('reads each contact from the portal its user id names, with that portal’s token', async () => {
    const c = await both();
    const a = await decide(c, '500:101');
    const b = await decide(c, '40:101');
    expect([a.body.error, b.body.error]).toEqual([undefined, undefined]);
    expect(reads().map((r) => r.hubId)).toEqual([500, 40]);
    expect(a.body.decisionId).not.toBe(b.body.decisionId);
  });

  it('refuses a bare contact id, at once and reading nothing, when several portals are installed without HUBSPOT_PORTAL_ID', async () => {
    const c = await both();
    const res = await decide(c, '101');
    expect(res.status).toBe(200);
    expect(res.body.error).toBeDefined();
    expect(reads()).toEqual([]);
    expect(clock.current).toBe(NOW); // a configuration error is never retried
  });

  it('reads a bare contact id from HUBSPOT_PORTAL_ID, and says so at install', async () => {
    const c = await connect({ HUBSPOT_PORTAL_ID: '40' });
    await installPortal(c.server, fake, 500);
    const second = await installPortal(c.server, fake, 40);
    expect((await decide(c, '101')).body.error).toBeUndefined();
    expect(reads().map((r) => r.hubId)).toEqual([40]);
    expect(second.body).toMatchObject({ portalId: '40', defaultPortalId: '40' });
  });

  it('answers at install that bare ids have no portal once a second portal is installed', async () => {
    const c = await connect();
    expect((await installPortal(c.server, fake, 500)).body).toMatchObject({ defaultPortalId: '500' });
    expect((await installPortal(c.server, fake, 40)).body).toMatchObject({ defaultPortalId: null });
  });

  it.each<[string, Record<string, string>]>([
    ['no portal is installed', {}],
    ['HUBSPOT_PORTAL_ID names a portal that is not installed', { HUBSPOT_PORTAL_ID: '999' }],
  ])('answers decide at once, with the default arms, when %s', async (_name, env) => {
    const c = await connect(env);
    if (env.HUBSPOT_PORTAL_ID) await installPortal(c.server, fake, 500);
    const res = await decide(c, '101');
    expect(res.status).toBe(200);
    expect(res.body.error).toBeDefined();
    expect(reads()).toEqual([]);
    expect(clock.current).toBe(NOW);
  });

  it('decides for a workflow action as the contact of its origin.portalId, read from that portal', async () => {
    const c = await both();
    const res = await postSignedByHubSpot(
      c.server,
      '/v1/hubspot/workflow-actions/decide',
      workflowAction(40, 101),
      clock.now(),
    );
    expect(res.status).toBe(200);
    expect(reads().map((r) => r.hubId)).toEqual([40]);
    // the decision is user 40:101's: deciding again for that user with the callbackId as requestId answers it
    const again = await call(c.server, 'POST', '/v1/agents/winback/decide', {
      body: { userId: '40:101', requestId: 'cb-40-101' },
    });
    expect(again.body.decisionId).toBe(res.body.outputFields.nb_decision_id);
  });

  it('refuses (403) a workflow action from a portal that has not installed the app, and decides nothing', async () => {
    const c = await both();
    const res = await postSignedByHubSpot(
      c.server,
      '/v1/hubspot/workflow-actions/decide',
      workflowAction(77, 101),
      clock.now(),
    );
    expect(res.status).toBe(403);
    expect(res.body.error).toMatchObject({ code: 'portal_not_installed' });
    expect(res.body.error.message).toContain('origin.portalId');
    expect(reads()).toEqual([]);
  });

  it('forgets the cached profile of the webhook event’s portal only', async () => {
    const c = await both();
    await decide(c, '500:101');
    await decide(c, '40:101');
    const res = await postSignedByHubSpot(c.server, '/v1/webhooks/hubspot', [webhookEvent(40, 101)], clock.now());
    expect(res.body).toMatchObject({ profilesInvalidated: 1 });
    await decide(c, '500:101');
    await decide(c, '40:101');
    expect(reads().map((r) => r.hubId)).toEqual([500, 40, 40]); // 500:101 was still cached
  });

  it('erases the contact of a privacy deletion, in its own portal only', async () => {
    const c = await both();
    const kept = await decide(c, '500:101');
    const gone = await decide(c, '40:101');
    const res = await postSignedByHubSpot(
      c.server,
      '/v1/webhooks/hubspot',
      [webhookEvent(40, 101, 'contact.privacyDeletion')],
      clock.now(),
    );
    expect(res.body).toMatchObject({ usersErased: 1 });
    expect((await call(c.server, 'GET', `/v1/decisions/${gone.body.decisionId}`)).status).toBe(404);
    expect((await call(c.server, 'GET', `/v1/decisions/${kept.body.decisionId}`)).status).toBe(200);
  });

  it('uninstalls one portal on an admin’s request: HubSpot is told, its tokens are removed, the other portal goes on', async () => {
    const c = await both();
    expect((await call(c.server, 'DELETE', '/v1/hubspot/portals/40', { key: null })).status).toBe(401);
    const res = await call(c.server, 'DELETE', '/v1/hubspot/portals/40');
    expect(res).toMatchObject({ status: 200, body: { uninstalled: true, portalId: '40' } });
    expect(fake.uninstalled).toEqual([40]);
    expect(await c.adapter.vault!.portals()).toEqual(['500']);
    expect((await decide(c, '40:101')).body.error).toBeDefined();
    expect((await decide(c, '101')).body.error).toBeUndefined(); // 500 is now the only portal
    const action = await postSignedByHubSpot(
      c.server,
      '/v1/hubspot/workflow-actions/decide',
      workflowAction(40, 101),
      clock.now(),
    );
    expect(action.status).toBe(403);
    expect((await call(c.server, 'DELETE', '/v1/hubspot/portals/40')).status).toBe(404);
  });

  it('refuses at once, as a configuration error, tokens sealed with another HUBSPOT_TOKEN_KEY', async () => {
    const first = await connect();
    await installPortal(first.server, fake, 500);
    const other = await connect({ HUBSPOT_TOKEN_KEY: KEY_B });
    const read = other.adapter.profileSource.getProfile('101');
    await expect(read).rejects.toThrow(ConfigError);
    await expect(read).rejects.toThrow('HUBSPOT_TOKEN_KEY');
    expect(clock.current).toBe(NOW);
  });

  it('keeps the install order of a token file written before it was kept, by last update', async () => {
    const path = join(dir.path, 'old.db');
    const db = new Database(path);
    db.exec(`CREATE TABLE hubspot_portal_tokens (portal_id TEXT PRIMARY KEY, sealed BLOB NOT NULL,
      expires_at INTEGER NOT NULL, scopes TEXT NOT NULL, updated_at INTEGER NOT NULL)`);
    const insert = db.prepare('INSERT INTO hubspot_portal_tokens VALUES (?, ?, 0, ?, ?)');
    insert.run('7', Buffer.from('x'), '[]', NOW + 1);
    insert.run('30', Buffer.from('x'), '[]', NOW);
    db.close();
    const tokens = new SqlitePortalTokens(path);
    await tokens.put({ portalId: '5', sealed: Buffer.from('x'), expiresAt: 0, scopes: [], updatedAt: NOW + 2 });
    await tokens.put({ portalId: '30', sealed: Buffer.from('y'), expiresAt: 0, scopes: [], updatedAt: NOW + 3 });
    expect(await tokens.portals()).toEqual(['30', '7', '5']);
    expect(await tokens.remove('7')).toBe(true);
    expect(await tokens.portals()).toEqual(['30', '5']);
    await tokens.close();
  });
});

function workflowAction(portalId: number, objectId: number) {
  return {
    callbackId: `cb-${portalId}-${objectId}`,
    origin: { portalId, actionDefinitionId: 9, actionDefinitionVersion: 1 },
    context: { source: 'WORKFLOWS', workflowId: 33 },
    object: { objectId, objectType: 'CONTACT' },
    inputFields: { agentId: 'winback' },
  };
}

function webhookEvent(portalId: number, objectId: number, subscriptionType = 'contact.propertyChange') {
  return {
    eventId: 1, // event ids are the same in both portals' deliveries: each portal's are its own
    subscriptionId: 7,
    portalId,
    appId: 777,
    occurredAt: NOW,
    subscriptionType,
    attemptNumber: 0,
    objectId,
    changeSource: 'CRM',
  };
}
