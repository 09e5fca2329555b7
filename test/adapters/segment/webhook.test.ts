import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { AudienceChange, AudiencePersistence } from '../../../adapters/segment/index.ts';
import { FakeSegment, sendSegmentWebhook, signSegmentBody, type WebhookSendOptions } from '../../fakes/segment.ts';
import { call, NOW, storeCounts } from '../../server/helpers.ts';
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
  fake = await FakeSegment.start({
    profiles: { 'user-1': segmentTraits(), 'user-2': segmentTraits({ city: 'Paris' }) },
  });
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

describe('POST /v1/webhooks/segment: signature', () => {
  it('accepts one event signed with the shared secret and stores it', async () => {
    const { server } = await start();
    const res = await sendSegmentWebhook(server.url, SHARED_SECRET, specEvent());
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ success: true, accepted: 1, duplicates: 0 });
    expect(await server.store.countEvents('acme-sports')).toBe(1);
  });

  it.each([
    ['the header is missing', 'missing_signature', (_body: string): WebhookSendOptions => ({ signature: null })],
    [
      'the body was changed after signing',
      'invalid_signature',
      (body: string): WebhookSendOptions => ({
        raw: body.replace('"revenue":80', '"revenue":800'),
        signature: signSegmentBody(SHARED_SECRET, body),
      }),
    ],
    [
      'it was signed with another secret',
      'invalid_signature',
      (body: string): WebhookSendOptions => ({ signature: signSegmentBody('wrong-secret', body) }),
    ],
  ])('answers 401 and stores nothing when %s', async (_name, code, sendOptions) => {
    const { server } = await start();
    const before = await storeCounts(server);
    const event = specEvent({ properties: { revenue: 80 } });
    const res = await sendSegmentWebhook(server.url, SHARED_SECRET, event, sendOptions(JSON.stringify(event)));
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe(code);
    expect(res.body.error.message).toMatch(/shared secret/);
    expect(await storeCounts(server)).toEqual(before);
  });

  it('accepts an unsigned batch carrying the configured Bearer token, and refuses a wrong token', async () => {
    const { server } = await start({ batchToken: BATCH_TOKEN });
    const ok = await sendSegmentWebhook(server.url, SHARED_SECRET, [specEvent(), specEvent()], {
      signature: null,
      headers: { authorization: `Bearer ${BATCH_TOKEN}` },
    });
    expect(ok.status).toBe(200);
    expect(ok.body.accepted).toBe(2);
    const wrong = await sendSegmentWebhook(server.url, SHARED_SECRET, [specEvent()], {
      signature: null,
      headers: { authorization: 'Bearer not-the-batch-token-000' },
    });
    expect(wrong.status).toBe(401);
    expect(wrong.body.error.code).toBe('invalid_token');
  });

  it('refuses an unsigned request with a Bearer token when no batch token is configured', async () => {
    const { server } = await start();
    const res = await sendSegmentWebhook(server.url, SHARED_SECRET, [specEvent()], {
      signature: null,
      headers: { authorization: `Bearer ${BATCH_TOKEN}` },
    });
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('missing_signature');
  });
});

describe('POST /v1/webhooks/segment: bad input', () => {
  const valid = () => specEvent();
  it.each([
    ['malformed JSON', '{"type":"track",', 'malformed_json', /the body is not valid JSON/],
    [
      'an event without userId',
      JSON.stringify({ type: 'track', event: 'Order Completed', messageId: 'x-1' }),
      'invalid_request',
      /^userId: is required: an outcome must belong to a user$/,
    ],
    [
      'a userId of the wrong type',
      JSON.stringify({ ...valid(), userId: 42 }),
      'invalid_request',
      /^userId: must be a string$/,
    ],
    [
      'a track without event',
      JSON.stringify({ type: 'track', userId: 'user-1', messageId: 'x-2' }),
      'invalid_request',
      /^event: is required for a track event$/,
    ],
    [
      'properties that are not an object',
      JSON.stringify({ ...valid(), properties: ['a'] }),
      'invalid_request',
      /^properties: /,
    ],
    [
      'a batch whose only event has no messageId',
      JSON.stringify([{ type: 'track', event: 'Order Completed', userId: 'user-1' }]),
      'invalid_request',
      /^\[0\]\.messageId: is required/,
    ],
    ['a JSON string', '"hello"', 'invalid_request', /^body: /],
  ])('answers 400 naming the field for %s, and stores nothing', async (_name, raw, code, message) => {
    const { server } = await start();
    const before = await storeCounts(server);
    const res = await sendSegmentWebhook(server.url, SHARED_SECRET, undefined, { raw });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe(code);
    expect(res.body.error.message).toMatch(message);
    expect(await storeCounts(server)).toEqual(before);
  });
});

