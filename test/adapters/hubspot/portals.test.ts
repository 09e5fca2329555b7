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
import { CLIENT_SECRET, installPortal, NOW, pacingOn } from './setup.ts';

const REDIRECT = 'https://nextbest.example.com/oauth/hubspot/callback';
const KEY_A = Buffer.alloc(32, 7).toString('base64');
const KEY_B = Buffer.alloc(32, 8).toString('base64');

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
    fake.seedContacts(101, 1, () => ({ lifetime_orders: '3', email_subscribed: 'true', city: 'Lyon' }));
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
  const decide = (c: Connected) => call(c.server, 'POST', '/v1/agents/winback/decide', { body: { userId: '101' } });
  const reads = () => fake.requestsTo('/crm/v3/objects/contacts/batch/read');

  it('reads profiles from the portal installed first, whatever the ids, and says so when another is installed', async () => {
    const c = await connect();
    await installPortal(c.server, fake, 500);
    const second = await installPortal(c.server, fake, 40);
    const res = await decide(c);
    expect(res.status).toBe(200);
    expect(res.body.error).toBeUndefined();
    expect(reads().map((r) => r.hubId)).toEqual([500]);
    expect(clock.current).toBe(NOW); // answered at once: no retry waited
    expect(second.body).toMatchObject({ portalId: '40', profilePortalId: '500' });
  });

  it('reads profiles from HUBSPOT_PORTAL_ID when it is set', async () => {
    const c = await connect({ HUBSPOT_PORTAL_ID: '40' });
    await installPortal(c.server, fake, 500);
    const second = await installPortal(c.server, fake, 40);
    expect((await decide(c)).body.error).toBeUndefined();
    expect(reads().map((r) => r.hubId)).toEqual([40]);
    expect(second.body).toMatchObject({ profilePortalId: '40' });
  });

  it.each<[string, Record<string, string>]>([
    ['no portal is installed', {}],
    ['HUBSPOT_PORTAL_ID names a portal that is not installed', { HUBSPOT_PORTAL_ID: '999' }],
  ])('answers decide at once, with the default arms, when %s', async (_name, env) => {
    const c = await connect(env);
    if (env.HUBSPOT_PORTAL_ID) await installPortal(c.server, fake, 500);
    const res = await decide(c);
    expect(res.status).toBe(200);
    expect(res.body.error).toBeDefined();
    expect(reads()).toEqual([]);
    expect(clock.current).toBe(NOW); // a configuration error is never retried
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
    await tokens.close();
  });
});
