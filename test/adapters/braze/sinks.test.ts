import nock from 'nock';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { BrazeAttributesSink, BrazeClient, BrazeTriggerSink, brazeFromEnv } from '../../../adapters/braze/index.ts';
import { Rng } from '../../../plugin/bandit/index.ts';
import type { Decision } from '../../../plugin/agent/index.ts';
import { makeAgent } from '../../agent/factories.ts';
import { startFakeBraze, type FakeBraze } from '../../fakes/braze.ts';

const KEY = 'braze-test-key';
const NOW = Date.parse('2026-03-02T09:00:00Z');

const agent = makeAgent({
  delivery: [
    { to: 'braze', mode: 'attributes', prefix: 'nb_' },
    { to: 'braze', mode: 'campaign_trigger', campaign_id: 'camp-1' },
    { to: 'braze', mode: 'canvas_trigger', canvas_id: 'canvas-9' },
  ],
});
const [ATTRIBUTES, CAMPAIGN, CANVAS] = agent.delivery;

function decision(i: number, overrides: Partial<Decision> = {}): Decision {
  return {
    decisionId: `dec-${i}`,
    agentId: agent.id,
    agentVersion: 1,
    userId: `user-${i}`,
    at: new Date(NOW).toISOString(),
    holdout: false,
    choices: {
      channel: { arm: 'email', probability: 0.5 },
      subject_line: { arm: agent.dimensions.find((d) => d.id === 'subject_line')!.arms[0].id, probability: 0.25 },
    },
    probability: 0.125,
    sendAt: new Date(NOW + 3 * 3_600_000).toISOString(),
    deliver: true,
    reason: 'explore',
    features: [],
    ...overrides,
  };
}

function clientFor(
  fake: { url: string },
  overrides: Partial<ConstructorParameters<typeof BrazeClient>[0]> = {},
): BrazeClient {
  const rng = new Rng('braze-client-tests');
  return new BrazeClient({ baseUrl: fake.url, apiKey: KEY, backoffBaseMs: 2, random: () => rng.next(), ...overrides });
}

/** A sink's client, with confirming reads after 1 ms (the fake's reads are consistent unless told otherwise). */
function fastConfirm(fake: { url: string }) {
  return { client: clientFor(fake), confirmDelaysMs: [1] };
}

