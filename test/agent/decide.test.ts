import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { learn } from '../../plugin/agent/learn.ts';
import { createAgentModel, type AgentModel } from '../../plugin/agent/model.ts';
import type { Decision, Profile } from '../../plugin/agent/types.ts';
import { unitHash } from '../../plugin/bandit/index.ts';
import { POLICY_KINDS, type AgentConfig } from '../../plugin/config/index.ts';
import { expectClose } from '../helpers/index.ts';
import {
  CHANNEL,
  CONTENT_BLOCK,
  DAY_MS,
  decideWith,
  findUser,
  FREQUENCY,
  isQuiet,
  makeAgent,
  makeProfile,
  NOW,
  SEND_TIME,
  SUBJECT_LINE,
  wallClock,
} from './factories.ts';

const at = (iso: string) => Date.parse(iso);
const ids = (n: number) => Array.from({ length: n }, (_, i) => `d-${i}`);
const QUARTER_MS = 15 * 60_000;
const product = (d: Decision) => Object.values(d.choices).reduce((p, c) => p * c.probability, 1);

/** Explicit consent for exactly the listed channels. */
const consentOnly = (...channels: string[]): Record<string, boolean> => ({
  email: channels.includes('email'),
  sms: channels.includes('sms'),
  push: channels.includes('push'),
});

/** Decides `n` times (decision ids d-0 … d-(n-1)) for the same customer. */
function decideMany(
  agent: AgentConfig,
  model: AgentModel,
  profile: Profile,
  n: number,
  options: Parameters<typeof decideWith>[3] = {},
): Decision[] {
  return ids(n).map((decisionId) => decideWith(agent, model, profile, { ...options, decisionId }));
}

/** Decides and learns `rounds` times; `reward` scores each decision, `profileAt` picks the customer. */
function train(
  agent: AgentConfig,
  model: AgentModel,
  rounds: number,
  profileAt: (t: number) => Profile,
  reward: (d: Decision) => number,
): void {
  for (let t = 0; t < rounds; t++) {
    const decision = decideWith(agent, model, profileAt(t), { seed: 'train', decisionId: `t-${t}` });
    learn(agent, model, decision, reward(decision));
  }
}

