/**
 * The closed loop with Braze, end to end against the fakes: a triggered run, Braze skipping the
 * recipients who are not re-eligible (answering success all the same), Currents reporting what
 * was really sent, and the learner and the report leaving the skipped decisions out.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { brazeConnection, brazeCurrents, BrazeClient, CURRENTS_PATH } from '../../../adapters/braze/index.ts';
import { InMemoryProfileSource, type Profile } from '../../../plugin/agent/index.ts';
import { Rng } from '../../../plugin/bandit/index.ts';
import { runAudience, type RunSummary } from '../../../plugin/run/index.ts';
import type { RunningServer } from '../../../plugin/server/index.ts';
import { startFakeBraze, type FakeBraze } from '../../fakes/braze.ts';
import { audience, BRAZE_KEY, CAMPAIGN, TRIGGER_SINK } from '../../run/helpers.ts';
import {
  decisionsOfRun,
  EXAMPLE_AGENT as AGENT,
  EXAMPLE_WORKSPACE as WS,
  NOW,
  startTestServer,
} from '../../server/helpers.ts';

const TOKEN = 'currents-token-0123456789';
const HOUR = 3_600_000;
const WAIT_MINUTES = 60;

describe('a Braze triggered run, closed by Currents', () => {
  let fake: FakeBraze;
  let server: RunningServer;
  let now = NOW;
  afterEach(async () => {
    await server?.close();
    await fake?.close();
    now = NOW;
  });

  /** The server (virtual clock) with the Braze sinks, proof of send and the Currents endpoint; the fake reports to it. */
  async function start(waitMinutes = WAIT_MINUTES): Promise<void> {
    server = await startTestServer({
      clock: () => now,
      extensions: [brazeCurrents({ token: TOKEN })],
      sinks: (agent, delivery) => connection(waitMinutes).sinkFor(agent, delivery),
    });
    fake = await startFakeBraze({
      apiKey: BRAZE_KEY,
      clock: () => now,
      targets: { [CAMPAIGN]: {} }, // Braze's default for a campaign: never re-eligible
      currents: { url: `${server.url}${CURRENTS_PATH}`, token: TOKEN, batchSize: 40 },
    });
  }

  function connection(waitMinutes: number) {
    const rng = new Rng('closed-loop');
    const client = new BrazeClient({
      baseUrl: fake.url,
      apiKey: BRAZE_KEY,
      backoffBaseMs: 2,
      random: () => rng.next(),
    });
    return brazeConnection(client, {
      clock: () => now,
      confirmDelaysMs: [1],
      sendProofWithinMs: waitMinutes * 60_000,
    });
  }

  /** Sends the campaign to these users before the run, as an earlier campaign send would have. */
  async function sentBefore(userIds: string[]): Promise<void> {
    const res = await fetch(`${fake.url}/campaigns/trigger/send`, {
      method: 'POST',
      headers: { authorization: `Bearer ${BRAZE_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ campaign_id: CAMPAIGN, recipients: userIds.map((id) => ({ external_user_id: id })) }),
    });
    expect(res.status).toBe(201);
  }

  const run = (members: Profile[], runId: string): Promise<RunSummary> =>
    runAudience(
      server.service,
      { agentId: AGENT, audience: '*', runId },
      { store: server.store, source: new InMemoryProfileSource(members) },
    );

  it('marks the 10 % Braze skipped not sent, warns, and leaves them out of learning and of the lift; nothing is sent twice', async () => {
    await start();
    const members = audience(200, 'closed-loop');
    const notReEligible = members.filter((_, i) => i % 10 === 0).map((m) => m.userId);
    await sentBefore(notReEligible);
    await fake.flushCurrents(); // the earlier sends, reported before the run: they match no decision
    const sendsBefore = fake.sends.length;

    const summary = await run(members, 'run-1');
    const decisions = (
      await decisionsOfRun(
        server.store,
        WS,
        AGENT,
        'run-1',
        members.map((m) => m.userId),
      )
    ).filter((d) => d.deliver);
    const userOf = new Map(members.map((m) => [server.service.userKey(m.userId), m.userId]));
    const skippedIds = new Set(notReEligible);
    const skipped = decisions.filter((d) => skippedIds.has(userOf.get(d.userKey)!));
    expect(skipped.length).toBeGreaterThan(5);
    // Braze answered success for every recipient, the skipped ones included
    expect(summary).toMatchObject({ status: 'completed', delivered: { [TRIGGER_SINK]: decisions.length } });
    expect(fake.skipped.map((s) => s.externalUserId).sort()).toEqual(skipped.map((d) => userOf.get(d.userKey)!).sort());
    expect(fake.skipped.every((s) => s.reason === 'not_re_eligible')).toBe(true);
    // nothing sent twice: one send per deliverable user Braze did not skip, and no one else
    const runSends = fake.sends.slice(sendsBefore).map((s) => s.externalUserId);
    expect(new Set(runSends).size).toBe(runSends.length);
    expect(runSends.length).toBe(decisions.length - skipped.length);

    // Currents reports the sends, in batches; an hour later the silent ones are due
    expect(fake.pendingCurrents()).toBe(2 * runSends.length); // Send and Delivery
    expect((await fake.flushCurrents()).every((status) => status === 200)).toBe(true);
    now = NOW + 2 * HOUR;
    const next = await run([], 'run-2');
    expect(next.warnings).toEqual([
      expect.stringContaining(`run run-1 had ${decisions.length} sends answered with success`),
    ]);
    expect(next.warnings![0]).toContain(`no send for ${skipped.length} of them`);
    const proofs = await server.store.sendProofsOf(
      WS,
      decisions.map((d) => d.decisionId),
    );
    const notSent = proofs.filter((p) => p.state === 'not_sent').map((p) => p.decisionId);
    expect(notSent.sort()).toEqual(skipped.map((d) => d.decisionId).sort());
    expect(proofs.filter((p) => p.state === 'sent')).toHaveLength(decisions.length - skipped.length);

    // everyone orders: the skipped customers' orders must not credit a message they never got
    now = NOW + 30 * HOUR;
    await server.service.ingest(
      members.map((m, i) => ({
        type: 'track',
        messageId: `order-${i}`,
        userId: m.userId,
        event: 'Order Completed',
        properties: {},
        timestamp: NOW + 30 * HOUR, // after every send time (within a day)
      })),
    );
    now = NOW + 80 * HOUR;
    await server.service.learnClosed();
    for (const d of skipped)
      expect(await server.store.getDecision(WS, d.decisionId)).toMatchObject({ learned: true, reward: null });
    const sent = decisions.filter((d) => !skippedIds.has(userOf.get(d.userKey)!));
    for (const d of sent) expect((await server.store.getDecision(WS, d.decisionId))!.reward).toBe(1);

    const report = await server.service.report(AGENT);
    const heldOut = skipped.filter((d) => d.holdout).length;
    expect(report.notSent).toMatchObject({
      treatment: skipped.length - heldOut,
      holdout: heldOut,
      reasons: { no_send_event: skipped.length },
    });
    const cells = (await server.store.reportCells(WS, AGENT)).filter((c) => c.dimension === null);
    const all = await decisionsOfRun(
      server.store,
      WS,
      AGENT,
      'run-1',
      members.map((m) => m.userId),
    );
    const treatment = cells.filter((c) => !c.holdout).reduce((n, c) => n + c.decided, 0);
    expect(treatment).toBe(all.filter((d) => !d.holdout).length - (skipped.length - heldOut));
  });

  it('holds back learning while a send is still awaited when the window closes, and learns it once Currents reports it', async () => {
    await start(100 * 60); // a wait longer than the 72 h window
    const members = audience(40, 'late-currents');
    await run(members, 'run-late');
    const decisions = (
      await decisionsOfRun(
        server.store,
        WS,
        AGENT,
        'run-late',
        members.map((m) => m.userId),
      )
    ).filter((d) => d.deliver);
    const learned = async () =>
      (await Promise.all(decisions.map((d) => server.store.getDecision(WS, d.decisionId)))).filter((d) => d!.learned);
    now = NOW + 80 * HOUR;
    await server.service.learnClosed();
    expect(await learned()).toEqual([]);
    await fake.flushCurrents(); // the reports arrive late
    await server.service.learnClosed();
    const rows = await learned();
    expect(rows).toHaveLength(decisions.length);
    expect(rows.every((d) => d!.reward === 0)).toBe(true); // sent, and learned (no outcome)
    expect((await server.service.report(AGENT)).notSent).toBeUndefined();
  });

  it('leaves a send never reported out once the wait is over, even past the window', async () => {
    await start(100 * 60);
    const members = audience(40, 'never-reported');
    await run(members, 'run-silent');
    const decisions = (
      await decisionsOfRun(
        server.store,
        WS,
        AGENT,
        'run-silent',
        members.map((m) => m.userId),
      )
    ).filter((d) => d.deliver);
    now = NOW + 101 * HOUR; // Currents never reported anything
    await server.service.learnClosed();
    for (const d of decisions)
      expect(await server.store.getDecision(WS, d.decisionId)).toMatchObject({ learned: true, reward: null });
    const report = await server.service.report(AGENT);
    expect(report.notSent!.treatment + report.notSent!.holdout).toBe(decisions.length);
  });
});
