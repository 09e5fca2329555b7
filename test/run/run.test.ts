import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  InMemoryProfileSource,
  type DecisionSink,
  type Decision,
  type DeliveryReport,
} from '../../plugin/agent/index.ts';
import { runAudience, RunError } from '../../plugin/run/index.ts';
import type { RunningServer } from '../../plugin/server/index.ts';
import { startFakeBraze, type FakeBraze } from '../fakes/braze.ts';
import {
  decisionsOfRun,
  EXAMPLE_AGENT as AGENT,
  EXAMPLE_WORKSPACE as WS,
  NOW,
  sqlite,
  startTestServer,
} from '../server/helpers.ts';
import { pollUntil } from '../helpers/poll.ts';
import {
  ATTRIBUTES_SINK,
  audience,
  BRAZE_KEY,
  expectDeliveredExactlyOnce,
  startServerWithBraze,
  TRIGGER_SINK,
} from './helpers.ts';

/** decision id → raw user id, for every decision of the run that delivers. */
async function deliverable(
  server: RunningServer,
  runId: string,
  members: { userId: string }[],
): Promise<Map<string, string>> {
  const byKey = new Map(members.map((m) => [server.service.userKey(m.userId), m.userId]));
  const ids = members.map((m) => m.userId);
  const rows = (await decisionsOfRun(server.store, WS, AGENT, runId, ids)).filter((d) => d.deliver);
  return new Map(rows.map((d) => [d.decisionId, byKey.get(d.userKey)!]));
}

