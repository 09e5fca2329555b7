import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { EVENTS_BATCH_MAX } from '../../../plugin/service/index.ts';
import { INGEST_SLICE } from '../../../plugin/service/ingest.ts';
import { FakeSegment, sendSegmentWebhook } from '../../fakes/segment.ts';
import { makeAgentInput, NOW, storeCounts, tempDir, writeConfigYaml } from '../../server/helpers.ts';
import {
  BATCH_TOKEN,
  segmentTraits,
  SHARED_SECRET,
  specEvent,
  startSegmentServer,
  type SegmentServer,
} from './helpers.ts';

const DAY = 86_400_000;
const at = (ms: number) => new Date(ms).toISOString();

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
  running = await startSegmentServer(fake, { batchToken: BATCH_TOKEN, ...options });
  return running;
}

/** A batch as Webhooks (Actions) sends it: unsigned, with the batch token. */
function sendBatch(server: SegmentServer['server'], events: unknown[]) {
  return sendSegmentWebhook(server.url, SHARED_SECRET, events, {
    signature: null,
    headers: { authorization: `Bearer ${BATCH_TOKEN}` },
  });
}

describe('POST /v1/webhooks/segment: the caps of POST /v1/events', () => {
  it(`answers 400 naming the cap to a batch of ${EVENTS_BATCH_MAX + 1} events, and stores nothing`, async () => {
    const { server } = await start();
    const before = await storeCounts(server);
    const res = await sendBatch(
      server,
      Array.from({ length: EVENTS_BATCH_MAX + 1 }, () => specEvent()),
    );
    expect(res.status).toBe(400);
    expect(res.body.error.message).toBe("body: must contain at most 2500 events (set the mapping's batch size lower)");
    expect(await storeCounts(server)).toEqual(before);
  });

  it('answers 413 naming the limit to a body over 512 KB, and stores nothing', async () => {
    const { server } = await start();
    const before = await storeCounts(server);
    const events = Array.from({ length: 60 }, () => specEvent({ properties: { blob: 'x'.repeat(10_000) } }));
    const res = await sendBatch(server, events);
    expect(res.status).toBe(413);
    expect(res.body.error).toEqual({
      code: 'body_too_large',
      message: 'the body is larger than the 524288 bytes this route accepts',
    });
    expect(await storeCounts(server)).toEqual(before);
  });

  it('answers 400 body_too_deep to an event nested 5,000 levels deep, and stores nothing', async () => {
    const { server } = await start();
    const before = await storeCounts(server);
    const raw = JSON.stringify(specEvent()).replace(
      '"properties":{}',
      `"properties":{"deep":${'['.repeat(5000)}${']'.repeat(5000)}}`,
    );
    const res = await sendSegmentWebhook(server.url, SHARED_SECRET, undefined, { raw });
    expect(res.status).toBe(400);
    expect(res.body.error).toEqual({ code: 'body_too_deep', message: 'the body is nested deeper than 64 levels' });
    expect(await storeCounts(server)).toEqual(before);
  });

  it('answers a 201-character messageId saying what the limit is', async () => {
    const { server } = await start();
    const res = await sendSegmentWebhook(server.url, SHARED_SECRET, specEvent({ messageId: 'm'.repeat(201) }));
    expect(res.status).toBe(400);
    expect(res.body.error.message).toBe('messageId: must be at most 200 characters');
  });

  it('leaves out an event whose userId has a bidi override, naming the field, and stores the rest', async () => {
    const { server } = await start();
    const res = await sendBatch(server, [specEvent(), specEvent({ userId: 'user-\u202E1' })]);
    expect(res.status).toBe(200);
    expect(res.body.accepted).toBe(1);
    expect(res.body.rejected).toEqual([
      {
        index: 1,
        messageId: expect.any(String),
        issues: [
          { path: 'userId', message: 'must not contain control or bidirectional-override characters (found U+202E)' },
        ],
      },
    ]);
  });
});

describe('POST /v1/webhooks/segment: a large batch, stored a slice at a time', () => {
  it('stores every event and counts a duplicate across slices once', async () => {
    const { server } = await start();
    const events = Array.from({ length: 2 * INGEST_SLICE + 10 }, () => specEvent());
    events.push({ ...events[3] });
    const res = await sendBatch(server, events);
    expect(res.body).toEqual({ success: true, accepted: 2 * INGEST_SLICE + 10, duplicates: 1 });
    expect(await server.store.countEvents('acme-sports')).toBe(2 * INGEST_SLICE + 10);
  });
});

describe('POST /v1/webhooks/segment: event times', () => {
  // the example agent's goal window is 72h and its late_margin the default 7d: 10 days back
  it.each<[string, number, string]>([
    ['more than a day ahead of the clock', NOW + 2 * DAY, "is more than 1d ahead of the server's clock"],
    ['older than the longest window plus its late_margin', NOW - 11 * DAY, 'is older than 10d'],
  ])('leaves out an event %s, naming it, and stores the rest of its batch', async (_name, timestamp, message) => {
    const { server } = await start();
    const before = await storeCounts(server);
    const fresh = specEvent({ timestamp: at(NOW) });
    const stale = specEvent({ timestamp: at(timestamp) });
    const res = await sendBatch(server, [fresh, stale]);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      success: true,
      accepted: 1,
      duplicates: 0,
      outOfWindow: [{ messageId: stale.messageId, message: expect.stringContaining(message) }],
    });
    expect((await storeCounts(server)).events).toBe(before.events + 1);
  });

  it('refuses one event of 9999-12-31, naming its timestamp', async () => {
    const { server } = await start();
    const res = await sendSegmentWebhook(server.url, SHARED_SECRET, specEvent({ timestamp: '9999-12-31' }));
    expect(res.status).toBe(400);
    expect(res.body.error.message).toMatch(/^timestamp: must be between 2000-01-01 and 2100-01-01/);
  });

  it('accepts events from a day ahead to the end of the late margin', async () => {
    const { server } = await start();
    const events = [NOW + DAY - 1000, NOW, NOW - 9 * DAY].map((t) => specEvent({ timestamp: at(t) }));
    expect((await sendBatch(server, events)).body).toEqual({ success: true, accepted: 3, duplicates: 0 });
  });

  it("goes back as far as the agents' longest window plus late_margin", async () => {
    const dir = await tempDir();
    try {
      const lenient = makeAgentInput({
        goal: { window: '72h', late_margin: '30d', rewards: [{ event: 'Order Completed', value: 1 }] },
      });
      const configPath = await writeConfigYaml(dir.path, [lenient]);
      const { server } = await start({ serve: { configPath } });
      const res = await sendBatch(server, [specEvent({ timestamp: at(NOW - 32 * DAY) })]);
      expect(res.body).toEqual({ success: true, accepted: 1, duplicates: 0 });
      const older = await sendBatch(server, [specEvent({ timestamp: at(NOW - 34 * DAY) })]);
      expect(older.body.outOfWindow).toEqual([
        { messageId: expect.any(String), message: expect.stringContaining('is older than 33d') },
      ]);
    } finally {
      await dir.remove();
    }
  });
});
