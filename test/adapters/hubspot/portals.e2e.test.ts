import nock from 'nock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hubspotFromEnv } from '../../../adapters/hubspot/index.ts';
import { loadConfigFile } from '../../../plugin/agent/index.ts';
import { runAudience } from '../../../plugin/run/index.ts';
import { FakeHubSpot, VirtualClock, type RecordedRequest } from '../../fakes/hubspot.ts';
import { call, EXAMPLE_CONFIG, EXAMPLE_WORKSPACE, startTestServer } from '../../server/helpers.ts';
import { CLIENT_SECRET, installPortal, NOW, pacingOn } from './setup.ts';

const REDIRECT = 'https://nextbest.example.com/oauth/hubspot/callback';
const PORTALS = [500, 40, 7];
const CUSTOMER = {
  lifecyclestage: 'customer',
  email_subscribed: 'true',
  sms_opt_in: 'true',
  push_enabled: 'true',
  city: 'Lyon',
};

beforeAll(() => {
  nock.disableNetConnect();
  nock.enableNetConnect('127.0.0.1');
});
afterAll(() => nock.enableNetConnect());

/** The most requests of one portal in any rolling window of `windowMs` (search and OAuth calls apart). */
function busiestWindow(requests: RecordedRequest[], windowMs: number): number {
  const at = requests.map((r) => r.at).sort((a, b) => a - b);
  let most = 0;
  for (let i = 0, j = 0; i < at.length; i++) {
    while (at[i] - at[j] >= windowMs) j++;
    most = Math.max(most, i - j + 1);
  }
  return most;
}

describe('HubSpot end to end with three portals installed at once', () => {
  it('writes each portal’s decisions to its own contacts only, each once, paced per portal without a 429', async () => {
    const clock = new VirtualClock(NOW);
    const fake = await new FakeHubSpot({
      clock: clock.now,
      clientId: 'app-client',
      clientSecret: CLIENT_SECRET,
      redirectUri: REDIRECT,
    }).start();
    const adapter = hubspotFromEnv(
      {
        HUBSPOT_CLIENT_ID: 'app-client',
        HUBSPOT_CLIENT_SECRET: CLIENT_SECRET,
        HUBSPOT_REDIRECT_URI: REDIRECT,
        HUBSPOT_TOKEN_KEY: Buffer.alloc(32, 7).toString('base64'),
        HUBSPOT_BASE_PATH: fake.url,
      },
      { agents: (await loadConfigFile(EXAMPLE_CONFIG)).agents, tokenDbPath: ':memory:', pacing: pacingOn(clock) },
    );
    const server = await startTestServer({
      clock: clock.now,
      profileSource: adapter.profileSource,
      sinks: adapter.sinks,
      extensions: [adapter.extension!],
    });
    try {
      const input = server.service.getAgent('winback').config as Record<string, unknown>;
      await call(server, 'PUT', '/v1/agents/winback', {
        body: { ...input, delivery: [{ to: 'hubspot', mode: 'contact_properties', prefix: 'nb_' }] },
      });
      for (const hubId of PORTALS) {
        expect((await installPortal(server, fake, hubId)).status).toBe(200);
        // the same contact ids in every portal: 1..250, customers with different order counts
        fake.portal(hubId).seedContacts(1, 250, (i) => ({ ...CUSTOMER, lifetime_orders: String((i + hubId) % 20) }));
      }

      const delivered = new Map<number, number>();
      for (const hubId of PORTALS) {
        const summary = await runAudience(
          server.service,
          { agentId: 'winback', audience: `search:${hubId}/lifecyclestage=customer` },
          { store: server.store, source: adapter.profileSource, chunkSize: 120 },
        );
        expect(summary.members).toBe(250);
        expect(summary.failed).toEqual({});
        expect(summary.unfinished).toEqual({});
        delivered.set(
          hubId,
          Object.values(summary.delivered).reduce((a, b) => a + b, 0),
        );
      }

      const seen = new Set<string>();
      for (const hubId of PORTALS) {
        const written = fake.portal(hubId).updates.flat();
        expect(written.length).toBe(delivered.get(hubId));
        expect(written.length).toBeGreaterThan(100);
        expect(new Set(written.map((u) => u.id)).size).toBe(written.length); // each contact once
        for (const u of written) {
          // the decision written is the one logged for this portal's contact, and no other portal got it
          const row = await server.store.getDecision(EXAMPLE_WORKSPACE, u.properties.nb_decision_id);
          expect(row?.userKey).toBe(server.service.userKey(`${hubId}:${u.id}`));
          expect(seen.has(u.properties.nb_decision_id)).toBe(false);
          seen.add(u.properties.nb_decision_id);
        }
        const own = fake.requests.filter((r) => r.hubId === hubId);
        const paced = own.filter((r) => r.path !== '/crm/v3/objects/contacts/search');
        expect(busiestWindow(paced, 10_000)).toBeLessThanOrEqual(110);
        expect(
          busiestWindow(
            own.filter((r) => !paced.includes(r)),
            1000,
          ),
        ).toBeLessThanOrEqual(5);
      }
      // contact 1 of each portal: three customers, three decisions
      const firsts = PORTALS.map((p) => fake.portal(p).contacts.get('1')!.nb_decision_id).filter(Boolean);
      expect(new Set(firsts).size).toBe(firsts.length);
      expect(fake.requests.filter((r) => r.status === 429)).toEqual([]);
      expect(fake.portal(fake.options.hubId).updates).toEqual([]); // the fake's own portal installed nothing
      expect(fake.violations).toEqual([]);
    } finally {
      await server.close();
      await adapter.close();
      await fake.close();
    }
  });
});