describe('the Braze attributes sink, against the fake Braze', () => {
  let fake: FakeBraze;
  beforeEach(async () => {
    fake = await startFakeBraze({ apiKey: KEY, maxTrackObjects: 50 });
  });
  afterEach(() => fake.close());

  it('writes the decision as prefixed custom attributes, in requests of at most 50 objects', async () => {
    const sink = new BrazeAttributesSink({ ...fastConfirm(fake), agent, delivery: ATTRIBUTES });
    const decisions = Array.from({ length: 120 }, (_, i) => decision(i));
    const report = await sink.deliver(decisions);
    expect(report.results.every((r) => r.status === 'ok')).toBe(true);
    expect(fake.requests.get('/users/track')).toBe(3);
    expect(fake.users.get('user-7')).toMatchObject({
      nb_decision_id: 'dec-7',
      nb_channel: 'email',
      nb_subject_line: decisions[7].choices.subject_line.arm,
      nb_deliver: true,
      nb_send_at: decisions[7].sendAt,
    });
  });

  it('sends only the values that changed since the last delivery, and clears a dimension no longer decided', async () => {
    const sink = new BrazeAttributesSink({ ...fastConfirm(fake), agent, delivery: ATTRIBUTES });
    const before = decision(1);
    await sink.deliver([before]);
    const points = fake.dataPoints();
    const after = decision(1, { decisionId: 'dec-1b', choices: { channel: { arm: 'email', probability: 0.5 } } });
    await sink.deliver([after], { previous: new Map([['dec-1b', before]]) });
    const sent = fake.tracked.at(-1)!;
    expect(Object.keys(sent).sort()).toEqual(
      [
        '_update_existing_only',
        'external_id',
        'nb_decision_id',
        'nb_subject_line',
        ...(before.choices.subject_line && agent.dimensions.find((d) => d.id === 'subject_line')!.arms[0].text
          ? ['nb_subject_line_text']
          : []),
      ].sort(),
    );
    expect(sent.nb_subject_line).toBeNull();
    expect(fake.users.get('user-1')).not.toHaveProperty('nb_subject_line');
    expect(fake.dataPoints() - points).toBe(Object.keys(sent).length - 2);
  });

  it('retries only the users a partial error named, then reports them rejected', async () => {
    fake.rejectAttributesOf('user-3', 'Invalid value for attribute', 5);
    fake.rejectAttributesOf('user-5', 'Invalid value for attribute', 1);
    const sink = new BrazeAttributesSink({ ...fastConfirm(fake), agent, delivery: ATTRIBUTES, partialRetries: 2 });
    const report = await sink.deliver(Array.from({ length: 10 }, (_, i) => decision(i)));
    expect(report.results[3]).toMatchObject({
      status: 'rejected',
      code: 'partial_error',
      message: expect.stringContaining('Invalid value for attribute'),
    });
    expect(report.results.filter((r) => r.status === 'ok')).toHaveLength(9);
    expect(fake.tracked.filter((a) => a.external_id === 'user-5')).toHaveLength(1);
    // the retries carried only the named users: 10, then users 3 and 5, then user 3
    expect(fake.requests.get('/users/track')).toBe(3);
    expect(fake.tracked.filter((a) => a.external_id === 'user-0')).toHaveLength(1);
  });

  it('waits out a 429 until X-RateLimit-Reset and delivers everything once', async () => {
    await fake.close();
    fake = await startFakeBraze({ apiKey: KEY, trackLimit: { requests: 2, windowMs: 300 } });
    const sink = new BrazeAttributesSink({ ...fastConfirm(fake), agent, delivery: ATTRIBUTES, batchSize: 10 });
    const report = await sink.deliver(Array.from({ length: 60 }, (_, i) => decision(i)));
    expect(report.results.every((r) => r.status === 'ok')).toBe(true);
    expect(fake.tracked).toHaveLength(60);
    expect(new Set(fake.tracked.map((a) => a.external_id)).size).toBe(60);
    expect(fake.statuses.get(429) ?? 0).toBe(0); // it paced itself on X-RateLimit-Remaining instead
  });

  it('retries a 5xx with backoff', async () => {
    fake.inject('/users/track', { kind: 'fail-before', status: 503 }, { kind: 'fail-before', status: 500 });
    const report = await new BrazeAttributesSink({ ...fastConfirm(fake), agent, delivery: ATTRIBUTES }).deliver([
      decision(1),
      decision(2),
    ]);
    expect(report.results.map((r) => r.status)).toEqual(['ok', 'ok']);
    expect(fake.statuses.get(503)).toBe(1);
    expect(fake.statuses.get(500)).toBe(1);
  });

  it('reports retry after its attempts are spent on 5xx', async () => {
    fake.inject('/users/track', ...Array.from({ length: 3 }, () => ({ kind: 'fail-before' as const, status: 502 })));
    const report = await new BrazeAttributesSink({
      client: clientFor(fake, { maxAttempts: 3 }),
      confirmDelaysMs: [1],
      agent,
      delivery: ATTRIBUTES,
    }).deliver([decision(1)]);
    expect(report.results[0]).toMatchObject({ status: 'retry', httpStatus: 502 });
  });

  it('isolates the object Braze refuses with a 400 by splitting the batch', async () => {
    const bad = decision(4, { userId: '' });
    const report = await new BrazeAttributesSink({ ...fastConfirm(fake), agent, delivery: ATTRIBUTES }).deliver([
      decision(1),
      decision(2),
      decision(3),
      bad,
      decision(5),
    ]);
    expect(report.results.map((r) => r.status)).toEqual(['ok', 'ok', 'ok', 'rejected', 'ok']);
    expect(fake.tracked.map((a) => a.external_id).sort()).toEqual(['user-1', 'user-2', 'user-3', 'user-5']);
  });

  it('confirms which decisions Braze holds, through /users/export/ids', async () => {
    const sink = new BrazeAttributesSink({ ...fastConfirm(fake), agent, delivery: ATTRIBUTES });
    await sink.deliver([decision(1), decision(2)]);
    expect(
      await sink.confirm([decision(1), decision(2), decision(3), decision(1, { decisionId: 'dec-other' })]),
    ).toEqual([true, true, false, false]);
  });
});

