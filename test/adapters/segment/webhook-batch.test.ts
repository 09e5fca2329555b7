/**
 * Batched Webhooks (Actions) requests as Segment sends them: the body is the array of every
 * event, X-Signature the HMAC of the first event only (the fake signs exactly so). Each event is
 * parsed on its own: good events are stored, bad ones reported by index and field under a 200, so
 * that Segment (which applies the status to the whole batch and retries only 5xx and 429) neither
 * drops the good events nor resends events that can never be valid.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FakeSegment, sendSegmentWebhook, signSegmentBody, signSegmentPayload } from '../../fakes/segment.ts';
import { call, storeCounts } from '../../server/helpers.ts';
import {
  BATCH_TOKEN,
  segmentTraits,
  SHARED_SECRET,
  specEvent,
  startSegmentServer,
  type SegmentServer,
} from './helpers.ts';

let fake: FakeSegment;
let running: SegmentServer | undefined;

beforeAll(async () => {
  fake = await FakeSegment.start({ profiles: { 'user-1': segmentTraits() } });
});
afterEach(async () => {
  await running?.server.close();
  running = undefined;
});
afterAll(() => fake.close());

async function start(options: Parameters<typeof startSegmentServer>[1] = {}): Promise<SegmentServer> {
  running = await startSegmentServer(fake, options);
  return running;
}

/** 100 events; those at `bad` indexes are malformed three different ways. */
function batchWithBadEvents(bad: readonly number[]): Record<string, unknown>[] {
  const flaws: ((e: Record<string, unknown>) => Record<string, unknown>)[] = [
    ({ messageId: _drop, ...rest }) => rest,
    (e) => ({ ...e, userId: 42 }),
    (e) => ({ ...e, event: undefined }),
  ];
  return Array.from({ length: 100 }, (_, i) => {
    const e = specEvent({ userId: `user-${i % 7}` });
    const k = bad.indexOf(i);
    return k < 0 ? e : flaws[k % flaws.length](e);
  });
}

describe('POST /v1/webhooks/segment: batches signed as Segment signs them', () => {
  it('accepts a batch whose X-Signature is the HMAC of its first event, without any token', async () => {
    const { server } = await start();
    const events = [specEvent(), specEvent(), specEvent()];
    const res = await sendSegmentWebhook(server.url, SHARED_SECRET, events);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ success: true, accepted: 3, duplicates: 0 });
  });

  it('refuses a batch whose first event was changed after signing', async () => {
    const { server } = await start();
    const before = await storeCounts(server);
    const events = [specEvent({ properties: { revenue: 80 } }), specEvent()];
    const signature = signSegmentPayload(SHARED_SECRET, events)!;
    const tampered = [{ ...events[0], properties: { revenue: 800 } }, events[1]];
    const res = await sendSegmentWebhook(server.url, SHARED_SECRET, tampered, { signature });
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('invalid_signature');
    expect(await storeCounts(server)).toEqual(before);
  });

  it('refuses a batch signed over its whole body with another secret', async () => {
    const { server } = await start();
    const events = [specEvent(), specEvent()];
    const res = await sendSegmentWebhook(server.url, SHARED_SECRET, events, {
      signature: signSegmentBody('another-secret', JSON.stringify(events)),
    });
    expect(res.status).toBe(401);
  });

  it('accepts a batch with a configured Bearer token even when its signature does not match (the fallback)', async () => {
    const { server } = await start({ batchToken: BATCH_TOKEN });
    const res = await sendSegmentWebhook(server.url, SHARED_SECRET, [specEvent(), specEvent()], {
      signature: signSegmentBody('another-secret', 'x'),
      headers: { authorization: `Bearer ${BATCH_TOKEN}` },
    });
    expect(res.status).toBe(200);
    expect(res.body.accepted).toBe(2);
  });
});

describe('POST /v1/webhooks/segment: one bad event never loses its batch', () => {
  it('stores 97 of a batch of 100 with 3 malformed events and reports the 3 by index and field', async () => {
    const { server } = await start();
    const before = await storeCounts(server);
    const events = batchWithBadEvents([5, 50, 99]);
    const res = await sendSegmentWebhook(server.url, SHARED_SECRET, events);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      success: true,
      accepted: 97,
      duplicates: 0,
      rejected: [
        { index: 5, issues: [{ path: 'messageId', message: expect.stringMatching(/^is required/) }] },
        { index: 50, messageId: events[50].messageId, issues: [{ path: 'userId', message: 'must be a string' }] },
        {
          index: 99,
          messageId: events[99].messageId,
          issues: [{ path: 'event', message: 'is required for a track event' }],
        },
      ],
    });
    expect((await storeCounts(server)).events).toBe(before.events + 97);
    const metrics = await call(server, 'GET', '/metrics');
    expect(metrics.text).toMatch(/nextbest_events_total\{status="rejected"\} 3/);
  });

  it('stored exactly the good events: sending the batch again finds all 97 already stored', async () => {
    const { server } = await start();
    const events = batchWithBadEvents([0, 1, 2]);
    await sendSegmentWebhook(server.url, SHARED_SECRET, events);
    const again = await sendSegmentWebhook(server.url, SHARED_SECRET, events);
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ accepted: 0, duplicates: 97 });
    expect(again.body.rejected.map((r: { index: number }) => r.index)).toEqual([0, 1, 2]);
  });

  it('answers 400 listing every event when none of the batch is valid, and stores nothing', async () => {
    const { server } = await start();
    const before = await storeCounts(server);
    const bad = [specEvent({ userId: 7 }), specEvent({ messageId: '' })];
    const res = await sendSegmentWebhook(server.url, SHARED_SECRET, bad);
    expect(res.status).toBe(400);
    expect(res.body.error.issues.map((i: { path: string }) => i.path)).toEqual(['[0].userId', '[1].messageId']);
    expect(await storeCounts(server)).toEqual(before);
  });

  it('applies the good identify calls of a batch with a bad event to the audience index', async () => {
    const { server, profiles } = await start();
    const res = await sendSegmentWebhook(server.url, SHARED_SECRET, [
      specEvent({ type: 'identify', event: undefined, userId: 'user-1', traits: { vip_audience: true } }),
      specEvent({ type: 'identify', event: undefined, userId: 'user-2', traits: 'not an object' }),
    ]);
    expect(res.status).toBe(200);
    expect(res.body.rejected).toEqual([
      expect.objectContaining({ index: 1, issues: [expect.objectContaining({ path: 'traits' })] }),
    ]);
    expect(await profiles.audiences.isMember('vip_audience', 'user-1')).toBe(true);
    expect(await profiles.audiences.isMember('vip_audience', 'user-2')).toBe(false);
  });
});
