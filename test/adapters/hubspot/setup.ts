/**
 * Shared pieces of the HubSpot adapter tests: the example agent with a HubSpot delivery, decision
 * factories, a seeded RNG for jitter and a virtual clock shared by the adapter and the fake.
 */
import { loadConfigFile, type AgentConfig, type Decision } from '../../../plugin/agent/index.ts';
import { Rng } from '../../../plugin/bandit/index.ts';
import { HubSpotCrm } from '../../../adapters/hubspot/index.ts';
import type { Pacing } from '../../../adapters/kit/index.ts';
import { FakeHubSpot, VirtualClock, type FakeHubSpotOptions } from '../../fakes/hubspot.ts';
import { EXAMPLE_CONFIG, NOW } from '../../server/helpers.ts';

export { NOW };
export const CLIENT_SECRET = 'yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy';
export const PRIVATE_TOKEN = 'pat-test-token';

/** The example `winback` agent, delivering to HubSpot contact properties with prefix nb_. */
export async function winbackWithHubSpot(): Promise<AgentConfig> {
  const agent = (await loadConfigFile(EXAMPLE_CONFIG)).agents.find((a) => a.id === 'winback')!;
  return { ...agent, delivery: [{ to: 'hubspot', mode: 'contact_properties', prefix: 'nb_' }] };
}

export function pacingOn(clock: VirtualClock, seed = 'hubspot-tests'): Pacing {
  const rng = new Rng(seed);
  return { clock: clock.now, sleep: clock.sleep, random: () => rng.next() };
}

let seq = 0;
/** A decision for contact `userId` with the contract dimensions. */
export function makeDecision(userId: string, overrides: Partial<Decision> = {}): Decision {
  seq += 1;
  return {
    decisionId: `dec-${seq}`,
    agentId: 'winback',
    agentVersion: 1,
    userId,
    at: new Date(NOW).toISOString(),
    holdout: false,
    choices: {
      frequency: { arm: 'send', probability: 0.9 },
      channel: { arm: 'email', probability: 0.6 },
      send_time: { arm: '18', probability: 0.3 },
      subject_line: { arm: 'sl_urgency', probability: 0.5 },
      content_block: { arm: 'cb_specs', probability: 0.4 },
    },
    probability: 0.0324,
    sendAt: '2026-06-01T18:00:00.000Z',
    deliver: true,
    reason: 'explore',
    features: [],
    ...overrides,
  };
}

/** A started fake on a virtual clock, with a private-app token, and a CRM client for it. */
export async function startFake(
  options: FakeHubSpotOptions = {},
): Promise<{ fake: FakeHubSpot; clock: VirtualClock; crm: HubSpotCrm; pacing: Pacing }> {
  const clock = new VirtualClock(NOW);
  const fake = await new FakeHubSpot({ clock: clock.now, privateAppToken: PRIVATE_TOKEN, ...options }).start();
  const crm = new HubSpotCrm({ basePath: fake.url, accessToken: async () => PRIVATE_TOKEN });
  return { fake, clock, crm, pacing: pacingOn(clock) };
}
