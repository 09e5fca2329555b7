import nock from 'nock';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { contactPropertiesFor, HubSpotProfileSource, parseAudienceRef } from '../../../adapters/hubspot/index.ts';
import { ConfigError } from '../../../adapters/kit/index.ts';
import type { Profile } from '../../../plugin/agent/index.ts';
import { startFake, winbackWithHubSpot } from './setup.ts';

beforeAll(() => {
  nock.disableNetConnect();
  nock.enableNetConnect('127.0.0.1');
});
afterAll(() => nock.enableNetConnect());

async function all(it: AsyncIterable<Profile>): Promise<Profile[]> {
  const out: Profile[] = [];
  for await (const p of it) out.push(p);
  return out;
}

describe('HubSpotProfileSource', () => {
  let env: Awaited<ReturnType<typeof startFake>>;
  beforeEach(async () => {
    env = await startFake({ searchResultCap: 1000 });
  });
  afterEach(async () => {
    await env.fake.close();
    expect(env.fake.violations).toEqual([]);
  });

  const source = (overrides: Partial<ConstructorParameters<typeof HubSpotProfileSource>[0]> = {}) =>
    new HubSpotProfileSource({
      portals: env.portals,
      properties: ['lifetime_orders', 'vip', 'city', 'lifecyclestage'],
      pacing: env.pacing,
      searchResultCap: 1000,
      ...overrides,
    });

  it('reads the agent traits, consent and condition traits plus hs_timezone', async () => {
    expect(contactPropertiesFor([await winbackWithHubSpot()])).toEqual([
      'city',
      'email_subscribed',
      'hs_timezone',
      'last_category',
      'last_order_at',
      'lifetime_orders',
      'push_enabled',
      'sms_opt_in',
      'vip',
    ]);
  });

  it('coalesces concurrent getProfile calls into batch reads of at most 100', async () => {
    env.fake.seedContacts(1, 250, (i) => ({
      lifetime_orders: String(i),
      vip: i % 2 ? 'true' : 'false',
      city: 'Lyon',
      hs_timezone: 'europe_slash_paris',
    }));
    const ps = source();
    const profiles = await Promise.all(Array.from({ length: 250 }, (_, i) => ps.getProfile(String(i + 1))));
    const reads = env.fake.requestsTo('/crm/v3/objects/contacts/batch/read');
    expect(reads.map((r) => (r.body as { inputs: unknown[] }).inputs.length)).toEqual([100, 100, 50]);
    expect(profiles[6]).toEqual({
      userId: '7',
      traits: { lifetime_orders: 7, vip: true, city: 'Lyon', hs_timezone: 'europe_slash_paris' },
      timezone: 'Europe/Paris',
    });
  });

  it('answers undefined for a contact HubSpot does not know (207) and for a non-numeric id', async () => {
    env.fake.seedContacts(1, 1);
    const ps = source();
    const [known, unknown, bad] = await Promise.all([ps.getProfile('1'), ps.getProfile('99'), ps.getProfile('user-1')]);
    expect(known?.userId).toBe('1');
    expect(unknown).toBeUndefined();
    expect(bad).toBeUndefined();
  });

  it('reads a list audience page by page and batch-reads its members', async () => {
    const ids = env.fake.seedContacts(1, 230);
    env.fake.lists.set(
      '42',
      ids.filter((id) => Number(id) % 2 === 0),
    );
    const profiles = await all(source().audience('list:42'));
    expect(profiles.map((p) => p.userId)).toEqual(ids.filter((id) => Number(id) % 2 === 0));
    expect(env.fake.requestsTo(/\/memberships$/, 'GET')).toHaveLength(2);
  });

  it('reads a search audience 200 per page, past the result cap by splitting on hs_object_id, never over 5 searches a second', async () => {
    const ids = env.fake.seedContacts(1, 2500, (i) => ({ lifecyclestage: i % 5 === 0 ? 'lead' : 'customer' }));
    const expected = ids.filter((id) => Number(id) % 5 !== 0);
    const profiles = await all(source().audience('search:lifecyclestage=customer'));
    expect(profiles.map((p) => p.userId)).toEqual(expected);
    const searches = env.fake.requestsTo('/crm/v3/objects/contacts/search');
    expect(searches.every((r) => r.status === 200)).toBe(true);
    expect(searches.every((r) => (r.body as { limit: number }).limit <= 200)).toBe(true);
    expect(searches.map((r) => (r.body as { sorts: unknown }).sorts)).toEqual(
      searches.map(() => [{ propertyName: 'hs_object_id', direction: 'ASCENDING' }]),
    );
    // the 1000-result cap was reached, so a second query started above the last id seen
    const filtersOf = (r: (typeof searches)[number]) =>
      (r.body as { filterGroups: { filters: { propertyName: string; operator: string; value?: string }[] }[] })
        .filterGroups[0].filters;
    expect(
      searches.filter((r) => filtersOf(r).some((f) => f.propertyName === 'hs_object_id' && f.operator === 'GT')).length,
    ).toBeGreaterThan(0);
    for (const r of searches)
      expect(searches.filter((o) => o.at > r.at - 1000 && o.at <= r.at).length).toBeLessThanOrEqual(5);
  });

  it('sees the fake honour a sort object and ignore a plain string sort, as HubSpot does', async () => {
    env.fake.seedContacts(1, 5);
    const order = async (sorts: unknown[]) =>
      (
        await env.crm.search({
          filters: [],
          sorts: sorts as { propertyName: string; direction: 'ASCENDING' }[],
          properties: [],
          limit: 5,
        })
      ).results.map((c) => c.id);
    expect(await order([{ propertyName: 'hs_object_id', direction: 'ASCENDING' }])).toEqual(['1', '2', '3', '4', '5']);
    expect(await order([{ propertyName: 'hs_object_id', direction: 'DESCENDING' }])).toEqual(['5', '4', '3', '2', '1']);
    expect(await order(['hs_object_id'])).not.toEqual(['1', '2', '3', '4', '5']);
  });

  it.each([
    ['segment:abc', 'use list:[<portalId>/]<listId> or search:[<portalId>/]<property>=<value>'],
    ['search:lifecyclestage', 'each search term must be <property>=<value>'],
  ])('refuses the audience %s', (ref, message) => {
    expect(() => parseAudienceRef(ref)).toThrow(ConfigError);
    expect(() => parseAudienceRef(ref)).toThrow(message);
  });
});
