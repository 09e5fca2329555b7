import nock from 'nock';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { decisionPropertiesOf, ensureDecisionProperties, HubSpotContactSink } from '../../../adapters/hubspot/index.ts';
import type { AgentConfig } from '../../../plugin/agent/index.ts';
import type { FakeHubSpot } from '../../fakes/hubspot.ts';
import { makeDecision, startFake, winbackWithHubSpot } from './setup.ts';

beforeAll(() => {
  nock.disableNetConnect();
  nock.enableNetConnect('127.0.0.1');
});
afterAll(() => nock.enableNetConnect());

describe('HubSpotContactSink', () => {
  let agent: AgentConfig;
  let env: Awaited<ReturnType<typeof startFake>>;
  let fake: FakeHubSpot;

  beforeEach(async () => {
    agent = await winbackWithHubSpot();
    env = await startFake();
    fake = env.fake;
    await ensureDecisionProperties(env.crm, [agent]);
  });
  afterEach(async () => {
    await env.fake.close();
    expect(fake.violations).toEqual([]);
  });

  const sinkFor = (overrides: Partial<ConstructorParameters<typeof HubSpotContactSink>[0]> = {}) =>
    new HubSpotContactSink({
      portals: env.portals,
      agent,
      delivery: agent.delivery[0],
      pacing: env.pacing,
      ...overrides,
    });

  /** Contact id → how many batch updates wrote it. */
  const writesPerContact = () => {
    const counts = new Map<string, number>();
    for (const batch of fake.updates) for (const u of batch) counts.set(u.id, (counts.get(u.id) ?? 0) + 1);
    return counts;
  };

  it('writes every decision as string properties, in batches of at most 100', async () => {
    const ids = fake.seedContacts(1, 250);
    const decisions = ids.map((id) => makeDecision(id));
    const report = await sinkFor().deliver(decisions);
    expect(report.results.every((r) => r.status === 'ok')).toBe(true);
    expect(fake.updates.map((b) => b.length)).toEqual([100, 100, 50]);
    expect(fake.contacts.get('1')).toMatchObject({
      nb_decision_id: decisions[0].decisionId,
      nb_subject_line: 'sl_urgency',
      nb_subject_line_text: 'Ends tonight: 20% off race gear',
      nb_send_time: '18',
      nb_send_at: String(Date.parse('2026-06-01T18:00:00.000Z')),
      nb_deliver: 'true',
    });
  });

  it('writes every decision exactly once through a 429 storm (TEN_SECONDLY_ROLLING)', async () => {
    fake.setBurstMax(3);
    const ids = fake.seedContacts(1, 1000);
    const report = await sinkFor({ maxAttempts: 20 }).deliver(ids.map((id) => makeDecision(id)));
    expect(report.results.filter((r) => r.status !== 'ok')).toEqual([]);
    const throttled = fake.requestsTo('/crm/v3/objects/contacts/batch/update').filter((r) => r.status === 429);
    expect(throttled.length).toBeGreaterThan(0);
    expect(fake.updates.every((b) => b.length <= 100)).toBe(true);
    const counts = writesPerContact();
    expect(counts.size).toBe(1000);
    expect([...counts.values()].every((n) => n === 1)).toBe(true);
  });

  it('reports the contacts of a 207 as rejected and the rest as ok, each written once', async () => {
    const ids = fake.seedContacts(1, 150);
    const decisions = [...ids, '900001', '900002'].map((id) => makeDecision(id));
    const report = await sinkFor().deliver(decisions);
    expect(report.results.slice(0, 150).every((r) => r.status === 'ok')).toBe(true);
    expect(report.results[150]).toMatchObject({ status: 'rejected', httpStatus: 207, code: 'OBJECT_NOT_FOUND' });
    expect(report.results[151]).toMatchObject({ status: 'rejected', httpStatus: 207, code: 'OBJECT_NOT_FOUND' });
    expect([...writesPerContact().values()].every((n) => n === 1)).toBe(true);
  });

  it('retries 5xx with backoff and then succeeds without writing twice', async () => {
    const ids = fake.seedContacts(1, 10);
    fake.fail({ path: '/crm/v3/objects/contacts/batch/update', status: 503, times: 2 });
    const started = env.clock.now();
    const report = await sinkFor().deliver(ids.map((id) => makeDecision(id)));
    expect(report.results.every((r) => r.status === 'ok')).toBe(true);
    expect(fake.requestsTo('/crm/v3/objects/contacts/batch/update').map((r) => r.status)).toEqual([503, 503, 200]);
    expect(env.clock.now() - started).toBeGreaterThan(0); // it waited (virtual time)
    expect(writesPerContact().size).toBe(10);
  });

  it('stops at a DAILY 429 and reports every unsent decision as retry', async () => {
    const ids = fake.seedContacts(1, 300);
    fake.setDailyMax(fake.requests.length + 1); // every earlier call counted: one more batch fits today
    const report = await sinkFor().deliver(ids.map((id) => makeDecision(id)));
    expect(report.results.slice(0, 100).every((r) => r.status === 'ok')).toBe(true);
    expect(report.results.slice(100).every((r) => r.status === 'retry' && r.httpStatus === 429)).toBe(true);
    expect(fake.requestsTo('/crm/v3/objects/contacts/batch/update').map((r) => r.status)).toEqual([200, 429]);
    expect(fake.updates.flat()).toHaveLength(100);
  });

  it('answers each input once: superseded decisions of one contact are not written, bad ids fail alone', async () => {
    fake.seedContacts(1, 2);
    const first = makeDecision('1');
    const later = makeDecision('1');
    const report = await sinkFor().deliver([first, makeDecision('not-a-contact'), later, makeDecision('2'), later]);
    expect(report.results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'ok', 'ok', 'ok']);
    expect(report.results[0]).toMatchObject({ code: 'superseded' });
    expect(report.results[1]).toMatchObject({ code: 'invalid_contact_id' });
    expect(fake.contacts.get('1')!.nb_decision_id).toBe(later.decisionId);
    expect(writesPerContact().get('1')).toBe(1);
  });

  it('isolates a contact whose write HubSpot refuses with a 400 by splitting the batch', async () => {
    const ids = fake.seedContacts(1, 8);
    // a decision carrying a dimension no property exists for: HubSpot answers 400 for the whole batch
    const bad = makeDecision('5', { choices: { ...makeDecision('5').choices, mystery: { arm: 'x', probability: 1 } } });
    const decisions = ids.map((id) => (id === '5' ? bad : makeDecision(id)));
    const report = await sinkFor().deliver(decisions);
    expect(report.results.map((r) => r.status)).toEqual(['ok', 'ok', 'ok', 'ok', 'rejected', 'ok', 'ok', 'ok']);
    expect(report.results[4]).toMatchObject({ httpStatus: 400, code: 'VALIDATION_ERROR' });
    expect([...writesPerContact().values()].every((n) => n === 1)).toBe(true);
  });

  it('does not mutate its input', async () => {
    fake.seedContacts(1, 3);
    const decisions = [makeDecision('1'), makeDecision('2'), makeDecision('3')];
    const copy = structuredClone(decisions);
    await sinkFor().deliver(decisions);
    expect(decisions).toEqual(copy);
  });

  it('creates exactly the properties attributesOf writes', () => {
    expect(
      decisionPropertiesOf([agent])
        .map((p) => p.name)
        .sort(),
    ).toEqual(
      [
        'nb_decision_id',
        'nb_frequency',
        'nb_channel',
        'nb_send_time',
        'nb_subject_line',
        'nb_subject_line_text',
        'nb_content_block',
        'nb_send_at',
        'nb_deliver',
      ].sort(),
    );
  });
});
