/**
 * The Segment Actions destination definition (manifest/segment/destination/), run by
 * `@segment/actions-core`'s own test harness (`createTestIntegration`) against a running
 * nextbest: the harness maps events through the actions' fields, validates the payloads, calls
 * perform/performBatch with Segment's request client, and reads the multi-status answer.
 *
 * @segment/actions-core 3.170 requires `liquidjs` at load time without declaring it (Segment's
 * monorepo hoists it); where it cannot be resolved the suite is skipped with a line saying so.
 */
import { createRequire } from 'node:module';
import type { DestinationDefinition, SegmentEvent } from '@segment/actions-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Settings } from '../../../manifest/segment/destination/index.ts';
import type { RunningServer } from '../../../plugin/server/index.ts';
import { call, NOW, startTestServer } from '../../server/helpers.ts';

const canLoad = (() => {
  try {
    createRequire(import.meta.url)('@segment/actions-core');
    return true;
  } catch (err) {
    console.warn(
      `skipping the Segment destination harness tests: @segment/actions-core does not load (${(err as Error).message.split('\n')[0]}); install liquidjs`,
    );
    return false;
  }
})();

type Core = typeof import('@segment/actions-core');
let core: Core;
let definition: DestinationDefinition<Settings>;
let server: RunningServer;
let settings: Settings;

const at = (ms: number) => new Date(ms).toISOString();
const traits = { email_subscribed: true, lifetime_orders: 3, timezone: 'UTC' };

beforeAll(async () => {
  if (!canLoad) return;
  core = createRequire(import.meta.url)('@segment/actions-core') as Core;
  definition = (await import('../../../manifest/segment/destination/index.ts')).nextbestDestination;
  server = await startTestServer();
  const key = await call(server, 'POST', '/v1/keys', { body: { scope: 'decide', label: 'segment' } });
  expect(key.status).toBe(201);
  settings = { endpoint: server.url, apiKey: key.body.key };
});
afterAll(async () => {
  await server?.close();
});

/** A Segment event at the test server's clock. */
function event(overrides: Partial<SegmentEvent> = {}): SegmentEvent {
  return core.createTestEvent({ timestamp: at(NOW), userId: 'seg-user-1', ...overrides });
}

describe.skipIf(!canLoad)('Segment destination definition: settings and authentication', () => {
  it('passes testAuthentication with a decide key of the workspace', async () => {
    await expect(core.createTestIntegration(definition).testAuthentication(settings)).resolves.toBeUndefined();
  });

  it('fails testAuthentication with a key nextbest does not know, saying so', async () => {
    const wrong = { ...settings, apiKey: 'nb_not_a_key' };
    await expect(core.createTestIntegration(definition).testAuthentication(wrong)).rejects.toThrow(
      /Credentials are invalid: .*refused the API key/,
    );
  });

  it('describes every setting and field, and its presets subscribe with valid FQL to its own actions', () => {
    const { parseFql } = createRequire(import.meta.url)('@segment/destination-subscriptions');
    for (const [name, f] of Object.entries(definition.authentication!.fields))
      expect(f.description, name).toMatch(/\w/);
    for (const preset of definition.presets ?? []) {
      expect(Object.keys(definition.actions)).toContain(preset.partnerAction);
      if (preset.type === 'automatic') expect(parseFql(preset.subscribe).error, preset.subscribe).toBeUndefined();
    }
    expect(core.fieldsToJsonSchema(definition.actions.sendOutcome.fields).required).toEqual(
      expect.arrayContaining(['type', 'message_id', 'user_id']),
    );
  });
});

describe.skipIf(!canLoad)('Segment destination definition: decide', () => {
  it('asks nextbest for a decision, which nextbest logs', async () => {
    const test = core.createTestIntegration(definition);
    const e = event({ messageId: 'seg-decide-1' });
    const [response] = await test.testAction('decide', {
      event: e,
      settings,
      mapping: { agent_id: 'winback', traits },
      useDefaultMappings: true,
    });
    expect(response.status).toBe(200);
    const decision = (response as unknown as { data: { decisionId: string } }).data;
    const logged = await call(server, 'GET', `/v1/decisions/${decision.decisionId}`);
    expect(logged.status).toBe(200);
  });

  it('gets the same decision when Segment retries the same event (requestId = messageId)', async () => {
    const test = core.createTestIntegration(definition);
    const e = event({ messageId: 'seg-decide-retry' });
    const options = { event: e, settings, mapping: { agent_id: 'winback', traits }, useDefaultMappings: true };
    const first = (await test.testAction('decide', options))[0] as unknown as { data: { decisionId: string } };
    const again = (await test.testAction('decide', options))[0] as unknown as { data: { decisionId: string } };
    expect(again.data.decisionId).toBe(first.data.decisionId);
  });

  it('decides a batch through decide:batch, answering per user: a user nextbest refuses fails alone', async () => {
    const test = core.createTestIntegration(definition);
    const events = [event({ userId: 'seg-b-1' }), event({ userId: 'seg-\u202Eb-2' }), event({ userId: 'seg-b-3' })];
    await test.testBatchAction('decide', {
      events,
      settings,
      mapping: { agent_id: 'winback', traits },
      useDefaultMappings: true,
    });
    const statuses = test.results[0].multistatus!.map((m) => m.status);
    expect(statuses).toEqual([200, 400, 200]);
  });

  it("fails every user of a batch for an unknown agent with nextbest's 404 (not retried)", async () => {
    const test = core.createTestIntegration(definition);
    await test.testBatchAction('decide', {
      events: [event(), event({ userId: 'seg-user-2' })],
      settings,
      mapping: { agent_id: 'no-such-agent', traits },
      useDefaultMappings: true,
    });
    expect(test.results[0].multistatus!.map((m) => m.status)).toEqual([404, 404]);
  });
});

describe.skipIf(!canLoad)('Segment destination definition: sendOutcome', () => {
  it('sends one event into POST /v1/events, stored once however often Segment retries it', async () => {
    const test = core.createTestIntegration(definition);
    const before = await server.store.countEvents('acme-sports');
    const e = event({ event: 'Order Completed', messageId: 'seg-outcome-1', properties: { revenue: 40 } });
    for (let i = 0; i < 2; i++) {
      const [response] = await test.testAction('sendOutcome', { event: e, settings, useDefaultMappings: true });
      expect(response.status).toBe(200);
    }
    expect(await server.store.countEvents('acme-sports')).toBe(before + 1);
  });

  it('stores 97 of a batch of 100 with 3 bad events, and answers each of the 3 with a 400', async () => {
    const test = core.createTestIntegration(definition);
    const before = await server.store.countEvents('acme-sports');
    const events = Array.from({ length: 100 }, (_, i) => event({ event: 'Email Opened', messageId: `seg-batch-${i}` }));
    events[10] = { ...events[10], messageId: undefined as unknown as string }; // refused by the field schema
    events[40] = { ...events[40], userId: 'seg-\u202Euser' }; // refused by nextbest (bidi override)
    events[70] = { ...events[70], timestamp: at(NOW - 40 * 86_400_000) }; // outside nextbest's window
    await test.testBatchAction('sendOutcome', { events, settings, useDefaultMappings: true });
    const multistatus = test.results[0].multistatus!;
    const failed = multistatus.flatMap((m, i) => (m.status === 200 ? [] : [[i, m.status]]));
    expect(failed).toEqual([
      [10, 400],
      [40, 400],
      [70, 400],
    ]);
    expect(await server.store.countEvents('acme-sports')).toBe(before + 97);
  });
});
