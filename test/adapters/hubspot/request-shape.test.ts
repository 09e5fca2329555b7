import nock from 'nock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ensureDecisionProperties,
  HubSpotContactSink,
  HubSpotOAuth,
  HubSpotProfileSource,
  hubspotFromEnv,
} from '../../../adapters/hubspot/index.ts';
import { ConfigError } from '../../../adapters/kit/index.ts';
import { openApiValidators } from '../../fakes/hubspot.ts';
import { makeDecision, startFake, winbackWithHubSpot } from './setup.ts';

beforeAll(() => {
  nock.disableNetConnect();
  nock.enableNetConnect('127.0.0.1');
});
afterAll(() => nock.enableNetConnect());

describe('request shapes against the official OpenAPI specs', () => {
  it('every call the adapter makes validates against test/fixtures/hubspot-openapi', async () => {
    const env = await startFake({
      clientId: 'cid',
      clientSecret: 'secret',
      redirectUri: 'https://n.example.com/oauth/hubspot/callback',
    });
    try {
      const agent = await winbackWithHubSpot();
      await ensureDecisionProperties(env.crm, [agent]); // group + property create
      const ids = env.fake.seedContacts(1, 120, (i) => ({ lifecyclestage: 'customer', lifetime_orders: String(i) }));
      env.fake.lists.set('7', ids.slice(0, 5));
      const source = new HubSpotProfileSource({
        portals: env.portals,
        properties: ['lifetime_orders'],
        pacing: env.pacing,
      });
      await source.getProfile('1'); // batch read
      for await (const _ of source.audience('list:7')); // list memberships
      for await (const _ of source.audience('search:lifecyclestage=customer')); // search
      await new HubSpotContactSink({
        portals: env.portals,
        agent,
        delivery: agent.delivery[0],
        pacing: env.pacing,
      }).deliver(ids.slice(0, 3).map((id) => makeDecision(id))); // batch update
      const oauth = new HubSpotOAuth({
        clientId: 'cid',
        clientSecret: 'secret',
        redirectUri: 'https://n.example.com/oauth/hubspot/callback',
        basePath: env.fake.url,
        scopes: ['oauth'],
      });
      const reply = await oauth.exchangeCode(env.fake.issueCode()); // token (authorization_code)
      await oauth.refresh(reply.refresh_token); // token (refresh_token)
      const info = await oauth.tokenInfo(reply.access_token);
      expect(
        openApiValidators().responseValidator(
          'oauth.json',
          '#/components/schemas/AccessTokenInfoResponse',
        )(await (await fetch(`${env.fake.url}/oauth/v1/access-tokens/${reply.access_token}`)).json()),
      ).toBe(true);
      expect(info.hub_id).toBe(env.fake.options.hubId);

      const seen = new Set(
        env.fake.requests.map(
          (r) =>
            `${r.method} ${r.path.replace(/\/\d+\//, '/{id}/').replace(/access-tokens\/.+$/, 'access-tokens/{token}')}`,
        ),
      );
      expect([...seen].sort()).toEqual(
        [
          'GET /crm/v3/lists/{id}/memberships',
          'GET /oauth/v1/access-tokens/{token}',
          'POST /crm/v3/objects/contacts/batch/read',
          'POST /crm/v3/objects/contacts/batch/update',
          'POST /crm/v3/objects/contacts/search',
          'POST /crm/v3/properties/contacts',
          'POST /crm/v3/properties/contacts/groups',
          'POST /oauth/v1/token',
        ].sort(),
      );
      expect(env.fake.violations).toEqual([]);
    } finally {
      await env.fake.close();
    }
  });

  it('the validator refuses a body the spec does not allow (it can fail)', async () => {
    const env = await startFake();
    try {
      const res = await fetch(`${env.fake.url}/crm/v3/objects/contacts/batch/update`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Bearer pat-test-token' },
        body: JSON.stringify({ inputs: [{ id: 1, properties: { nb_deliver: true } }] }),
      });
      expect(res.status).toBe(400);
      expect(env.fake.violations).toHaveLength(1);
      expect(env.fake.violations[0].errors).toContain('/inputs/0/id must be string');
    } finally {
      await env.fake.close();
    }
  });
});

describe('hubspotFromEnv', () => {
  it.each([
    [{ HUBSPOT_CLIENT_ID: 'a', HUBSPOT_CLIENT_SECRET: 'b' }, 'HUBSPOT_REDIRECT_URI, HUBSPOT_TOKEN_KEY are not set'],
    [
      {
        HUBSPOT_CLIENT_ID: 'a',
        HUBSPOT_CLIENT_SECRET: 'b',
        HUBSPOT_REDIRECT_URI: 'https://x.example.com/oauth/hubspot/callback',
        HUBSPOT_TOKEN_KEY: 'short',
      },
      'HUBSPOT_TOKEN_KEY must be a 256-bit key',
    ],
    [{ HUBSPOT_REDIRECT_URI: 'not a url' }, 'HUBSPOT_REDIRECT_URI: must be an absolute URL'],
    [{ HUBSPOT_PORTAL_ID: 'acme' }, 'HUBSPOT_PORTAL_ID: must be a numeric HubSpot account (hub) id'],
  ])('names the variable of an incomplete or invalid set %#', (env, message) => {
    expect(() => hubspotFromEnv(env)).toThrow(ConfigError);
    expect(() => hubspotFromEnv(env)).toThrow(message);
  });

  it('builds the ports for a private app and a sink only for hubspot contact_properties deliveries', async () => {
    const agent = await winbackWithHubSpot();
    const adapter = hubspotFromEnv(
      { HUBSPOT_PRIVATE_APP_TOKEN: 'pat', HUBSPOT_CLIENT_SECRET: 's' },
      { agents: [agent] },
    );
    expect(adapter.extension?.name).toBe('hubspot');
    expect(adapter.sinks(agent, agent.delivery[0])).toBeInstanceOf(HubSpotContactSink);
    expect(adapter.sinks(agent, { to: 'braze', mode: 'attributes', prefix: 'nb_' })).toBeUndefined();
    await adapter.close();
  });
});
