import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../../plugin/bandit/index.ts';
import { startServer, type RunningServer } from '../../plugin/server/index.ts';
import {
  CHANNELS,
  CONTENT_BLOCKS,
  conversionProbability,
  effects,
  HOURS,
  NORMAL_PREFERENCES,
  population,
  SUBJECT_LINES,
  type Customer,
} from '../../plugin/simulate/index.ts';
import type { SqliteStore } from '../../plugin/store/index.ts';

/**
 * The whole loop over real HTTP on a real SQLite file: 5,000 decisions for the simulator's
 * customers, their true outcomes posted back as Segment track events (in batches, with duplicates
 * and out-of-order timestamps), the learner folding closed windows into the model, the lift report,
 * and a restart that must not change a single next decision.
 */

const KEY = 'nb_e2e_key';
const DAY = 86_400_000;
const T0 = Date.UTC(2026, 2, 2, 9);
const DECISIONS = 5000;
const ROUNDS = 10;
const WINDOW_MS = DAY;

const AGENT = {
  id: 'retail',
  goal: { window: '24h', rewards: [{ event: 'Order Completed', value: 1 }] },
  holdout: 0.2,
  policy: { kind: 'lin-ts', floor: 0.02, draws: 200 },
  features: [
    { trait: 'last_category', type: 'categorical', values: ['running', 'athleisure', 'outdoor'] },
    { trait: 'last_engaged_channel', type: 'categorical', values: ['email', 'sms', 'push'] },
    { trait: 'discount_share', type: 'numeric', min: 0, max: 1 },
  ],
  dimensions: [
    { id: 'channel', arms: ['email', 'sms', 'push'], default: 'email' },
    { id: 'content_block', arms: CONTENT_BLOCKS.map((c) => c.id), default: 'cb_new' },
  ],
  guardrails: {},
  delivery: [{ to: 'braze', mode: 'attributes', prefix: 'nb_' }],
};

interface Logged {
  decisionId: string;
  customer: number;
  at: number;
  holdout: boolean;
  converted: boolean;
  convertedAt: number;
  messageId: string;
  namesDecision: boolean;
}

const post = async (server: RunningServer, path: string, body: unknown) => {
  const res = await fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};

function profileOf(c: Customer) {
  return { userId: c.userId, traits: c.traits, timezone: c.timezone };
}