describe('the Braze attributes sink and the profiles Braze has', () => {
  let fake: FakeBraze;
  beforeEach(async () => {
    fake = await startFakeBraze({ apiKey: KEY, existingUsers: ['user-1'] });
  });
  afterEach(() => fake.close());

  it('writes onto existing profiles only by default: an id Braze does not know becomes no (billable) profile', async () => {
    const sink = new BrazeAttributesSink({ ...fastConfirm(fake), agent, delivery: ATTRIBUTES });
    const report = await sink.deliver([decision(1), decision(2)]);
    expect(report.results).toEqual([{ status: 'ok' }, { status: 'ok' }]);
    expect(fake.tracked.every((a) => a._update_existing_only === true)).toBe(true);
    expect([...fake.users.keys()]).toEqual(['user-1']);
  });

  it('creates profiles when updateExistingOnly is false (BRAZE_UPDATE_EXISTING_ONLY=false)', async () => {
    const sink = new BrazeAttributesSink({
      ...fastConfirm(fake),
      agent,
      delivery: ATTRIBUTES,
      updateExistingOnly: false,
    });
    await sink.deliver([decision(1), decision(2)]);
    expect(fake.tracked.some((a) => '_update_existing_only' in a)).toBe(false);
    expect([...fake.users.keys()].sort()).toEqual(['user-1', 'user-2']);
    const conn = brazeFromEnv({
      BRAZE_REST_ENDPOINT: 'https://rest.iad-01.braze.com',
      BRAZE_API_KEY: KEY,
      BRAZE_UPDATE_EXISTING_ONLY: 'false',
    })!;
    const fromEnv = conn.sinkFor(agent, ATTRIBUTES) as BrazeAttributesSink;
    expect(fromEnv.attributeObject(decision(3))).not.toHaveProperty('_update_existing_only');
  });
});

describe('a send left in doubt, against reads that lag behind writes', () => {
  let fake: FakeBraze;
  let now = NOW;
  const slept: number[] = [];
  const sleep = async (ms: number) => {
    slept.push(ms);
    now += ms;
  };
  beforeEach(async () => {
    now = NOW;
    slept.length = 0;
    fake = await startFakeBraze({ apiKey: KEY, clock: () => now, readDelayMs: 10_000 });
    fake.inject('/campaigns/trigger', { kind: 'fail-after', status: 500 });
  });
  afterEach(() => fake.close());

  const sinkWith = (confirmDelaysMs?: number[]) =>
    new BrazeTriggerSink({
      client: clientFor(fake),
      agent,
      delivery: CAMPAIGN,
      clock: () => now,
      sleep,
      ...(confirmDelaysMs && { confirmDelaysMs }),
    });

  it('is wrongly found not sent by a read made at once (and would be sent twice)', async () => {
    const sink = sinkWith([0]);
    const report = await sink.deliver([decision(1, { sendAt: undefined })]);
    expect(report.results[0]).toMatchObject({ status: 'retry', inDoubt: true });
    expect(fake.sends).toHaveLength(1);
    expect(await sink.confirm([decision(1)])).toEqual([false]);
  });

  it('is found sent when confirmed after waiting, backing off, never at once', async () => {
    const sink = sinkWith();
    await sink.deliver([decision(1, { sendAt: undefined })]);
    expect(await sink.confirm([decision(1), decision(2)])).toEqual([true, false]);
    expect(slept[0]).toBeGreaterThan(0);
    expect(slept).toEqual([5_000, 15_000, 45_000, 135_000]); // decision 2 was asked about until the last wait
    expect(slept.every((ms, i) => i === 0 || ms > slept[i - 1]!)).toBe(true);
  });
});

