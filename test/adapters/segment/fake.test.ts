import { afterEach, describe, expect, it } from 'vitest';
import { FAKE_PROFILE_TOKEN, FAKE_SPACE_ID, FAKE_WRITE_KEY, FakeSegment } from '../../fakes/segment.ts';

/** The fake must enforce Segment's documented limits, or the adapter tests prove nothing. */
let fake: FakeSegment;
afterEach(() => fake.close());

const basic = (user: string) => `Basic ${Buffer.from(`${user}:`).toString('base64')}`;
const postBatch = (batch: unknown[], writeKey = FAKE_WRITE_KEY, raw?: string) =>
  fetch(`${fake.url}/v1/batch`, {
    method: 'POST',
    headers: { authorization: basic(writeKey), 'content-type': 'application/json' },
    body: raw ?? JSON.stringify({ batch }),
  });
const getTraits = (id: string, query = '', token = FAKE_PROFILE_TOKEN) =>
  fetch(`${fake.url}/v1/spaces/${FAKE_SPACE_ID}/collections/users/profiles/${id}/traits${query}`, {
    headers: { authorization: basic(token) },
  });

describe('fake Segment Tracking API', () => {
  it('refuses a wrong write key with 401', async () => {
    fake = await FakeSegment.start();
    expect((await postBatch([{ type: 'track', messageId: 'm1' }], 'other')).status).toBe(401);
  });

  it('refuses an event over 32 KB with 400', async () => {
    fake = await FakeSegment.start();
    const res = await postBatch([{ type: 'track', messageId: 'm1', properties: { blob: 'x'.repeat(33 * 1024) } }]);
    expect(res.status).toBe(400);
    expect(fake.events).toEqual([]);
  });

  it('refuses a batch over 500 KB with 400', async () => {
    fake = await FakeSegment.start();
    const events = Array.from({ length: 20 }, (_, i) => ({
      type: 'track',
      messageId: `m${i}`,
      properties: { blob: 'x'.repeat(30 * 1024) },
    }));
    expect((await postBatch(events)).status).toBe(400);
    expect(fake.events).toEqual([]);
  });

  it('keeps one copy per messageId', async () => {
    fake = await FakeSegment.start();
    await postBatch([
      { type: 'track', messageId: 'm1' },
      { type: 'track', messageId: 'm1' },
    ]);
    await postBatch([{ type: 'track', messageId: 'm1' }]);
    expect(fake.events).toHaveLength(1);
    expect(fake.duplicates).toBe(2);
  });
});

describe('fake Segment Profile API', () => {
  it('answers 404 for a bare (untyped) id and 200 for the typed one', async () => {
    fake = await FakeSegment.start({ profiles: { u1: { a: 1 } } });
    expect((await getTraits('u1')).status).toBe(404);
    expect((await getTraits('user_id:u1')).status).toBe(200);
  });

  it('refuses a wrong token with 401 authentication_error', async () => {
    fake = await FakeSegment.start({ profiles: { u1: { a: 1 } } });
    const res = await getTraits('user_id:u1', '', 'wrong');
    expect(res.status).toBe(401);
    expect((await res.json()).error.code).toBe('authentication_error');
  });

  it('pages with limit and the next cursor, 10 traits by default', async () => {
    const traits = Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`t${String(i).padStart(2, '0')}`, i]));
    fake = await FakeSegment.start({ profiles: { u1: traits } });
    const first = await (await getTraits('user_id:u1')).json();
    expect(Object.keys(first.traits)).toHaveLength(10);
    expect(first.cursor.has_more).toBe(true);
    const second = await (await getTraits('user_id:u1', `?next=${first.cursor.next}`)).json();
    expect(Object.keys(second.traits)).toEqual(['t10', 't11']);
    expect(second.cursor.has_more).toBe(false);
    expect((await getTraits('user_id:u1', '?limit=201')).status).toBe(400);
  });

  it('answers 429 rate_limit_error once the bucket is empty, and again after it refills', async () => {
    let now = 0;
    fake = await FakeSegment.start({
      profiles: { u1: { a: 1 } },
      profileRate: { perSecond: 2, burst: 2 },
      now: () => now,
    });
    expect((await getTraits('user_id:u1')).status).toBe(200);
    expect((await getTraits('user_id:u1')).status).toBe(200);
    const limited = await getTraits('user_id:u1');
    expect(limited.status).toBe(429);
    expect((await limited.json()).error.code).toBe('rate_limit_error');
    now += 500;
    expect((await getTraits('user_id:u1')).status).toBe(200);
  });
});
