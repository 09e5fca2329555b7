import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { FakeSegment, sendSegmentWebhook, signSegmentBody, type WebhookSendOptions } from '../../fakes/segment.ts';
import { call, NOW, sqlite, storeCounts, tempDir } from '../../server/helpers.ts';
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
    expect(await profiles.audiences.isMember('vip_audience', 'user-1')).toBe(false);
  });

  it('keeps audience membership in the store: after a restart on the same SQLite file a run still finds the members', async () => {
    const dir = await tempDir();
    try {
      const serve = { db: `sqlite:${join(dir.path, 'nextbest.db')}` };
      const first = await start({ serve });
      const res = await sendSegmentWebhook(first.server.url, SHARED_SECRET, [
        identifyAt('user-2', { winback_audience: true }, NOW),
        identifyAt('user-1', { winback_audience: true }, NOW),
        identifyAt('user-1', { winback_audience: false }, NOW + 1000),
      ]);
      expect(res.status).toBe(200);
      await first.server.close();
      running = undefined;
      const second = await start({ serve });
      expect(await membersOf(second, 'winback_audience')).toEqual(['user-2']);
      // the tombstone survives too: an older "true" delivered late does not add user-1 back
      await sendSegmentWebhook(second.server.url, SHARED_SECRET, identifyAt('user-1', { winback_audience: true }, NOW));
      expect(await second.profiles.audiences.isMember('winback_audience', 'user-1')).toBe(false);
    } finally {
      await running?.server.close();
      running = undefined;
      await dir.remove();
    }
  });

  it("erases the user's audience membership with the user, leaving no row behind", async () => {
    const { server } = await start();
    await sendSegmentWebhook(server.url, SHARED_SECRET, [
      identifyAt('user-1', { winback_audience: true, vip_audience: true }, NOW),
      identifyAt('user-2', { winback_audience: true }, NOW),
    ]);
    const erased = await call(server, 'DELETE', '/v1/users/user-1');
    expect(erased.status).toBe(200);
    expect(erased.body.erased.audienceMemberships).toBe(2);
    expect(await membersOf(running!, 'winback_audience')).toEqual(['user-2']);
    const rows = sqlite(server)
      .db.prepare('SELECT count(*) AS n FROM audience_members WHERE user_id = ?')
      .get('user-1') as { n: number };
    expect(rows.n).toBe(0);
  });
});

function identifyAt(userId: string, traits: Record<string, unknown>, at: number) {
  return specEvent({ type: 'identify', event: undefined, userId, traits, timestamp: new Date(at).toISOString() });
}

async function membersOf(running: SegmentServer, audience: string): Promise<string[]> {
  const members: string[] = [];
  for await (const p of running.profiles.audience(audience)) members.push(p.userId);
  return members;
}