describe('decide', () => {
  describe('dimensions', () => {
    it('decides the dimensions in their declared order', () => {
      const agent = makeAgent({
        dimensions: [{ ...FREQUENCY, arms: ['send'] }, CHANNEL, SEND_TIME, SUBJECT_LINE, CONTENT_BLOCK],
      });
      const decision = decideWith(agent, createAgentModel(agent), makeProfile({ consent: consentOnly('email') }), {
        explain: true,
      });
      expect(Object.keys(decision.choices)).toEqual([
        'frequency',
        'channel',
        'send_time',
        'subject_line',
        'content_block',
      ]);
      expect(decision.explanation!.map((e) => e.dimension)).toEqual([
        'frequency',
        'channel',
        'send_time',
        'subject_line',
        'content_block',
      ]);
    });

    it('decides subject_line when the channel is email', () => {
      const agent = makeAgent();
      const decision = decideWith(agent, createAgentModel(agent), makeProfile({ consent: consentOnly('email') }), {
        decisionId: 'email',
      });
      expect(decision.choices.channel.arm).toBe('email');
      expect(decision.choices.subject_line).toBeDefined();
    });

    it.each(['sms', 'push'])('leaves subject_line out of the choices when the channel is %s', (channel) => {
      const agent = makeAgent({ dimensions: [CHANNEL, SEND_TIME, SUBJECT_LINE, CONTENT_BLOCK] });
      const decision = decideWith(agent, createAgentModel(agent), makeProfile({ consent: consentOnly(channel) }));
      expect(decision.choices.channel.arm).toBe(channel);
      expect(decision.choices).not.toHaveProperty('subject_line');
      expect(decision.choices).toHaveProperty('content_block');
    });

    it('decides subject_line exactly when email was chosen, over many decisions', () => {
      const agent = makeAgent();
      const decisions = decideMany(agent, createAgentModel(agent), makeProfile(), 200).filter((d) => d.choices.channel);
      for (const d of decisions)
        expect('subject_line' in d.choices, `channel ${d.choices.channel.arm}`).toBe(d.choices.channel.arm === 'email');
      expect(new Set(decisions.map((d) => d.choices.channel.arm))).toEqual(new Set(['email', 'sms', 'push']));
    });

    it('lets a later dimension learn from the earlier choices it sees as context', () => {
      const agent = makeAgent({
        policy: { kind: 'eps-greedy', epsilon: 0.2 },
        features: [],
        dimensions: [CHANNEL, CONTENT_BLOCK],
      });
      const model = createAgentModel(agent);
      const emailOnly = makeProfile({ consent: consentOnly('email') });
      const smsOnly = makeProfile({ consent: consentOnly('sms') });
      // cb_specs works for email, cb_style for sms
      const pays = (d: Decision) => (d.choices.channel.arm === 'email' ? 'cb_specs' : 'cb_style');
      train(
        agent,
        model,
        600,
        (t) => (t % 2 === 0 ? emailOnly : smsOnly),
        (d) => (d.choices.content_block?.arm === pays(d) ? 1 : 0),
      );
      const estimates = (profile: Profile) => {
        const d = decideWith(agent, model, profile, { explain: true });
        return Object.fromEntries(d.explanation![1].arms.map((a) => [a.arm, a.estimate]));
      };
      const email = estimates(emailOnly);
      const sms = estimates(smsOnly);
      expect(email.cb_specs).toBeGreaterThan(email.cb_style);
      expect(sms.cb_style).toBeGreaterThan(sms.cb_specs);
    });
  });

  describe('probabilities', () => {
    it.each<[string, Record<string, unknown>, Partial<Profile>, Record<string, number>]>([
      [
        'every arm eligible',
        {},
        {},
        { frequency: 1 / 2, channel: 1 / 3, send_time: 1 / 4, subject_line: 1 / 2, content_block: 1 / 3 },
      ],
      [
        'one channel without consent',
        {},
        { traits: { email_subscribed: true, sms_opt_in: false, push_enabled: true } },
        { channel: 1 / 2 },
      ],
      ['a single channel with consent', {}, { consent: consentOnly('push') }, { channel: 1 }],
      [
        'an hour in quiet hours',
        { guardrails: { quiet_hours: { start: '19:00', end: '08:00' } } },
        {},
        { send_time: 1 / 3 },
      ],
      [
        'an ineligible subject line',
        {
          guardrails: {
            eligibility: [{ arm: { subject_line: 'sl_urgency' }, unless: { trait: 'vip', equals: false } }],
          },
        },
        {},
        { subject_line: 1 },
      ],
      [
        'a forbidden combination',
        { guardrails: { forbid: [{ channel: 'sms', content_block: 'cb_style' }] } },
        { consent: consentOnly('sms') },
        { content_block: 1 / 2 },
      ],
    ])('is 1/k for k eligible arms under a random policy: %s', (_name, overrides, profile, expected) => {
      const agent = makeAgent(overrides);
      const decisions = decideMany(agent, createAgentModel(agent), makeProfile(profile), 60);
      for (const [dimension, p] of Object.entries(expected)) {
        const decided = decisions.filter((d) => d.choices[dimension]);
        expect(decided.length, dimension).toBeGreaterThan(0);
        for (const d of decided) expect(d.choices[dimension].probability, dimension).toBe(p);
      }
    });

    it('is what the policy distribution gave the chosen arm', () => {
      const epsilon = 0.2;
      const floor = 0.1;
      const agent = makeAgent({ policy: { kind: 'eps-greedy', epsilon, floor }, features: [], dimensions: [CHANNEL] });
      const model = createAgentModel(agent);
      train(
        agent,
        model,
        200,
        () => makeProfile(),
        (d) => (d.choices.channel.arm === 'email' ? 1 : 0),
      );
      // email is the unique greedy arm: (1 − floor)·(1 − ε + ε/K) + floor/K; the others (1 − floor)·ε/K + floor/K
      const expected: Record<string, number> = {
        email: (1 - floor) * (1 - epsilon + epsilon / 3) + floor / 3,
        sms: (1 - floor) * (epsilon / 3) + floor / 3,
        push: (1 - floor) * (epsilon / 3) + floor / 3,
      };
      const decisions = decideMany(agent, model, makeProfile(), 100);
      for (const d of decisions) expectClose(d.choices.channel.probability, expected[d.choices.channel.arm]);
      expect(new Set(decisions.map((d) => d.choices.channel.arm)).size).toBeGreaterThan(1);
    });

    it("says per dimension whether the policy chose the arm it estimates best, and that arm's probability", () => {
      const agent = makeAgent({
        policy: { kind: 'eps-greedy', epsilon: 0.2, floor: 0.1 },
        features: [],
        dimensions: [CHANNEL],
      });
      const model = createAgentModel(agent);
      train(
        agent,
        model,
        200,
        () => makeProfile(),
        (d) => (d.choices.channel.arm === 'email' ? 1 : 0),
      );
      const best = 0.9 * (1 - 0.2 + 0.2 / 3) + 0.1 / 3;
      const decisions = decideMany(agent, model, makeProfile(), 100);
      for (const { choices } of decisions) {
        expectClose(choices.channel.best!, best);
        expect(choices.channel.reason).toBe(choices.channel.arm === 'email' ? 'exploit' : 'explore');
      }
      expect(new Set(decisions.map((d) => d.choices.channel.reason))).toEqual(new Set(['exploit', 'explore']));
    });

    it.each(POLICY_KINDS)("equals the explanation's probability of the chosen arm under %s", (kind) => {
      const agent = makeAgent({ policy: kind === 'random' ? { kind } : { kind, floor: 0.1 } });
      const model = createAgentModel(agent);
      train(
        agent,
        model,
        50,
        (t) => makeProfile({ userId: `u-${t}`, traits: { ...makeProfile().traits, lifetime_orders: t % 7 } }),
        (d) => (d.choices.content_block?.arm === 'cb_bundle' ? 1 : 0),
      );
      for (const d of decideMany(agent, model, makeProfile(), 20, { explain: true })) {
        for (const e of d.explanation!)
          expect(d.choices[e.dimension].probability).toBe(e.arms.find((a) => a.arm === e.chosen)!.probability);
      }
    });

    it.each(POLICY_KINDS)(
      'gives a joint probability equal to the product over the decided dimensions under %s',
      (kind) => {
        const agent = makeAgent({ policy: { kind } });
        const model = createAgentModel(agent);
        train(
          agent,
          model,
          50,
          () => makeProfile(),
          (d) => (d.choices.channel?.arm === 'sms' ? 1 : 0),
        );
        for (const d of decideMany(agent, model, makeProfile(), 30)) expectClose(d.probability, product(d), 1e-12);
      },
    );
  });

  describe('frequency', () => {
    const agent = makeAgent();
    const decisions = decideMany(agent, createAgentModel(agent), makeProfile(), 80);
    const skips = decisions.filter((d) => d.choices.frequency.arm === 'skip');
    const sends = decisions.filter((d) => d.choices.frequency.arm === 'send');

    it('skip delivers nothing and has no send time', () => {
      expect(skips.length).toBeGreaterThan(0);
      for (const d of skips) {
        expect(d.deliver).toBe(false);
        expect(d.sendAt).toBeUndefined();
      }
    });

    it('skip decides no later dimension', () => {
      for (const d of skips) expect(Object.keys(d.choices)).toEqual(['frequency']);
    });

    it('skip is not a guardrail stop', () => {
      for (const d of skips) {
        expect(d.reason).not.toBe('guardrail');
        expect(d.suppressed).toBeUndefined();
      }
    });

    it('send delivers with a send time', () => {
      expect(sends.length).toBeGreaterThan(0);
      for (const d of sends) {
        expect(d.deliver).toBe(true);
        expect(d.sendAt).toBeDefined();
      }
    });
  });

  describe('send time', () => {
    const QUIET = { start: '12:30', end: '14:00' };
    // 13 is quiet (13:00 is in 12:30–14:00); 12:00 is not; 0, 1, 2 and 3 cover DST changes
    const HOURS = [0, 1, 2, 3, 8, 12, 18, 23];
    const agents = HOURS.map((hour) => {
      const agent = makeAgent({
        dimensions: [CHANNEL, { id: 'send_time', type: 'local_hour', arms: [hour], default: hour }],
        guardrails: { quiet_hours: QUIET },
      });
      return { hour, agent, model: createAgentModel(agent) };
    });

    /** The first quarter-hour instant strictly after `now` at which the local clock reads hour:00 (every zone offset is a multiple of 15 min). */
    function firstReading(now: number, zone: string | undefined, hour: number): number {
      for (let t = Math.floor(now / QUARTER_MS) * QUARTER_MS + QUARTER_MS; t < now + 10 * DAY_MS; t += QUARTER_MS) {
        const clock = wallClock(t, zone);
        if (clock.hour === hour && clock.minute === 0) return t;
      }
      throw new Error('no reading within 10 days');
    }

    it.each<[string, string | undefined, string]>([
      ['UTC', 'UTC', '2026-06-01T12:00:00Z'],
      ['UTC, off the hour', 'UTC', '2026-06-01T07:59:59.999Z'],
      ['no time zone (UTC)', undefined, '2026-06-01T10:20:00Z'],
      ['an unknown time zone (UTC)', 'Mars/Olympus_Mons', '2026-06-01T10:20:00Z'],
      ['New York in summer', 'America/New_York', '2026-06-01T03:10:00Z'],
      ['New York the day clocks spring forward', 'America/New_York', '2026-03-07T20:00:00Z'],
      ['New York in the first of two 01:00 readings', 'America/New_York', '2026-11-01T05:30:00Z'],
      ['Paris the night clocks spring forward', 'Europe/Paris', '2026-03-28T23:30:00Z'],
      ['Paris the night clocks fall back', 'Europe/Paris', '2026-10-24T23:30:00Z'],
      ['Kolkata (UTC+5:30)', 'Asia/Kolkata', '2026-06-01T12:00:00Z'],
      ['Kathmandu (UTC+5:45)', 'Asia/Kathmandu', '2026-06-01T12:00:00Z'],
      ['Chatham (UTC+12:45/+13:45) at its spring change', 'Pacific/Chatham', '2026-09-26T12:00:00Z'],
      ["St John's (UTC−3:30)", 'America/St_Johns', '2026-11-01T02:00:00Z'],
      ['Lord Howe (30-minute DST) at its spring change', 'Australia/Lord_Howe', '2026-10-03T12:00:00Z'],
      ['Santiago, where midnight is skipped', 'America/Santiago', '2026-09-05T12:00:00Z'],
      ['Sydney at its autumn change', 'Australia/Sydney', '2026-04-04T12:00:00Z'],
    ])('is the next reading of the chosen local hour strictly after now in %s', (_name, zone, nowIso) => {
      const now = at(nowIso);
      for (const { hour, agent, model } of agents) {
        const d = decideWith(agent, model, makeProfile({ timezone: zone }), { now });
        expect(d.choices.send_time.arm).toBe(String(hour));
        expect(d.sendAt, `hour ${hour}`).toBe(new Date(firstReading(now, zone, hour)).toISOString());
        expect(isQuiet(wallClock(Date.parse(d.sendAt!), zone).minuteOfDay, QUIET), `hour ${hour}`).toBe(false);
      }
    });

    it('never chooses an hour inside quiet hours', () => {
      const agent = makeAgent({
        dimensions: [CHANNEL, { id: 'send_time', type: 'local_hour', arms: [8, 12, 13, 22], default: 12 }],
        guardrails: { quiet_hours: QUIET },
      });
      const decisions = decideMany(agent, createAgentModel(agent), makeProfile(), 100);
      expect(new Set(decisions.map((d) => d.choices.send_time.arm))).toEqual(new Set(['8', '12', '22']));
    });

    it('sends now when there is no local_hour dimension and now is outside quiet hours', () => {
      const agent = makeAgent({ dimensions: [CHANNEL], guardrails: { quiet_hours: { start: '21:00', end: '08:00' } } });
      const d = decideWith(agent, createAgentModel(agent), makeProfile({ timezone: 'America/New_York' }), {
        now: at('2026-06-01T16:00:00Z'),
      });
      expect(d.sendAt).toBe('2026-06-01T16:00:00.000Z');
    });

    it('sends when quiet hours end when there is no local_hour dimension and now is inside them', () => {
      const agent = makeAgent({ dimensions: [CHANNEL], guardrails: { quiet_hours: { start: '21:00', end: '08:00' } } });
      const d = decideWith(agent, createAgentModel(agent), makeProfile({ timezone: 'America/New_York' }), {
        now: at('2026-06-02T03:00:00Z'),
      });
      expect(d.sendAt).toBe('2026-06-02T12:00:00.000Z'); // 08:00 EDT
    });

    it('sends when quiet hours end the second time the clock reads their end on a fall-back night', () => {
      // New York falls back from 02:00 EDT to 01:00 EST at 06:00Z on 2026-11-01. At 06:15Z the clock
      // reads 01:15 (again), inside 23:00–01:30; it reads 01:30 again, and quiet hours are over, at 06:30Z.
      const agent = makeAgent({ dimensions: [CHANNEL], guardrails: { quiet_hours: { start: '23:00', end: '01:30' } } });
      const d = decideWith(agent, createAgentModel(agent), makeProfile({ timezone: 'America/New_York' }), {
        now: at('2026-11-01T06:15:00Z'),
      });
      expect(d.sendAt).toBe('2026-11-01T06:30:00.000Z');
    });
  });

  describe('holdout', () => {
    const agent = makeAgent({ holdout: 0.3 });
    const model = createAgentModel(agent);
    const isHeldOut = (userId: string) => decideWith(agent, model, makeProfile({ userId })).holdout;
    const heldOut = findUser(isHeldOut, true);
    const treated = findUser(isHeldOut, false);

    it('gives a held-out customer the default arms with probability 1', () => {
      for (const d of decideMany(agent, model, makeProfile({ userId: heldOut }), 20)) {
        expect(d.choices).toEqual({
          frequency: { arm: 'send', probability: 1 },
          channel: { arm: 'email', probability: 1 },
          send_time: { arm: '12', probability: 1 },
          subject_line: { arm: 'sl_plain', probability: 1 },
          content_block: { arm: 'cb_style', probability: 1 },
        });
        expect(d.probability).toBe(1);
      }
    });

    it("marks a held-out decision with holdout: true and reason 'holdout'", () => {
      expect(decideWith(agent, model, makeProfile({ userId: heldOut }))).toMatchObject({
        holdout: true,
        reason: 'holdout',
        deliver: true,
      });
    });

    it('lets a customer outside the holdout be decided by the policy', () => {
      const decisions = decideMany(agent, model, makeProfile({ userId: treated }), 20);
      for (const d of decisions) expect(d).toMatchObject({ holdout: false });
      expect(new Set(decisions.map((d) => d.choices.content_block?.arm)).size).toBeGreaterThan(1);
    });

    it("respects a dimension's when for the default arms", () => {
      const smsDefault = makeAgent({
        holdout: 0.5,
        dimensions: [{ ...CHANNEL, default: 'sms' }, SUBJECT_LINE, CONTENT_BLOCK],
      });
      const smsModel = createAgentModel(smsDefault);
      const user = findUser((userId) => decideWith(smsDefault, smsModel, makeProfile({ userId })).holdout, true);
      expect(Object.keys(decideWith(smsDefault, smsModel, makeProfile({ userId: user })).choices)).toEqual([
        'channel',
        'content_block',
      ]);
    });

    it('sends a held-out customer at the default hour', () => {
      const d = decideWith(agent, model, makeProfile({ userId: heldOut, timezone: 'Europe/Paris' }), {
        now: at('2026-06-01T06:00:00Z'),
      });
      expect(d.sendAt).toBe('2026-06-01T10:00:00.000Z'); // 12:00 CEST
    });

    it.each([0.05, 0.1, 0.3, 0.5])('holds out a share close to %s of users', (share) => {
      const a = makeAgent({ holdout: share, dimensions: [CHANNEL] });
      const m = createAgentModel(a);
      const n = 20_000;
      let held = 0;
      for (let i = 0; i < n; i++)
        if (decideWith(a, m, makeProfile({ userId: `customer-${i}` }), { decisionId: `d-${i}` }).holdout) held++;
      // 5 standard errors of a binomial share
      expect(Math.abs(held / n - share)).toBeLessThan(5 * Math.sqrt((share * (1 - share)) / n));
    });

    it('holds out the same users on every call, whatever the seed, decision id or time', () => {
      for (let i = 0; i < 500; i++) {
        const profile = makeProfile({ userId: `customer-${i}` });
        const first = decideWith(agent, model, profile, { seed: 'a', decisionId: 'x' }).holdout;
        expect(
          decideWith(agent, model, profile, { seed: 'b', decisionId: `y-${i}`, now: NOW + i * DAY_MS }).holdout,
        ).toBe(first);
      }
    });

    it('holds out by the stable hash of the agent salt and the user id', () => {
      for (let i = 0; i < 500; i++) {
        const userId = `customer-${i}`;
        expect(decideWith(agent, model, makeProfile({ userId })).holdout).toBe(unitHash('winback', userId) < 0.3);
      }
    });

    it('reshuffles who is held out when the salt changes', () => {
      const salted = makeAgent({ holdout: 0.3, salt: 'v2' });
      const salty = createAgentModel(salted);
      let moved = 0;
      for (let i = 0; i < 500; i++) {
        const profile = makeProfile({ userId: `customer-${i}` });
        if (decideWith(agent, model, profile).holdout !== decideWith(salted, salty, profile).holdout) moved++;
      }
      expect(moved).toBeGreaterThan(50);
    });
  });

  describe('guardrails', () => {
    it('suppresses the decision when no channel has consent', () => {
      const agent = makeAgent({ dimensions: [CHANNEL, CONTENT_BLOCK] });
      const d = decideWith(
        agent,
        createAgentModel(agent),
        makeProfile({ traits: { email_subscribed: false, sms_opt_in: 'no' } }),
      );
      expect(d).toMatchObject({
        deliver: false,
        reason: 'guardrail',
        suppressed: { dimension: 'channel', reasons: ['consent'] },
      });
      expect(d.sendAt).toBeUndefined();
      expect(d.choices).not.toHaveProperty('channel');
    });

    it('names every reason that emptied the dimension', () => {
      const agent = makeAgent({
        dimensions: [CHANNEL, CONTENT_BLOCK],
        guardrails: {
          consent: { email: 'email_subscribed', push: 'push_enabled' },
          frequency_caps: [{ channel: 'sms', max: 1, per: '7d' }],
        },
      });
      const d = decideWith(agent, createAgentModel(agent), makeProfile({ traits: {} }), {
        recentSends: [{ at: NOW - DAY_MS, channel: 'sms' }],
      });
      expect(d.suppressed?.dimension).toBe('channel');
      expect([...d.suppressed!.reasons].sort()).toEqual(['consent', 'frequency_cap']);
    });

    it('suppresses the decision when every send hour is in quiet hours', () => {
      const agent = makeAgent({
        dimensions: [CHANNEL, SEND_TIME],
        guardrails: { quiet_hours: { start: '07:00', end: '23:00' } },
      });
      const d = decideWith(agent, createAgentModel(agent), makeProfile());
      expect(d).toMatchObject({
        deliver: false,
        reason: 'guardrail',
        suppressed: { dimension: 'send_time', reasons: ['quiet_hours'] },
      });
    });

    it('suppresses a held-out decision whose default arm is masked', () => {
      const agent = makeAgent({ holdout: 0.5, dimensions: [CHANNEL, CONTENT_BLOCK] });
      const model = createAgentModel(agent);
      const user = findUser((userId) => decideWith(agent, model, makeProfile({ userId })).holdout, true);
      const d = decideWith(agent, model, makeProfile({ userId: user, consent: consentOnly('sms', 'push') }));
      expect(d).toMatchObject({
        holdout: true,
        deliver: false,
        reason: 'guardrail',
        suppressed: { dimension: 'channel', reasons: ['consent'] },
      });
    });

    it('suppresses the whole decision when a global frequency cap is reached', () => {
      const agent = makeAgent({ guardrails: { consent: {}, frequency_caps: [{ max: 3, per: '7d' }] } });
      const recentSends = [
        { at: NOW - 1 * DAY_MS, channel: 'email' },
        { at: NOW - 2 * DAY_MS, channel: 'sms' },
        { at: NOW - 6 * DAY_MS },
      ];
      const d = decideWith(agent, createAgentModel(agent), makeProfile(), { recentSends });
      expect(d).toMatchObject({
        deliver: false,
        reason: 'guardrail',
        suppressed: { reasons: ['frequency_cap'] },
        choices: {},
      });
      expect(d.suppressed).not.toHaveProperty('dimension');
      expect(d.sendAt).toBeUndefined();
    });

    it('does not count sends older than the cap window', () => {
      const agent = makeAgent({ guardrails: { frequency_caps: [{ max: 3, per: '7d' }] } });
      const recentSends = [{ at: NOW - 1 * DAY_MS }, { at: NOW - 2 * DAY_MS }, { at: NOW - 8 * DAY_MS }];
      const d = decideWith(agent, createAgentModel(agent), makeProfile(), { recentSends });
      expect(d.reason).not.toBe('guardrail');
    });

    it('never chooses a channel whose cap is reached', () => {
      const agent = makeAgent({
        dimensions: [CHANNEL],
        guardrails: { frequency_caps: [{ channel: 'sms', max: 1, per: '7d' }] },
      });
      const decisions = decideMany(agent, createAgentModel(agent), makeProfile(), 60, {
        recentSends: [{ at: NOW - DAY_MS, channel: 'sms' }],
      });
      expect(new Set(decisions.map((d) => d.choices.channel.arm))).toEqual(new Set(['email', 'push']));
    });

    it('never chooses a forbidden combination', () => {
      const agent = makeAgent({ guardrails: { forbid: [{ channel: 'sms', content_block: 'cb_style' }] } });
      const decisions = decideMany(agent, createAgentModel(agent), makeProfile(), 200).filter(
        (d) => d.choices.content_block,
      );
      expect(decisions.some((d) => d.choices.channel.arm === 'sms')).toBe(true);
      for (const d of decisions)
        expect([d.choices.channel.arm, d.choices.content_block.arm]).not.toEqual(['sms', 'cb_style']);
    });

    it('never chooses an ineligible arm', () => {
      const agent = makeAgent({
        guardrails: { eligibility: [{ arm: { subject_line: 'sl_urgency' }, unless: { trait: 'vip', equals: true } }] },
      });
      const decisions = decideMany(
        agent,
        createAgentModel(agent),
        makeProfile({ traits: { ...makeProfile().traits, vip: true } }),
        100,
      ).filter((d) => d.choices.subject_line);
      expect(decisions.length).toBeGreaterThan(0);
      for (const d of decisions) expect(d.choices.subject_line.arm).toBe('sl_plain');
    });

    it("applies the guardrails to request context merged over the profile's traits", () => {
      const agent = makeAgent({
        guardrails: {
          consent: {},
          eligibility: [{ arm: { subject_line: 'sl_urgency' }, unless: { trait: 'vip', equals: true } }],
        },
      });
      const decisions = decideMany(agent, createAgentModel(agent), makeProfile({ consent: consentOnly('email') }), 60, {
        context: { vip: true },
      });
      const subjects = decisions.filter((d) => d.choices.subject_line).map((d) => d.choices.subject_line);
      expect(subjects.length).toBeGreaterThan(0);
      for (const s of subjects) expect(s).toEqual({ arm: 'sl_plain', probability: 1, reason: 'exploit', best: 1 });
    });

    it("lets explicit consent override the profile's consent traits", () => {
      const agent = makeAgent({ dimensions: [CHANNEL] });
      const d = decideWith(
        agent,
        createAgentModel(agent),
        makeProfile({ traits: { email_subscribed: false }, consent: { email: true, sms: false, push: false } }),
      );
      expect(d.choices.channel).toEqual({ arm: 'email', probability: 1, reason: 'exploit', best: 1 });
    });
  });

  describe('explanation', () => {
    const agent = makeAgent({
      policy: { kind: 'eps-greedy', epsilon: 0, floor: 0 },
      guardrails: { consent: { sms: 'sms_opt_in' }, quiet_hours: { start: '19:00', end: '08:00' } },
    });
    const model = createAgentModel(agent);
    // content_block: cb_bundle pays, more so for frequent buyers
    train(
      agent,
      model,
      300,
      (t) => makeProfile({ traits: { lifetime_orders: t % 50, sms_opt_in: true } }),
      (d) => (d.choices.content_block?.arm === 'cb_bundle' ? 0.5 + (d.features[1] ?? 0) / 2 : 0),
    );
    const d = decideWith(agent, model, makeProfile({ traits: { lifetime_orders: 40, sms_opt_in: false } }), {
      explain: true,
    });
    const byDimension = (id: string) => d.explanation!.find((e) => e.dimension === id)!;

    it('explains each decided dimension, in order, with the chosen arm', () => {
      expect(d.explanation!.map((e) => [e.dimension, e.chosen])).toEqual(
        Object.entries(d.choices).map(([dim, c]) => [dim, c.arm]),
      );
    });

    it('lists every eligible arm with its estimate, uncertainty and probability', () => {
      for (const e of d.explanation!) {
        for (const a of e.arms) {
          expect(Number.isFinite(a.estimate), `${e.dimension}.${a.arm}`).toBe(true);
          expect(a.uncertainty).toBeGreaterThanOrEqual(0);
          expect(a.probability).toBeGreaterThanOrEqual(0);
        }
        expectClose(
          e.arms.reduce((s, a) => s + a.probability, 0),
          1,
        );
      }
    });

    it('lists the masked arms with their reasons instead of among the arms', () => {
      expect(byDimension('channel').masked).toEqual([{ arm: 'sms', reason: 'consent' }]);
      expect(byDimension('channel').arms.map((a) => a.arm)).toEqual(['email', 'push']);
      expect(byDimension('send_time').masked).toEqual([{ arm: '20', reason: 'quiet_hours' }]);
    });

    it('names the runner-up and the features that pushed the chosen arm ahead of it, largest first', () => {
      const e = byDimension('content_block');
      expect(e.chosen).toBe('cb_bundle');
      expect(e.runnerUp).toBeDefined();
      expect(e.drivers.length).toBeGreaterThan(0);
      expect(e.drivers.length).toBeLessThanOrEqual(5);
      const names = model.dimensions.find((m) => m.id === 'content_block')!.featureNames;
      for (const driver of e.drivers) {
        expect(names).toContain(driver.feature);
        expect(driver.weight).toBeGreaterThan(0);
      }
      expect(e.drivers.map((x) => x.weight)).toEqual([...e.drivers.map((x) => x.weight)].sort((a, b) => b - a));
    });

    it('is absent unless asked for', () => {
      expect(decideWith(agent, model, makeProfile()).explanation).toBeUndefined();
    });
  });

  describe('determinism', () => {
    it.each(POLICY_KINDS)('gives an identical decision for the same seed and decision id under %s', (kind) => {
      const agent = makeAgent({ policy: { kind }, holdout: 0.2 });
      const model = createAgentModel(agent);
      train(
        agent,
        model,
        30,
        (t) => makeProfile({ userId: `u-${t}` }),
        (d) => (d.choices.channel?.arm === 'push' ? 1 : 0),
      );
      for (let i = 0; i < 10; i++) {
        const profile = makeProfile({ userId: `customer-${i}`, timezone: 'Europe/Paris' });
        const options = { seed: 's', decisionId: `d-${i}`, explain: true };
        expect(decideWith(agent, model, profile, options)).toEqual(decideWith(agent, model, profile, options));
      }
    });

    it('draws differently for different decision ids', () => {
      const agent = makeAgent();
      const arms = decideMany(agent, createAgentModel(agent), makeProfile(), 20).map((d) => JSON.stringify(d.choices));
      expect(new Set(arms).size).toBeGreaterThan(1);
    });

    it('records the given decision id and the agent and model version', () => {
      const agent = makeAgent();
      const d = decideWith(agent, createAgentModel(agent, 7), makeProfile(), { decisionId: 'req-42' });
      expect(d).toMatchObject({
        decisionId: 'req-42',
        agentId: 'winback',
        agentVersion: 7,
        userId: 'user-1',
        at: '2026-06-01T12:00:00.000Z',
      });
    });
  });
});