describe('the Braze trigger sinks, against the fake Braze', () => {
  let fake: FakeBraze;
  beforeEach(async () => {
    fake = await startFakeBraze({ apiKey: KEY, clock: () => NOW });
  });
  afterEach(() => fake.close());

  it('schedules each customer at the chosen time, at most 50 recipients a request, with the choices as trigger properties', async () => {
    const at = (h: number) => new Date(NOW + h * 3_600_000).toISOString();
    const decisions = Array.from({ length: 130 }, (_, i) => decision(i, { sendAt: at(i % 2 === 0 ? 3 : 8) }));
    const sink = new BrazeTriggerSink({ ...fastConfirm(fake), agent, delivery: CAMPAIGN, clock: () => NOW });
    const report = await sink.deliver(decisions);
    expect(report.results.every((r) => r.status === 'ok')).toBe(true);
    expect(fake.requests.get('/campaigns/trigger/schedule/create')).toBe(4); // 65 + 65, in requests of ≤ 50
    expect(fake.sends).toHaveLength(130);
    for (const s of fake.sends) {
      const i = Number(s.externalUserId.slice('user-'.length));
      expect(s.scheduleTime).toBe(decisions[i].sendAt);
      expect(s.properties).toMatchObject({ nb_decision_id: `dec-${i}`, nb_channel: 'email' });
    }
    expect(fake.users.get('user-9')).toEqual({ 'nb_trigger_camp-1': 'dec-9' });
  });

  it('sends at once when the chosen time is now', async () => {
    const sink = new BrazeTriggerSink({ ...fastConfirm(fake), agent, delivery: CANVAS, clock: () => NOW });
    await sink.deliver([decision(1, { sendAt: new Date(NOW).toISOString() })]);
    expect(fake.requests.get('/canvas/trigger/send')).toBe(1);
    expect(fake.sends[0]).toMatchObject({
      path: '/canvas/trigger/send',
      externalUserId: 'user-1',
      properties: { nb_decision_id: 'dec-1' },
    });
  });

  it("sends a Canvas's decision as context, not the legacy canvas_entry_properties", () => {
    const sink = new BrazeTriggerSink({ ...fastConfirm(fake), agent, delivery: CANVAS, clock: () => NOW });
    const { body } = sink.request([decision(1)], undefined);
    const [recipient] = body.recipients as Record<string, unknown>[];
    expect(recipient).toHaveProperty('context.nb_decision_id', 'dec-1');
    expect(recipient).not.toHaveProperty('canvas_entry_properties');
  });

  it('awaits a Currents report of each send for its campaign when Currents is connected, and not otherwise', () => {
    const withCurrents = new BrazeTriggerSink({
      ...fastConfirm(fake),
      agent,
      delivery: CAMPAIGN,
      sendProofWithinMs: 60_000,
    });
    expect(withCurrents.sendProof).toEqual({ target: 'braze:campaign:camp-1', withinMs: 60_000 });
    const canvas = new BrazeTriggerSink({ ...fastConfirm(fake), agent, delivery: CANVAS, sendProofWithinMs: 60_000 });
    expect(canvas.sendProof?.target).toBe('braze:canvas:canvas-9');
    expect(new BrazeTriggerSink({ ...fastConfirm(fake), agent, delivery: CAMPAIGN }).sendProof).toBeUndefined();
    const env = { BRAZE_REST_ENDPOINT: 'https://rest.iad-01.braze.com', BRAZE_API_KEY: KEY };
    const fromEnv = brazeFromEnv({
      ...env,
      BRAZE_CURRENTS_TOKEN: 'a-token-of-16-chars!',
      BRAZE_CURRENTS_WAIT_MINUTES: '90',
    })!;
    expect(fromEnv.sinkFor(agent, CAMPAIGN)!.sendProof).toEqual({
      target: 'braze:campaign:camp-1',
      withinMs: 90 * 60_000,
    });
    expect(brazeFromEnv(env)!.sinkFor(agent, CAMPAIGN)!.sendProof).toBeUndefined();
  });

  it('does not resend a send that failed after Braze processed it, and confirm says it landed', async () => {
    fake.inject('/campaigns/trigger', { kind: 'fail-after', status: 500 });
    const sink = new BrazeTriggerSink({ ...fastConfirm(fake), agent, delivery: CAMPAIGN, clock: () => NOW });
    const report = await sink.deliver([decision(1), decision(2)]);
    expect(report.results).toEqual([
      expect.objectContaining({ status: 'retry', inDoubt: true }),
      expect.objectContaining({ status: 'retry', inDoubt: true }),
    ]);
    expect(fake.sends).toHaveLength(2); // processed once, not retried
    expect(await sink.confirm([decision(1), decision(2), decision(3)])).toEqual([true, true, false]);
  });

  it('treats a dropped connection the same way', async () => {
    fake.inject('/campaigns/trigger', { kind: 'drop-after' });
    const sink = new BrazeTriggerSink({ ...fastConfirm(fake), agent, delivery: CAMPAIGN, clock: () => NOW });
    const report = await sink.deliver([decision(1)]);
    expect(report.results[0]).toMatchObject({ status: 'retry', inDoubt: true });
    expect(fake.sends).toHaveLength(1);
  });
});