describe('POST /v1/webhooks/segment: an empty batch', () => {
  it('is unsigned as Segment would send it, so it needs the Bearer token, and is then a 400', async () => {
    const { server } = await start({ batchToken: BATCH_TOKEN });
    const unsigned = await sendSegmentWebhook(server.url, SHARED_SECRET, []);
    expect(unsigned.status).toBe(401);
    const res = await sendSegmentWebhook(server.url, SHARED_SECRET, [], {
      headers: { authorization: `Bearer ${BATCH_TOKEN}` },
    });
    expect(res.status).toBe(400);
    expect(res.body.error.message).toMatch(/must contain at least one event/);
  });
});

describe('POST /v1/webhooks/segment: identify', () => {
  it('merges identify traits into the cached profile without reading the Profile API again', async () => {
    const { server, profiles } = await start();
    const decided = await call(server, 'POST', '/v1/agents/winback/decide', { body: { userId: 'user-1' } });
    expect(decided.body.error).toBeUndefined();
    const reads = fake.profileRequests.length;
    const res = await sendSegmentWebhook(
      server.url,
      SHARED_SECRET,
      specEvent({ type: 'identify', event: undefined, traits: { lifetime_orders: 9, timezone: 'Asia/Tokyo' } }),
    );
    expect(res.status).toBe(200);
    const profile = await profiles.getProfile('user-1');
    expect(profile).toMatchObject({ timezone: 'Asia/Tokyo', traits: { lifetime_orders: 9, city: 'Lyon' } });
    expect(fake.profileRequests.length).toBe(reads);
  });

  it('tracks audience membership: a trait set to true adds the user, false removes them', async () => {
    const { server, profiles } = await start();
    const identify = (userId: string, member: boolean, at: number) =>
      specEvent({
        type: 'identify',
        event: undefined,
        userId,
        traits: { winback_audience: member },
        timestamp: new Date(at).toISOString(),
      });
    expect(
      (
        await sendSegmentWebhook(server.url, SHARED_SECRET, [
          identify('user-1', true, NOW),
          identify('user-2', true, NOW),
        ])
      ).status,
    ).toBe(200);
    expect((await sendSegmentWebhook(server.url, SHARED_SECRET, identify('user-2', false, NOW + 1000))).status).toBe(
      200,
    );
    const members: string[] = [];
    for await (const p of profiles.audience('winback_audience')) members.push(p.userId);
    expect(members).toEqual(['user-1']);
  });

  it('ignores an older membership delivered after a newer one (Segment does not guarantee order)', async () => {
    const { server, profiles } = await start();
    const identify = (member: boolean, at: number) =>
      specEvent({
        type: 'identify',
        event: undefined,
        userId: 'user-1',
        traits: { vip_audience: member },
        timestamp: new Date(at).toISOString(),
      });
    await sendSegmentWebhook(server.url, SHARED_SECRET, identify(false, NOW + 60_000));
    await sendSegmentWebhook(server.url, SHARED_SECRET, identify(true, NOW));
    expect(profiles.audiences.isMember('vip_audience', 'user-1')).toBe(false);
  });

  it('saves audience changes through the persistence hook and replays them at start', async () => {
    const saved: AudienceChange[] = [];
    const persistence: AudiencePersistence = {
      load: async () => saved,
      save: async (changes) => void saved.push(...changes),
    };
    const first = await start({ persistence });
    await sendSegmentWebhook(
      first.server.url,
      SHARED_SECRET,
      specEvent({
        type: 'identify',
        event: undefined,
        userId: 'user-2',
        traits: { winback_audience: true },
        timestamp: new Date(NOW).toISOString(),
      }),
    );
    expect(saved).toEqual([{ audience: 'winback_audience', userId: 'user-2', member: true, at: NOW }]);
    await first.server.close();
    const second = await start({ persistence });
    expect(second.profiles.audiences.members('winback_audience')).toEqual(['user-2']);
  });

  it('answers 5xx and stores nothing when an audience change cannot be saved, so Segment retries', async () => {
    const persistence: AudiencePersistence = {
      load: async () => [],
      save: async () => Promise.reject(new Error('disk full')),
    };
    const { server } = await start({ persistence });
    const before = await storeCounts(server);
    const res = await sendSegmentWebhook(
      server.url,
      SHARED_SECRET,
      specEvent({ type: 'identify', event: undefined, traits: { winback_audience: true } }),
    );
    expect(res.status).toBe(500);
    expect(await storeCounts(server)).toEqual(before);
  });
});