// ---------------------------------------------------------------------------------------------
// Property: no decision ever breaks a stateless guardrail.

const CHANNELS = ['email', 'sms', 'push', 'whatsapp'] as const;
const BLOCKS = ['cb_a', 'cb_b', 'cb_c'];
const SUBJECTS = ['sl_a', 'sl_b'];
const ZONES = [
  'UTC',
  undefined,
  'Not/A_Zone',
  'America/New_York',
  'America/Los_Angeles',
  'America/Santiago',
  'America/St_Johns',
  'Europe/London',
  'Europe/Paris',
  'Asia/Kolkata',
  'Asia/Kathmandu',
  'Asia/Tokyo',
  'Australia/Sydney',
  'Australia/Lord_Howe',
  'Pacific/Chatham',
];
/** DST changes (2026) of the zones above, to draw decision times near. */
const TRANSITIONS = [
  '2026-03-08T07:00:00Z',
  '2026-11-01T06:00:00Z',
  '2026-03-29T01:00:00Z',
  '2026-10-25T01:00:00Z',
  '2026-04-05T03:00:00Z',
  '2026-04-04T16:00:00Z',
  '2026-10-03T15:30:00Z',
  '2026-09-26T14:00:00Z',
  '2026-09-06T04:00:00Z',
].map(at);

