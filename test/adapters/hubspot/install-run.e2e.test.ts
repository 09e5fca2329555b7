import nock from 'nock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hubspotFromEnv } from '../../../adapters/hubspot/index.ts';
import { loadConfigFile } from '../../../plugin/agent/index.ts';
import { runAudience } from '../../../plugin/run/index.ts';
import { FakeHubSpot, VirtualClock } from '../../fakes/hubspot.ts';
import { call, EXAMPLE_CONFIG, startTestServer } from '../../server/helpers.ts';
import { CLIENT_SECRET, installPortal, NOW, pacingOn } from './setup.ts';

const REDIRECT = 'https://nextbest.example.com/oauth/hubspot/callback';

beforeAll(() => {
  nock.disableNetConnect();
  nock.enableNetConnect('127.0.0.1');
});
afterAll(() => nock.enableNetConnect());

describe('HubSpot end to end: install → audience → run → contact properties', () => {
  it('writes every delivered decision once, in batches of ≤100, through a 429 storm mid-run', async () => {
    const clock = new VirtualClock(NOW);
    const fake = await new FakeHubSpot({
      clock: clock.now,
      clientId: 'app-client',
      clientSecret: CLIENT_SECRET,
      redirectUri: REDIRECT,
    }).start();
    const env = {
      HUBSPOT_CLIENT_ID: 'app-client',
      HUBSPOT_CLIENT_SECRET: CLIENT_SECRET,
      HUBSPOT_REDIRECT_URI: REDIRECT,
      HUBSPOT_TOKEN_KEY: Buffer.alloc(32, 7).toString('base64'),
      HUBSPOT_BASE_PATH: fake.url,
    };
    const agents = (await loadConfigFile(EXAMPLE_CONFIG)).agents;
    const adapter = hubspotFromEnv(env, { agents, tokenDbPath: ':memory:', pacing: pacingOn(clock) });
    const server = await startTestServer({
      clock: clock.now,
      profileSource: adapter.profileSource,
      sinks: adapter.sinks,
      extensions: [adapter.extension!],
    });
    try {
      // the agent delivers to HubSpot contact properties
      const input = server.service.getAgent('winback').config as Record<string, unknown>;
      await call(server, 'PUT', '/v1/agents/winback', {
        body: { ...input, delivery: [{ to: 'hubspot', mode: 'contact_properties', prefix: 'nb_' }] },
      });

      // install, started by an admin: authorize redirect with the install cookie, then HubSpot's callback with a code
      const installed = await installPortal(server, fake);
      expect(installed.status).toBe(200);
      expect(fake.properties.has('nb_subject_line')).toBe(true);

      const ids = fake.seedContacts(1, 450, (i) => ({
        lifecyclestage: 'customer',
        lifetime_orders: String(i % 20),
        email_subscribed: 'true',
        sms_opt_in: 'true',
        push_enabled: 'true',
        city: 'Lyon',
      }));
      fake.seedContacts(1000, 30, () => ({ lifecyclestage: 'lead' }));
      fake.setBurstMax(4); // a 429 storm: 4 calls per rolling 10 s for the whole run

      const summary = await runAudience(
        server.service,
        { agentId: 'winback', audience: 'search:lifecyclestage=customer' },
        { store: server.store, source: adapter.profileSource, chunkSize: 150 },
      );
      expect(summary.members).toBe(450);
      expect(fake.requestsTo('/crm/v3/objects/contacts/batch/update').some((r) => r.status === 429)).toBe(true);

      // every delivered decision written exactly once, in batches of ≤100; skips are not written
      const delivered = Object.values(summary.delivered).reduce((a, b) => a + b, 0);
      expect(delivered).toBe(summary.decided - summary.skipped.total);
      expect(delivered).toBeGreaterThan(100);
      expect(summary.failed).toEqual({});
      expect(summary.unfinished).toEqual({});
      expect(fake.updates.every((b) => b.length <= 100)).toBe(true);
      const written = fake.updates.flat();
      expect(written).toHaveLength(delivered);
      expect(new Set(written.map((u) => u.id)).size).toBe(delivered);
      expect(written.every((u) => ids.includes(u.id))).toBe(true);
      for (const u of written.slice(0, 20)) {
        const logged = await call(server, 'GET', `/v1/decisions/${u.properties.nb_decision_id}`);
        expect(logged.status).toBe(200);
        expect(u.properties.nb_channel ?? '').toBe(logged.body.choices.channel?.arm ?? '');
      }
      expect(fake.violations).toEqual([]);
    } finally {
      await server.close();
      await adapter.close();
      await fake.close();
    }
  });
});
