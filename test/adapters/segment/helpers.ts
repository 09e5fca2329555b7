/**
 * Factories for the Segment adapter tests: the example agent and a segment delivery entry, a
 * Decision built through the real `decide`, Spec events, and a test server wired with the
 * Segment extension and a profile source pointed at a local fake.
 */
import {
  createAgentModel,
  deliverySchema,
  loadConfigFile,
  type AgentConfig,
  type Decision,
  type Delivery,
} from '../../../plugin/agent/index.ts';
import type { RunningServer, ServeOptions } from '../../../plugin/server/index.ts';
import { SegmentProfileSource, segmentWebhook, type ProfileSettingsInput } from '../../../adapters/segment/index.ts';
import { decideWith, makeProfile } from '../../agent/factories.ts';
import { FakeSegment } from '../../fakes/segment.ts';
import { EXAMPLE_AGENT, EXAMPLE_CONFIG, startTestServer } from '../../server/helpers.ts';

export const SHARED_SECRET = 'nb-shared-secret';
export const BATCH_TOKEN = 'nb-batch-token-0123456789';

/** The example agent (`winback` of examples/agents.yaml). */
export async function exampleAgent(): Promise<AgentConfig> {
  return (await loadConfigFile(EXAMPLE_CONFIG)).agents.find((a) => a.id === EXAMPLE_AGENT)!;
}

/** A `{to: segment, mode: identify}` delivery entry, parsed as the config loader does. */
export function segmentDelivery(overrides: Record<string, unknown> = {}): Delivery {
  return deliverySchema.parse({ to: 'segment', mode: 'identify', prefix: 'nb_', ...overrides });
}

/** A decision for `userId` made by the real decide (random policy state of a fresh model). */
export function makeDecision(agent: AgentConfig, userId: string, decisionId: string): Decision {
  return decideWith(agent, createAgentModel(agent, 1), makeProfile({ userId }), { decisionId, seed: 'segment-tests' });
}

let seq = 0;
/** A Segment Spec event with a fresh messageId (track `Order Completed` by default). */
export function specEvent(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  seq += 1;
  return {
    type: 'track',
    event: 'Order Completed',
    userId: 'user-1',
    messageId: `seg-msg-${seq}`,
    properties: {},
    ...overrides,
  };
}

/** Traits of a consenting customer in UTC, as the fake's Profile API returns them. */
export function segmentTraits(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    email_subscribed: true,
    sms_opt_in: true,
    push_enabled: true,
    lifetime_orders: 4,
    last_category: 'running',
    city: 'Lyon',
    timezone: 'UTC',
    ...overrides,
  };
}

/** Profile source settings pointing at the fake, with fast retries. */
export function fakeProfileSettings(
  fake: FakeSegment,
  overrides: Partial<ProfileSettingsInput> = {},
): ProfileSettingsInput {
  return {
    token: fake.profileToken,
    spaceId: fake.spaceId,
    baseUrl: fake.url,
    backoffMs: 1,
    backoffMaxMs: 5,
    ...overrides,
  };
}

export interface SegmentServer {
  server: RunningServer;
  profiles: SegmentProfileSource;
}

/** A test server (examples/agents.yaml, in-memory SQLite unless `serve.db` says otherwise) with the Segment webhook and a profile source on the fake. */
export async function startSegmentServer(
  fake: FakeSegment,
  options: { serve?: Partial<ServeOptions>; batchToken?: string } = {},
): Promise<SegmentServer> {
  const profiles = new SegmentProfileSource({ settings: fakeProfileSettings(fake) });
  const webhook = segmentWebhook({
    settings: { sharedSecret: SHARED_SECRET, batchToken: options.batchToken },
    profiles,
  });
  const server = await startTestServer({ profileSource: profiles, extensions: [webhook], ...options.serve });
  return { server, profiles };
}