type TraitCondition = { trait: string; equals?: unknown; in?: unknown[]; gte?: number; lte?: number; exists?: boolean };
type Cond = TraitCondition | { all: Cond[] } | { any: Cond[] } | { not: Cond };

/** The condition semantics (plugin/config/conditions.ts describes each operator), restated as the oracle. */
function holds(c: Cond, traits: Record<string, unknown>): boolean {
  if ('all' in c) return c.all.every((x) => holds(x, traits));
  if ('any' in c) return c.any.some((x) => holds(x, traits));
  if ('not' in c) return !holds(c.not, traits);
  const v = Object.hasOwn(traits, c.trait) ? traits[c.trait] : undefined;
  if (c.exists !== undefined && c.exists !== (v !== undefined && v !== null)) return false;
  if (c.equals !== undefined && v !== c.equals) return false;
  if (c.in !== undefined && !c.in.includes(v)) return false;
  if (c.gte !== undefined && !(typeof v === 'number' && v >= c.gte)) return false;
  if (c.lte !== undefined && !(typeof v === 'number' && v <= c.lte)) return false;
  return true;
}

const clock = fc
  .tuple(fc.integer({ min: 0, max: 23 }), fc.constantFrom(0, 15, 30, 45))
  .map(([h, m]) => `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}`);