describe('Braze requests, intercepted with nock', () => {
  beforeAll(() => {
    nock.disableNetConnect();
    nock.enableNetConnect('127.0.0.1');
  });
  afterAll(() => {
    nock.cleanAll();
    nock.enableNetConnect();
  });

  it('sends bearer auth and JSON to the cluster endpoint, and reads a 201 with partial errors', async () => {
    const scope = nock('https://rest.iad-01.braze.com', {
      reqheaders: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
    })
      .post(
        '/users/track',
        (body) =>
          Array.isArray(body.attributes) && body.attributes.length === 2 && body.attributes[0].external_id === 'user-1',
      )
      .reply(201, {
        message: 'success',
        attributes_processed: 1,
        errors: [
          { type: "'external_id' or 'braze_id' or 'user_alias' is required", input_array: 'attributes', index: 1 },
        ],
      })
      .post('/users/track', (body) => body.attributes.length === 1 && body.attributes[0].external_id === 'user-2')
      .reply(201, { message: 'success', attributes_processed: 1 });
    const conn = brazeFromEnv({ BRAZE_REST_ENDPOINT: 'https://rest.iad-01.braze.com', BRAZE_API_KEY: KEY });
    const sink = conn!.sinkFor(agent, ATTRIBUTES)!;
    const report = await sink.deliver([decision(1), decision(2)]);
    expect(report.results.map((r) => r.status)).toEqual(['ok', 'ok']);
    expect(scope.isDone()).toBe(true);
  });

  it("treats a 2xx body that is not Braze's shape as in doubt, not as success", async () => {
    nock('https://rest.iad-01.braze.com').post('/campaigns/trigger/send').reply(200, '<html>proxy</html>');
    const sink = brazeFromEnv({ BRAZE_REST_ENDPOINT: 'https://rest.iad-01.braze.com', BRAZE_API_KEY: KEY })!.sinkFor(
      agent,
      CAMPAIGN,
    )!;
    const report = await sink.deliver([decision(1, { sendAt: undefined })]);
    expect(report.results[0]).toMatchObject({
      status: 'retry',
      inDoubt: true,
      message: expect.stringContaining('unreadable Braze response'),
    });
  });

  it('reads the environment, naming the variable that is missing or wrong', () => {
    expect(brazeFromEnv({})).toBeUndefined();
    expect(() => brazeFromEnv({ BRAZE_API_KEY: 'k' })).toThrow('BRAZE_REST_ENDPOINT: is required');
    expect(() => brazeFromEnv({ BRAZE_REST_ENDPOINT: 'rest.iad-01', BRAZE_API_KEY: 'k' })).toThrow(
      /BRAZE_REST_ENDPOINT: must be/,
    );
    expect(() =>
      brazeFromEnv({
        BRAZE_REST_ENDPOINT: 'https://rest.iad-01.braze.com',
        BRAZE_API_KEY: 'k',
        BRAZE_TRACK_BATCH_SIZE: '200',
      }),
    ).toThrow(/BRAZE_TRACK_BATCH_SIZE: must be at most 75/);
  });
});
