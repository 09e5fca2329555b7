import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { AgentConfig } from '../../../plugin/agent/index.ts';
import { deliverySchema } from '../../../plugin/agent/index.ts';
import { SegmentDecisionSink, segmentSinks, type TrackingSettingsInput } from '../../../adapters/segment/index.ts';
import { FakeSegment } from '../../fakes/segment.ts';
import { exampleAgent, makeDecision, segmentDelivery } from './helpers.ts';

let fake: FakeSegment;
let agent: AgentConfig;
const sinks: SegmentDecisionSink[] = [];

beforeAll(async () => {
  agent = await exampleAgent();
});
beforeEach(async () => {
  fake = await FakeSegment.start();
});
afterEach(async () => {
  for (const s of sinks.splice(0)) await s.close();
  await fake.close();
});

function makeSink(overrides: Partial<TrackingSettingsInput> = {}, prefix = 'nb_'): SegmentDecisionSink {
  const sink = new SegmentDecisionSink(agent, segmentDelivery({ prefix }), {
    writeKey: fake.writeKey,
    host: fake.url,
    ...overrides,
  });
  sinks.push(sink);
  return sink;
}

describe('SegmentDecisionSink through analytics-node', () => {
  it('sends each decision as an identify with the prefixed decision traits and a Decision Made track', async () => {
    const d = makeDecision(agent, 'user-1', 'dec-1');
    const report = await makeSink({}, 'ns_').deliver([d]);
    expect(report.results).toEqual([{ status: 'ok' }]);
    const [identify] = fake.received('identify');
    expect(identify).toMatchObject({
      userId: 'user-1',
      messageId: 'nb-identify-dec-1',
      timestamp: d.at,
      traits: { ns_decision_id: 'dec-1', ns_deliver: d.deliver },
    });
    for (const [dim, choice] of Object.entries(d.choices)) expect(identify.traits[`ns_${dim}`]).toBe(choice.arm);
    const [track] = fake.received('track', 'Decision Made');
    expect(track).toMatchObject({
      userId: 'user-1',
      messageId: 'nb-decision-dec-1',
      properties: {
        decision_id: 'dec-1',
        agent_id: 'winback',
        agent_version: d.agentVersion,
        holdout: d.holdout,
        send_at: d.sendAt ?? null,
        probability: d.probability,
      },
    });
    for (const [dim, choice] of Object.entries(d.choices))
      expect(track.properties).toMatchObject({ [dim]: choice.arm, [`${dim}_probability`]: choice.probability });
  });

  it('authenticates with the write key as the Basic-auth username', async () => {
    await makeSink().deliver([makeDecision(agent, 'user-1', 'dec-auth')]);
    expect(fake.batchRequests.map((r) => r.authorization)).toEqual([
      `Basic ${Buffer.from(`${fake.writeKey}:`).toString('base64')}`,
    ]);
  });

  it('answers one result per decision, in input order, after Segment accepted them', async () => {
    const decisions = ['a', 'b', 'c'].map((u, i) => makeDecision(agent, `user-${u}`, `dec-order-${i}`));
    const report = await makeSink({ flushAt: 2 }).deliver(decisions);
    expect(report.results).toEqual([{ status: 'ok' }, { status: 'ok' }, { status: 'ok' }]);
    expect(
      fake
        .received('identify')
        .map((e) => e.userId)
        .sort(),
    ).toEqual(['user-a', 'user-b', 'user-c']);
    expect(fake.batchRequests.every((r) => r.events.length <= 2)).toBe(true);
  });

  it('retries a 500 and delivers each event exactly once', async () => {
    fake.failBatches({ status: 500 });
    const report = await makeSink().deliver([makeDecision(agent, 'user-1', 'dec-500')]);
    expect(report.results).toEqual([{ status: 'ok' }]);
    expect(fake.batchRequests.map((r) => [r.status, r.retryCount])).toEqual([
      [500, 0],
      [200, 1],
    ]);
    expect(fake.received('identify')).toHaveLength(1);
    expect(fake.received('track', 'Decision Made')).toHaveLength(1);
  });

  it('waits out a 429 with Retry-After and delivers each event exactly once', async () => {
    fake.failBatches({ status: 429, headers: { 'Retry-After': '1' } });
    const report = await makeSink().deliver([makeDecision(agent, 'user-1', 'dec-429')]);
    expect(report.results).toEqual([{ status: 'ok' }]);
    expect(fake.batchRequests.map((r) => r.status)).toEqual([429, 200]);
    expect(fake.received('track', 'Decision Made')).toHaveLength(1);
  });

  it('uses the same messageIds when a decision is delivered again, so Segment drops the copy', async () => {
    const d = makeDecision(agent, 'user-1', 'dec-again');
    const sink = makeSink();
    await sink.deliver([d]);
    const again = await sink.deliver([d]);
    expect(again.results).toEqual([{ status: 'ok' }]);
    expect(fake.events).toHaveLength(2);
    expect(fake.duplicates).toBe(2);
  });

  it('reports retry when Segment stays unavailable past the retries', async () => {
    fake.failBatches({ status: 503 }, 5);
    const report = await makeSink({ maxRetries: 0 }).deliver([makeDecision(agent, 'user-1', 'dec-503')]);
    expect(report.results).toEqual([{ status: 'retry', httpStatus: 503, message: expect.stringMatching(/\[503\]/) }]);
    expect(fake.events).toEqual([]);
  });

  it('reports rejected (not retry) when Segment refuses the batch with a 400', async () => {
    fake.failBatches({ status: 400 });
    const report = await makeSink().deliver([makeDecision(agent, 'user-1', 'dec-400')]);
    expect(report.results).toEqual([
      { status: 'rejected', httpStatus: 400, code: 'rejected_by_segment', message: expect.stringMatching(/\[400\]/) },
    ]);
    expect(fake.batchRequests).toHaveLength(1);
  });

  it('reports an authentication_error for a write key Segment refuses', async () => {
    const report = await makeSink({ writeKey: 'not-the-write-key' }).deliver([
      makeDecision(agent, 'user-1', 'dec-401'),
    ]);
    expect(report.results).toEqual([
      { status: 'rejected', httpStatus: 401, code: 'authentication_error', message: expect.any(String) },
    ]);
  });

  it('rejects a decision without userId alone and delivers the others', async () => {
    const good = makeDecision(agent, 'user-1', 'dec-good');
    const anonymous = { ...makeDecision(agent, 'user-2', 'dec-anon'), userId: '' };
    const report = await makeSink().deliver([anonymous, good]);
    expect(report.results).toEqual([
      { status: 'rejected', code: 'missing_user_id', message: expect.any(String) },
      { status: 'ok' },
    ]);
    expect(fake.received('identify').map((e) => e.userId)).toEqual(['user-1']);
  });

  it('does not mutate the decisions it delivers', async () => {
    const d = makeDecision(agent, 'user-1', 'dec-frozen');
    const copy = structuredClone(d);
    await makeSink().deliver([d]);
    expect(d).toEqual(copy);
  });

  it('reports retry for deliveries after close', async () => {
    const sink = makeSink();
    await sink.close();
    sinks.splice(sinks.indexOf(sink), 1);
    const report = await sink.deliver([makeDecision(agent, 'user-1', 'dec-closed')]);
    expect(report.results).toEqual([{ status: 'retry', message: 'the Segment sink is closed' }]);
  });
});

describe('segmentSinks (SinkFactory)', () => {
  it('builds a sink for {to: segment, mode: identify} and none for other destinations', async () => {
    const factory = segmentSinks({ writeKey: fake.writeKey, host: fake.url });
    const sink = factory(agent, segmentDelivery());
    expect(sink?.metadata.name).toBe('segment');
    await sink?.close?.();
    expect(factory(agent, deliverySchema.parse({ to: 'braze', mode: 'attributes' }))).toBeUndefined();
  });

  it('refuses settings without a write key, naming the field', () => {
    expect(() => segmentSinks({ writeKey: '' })).toThrow(/Segment tracking settings: writeKey: must not be empty/);
  });
});