const leaf: fc.Arbitrary<Cond> = fc.oneof(
  fc.constant({ trait: 'vip', equals: true }),
  fc.integer({ min: 0, max: 60 }).map((n) => ({ trait: 'lifetime_orders', gte: n })),
  fc.integer({ min: 0, max: 60 }).map((n) => ({ trait: 'lifetime_orders', lte: n })),
  fc.subarray(['a', 'b', 'c'], { minLength: 1 }).map((values) => ({ trait: 'segment', in: values })),
  fc.boolean().map((exists) => ({ trait: 'segment', exists })),
);
const condition: fc.Arbitrary<Cond> = fc.oneof(
  { weight: 3, arbitrary: leaf },
  { weight: 1, arbitrary: leaf.map((c) => ({ not: c })) },
  { weight: 1, arbitrary: fc.array(leaf, { minLength: 1, maxLength: 3 }).map((all) => ({ all })) },
  { weight: 1, arbitrary: fc.array(leaf, { minLength: 1, maxLength: 3 }).map((any) => ({ any })) },
);
/** An arm reference by index, resolved against the agent's dimensions (modulo their counts). */
const ref = fc.record({ dim: fc.nat(), arm: fc.nat() });

const agentSpec = fc.record({
  channels: fc.shuffledSubarray([...CHANNELS], { minLength: 1 }),
  consentChannels: fc.subarray([...CHANNELS]),
  hours: fc.uniqueArray(fc.integer({ min: 0, max: 23 }), { minLength: 1, maxLength: 6 }),
  quiet: fc.option(
    fc.record({ start: clock, end: clock }).filter((q) => q.start !== q.end),
    { nil: undefined },
  ),
  frequency: fc.boolean(),
  /** Whether send_time exists, and if so whether only for one channel (`when`), so some decisions have no local hour. */
  sendTime: fc.oneof(fc.constant('always' as const), fc.constant('never' as const), fc.nat()),
  subjectWhen: fc.option(fc.nat(), { nil: undefined }),
  defaults: fc.array(fc.nat(), { minLength: 5, maxLength: 5 }),
  eligibility: fc.array(
    fc.record({
      arm: ref,
      with: fc.option(ref, { nil: undefined }),
      mode: fc.constantFrom('if' as const, 'unless' as const),
      cond: condition,
    }),
    { maxLength: 3 },
  ),
  forbid: fc.array(fc.tuple(ref, ref), { maxLength: 3 }),
  channelCaps: fc.array(
    fc.record({ channel: fc.nat(), max: fc.integer({ min: 0, max: 2 }), per: fc.constantFrom('1d', '7d') }),
    { maxLength: 2 },
  ),
  globalCap: fc.option(fc.record({ max: fc.integer({ min: 0, max: 4 }), per: fc.constantFrom('1d', '7d') }), {
    nil: undefined,
  }),
  kind: fc.constantFrom(...POLICY_KINDS),
  floor: fc.constantFrom(0, 0.01, 0.05, 0.2, 0.5, 0.9),
  holdout: fc.constantFrom(0, 0.1, 0.5),
  trainRounds: fc.integer({ min: 0, max: 15 }),
});
type AgentSpec = typeof agentSpec extends fc.Arbitrary<infer T> ? T : never;