describe('a batch run', () => {
  let fake: FakeBraze;
  let server: RunningServer;
  afterEach(async () => {
    await server?.close();
    await fake?.close();
  });

  it('decides for every member and delivers each deliverable decision exactly once through every sink, through 429s, 5xx and partial errors', async () => {
    fake = await startFakeBraze({
      apiKey: BRAZE_KEY,
      clock: () => NOW,
      maxTrackObjects: 50,
      trackLimit: { requests: 4, windowMs: 500 },
    });
    server = await startServerWithBraze(fake);
    const members = audience(1500);
    fake.inject(
      '/users/track',
      { kind: 'fail-before', status: 503 },
      { kind: 'rate-limited', resetInMs: 200 },
      { kind: 'fail-after', status: 500 },
      { kind: 'rate-limited', resetInMs: 100 },
    );
    fake.inject(
      '/campaigns/trigger',
      { kind: 'fail-before', status: 502 },
      { kind: 'fail-after', status: 500 },
      { kind: 'rate-limited', resetInMs: 100 },
      { kind: 'drop-after' },
    );
    fake.rejectAttributesOf('member-10', 'Invalid value', 1);
    fake.rejectAttributesOf('member-11', 'Invalid value', 99);
    const summary = await runAudience(
      server.service,
      { agentId: AGENT, audience: '*', runId: 'run-a' },
      { store: server.store, source: new InMemoryProfileSource(members), chunkSize: 200 },
    );

    const expected = await deliverable(server, 'run-a', members);
    if (process.env.DEBUG_RUN)
      console.log(
        JSON.stringify(summary),
        JSON.stringify(Object.fromEntries(fake.statuses)),
        JSON.stringify(Object.fromEntries(fake.requests)),
      );
    const rejected = [...expected].filter(([, userId]) => userId === 'member-11').map(([d]) => d);
    for (const d of rejected) expected.delete(d);
    // member-11's attributes are refused for good: its triggered send still goes out
    const attributeDecisions = new Set(fake.tracked.map((a) => a.nb_decision_id));
    expect([...attributeDecisions].sort()).toEqual([...expected.keys()].sort());
    expect(fake.tracked).toHaveLength(expected.size);
    const sends = fake.sends.map((s) => s.properties.nb_decision_id);
    expect(new Set(sends).size).toBe(sends.length);
    expect(sends.length).toBe(expected.size + rejected.length);
    expect(fake.statuses.get(429)).toBe(3); // the injected ones: the client paces itself on X-RateLimit-Remaining
    expect(fake.statuses.get(500)).toBe(2);

    expect(summary).toMatchObject({
      runId: 'run-a',
      status: 'completed',
      members: 1500,
      decided: 1500,
      unfinished: {},
    });
    expect(summary.delivered).toEqual({
      [ATTRIBUTES_SINK]: expected.size,
      [TRIGGER_SINK]: expected.size + rejected.length,
    });
    expect(summary.failed).toEqual(
      rejected.length
        ? {
            [ATTRIBUTES_SINK]: {
              total: 1,
              reasons: { "partial_error: Braze rejected this user's attributes: Invalid value": 1 },
            },
          }
        : {},
    );
    expect(summary.heldOut).toBeGreaterThan(100);
    expect(summary.heldOut).toBeLessThan(200);
    expect(summary.skipped.total).toBe(1500 - expected.size - rejected.length);
    expect(summary.skipped.reasons['guardrail: consent']).toBeGreaterThan(0);
    expect(Object.values(summary.skipped.reasons).reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(
      summary.skipped.total,
    );
  });

  it('decides a member listed twice in one chunk once, and delivers that decision once', async () => {
    fake = await startFakeBraze({ apiKey: BRAZE_KEY, clock: () => NOW });
    server = await startServerWithBraze(fake);
    const members = audience(600, 'twice');
    const ids = members.map((m) => m.userId);
    const listed = [...ids.slice(0, 400), ids[10], ...ids.slice(400)]; // one chunk, decided over several slices
    const summary = await runAudience(
      server.service,
      { agentId: AGENT, audience: 'twice', runId: 'run-twice' },
      { store: server.store, source: new InMemoryProfileSource(members, { twice: listed }) },
    );
    expect(summary).toMatchObject({ status: 'completed', members: 601, decided: 601, unfinished: {} });
    expectDeliveredExactlyOnce(fake, await deliverable(server, 'run-twice', members));
  });

  it('stops at a checkpoint when aborted and, resumed, delivers the rest without a duplicate', async () => {
    fake = await startFakeBraze({ apiKey: BRAZE_KEY, clock: () => NOW });
    server = await startServerWithBraze(fake);
    const members = audience(1000, 'resume');
    const abort = new AbortController();
    const first = await runAudience(
      server.service,
      { agentId: AGENT, audience: '*', runId: 'run-b' },
      {
        store: server.store,
        source: new InMemoryProfileSource(members),
        chunkSize: 100,
        signal: abort.signal,
        onProgress: (p) => p.members >= 300 && abort.abort(),
      },
    );
    expect(first.status).toBe('interrupted');
    expect(first.members).toBe(300);
    const second = await runAudience(
      server.service,
      { agentId: AGENT, audience: '*', resume: 'run-b' },
      { store: server.store, source: new InMemoryProfileSource(members), chunkSize: 100 },
    );
    expect(second).toMatchObject({ status: 'completed', members: 1000, decided: 1000 });
    expectDeliveredExactlyOnce(fake, await deliverable(server, 'run-b', members));
  });

  it('asks Braze about deliveries a crash left in doubt instead of sending them again', async () => {
    fake = await startFakeBraze({ apiKey: BRAZE_KEY, clock: () => NOW });
    server = await startServerWithBraze(fake);
    const members = audience(300, 'doubt');
    await runAudience(
      server.service,
      { agentId: AGENT, audience: '*', runId: 'run-c' },
      { store: server.store, source: new InMemoryProfileSource(members) },
    );
    // As if the process died between Braze's answer and the outbox update: the attributes batch
    // still in flight (its rows pending), the triggered sends answered in doubt (`sending`); and
    // some of those never went out at all.
    const db = sqlite(server).db;
    db.prepare("UPDATE deliveries SET status = 'pending' WHERE run_id = 'run-c' AND sink = ?").run(ATTRIBUTES_SINK);
    const range = db
      .prepare('SELECT min(rowid) AS "from", max(rowid) AS "to" FROM deliveries WHERE run_id = ? AND sink = ?')
      .get('run-c', ATTRIBUTES_SINK) as { from: number; to: number };
    await server.store.setInFlight(WS, 'run-c', ATTRIBUTES_SINK, range, NOW);
    db.prepare("UPDATE deliveries SET status = 'sending' WHERE run_id = 'run-c' AND sink = ?").run(TRIGGER_SINK);
    const lost = db
      .prepare(
        "SELECT d.decision_id, p.payload FROM deliveries d JOIN delivery_payloads p ON p.id = d.payload_id WHERE d.run_id = 'run-c' AND d.sink = ? LIMIT 5",
      )
      .all(TRIGGER_SINK) as { decision_id: string; payload: string }[];
    const lostUsers = new Set(lost.map((l) => JSON.parse(l.payload).userId as string));
    fake.sends.splice(0, fake.sends.length, ...fake.sends.filter((s) => !lostUsers.has(s.externalUserId)));
    for (const u of lostUsers) delete fake.users.get(u)![`nb_trigger_${'00000000-0000-0000-0000-000000000000'}`];
    db.prepare("UPDATE runs SET status = 'interrupted' WHERE run_id = 'run-c'").run();
    const before = { tracked: fake.tracked.length, sends: fake.sends.length };
    const resumed = await runAudience(
      server.service,
      { agentId: AGENT, audience: '*', resume: 'run-c' },
      { store: server.store, source: new InMemoryProfileSource(members) },
    );
    expect(resumed.status).toBe('completed');
    expect(fake.tracked.length).toBe(before.tracked); // all confirmed, none re-sent
    expect(await server.store.getInFlight(WS, 'run-c', ATTRIBUTES_SINK)).toBeUndefined();
    expect(fake.sends.length).toBe(before.sends + lostUsers.size); // only the ones that never landed
    expectDeliveredExactlyOnce(fake, await deliverable(server, 'run-c', members));
  });

  it('counts a member listed twice once, with one decision and one delivery', async () => {
    fake = await startFakeBraze({ apiKey: BRAZE_KEY, clock: () => NOW });
    server = await startServerWithBraze(fake);
    const members = audience(50, 'twice');
    const source = new InMemoryProfileSource(members, {
      list: [...members.map((m) => m.userId), members[3].userId, members[7].userId],
    });
    await runAudience(
      server.service,
      { agentId: AGENT, audience: 'list', runId: 'run-d' },
      { store: server.store, source },
    );
    expectDeliveredExactlyOnce(fake, await deliverable(server, 'run-d', members));
  });

  it('decides and logs in a dry run but delivers nothing, and needs no sink', async () => {
    server = await startTestServer();
    const members = audience(200, 'dry');
    const summary = await runAudience(
      server.service,
      { agentId: AGENT, audience: '*', dryRun: true, runId: 'run-e' },
      { store: server.store, source: new InMemoryProfileSource(members) },
    );
    expect(summary).toMatchObject({ status: 'completed', dryRun: true, members: 200, decided: 200, delivered: {} });
    expect((await deliverable(server, 'run-e', members)).size).toBe(200 - summary.skipped.total);
    expect(await server.store.deliveryCounts(WS, 'run-e')).toEqual([]);
  });

  it('refuses to start when a delivery entry has no sink in this process, naming it', async () => {
    server = await startTestServer();
    await expect(
      runAudience(
        server.service,
        { agentId: AGENT, audience: '*' },
        { store: server.store, source: new InMemoryProfileSource([]) },
      ),
    ).rejects.toThrow(/not connected to braze \(attributes\), braze \(campaign_trigger\)/);
    expect(await server.store.listRuns(WS, 10)).toEqual([]);
  });

  it('refuses to resume a completed run, an unknown one, or one for another audience', async () => {
    server = await startTestServer();
    await runAudience(
      server.service,
      { agentId: AGENT, audience: '*', dryRun: true, runId: 'run-f' },
      { store: server.store, source: new InMemoryProfileSource([]) },
    );
    const codeOf = (p: Promise<unknown>) =>
      p.then(
        () => 'ok',
        (e: RunError) => e.code,
      );
    const source = new InMemoryProfileSource([]);
    expect(
      await codeOf(
        runAudience(
          server.service,
          { agentId: AGENT, audience: '*', resume: 'run-f' },
          { store: server.store, source },
        ),
      ),
    ).toBe('conflict');
    expect(
      await codeOf(
        runAudience(server.service, { agentId: AGENT, audience: '*', resume: 'nope' }, { store: server.store, source }),
      ),
    ).toBe('not_found');
    expect(
      await codeOf(
        runAudience(
          server.service,
          { agentId: AGENT, audience: 'other', resume: 'run-f' },
          { store: server.store, source },
        ),
      ),
    ).toBe('conflict');
  });

  it('refuses an agent that delivers twice to the same sink', async () => {
    const same: DecisionSink = {
      metadata: { name: 'same' },
      deliver: async (ds) => ({ results: ds.map(() => ({ status: 'ok' as const })) }),
    };
    server = await startTestServer({ sinks: () => same });
    await expect(
      runAudience(
        server.service,
        { agentId: AGENT, audience: '*' },
        { store: server.store, source: new InMemoryProfileSource([]) },
      ),
    ).rejects.toThrow(/delivers twice to same/);
  });

  it('delivers a decision logged before a crash with the time it was made, not the time of the resume', async () => {
    let now = NOW;
    const delivered: Decision[] = [];
    const sink = (name: string): DecisionSink => ({
      metadata: { name },
      deliver: async (ds) => {
        delivered.push(...ds);
        return { results: ds.map(() => ({ status: 'ok' as const })) };
      },
    });
    server = await startTestServer({ clock: () => now, sinks: (_agent, delivery) => sink(`times:${delivery.mode}`) });
    const members = audience(40, 'decided-before-the-crash');
    // the decisions a run made before it died, logged under the run's request ids
    for (const m of members) {
      const userKey = server.service.userKey(m.userId);
      await server.service.decide(AGENT, {
        userId: m.userId,
        traits: m.traits,
        timezone: m.timezone,
        requestId: `run:run-t:${userKey}`,
      });
    }
    now = NOW + 3 * 3_600_000;
    await runAudience(
      server.service,
      { agentId: AGENT, audience: '*', runId: 'run-t' },
      { store: server.store, source: new InMemoryProfileSource(members) },
    );
    expect(delivered.length).toBeGreaterThan(0);
    expect(new Set(delivered.map((d) => d.at))).toEqual(new Set([new Date(NOW).toISOString()]));
  });

  it('sends nothing new to a sink while it cannot say whether a batch in flight landed', async () => {
    const sent: string[] = [];
    let canConfirm = false;
    const sink = (name: string): DecisionSink => ({
      metadata: { name },
      deliver: async (ds) => {
        if (name === 'a') sent.push(...ds.map((d) => d.decisionId));
        return { results: ds.map(() => ({ status: 'ok' as const })) };
      },
      confirm: async (ds) => {
        if (!canConfirm) throw new Error('export endpoint unavailable');
        return ds.map(() => true);
      },
    });
    const sinks = { attributes: sink('a'), campaign_trigger: sink('b') };
    server = await startTestServer({ sinks: (_agent, delivery) => sinks[delivery.mode as keyof typeof sinks] });
    const members = audience(200, 'unconfirmable');
    await runAudience(
      server.service,
      { agentId: AGENT, audience: '*', runId: 'run-h' },
      { store: server.store, source: new InMemoryProfileSource(members) },
    );
    const delivered = sent.length;
    // a crash with the whole batch in flight, then a resume while the sink cannot confirm
    const db = sqlite(server).db;
    db.prepare("UPDATE deliveries SET status = 'pending' WHERE run_id = 'run-h' AND sink = 'a'").run();
    const range = db
      .prepare('SELECT min(rowid) AS "from", max(rowid) AS "to" FROM deliveries WHERE run_id = ? AND sink = ?')
      .get('run-h', 'a') as { from: number; to: number };
    await server.store.setInFlight(WS, 'run-h', 'a', range, NOW);
    db.prepare("UPDATE runs SET status = 'interrupted' WHERE run_id = 'run-h'").run();
    const stuck = await runAudience(
      server.service,
      { agentId: AGENT, audience: '*', resume: 'run-h' },
      { store: server.store, source: new InMemoryProfileSource(members) },
    );
    expect(sent.length).toBe(delivered); // nothing sent again unconfirmed
    expect(stuck.status).toBe('failed');
    expect(stuck.unfinished.a).toBe(delivered);
    canConfirm = true;
    const done = await runAudience(
      server.service,
      { agentId: AGENT, audience: '*', resume: 'run-h' },
      { store: server.store, source: new InMemoryProfileSource(members) },
    );
    expect(done).toMatchObject({ status: 'completed', delivered: { a: delivered } });
    expect(sent.length).toBe(delivered);
  });

  it('sets a delivery aside after its attempts, ends failed, and a resume retries it and nothing delivered', async () => {
    const calls: string[] = [];
    let healed = false;
    const flaky: DecisionSink = {
      metadata: { name: 'flaky' },
      deliver: async (ds: readonly Decision[]): Promise<DeliveryReport> => {
        calls.push(...ds.map((d) => d.decisionId));
        return {
          results: ds.map((d) =>
            d.userId.endsWith('7') && !healed ? { status: 'retry', message: 'timeout' } : { status: 'ok' },
          ),
        };
      },
    };
    server = await startTestServer({
      sinks: (_agent, delivery) => ({ ...flaky, metadata: { name: `flaky:${delivery.mode}` } }),
    });
    const members = audience(100, 'flaky');
    const source = new InMemoryProfileSource(members);
    const summary = await runAudience(
      server.service,
      { agentId: AGENT, audience: '*', runId: 'run-g' },
      { store: server.store, source, maxAttempts: 3 },
    );
    const deliverableIds = await deliverable(server, 'run-g', members);
    const stuck = [...deliverableIds.values()].filter((u) => u.endsWith('7')).length;
    expect(summary.failed).toEqual({});
    expect(summary.unfinished).toEqual({ 'flaky:attributes': stuck, 'flaky:campaign_trigger': stuck });
    expect(summary.status).toBe('failed');
    healed = true;
    calls.length = 0;
    const resumed = await runAudience(
      server.service,
      { agentId: AGENT, audience: '*', resume: 'run-g' },
      { store: server.store, source, maxAttempts: 3 },
    );
    expect(resumed.status).toBe('completed');
    expect(resumed.delivered['flaky:attributes']).toBe(deliverableIds.size);
    expect(calls.length).toBe(2 * stuck); // only the ones set aside, once per sink
  });
});

describe('POST /v1/agents/{agentId}/runs', () => {
  let fake: FakeBraze;
  let server: RunningServer;
  beforeEach(async () => {
    fake = await startFakeBraze({ apiKey: BRAZE_KEY, clock: () => NOW });
  });
  afterEach(async () => {
    await server?.close();
    await fake.close();
  });

  it('starts a run in the background and reports its progress and summary', async () => {
    const members = audience(400, 'http');
    server = await startServerWithBraze(fake, {
      profileSource: new InMemoryProfileSource(members, { winback_q3: members.map((m) => m.userId) }),
    });
    const { call } = await import('../server/helpers.ts');
    const started = await call(server, 'POST', `/v1/agents/${AGENT}/runs`, { body: { audience: 'winback_q3' } });
    expect(started.status).toBe(202);
    expect(started.headers.get('location')).toBe(`/v1/runs/${started.body.runId}`);
    const run = await pollUntil(
      async () => (await call(server, 'GET', `/v1/runs/${started.body.runId}`)).body,
      (r) => r.status !== 'running',
      'the run to end',
    );
    expect(run).toMatchObject({ status: 'completed', active: false, summary: { members: 400, decided: 400 } });
    expectDeliveredExactlyOnce(fake, await deliverable(server, started.body.runId, members));
    expect((await call(server, 'GET', '/v1/runs')).body.runs.map((r: { runId: string }) => r.runId)).toEqual([
      started.body.runId,
    ]);
  });

  it('lets only one of two simultaneous resumes of a run start', async () => {
    const members = audience(3000, 'double-resume');
    server = await startServerWithBraze(fake, {
      profileSource: new InMemoryProfileSource(members, { all: members.map((m) => m.userId) }),
    });
    const abort = new AbortController();
    await runAudience(
      server.service,
      { agentId: AGENT, audience: 'all', runId: 'run-r' },
      {
        store: server.store,
        source: new InMemoryProfileSource(members, { all: members.map((m) => m.userId) }),
        chunkSize: 500,
        signal: abort.signal,
        onProgress: (p) => p.members >= 500 && abort.abort(),
      },
    );
    const { call } = await import('../server/helpers.ts');
    const [a, b] = await Promise.all(
      [0, 1].map(() =>
        call(server, 'POST', `/v1/agents/${AGENT}/runs`, { body: { audience: 'all', resume: 'run-r' } }),
      ),
    );
    expect([a.status, b.status].sort()).toEqual([202, 409]);
    const run = await pollUntil(
      async () => (await call(server, 'GET', '/v1/runs/run-r')).body,
      (r) => !r.active,
      'the resumed run to end',
    );
    expect(run.status).toBe('completed');
    expectDeliveredExactlyOnce(fake, await deliverable(server, 'run-r', members));
  });

  it('names the bad field, and answers 404 for an unknown agent or run', async () => {
    server = await startServerWithBraze(fake);
    const { call } = await import('../server/helpers.ts');
    const bad = await call(server, 'POST', `/v1/agents/${AGENT}/runs`, { body: { audience: 7 } });
    expect([bad.status, bad.body.error.message]).toEqual([400, expect.stringContaining('audience')]);
    expect((await call(server, 'POST', '/v1/agents/nope/runs', { body: { audience: 'x' } })).status).toBe(404);
    expect((await call(server, 'GET', '/v1/runs/nope')).status).toBe(404);
    expect(
      (await call(server, 'POST', `/v1/agents/${AGENT}/runs`, { body: { audience: 'file:../../etc/passwd' } })).status,
    ).toBe(400);
    expect(await server.store.listRuns(WS, 10)).toEqual([]);
  });
});