describe('the decision service, end to end', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nextbest-e2e-'));
  const configPath = join(dir, 'agents.json');
  writeFileSync(configPath, JSON.stringify({ workspace: 'e2e', agents: [AGENT] }));
  let now = T0;
  const clock = () => now;
  const start = (db: string) =>
    startServer({
      configPath,
      db: `sqlite:${db}`,
      port: 0,
      apiKey: KEY,
      learnerIntervalMs: 0,
      clock,
      seed: 'e2e-seed',
      logger: pino({ level: 'silent' }),
    });

  const rng = new Rng('e2e-world');
  const customers = population(1500, rng.fork('population'), T0);
  const truth = customers.map((c) => effects(c, NORMAL_PREFERENCES, SUBJECT_LINES, CONTENT_BLOCKS));
  const log: Logged[] = [];
  let server: RunningServer;
  const eventsPosted = { accepted: 0, duplicates: 0, sent: 0, distinct: 0 };

  beforeAll(async () => {
    server = await start(join(dir, 'nextbest.db'));
    const outcomes = rng.fork('outcomes');
    const perRound = DECISIONS / ROUNDS;
    for (let round = 0; round < ROUNDS; round++) {
      // A day of decisions, 50 at a time in parallel.
      for (let i = 0; i < perRound; i += 50) {
        const batch = Array.from({ length: 50 }, () => {
          const customer = outcomes.int(customers.length);
          const at = T0 + round * DAY + (i / perRound) * (DAY / 2);
          return { customer, at };
        });
        now = batch[0].at;
        // A request id per decision makes its id, and so its randomness, reproducible from the seed.
        const answers = await Promise.all(
          batch.map(({ customer }, k) =>
            post(server, '/v1/agents/retail/decide', {
              ...profileOf(customers[customer]),
              explain: false,
              requestId: `e2e-${round}-${i + k}`,
            }),
          ),
        );
        for (const [k, { customer }] of batch.entries()) {
          const answer = answers[k].body as {
            decisionId: string;
            holdout: boolean;
            deliver: boolean;
            choices: Record<string, { arm: string }>;
          };
          expect(answers[k].status).toBe(200);
          const channel = CHANNELS.indexOf(answer.choices.channel.arm as (typeof CHANNELS)[number]);
          const message = answer.deliver
            ? {
                channel,
                hour: HOURS.indexOf(12),
                subject: CHANNELS[channel] === 'email' ? 0 : -1,
                content: CONTENT_BLOCKS.findIndex((c) => c.id === answer.choices.content_block.arm),
              }
            : undefined;
          const p = conversionProbability(customers[customer], truth[customer], 0, message);
          const converted = outcomes.next() < p;
          log.push({
            decisionId: answer.decisionId,
            customer,
            at: now,
            holdout: answer.holdout,
            converted,
            convertedAt: now + 1000 + Math.floor(outcomes.next() * (WINDOW_MS / 2)),
            messageId: `order-${answer.decisionId}`,
            namesDecision: outcomes.next() < 0.5,
          });
        }
      }
      // The day's conversions come back in shuffled batches of 100 (out of order), 10 % of them twice.
      const day = log.slice(round * perRound).filter((l) => l.converted);
      const events = day.map((l) => ({
        type: 'track',
        event: 'Order Completed',
        userId: customers[l.customer].userId,
        messageId: l.messageId,
        timestamp: new Date(l.convertedAt).toISOString(),
        properties: { revenue: 80, ...(l.namesDecision ? { decision_id: l.decisionId } : {}) },
      }));
      const resend = events.filter(() => outcomes.next() < 0.1);
      const all = [...events, ...resend];
      for (let i = all.length - 1; i > 0; i--) {
        const j = outcomes.int(i + 1);
        [all[i], all[j]] = [all[j], all[i]];
      }
      for (let i = 0; i < all.length; i += 100) {
        const res = await post(server, '/v1/events', { batch: all.slice(i, i + 100) });
        expect(res.status).toBe(200);
        eventsPosted.accepted += res.body.accepted as number;
        eventsPosted.duplicates += res.body.duplicates as number;
      }
      eventsPosted.sent += all.length;
      eventsPosted.distinct += events.length;
      now = T0 + (round + 1) * DAY;
      await server.service.learnClosed();
    }
    now += 2 * DAY;
    await server.service.learnClosed();
  }, 240_000);

  afterAll(async () => {
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('stores every distinct outcome event once and ignores the duplicates', () => {
    expect(eventsPosted.accepted).toBe(eventsPosted.distinct);
    expect(eventsPosted.duplicates).toBe(eventsPosted.sent - eventsPosted.distinct);
    const store = server.store as SqliteStore;
    expect(
      (store.db.prepare("select count(*) as n from events where workspace = 'e2e'").get() as { n: number }).n,
    ).toBe(eventsPosted.distinct);
  });

  it('attributes every outcome exactly once, to the decision it belongs to', async () => {
    const rows = [];
    for (const d of await server.store.listDecisions('e2e', 'retail', 1_000_000)) {
      for (const o of await server.store.outcomesOf('e2e', d.decisionId))
        rows.push({ decision_id: o.decisionId, message_id: o.messageId });
    }
    const byMessage = new Map<string, string[]>();
    for (const r of rows) byMessage.set(r.message_id, [...(byMessage.get(r.message_id) ?? []), r.decision_id]);
    const converted = log.filter((l) => l.converted);
    expect(byMessage.size).toBe(converted.length);
    for (const l of converted) {
      // An event naming its decision counts for it; otherwise for the user's latest decision whose window holds it.
      const expected = l.namesDecision
        ? l.decisionId
        : log
            .filter((o) => o.customer === l.customer && o.at <= l.convertedAt && l.convertedAt < o.at + WINDOW_MS)
            .at(-1)!.decisionId;
      expect(byMessage.get(l.messageId), l.messageId).toEqual([expected]);
    }
  });

  it('folds every closed decision into the model exactly once', async () => {
    const decisions = await server.store.listDecisions('e2e', 'retail', 1_000_000);
    expect(decisions.length).toBe(DECISIONS);
    expect(decisions.filter((d) => d.learned).length).toBe(DECISIONS);
  });

  it('reports a positive lift over the holdout whose 95 % interval excludes 0, with no sample-ratio mismatch', async () => {
    const res = await fetch(`${server.url}/v1/agents/retail/report`, { headers: { authorization: `Bearer ${KEY}` } });
    const report = (await res.json()) as {
      decisions: { total: number; closed: number };
      treatment: { n: number; mean: number };
      holdout: { n: number; mean: number };
      lift: { difference: number; lower: number; upper: number; significant: boolean };
      srm: { mismatch: boolean };
    };
    expect(report.decisions).toMatchObject({ total: DECISIONS, closed: DECISIONS });
    expect(report.treatment.n + report.holdout.n).toBe(DECISIONS);
    expect(report.lift.difference).toBeGreaterThan(0);
    expect(report.lift.lower).toBeGreaterThan(0);
    expect(report.lift.significant).toBe(true);
    expect(report.srm.mismatch).toBe(false);
  });

  it('makes identical decisions after a restart as a server that never restarted', async () => {
    const store = server.store as SqliteStore;
    const copy = join(dir, 'restarted.db');
    store.db.prepare('VACUUM INTO ?').run(copy);
    const restarted = await start(copy);
    try {
      for (let i = 0; i < 200; i++) {
        const c = customers[(i * 7) % customers.length];
        const body = { ...profileOf(c), requestId: `after-restart-${i}` };
        const [a, b] = await Promise.all([
          post(server, '/v1/agents/retail/decide', body),
          post(restarted, '/v1/agents/retail/decide', body),
        ]);
        expect(b.body.choices).toEqual(a.body.choices);
        expect(b.body.probability).toBe(a.body.probability);
      }
    } finally {
      await restarted.close();
    }
  });
});