/** Agent config input from a spec: only valid references, so `makeAgent` never throws. */
function agentInput(spec: AgentSpec) {
  const pick = <T>(list: readonly T[], i: number) => list[i % list.length];
  const dims: { id: string; arms: string[]; input: Record<string, unknown> }[] = [];
  const add = (id: string, arms: string[], extra: Record<string, unknown> = {}, raw: unknown[] = arms) =>
    dims.push({ id, arms, input: { id, arms: raw, default: raw[spec.defaults[dims.length] % raw.length], ...extra } });
  if (spec.frequency) add('frequency', ['send', 'skip']);
  add('channel', spec.channels);
  if (spec.sendTime !== 'never') {
    const when = typeof spec.sendTime === 'number' ? { when: { channel: pick(spec.channels, spec.sendTime) } } : {};
    add('send_time', spec.hours.map(String), { type: 'local_hour', ...when }, spec.hours);
  }
  if (spec.subjectWhen !== undefined)
    add('subject_line', SUBJECTS, { when: { channel: pick(spec.channels, spec.subjectWhen) } });
  add('content_block', BLOCKS);
  const arm = (r: { dim: number; arm: number }) => {
    const d = pick(dims, r.dim);
    return [d.id, pick(d.arms, r.arm)] as const;
  };
  const eligibility = spec.eligibility.map((rule) => {
    const target = Object.fromEntries([arm(rule.arm), ...(rule.with ? [arm(rule.with)] : [])]);
    return { arm: target, [rule.mode]: rule.cond };
  });
  const forbid = spec.forbid.flatMap(([a, b]) => {
    const rule = Object.fromEntries([arm(a), arm(b)]);
    return Object.keys(rule).length === 2 ? [rule] : [];
  });
  const kindParams: Record<string, unknown> = { kind: spec.kind, floor: spec.floor };
  if (spec.kind === 'beta-ts' || spec.kind === 'lin-ts' || spec.kind === 'logistic-ts') kindParams.draws = 40;
  return {
    holdout: spec.holdout,
    policy: kindParams,
    features: [
      { trait: 'lifetime_orders', type: 'numeric', min: 0, max: 50 },
      { trait: 'segment', type: 'categorical', values: ['a', 'b'] },
      { derived: 'local_hour' },
    ],
    dimensions: dims.map((d) => d.input),
    guardrails: {
      ...(spec.quiet ? { quiet_hours: spec.quiet } : {}),
      consent: Object.fromEntries(
        spec.consentChannels.filter((c) => spec.channels.includes(c)).map((c) => [c, `consent_${c}`]),
      ),
      frequency_caps: [
        ...spec.channelCaps.map((c) => ({ channel: pick(spec.channels, c.channel), max: c.max, per: c.per })),
        ...(spec.globalCap ? [spec.globalCap] : []),
      ],
      eligibility,
      forbid,
    },
  };
}

