/**
 * Helpers for the batch-run tests: an audience of simulator-like customers, a test server wired to
 * a fake Braze, and the exactly-once check every run test ends with.
 */
import { writeFile } from 'node:fs/promises';
import { expect } from 'vitest';
import { brazeConnection, BrazeClient } from '../../adapters/braze/index.ts';
import type { Profile } from '../../plugin/agent/index.ts';
import { Rng } from '../../plugin/bandit/index.ts';
import type { RunningServer, ServeOptions } from '../../plugin/server/index.ts';
import type { FakeBraze } from '../fakes/braze.ts';
import { NOW, startTestServer } from '../server/helpers.ts';

export const BRAZE_KEY = 'braze-test-key';
export const CAMPAIGN = '00000000-0000-0000-0000-000000000000';
export const ATTRIBUTES_SINK = 'braze:attributes:nb_';
export const TRIGGER_SINK = `braze:campaign_trigger:${CAMPAIGN}`;
const ZONES = ['Europe/Paris', 'America/New_York', 'Asia/Tokyo', 'UTC', 'Australia/Sydney', 'America/Los_Angeles'];

/** `n` customers for the example agent: most consent to email, some to nothing, a few are VIPs. */
export function audience(n: number, seed = 'audience'): Profile[] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, (_, i) => {
    const none = rng.next() < 0.05;
    return {
      userId: `member-${i}`,
      timezone: ZONES[Math.floor(rng.next() * ZONES.length)],
      traits: {
        lifetime_orders: Math.floor(rng.next() * 40),
        last_category: ['running', 'athleisure', 'outdoor'][Math.floor(rng.next() * 3)],
        city: `city-${Math.floor(rng.next() * 100)}`,
        vip: rng.next() < 0.1,
        email_subscribed: !none,
        sms_opt_in: !none && rng.next() < 0.5,
        push_enabled: !none && rng.next() < 0.5,
      },
    };
  });
}

export async function writeAudience(path: string, profiles: Profile[]): Promise<void> {
  await writeFile(path, `${profiles.map((p) => JSON.stringify(p)).join('\n')}\n`);
}

/** A test server (example agent, fixed clock NOW) whose Braze deliveries go to `fake`. */
export function startServerWithBraze(fake: FakeBraze, overrides: Partial<ServeOptions> = {}): Promise<RunningServer> {
  const rng = new Rng('braze-client');
  const client = new BrazeClient({ baseUrl: fake.url, apiKey: BRAZE_KEY, backoffBaseMs: 2, random: () => rng.next() });
  return startTestServer({
    sinks: brazeConnection(client, { trackBatchSize: 50, clock: () => NOW, confirmDelaysMs: [1, 2] }).sinkFor,
    ...overrides,
  });
}

/**
 * Every decision the store says must be delivered reached the fake exactly once, through both
 * sinks, and nothing else did: the attribute writes carry each decision id once, the triggered
 * sends one per user, and each user's attributes in Braze end at their decision.
 */
export function expectDeliveredExactlyOnce(fake: FakeBraze, deliverable: Map<string, string>): void {
  const attributeWrites = fake.tracked.map((a) => a.nb_decision_id);
  const sends = fake.sends.map((s) => s.properties.nb_decision_id as string);
  const expected = [...deliverable.keys()].sort();
  expect(attributeWrites.length, 'attribute writes').toBe(expected.length);
  expect([...new Set(attributeWrites)].sort()).toEqual(expected);
  expect(sends.length, 'triggered sends').toBe(expected.length);
  expect([...new Set(sends)].sort()).toEqual(expected);
  for (const [decisionId, userId] of deliverable) expect(fake.users.get(userId)?.nb_decision_id).toBe(decisionId);
}
