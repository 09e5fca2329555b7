import { describe, expect, it } from 'vitest';
import { HubSpotCrm, HubSpotOAuth } from '../../../adapters/hubspot/index.ts';
import { FakeHubSpot, VirtualClock, type RecordedRequest } from '../../fakes/hubspot.ts';
import { CLIENT_SECRET, NOW, pacingOn } from './setup.ts';

const REDIRECT = 'https://nextbest.example.com/oauth/hubspot/callback';

/** The most requests in any rolling window of `windowMs` ending at a request. */
function busiestWindow(requests: RecordedRequest[], windowMs: number): number {
  const at = requests.map((r) => r.at).sort((a, b) => a - b);
  let most = 0;
  for (let i = 0, j = 0; i < at.length; i++) {
    while (at[i] - at[j] >= windowMs) j++;
    most = Math.max(most, i - j + 1);
  }
  return most;
}

/** A started fake on a virtual clock and, per portal, a CRM client with that portal's OAuth token, paced on the clock. */
async function portals(hubIds: number[]) {
  const clock = new VirtualClock(NOW);
  const fake = await new FakeHubSpot({
    clock: clock.now,
    clientId: 'app-client',
    clientSecret: CLIENT_SECRET,
    redirectUri: REDIRECT,
  }).start();
  const oauth = new HubSpotOAuth({
    clientId: 'app-client',
    clientSecret: CLIENT_SECRET,
    redirectUri: REDIRECT,
    basePath: fake.url,
    scopes: [],
  });
  const crm = new Map<number, HubSpotCrm>();
  for (const hubId of hubIds) {
    const { access_token } = await oauth.exchangeCode(fake.issueCode(hubId));
    crm.set(
      hubId,
      new HubSpotCrm({ basePath: fake.url, accessToken: async () => access_token, pacing: pacingOn(clock) }),
    );
  }
  return { clock, fake, crm };
}

const reads = (fake: FakeHubSpot) => fake.requestsTo('/crm/v3/objects/contacts/batch/read');
const searches = (fake: FakeHubSpot) => fake.requestsTo('/crm/v3/objects/contacts/search');

describe('HubSpot pacing ahead of 429s', () => {
  it('sends at most 110 requests per rolling 10 s to a portal, so the fake never answers 429', async () => {
    const { clock, fake, crm } = await portals([500]);
    try {
      await Promise.all(Array.from({ length: 250 }, () => crm.get(500)!.batchRead(['1'], [])));
      expect(reads(fake)).toHaveLength(250);
      expect(reads(fake).filter((r) => r.status === 429)).toEqual([]);
      expect(busiestWindow(reads(fake), 10_000)).toBeLessThanOrEqual(110);
      expect(clock.current - NOW).toBeGreaterThanOrEqual(20_000); // 250 requests take three windows
    } finally {
      await fake.close();
    }
  });

  it('sends at most 5 searches per second to a portal, outside its burst count', async () => {
    const { fake, crm } = await portals([500]);
    try {
      const search = { filters: [], sorts: [], properties: [], limit: 1 };
      await Promise.all(Array.from({ length: 23 }, () => crm.get(500)!.search(search)));
      expect(searches(fake).filter((r) => r.status === 429)).toEqual([]);
      expect(busiestWindow(searches(fake), 1000)).toBeLessThanOrEqual(5);
      expect(searches(fake)).toHaveLength(23);
      await Promise.all(Array.from({ length: 110 }, () => crm.get(500)!.batchRead(['1'], [])));
      expect(reads(fake).filter((r) => r.status === 429)).toEqual([]);
    } finally {
      await fake.close();
    }
  });

  it('paces each portal on its own: two portals send 110 each in the same window without waiting', async () => {
    const { clock, fake, crm } = await portals([500, 40]);
    try {
      await Promise.all(
        [500, 40].flatMap((hubId) => Array.from({ length: 110 }, () => crm.get(hubId)!.batchRead(['1'], []))),
      );
      expect(reads(fake).filter((r) => r.status === 429)).toEqual([]);
      expect(reads(fake).filter((r) => r.hubId === 500)).toHaveLength(110);
      expect(reads(fake).filter((r) => r.hubId === 40)).toHaveLength(110);
      expect(clock.current).toBe(NOW);
    } finally {
      await fake.close();
    }
  });
});