const consentValue = fc.option(
  fc.constantFrom<unknown>(true, false, 1, 0, 'yes', 'no', 'true', 'Yes', 'TRUE', null, 'maybe'),
  { nil: undefined },
);
const profileArb = fc.record({
  userId: fc.nat({ max: 10_000 }).map((n) => `customer-${n}`),
  consentTraits: fc.record(
    Object.fromEntries(CHANNELS.map((c) => [c, consentValue])) as Record<
      (typeof CHANNELS)[number],
      typeof consentValue
    >,
  ),
  vip: fc.option(fc.boolean(), { nil: undefined }),
  orders: fc.option(fc.integer({ min: 0, max: 60 }), { nil: undefined }),
  segment: fc.option(fc.constantFrom('a', 'b', 'c'), { nil: undefined }),
  consent: fc.option(fc.record(Object.fromEntries(CHANNELS.map((c) => [c, fc.boolean()])), { requiredKeys: [] }), {
    nil: undefined,
  }),
  timezone: fc.constantFrom(...ZONES),
  now: fc.oneof(
    fc.integer({ min: at('2025-01-01T00:00:00Z'), max: at('2027-12-31T00:00:00Z') }),
    fc
      .tuple(fc.constantFrom(...TRANSITIONS), fc.integer({ min: -2 * DAY_MS, max: 2 * DAY_MS }))
      .map(([t, dt]) => t + dt),
  ),
  recentSends: fc.array(
    fc.record({
      ago: fc.integer({ min: 0, max: 10 * DAY_MS }),
      channel: fc.option(fc.constantFrom(...CHANNELS), { nil: undefined }),
    }),
    { maxLength: 4 },
  ),
});
type ProfileSpec = typeof profileArb extends fc.Arbitrary<infer T> ? T : never;

function toProfile(p: ProfileSpec): Profile {
  const traits: Record<string, unknown> = {};
  for (const c of CHANNELS) if (p.consentTraits[c] !== undefined) traits[`consent_${c}`] = p.consentTraits[c];
  if (p.vip !== undefined) traits.vip = p.vip;
  if (p.orders !== undefined) traits.lifetime_orders = p.orders;
  if (p.segment !== undefined) traits.segment = p.segment;
  return {
    userId: p.userId,
    traits,
    timezone: p.timezone,
    ...(p.consent ? { consent: p.consent as Record<string, boolean> } : {}),
  };
}

/**
 * `now` when the local clock is outside quiet hours, else the first instant after it at which
 * it is. Quiet hours here start and end on quarter hours and every zone's offset is a multiple of
 * 15 minutes, so that instant is a quarter hour in UTC too.
 */
function firstNonQuiet(
  now: number,
  zone: string | undefined,
  quiet: { start: string; end: string } | undefined,
): number {
  if (!isQuiet(wallClock(now, zone).minuteOfDay, quiet)) return now;
  for (let t = Math.floor(now / QUARTER_MS) * QUARTER_MS + QUARTER_MS; ; t += QUARTER_MS) {
    if (!isQuiet(wallClock(t, zone).minuteOfDay, quiet)) return t;
  }
}

