/**
 * End to end: the real server (examples/agents.yaml, agent `winback`) with the Segment webhook
 * extension and the Segment profile source against the local fake. Profiles come from the fake
 * Profile API, outcomes come in through the signed webhook (with duplicates), rewards are
 * attributed once and learned after the window, and the decisions go out through analytics-node
 * to the fake Tracking API, through a 500 and a 429.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AgentConfig, Decision } from '../../../plugin/agent/index.ts';
import { SegmentDecisionSink } from '../../../adapters/segment/index.ts';
import { FakeSegment, sendSegmentWebhook } from '../../fakes/segment.ts';
import { call, NOW } from '../../server/helpers.ts';
import {
  exampleAgent,
  segmentDelivery,
  segmentTraits,
  SHARED_SECRET,
  startSegmentServer,
  type SegmentServer,
} from './helpers.ts';

const HOUR = 3_600_000;
const USERS = ['seg-1', 'seg-2', 'seg-3'];

let fake: FakeSegment;
let running: SegmentServer;
let agent: AgentConfig;
let now = NOW;
const decisionOf: Record<string, string> = {};

beforeAll(async () => {
  agent = await exampleAgent();
  fake = await FakeSegment.start({
    profiles: Object.fromEntries(USERS.map((u) => [u, segmentTraits({ lifetime_orders: USERS.indexOf(u) * 5 })])),
  });
  running = await startSegmentServer(fake, { serve: { clock: () => now } });
});
afterAll(async () => {
  await running.server.close();
  await fake.close();
});

const at = (ms: number) => new Date(ms).toISOString();
const order = (userId: string, messageId: string, properties: Record<string, unknown>, event = 'Order Completed') => ({
  type: 'track',
  event,
  userId,
  messageId,
  properties,
  timestamp: at(NOW + HOUR),
});

describe('Segment end to end', () => {
  it('decides with profiles read from the Segment Profile API (typed ids, Basic auth)', async () => {
    for (const userId of USERS) {
      const res = await call(running.server, 'POST', '/v1/agents/winback/decide', { body: { userId } });
      expect(res.status).toBe(200);
      expect(res.body.error).toBeUndefined();
      decisionOf[userId] = res.body.decisionId;
    }
    const ids = fake.profileRequests.filter((r) => r.status === 200).map((r) => r.id);
    expect(ids).toEqual(USERS.map((u) => `user_id:${u}`));
    expect(new Set(fake.profileRequests.map((r) => r.authorization))).toEqual(
      new Set([`Basic ${Buffer.from(`${fake.profileToken}:`).toString('base64')}`]),
    );
  });

  it('falls back to the default arms for a user the Profile API does not know', async () => {
    const res = await call(running.server, 'POST', '/v1/agents/winback/decide', { body: { userId: 'ghost' } });
    expect(res.status).toBe(200);
    expect(res.body.error.code).toBe('profile_not_found');
  });

  it('attributes outcomes from the signed webhook exactly once, however often Segment delivers them', async () => {
    const [u1, u2] = USERS;
    const first = order(u1, 'order-1', { decision_id: decisionOf[u1], revenue: 80 });
    expect((await sendSegmentWebhook(running.server.url, SHARED_SECRET, first)).body).toEqual({
      success: true,
      accepted: 1,
      duplicates: 0,
    });
    // Segment retries (same messageId), alone and inside an Actions batch with a new event
    expect((await sendSegmentWebhook(running.server.url, SHARED_SECRET, first)).body).toEqual({
      success: true,
      accepted: 0,
      duplicates: 1,
    });
    const batch = [
      first,
      order(u2, 'open-2', { decision_id: decisionOf[u2] }, 'Email Opened'),
      order(u2, 'order-2', { revenue: 20 }),
    ];
    expect((await sendSegmentWebhook(running.server.url, SHARED_SECRET, batch)).body).toEqual({
      success: true,
      accepted: 2,
      duplicates: 1,
    });
    expect((await sendSegmentWebhook(running.server.url, SHARED_SECRET, batch)).body).toEqual({
      success: true,
      accepted: 0,
      duplicates: 3,
    });

    const d1 = await call(running.server, 'GET', `/v1/decisions/${decisionOf[u1]}`);
    expect(d1.body.outcomes).toMatchObject([{ messageId: 'order-1', event: 'Order Completed', value: 1 }]);
    const d2 = await call(running.server, 'GET', `/v1/decisions/${decisionOf[u2]}`);
    expect(d2.body.outcomes.map((o: { messageId: string; value: number }) => [o.messageId, o.value]).sort()).toEqual([
      ['open-2', 0.1],
      ['order-2', 1],
    ]);
    const d3 = await call(running.server, 'GET', `/v1/decisions/${decisionOf[USERS[2]]}`);
    expect(d3.body.outcomes).toEqual([]);
  });

  it('learns each reward once when the 72 h window has closed', async () => {
    now = NOW + 73 * HOUR;
    expect(await running.server.service.learnClosed()).toBe(USERS.length); // the ghost got unlogged defaults
    expect(await running.server.service.learnClosed()).toBe(0);
    const rewards = await Promise.all(
      USERS.map(async (u) => (await call(running.server, 'GET', `/v1/decisions/${decisionOf[u]}`)).body.reward),
    );
    expect(rewards).toEqual([1, 1, 0]);
  });

  it('delivers the decisions to Segment through analytics-node once each, through a 500 and a 429', async () => {
    const decisions: Decision[] = [];
    for (const userId of USERS) {
      const { body } = await call(running.server, 'GET', `/v1/decisions/${decisionOf[userId]}`);
      decisions.push({ ...body, userId, sendAt: body.sendAt ?? undefined, features: [] });
    }
    fake.failBatches({ status: 500 });
    fake.failBatches({ status: 429, headers: { 'Retry-After': '1' } });
    const sink = new SegmentDecisionSink(agent, segmentDelivery(), {
      writeKey: fake.writeKey,
      host: fake.url,
      flushAt: 50,
    });
    try {
      expect((await sink.deliver(decisions)).results).toEqual(USERS.map(() => ({ status: 'ok' })));
      expect(fake.batchRequests.map((r) => r.status)).toEqual([500, 429, 200]);
      // a second delivery of the same decisions (a retried run) is dropped by messageId
      expect((await sink.deliver(decisions)).results).toEqual(USERS.map(() => ({ status: 'ok' })));
    } finally {
      await sink.close();
    }

    const identifies = fake.received('identify');
    const tracks = fake.received('track', 'Decision Made');
    expect(identifies.map((e) => e.userId).sort()).toEqual(USERS);
    expect(tracks.map((e) => e.userId).sort()).toEqual(USERS);
    for (const d of decisions) {
      const identify = identifies.find((e) => e.userId === d.userId);
      const expectedTraits = Object.fromEntries(Object.entries(d.choices).map(([dim, c]) => [`nb_${dim}`, c.arm]));
      expect(identify.traits).toMatchObject({ nb_decision_id: d.decisionId, nb_deliver: d.deliver, ...expectedTraits });
      expect(tracks.find((e) => e.userId === d.userId).properties).toMatchObject({
        decision_id: d.decisionId,
        agent_id: 'winback',
        holdout: d.holdout,
      });
    }
    expect(fake.duplicates).toBe(2 * USERS.length);
  });
});