/** Consent per the guardrail contract: explicit consent wins; else the channel's trait must be true, 1, "true" or "yes". */
function consents(agent: AgentConfig, profile: Profile, channel: string): boolean {
  const explicit = profile.consent?.[channel];
  if (explicit !== undefined) return explicit === true;
  const trait = agent.guardrails.consent?.[channel];
  if (trait === undefined) return true;
  const v = profile.traits[trait];
  return v === true || v === 1 || (typeof v === 'string' && ['true', 'yes'].includes(v.trim().toLowerCase()));
}

describe('decide, for any agent and customer', () => {
  it('never breaks a guardrail, and logs propensities within the exploration floor', () => {
    fc.assert(
      fc.property(
        agentSpec,
        fc.array(profileArb, { minLength: 1, maxLength: 4 }),
        fc.nat(),
        (spec, profileSpecs, seed) => {
          const input = agentInput(spec);
          const agent = makeAgent(input);
          const model = createAgentModel(agent);
          train(
            agent,
            model,
            spec.trainRounds,
            (t) =>
              makeProfile({
                userId: `trainee-${t}`,
                traits: { lifetime_orders: t * 3, segment: t % 2 ? 'a' : 'b', vip: t % 3 === 0 },
              }),
            (d) => (d.choices.content_block?.arm === 'cb_b' ? 1 : 0.2),
          );
          const floor = spec.floor;
          profileSpecs.forEach((p, i) => {
            const profile = toProfile(p);
            const now = p.now;
            const recentSends = p.recentSends.map((s) => ({ at: now - s.ago, channel: s.channel }));
            const d = decideWith(agent, model, profile, {
              now,
              recentSends,
              explain: true,
              seed: String(seed),
              decisionId: `p-${i}`,
            });
            const chosen = Object.fromEntries(Object.entries(d.choices).map(([dim, c]) => [dim, c.arm]));
            const where = `${JSON.stringify(chosen)} for ${JSON.stringify(profile)} at ${new Date(now).toISOString()}`;

            // propensities
            for (const [dim, c] of Object.entries(d.choices)) {
              expect(c.probability, `${dim} ${where}`).toBeGreaterThan(0);
              expect(c.probability, `${dim} ${where}`).toBeLessThanOrEqual(1);
              expect(agent.dimensions.find((x) => x.id === dim)!.arms.map((a) => a.id)).toContain(c.arm);
            }
            expectClose(d.probability, product(d), 1e-12);

            // consent and channel caps
            if (chosen.channel !== undefined) {
              expect(consents(agent, profile, chosen.channel), `consent ${where}`).toBe(true);
              for (const cap of agent.guardrails.frequency_caps.filter((c) => c.channel === chosen.channel)) {
                const count = recentSends.filter((s) => s.channel === cap.channel && s.at > now - cap.perMs).length;
                expect(count, `cap ${JSON.stringify(cap)} ${where}`).toBeLessThan(cap.max);
              }
            }
            // a global cap reached stops everything
            for (const cap of agent.guardrails.frequency_caps.filter((c) => c.channel === undefined)) {
              if (recentSends.filter((s) => s.at > now - cap.perMs).length >= cap.max) {
                expect(d, `global cap ${JSON.stringify(cap)} ${where}`).toMatchObject({
                  deliver: false,
                  reason: 'guardrail',
                  choices: {},
                });
              }
            }
            // nothing is decided after frequency = skip
            if (chosen.frequency === 'skip') expect(Object.keys(chosen), `skip ${where}`).toEqual(['frequency']);
            // forbidden combinations
            for (const rule of input.guardrails.forbid) {
              expect(
                Object.entries(rule).every(([dim, a]) => chosen[dim] === a),
                `forbid ${JSON.stringify(rule)} ${where}`,
              ).toBe(false);
            }
            // eligibility
            for (const rule of input.guardrails.eligibility) {
              if (!Object.entries(rule.arm).every(([dim, a]) => chosen[dim] === a)) continue;
              if ('if' in rule)
                expect(holds(rule.if as Cond, profile.traits), `eligibility ${JSON.stringify(rule)} ${where}`).toBe(
                  true,
                );
              if ('unless' in rule)
                expect(holds(rule.unless as Cond, profile.traits), `eligibility ${JSON.stringify(rule)} ${where}`).toBe(
                  false,
                );
            }
            // when
            const subject = agent.dimensions.find((x) => x.id === 'subject_line');
            if (chosen.subject_line !== undefined)
              expect(subject!.when).toEqual({ kind: 'choice', choices: { channel: [chosen.channel] } });
            // quiet hours and send time
            expect(d.sendAt !== undefined, `sendAt ${where}`).toBe(d.deliver);
            if (d.sendAt !== undefined) {
              const sendAt = Date.parse(d.sendAt);
              const local = wallClock(sendAt, profile.timezone);
              expect(
                isQuiet(local.minuteOfDay, input.guardrails.quiet_hours),
                `quiet hours ${JSON.stringify(input.guardrails.quiet_hours)}, sendAt ${d.sendAt} ${where}`,
              ).toBe(false);
              expect(sendAt).toBeGreaterThanOrEqual(now);
              if (chosen.send_time !== undefined) {
                expect([local.hour, local.minute], `sendAt ${d.sendAt} ${where}`).toEqual([
                  Number(chosen.send_time),
                  0,
                ]);
                expect(sendAt).toBeGreaterThan(now);
              } else {
                // no hour chosen: now, or else the first moment quiet hours are over
                expect(sendAt, `sendAt ${d.sendAt} ${where}`).toBe(
                  firstNonQuiet(now, profile.timezone, input.guardrails.quiet_hours),
                );
              }
            }
            // the explanation: exactly the eligible arms, each at floor/K or more
            for (const e of d.explanation ?? []) {
              const all = agent.dimensions.find((x) => x.id === e.dimension)!.arms.map((a) => a.id);
              expect([...e.arms.map((a) => a.arm), ...e.masked.map((m) => m.arm)].sort()).toEqual([...all].sort());
              const k = e.arms.length;
              for (const a of e.arms)
                expect(a.probability, `${e.dimension}.${a.arm} ${where}`).toBeGreaterThanOrEqual(floor / k - 1e-12);
              expectClose(
                e.arms.reduce((s, a) => s + a.probability, 0),
                1,
                1e-9,
              );
            }
          });
        },
      ),
      { numRuns: 200 },
    );
  });
});
