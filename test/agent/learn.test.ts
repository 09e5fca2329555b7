import { describe, expect, it } from 'vitest';
import { defaultDecision } from '../../plugin/agent/decide.ts';
import { learn } from '../../plugin/agent/learn.ts';
import {
  agentModelFromJSON,
  agentModelToJSON,
  createAgentModel,
  restartAgentModel,
  type AgentModel,
} from '../../plugin/agent/model.ts';
import type { Decision, Profile } from '../../plugin/agent/types.ts';
import { Rng, type BetaArmState } from '../../plugin/bandit/index.ts';
import { POLICY_KINDS, type AgentConfig } from '../../plugin/config/index.ts';
import {
  armCounts,
  CHANNEL,
  CONSENT_TRAITS,
  CONTENT_BLOCK,
  DAY_MS,
  decideWith,
  findUser,
  FREQUENCY,
  makeAgent,
  makeProfile,
  NOW,
  SEND_TIME,
  SUBJECT_LINE,
} from './factories.ts';

/** Every dimension's arm counts, by dimension id. */
function counts(model: AgentModel): Record<string, Record<string, number>> {
  return Object.fromEntries(model.dimensions.map((d) => [d.id, armCounts(model, d.id)]));
}

const consentOnly = (channel: string): Record<string, boolean> => ({
  email: channel === 'email',
  sms: channel === 'sms',
  push: channel === 'push',
});

/** The contract agent with frequency always `send`, so every dimension after it is decided. */
function sendingAgent(overrides: Record<string, unknown> = {}): AgentConfig {
  return makeAgent({
    dimensions: [{ ...FREQUENCY, arms: ['send'] }, CHANNEL, SEND_TIME, SUBJECT_LINE, CONTENT_BLOCK],
    ...overrides,
  });
}

/** The first decision (ids d-0, d-1, ...) that `wanted` accepts. */
function findDecision(
  agent: AgentConfig,
  model: AgentModel,
  profile: Profile,
  wanted: (d: Decision) => boolean,
  options: Parameters<typeof decideWith>[3] = {},
): Decision {
  for (let i = 0; i < 1000; i++) {
    const d = decideWith(agent, model, profile, { ...options, decisionId: `d-${i}` });
    if (wanted(d)) return d;
  }
  throw new Error('no such decision');
}

describe('learn', () => {
  it("adds one observation to each decided dimension's chosen arm and to no other arm", () => {
    const agent = sendingAgent();
    const model = createAgentModel(agent);
    const d = decideWith(agent, model, makeProfile({ consent: consentOnly('email') }));
    const before = counts(model);
    learn(agent, model, d, 1);
    const expected = structuredClone(before);
    for (const [dimension, choice] of Object.entries(d.choices)) expected[dimension][choice.arm] += 1;
    expect(counts(model)).toEqual(expected);
  });

  it('leaves a dimension whose when did not hold untouched', () => {
    const agent = sendingAgent();
    const model = createAgentModel(agent);
    learn(agent, model, decideWith(agent, model, makeProfile({ consent: consentOnly('sms') })), 1);
    expect(counts(model).subject_line).toEqual({ sl_plain: 0, sl_urgency: 0 });
    expect(counts(model).content_block).not.toEqual({ cb_specs: 0, cb_style: 0, cb_bundle: 0 });
  });

  it('after frequency = skip updates only the frequency dimension', () => {
    const agent = makeAgent();
    const model = createAgentModel(agent);
    const skip = findDecision(agent, model, makeProfile(), (d) => d.choices.frequency.arm === 'skip');
    expect(learn(agent, model, skip, 0)).toBe(1);
    const after = counts(model);
    expect(after.frequency).toEqual({ send: 0, skip: 1 });
    for (const id of ['channel', 'send_time', 'subject_line', 'content_block'])
      expect(
        Object.values(after[id]).every((n) => n === 0),
        id,
      ).toBe(true);
  });

  it.each<[string, Partial<Profile>, number]>([
    ['email: every dimension', { consent: consentOnly('email') }, 5],
    ['sms: all but subject_line', { consent: consentOnly('sms') }, 4],
    ['push: all but subject_line', { consent: consentOnly('push') }, 4],
  ])('returns the number of dimensions updated (%s)', (_name, profile, expected) => {
    const agent = sendingAgent();
    const model = createAgentModel(agent);
    expect(learn(agent, model, decideWith(agent, model, makeProfile(profile)), 1)).toBe(expected);
  });

  describe('never learns from', () => {
    it('a held-out decision', () => {
      const agent = sendingAgent({ holdout: 0.5 });
      const model = createAgentModel(agent);
      const user = findUser((userId) => decideWith(agent, model, makeProfile({ userId })).holdout, true);
      const d = decideWith(agent, model, makeProfile({ userId: user }));
      expect(d.holdout).toBe(true);
      const before = counts(model);
      expect(learn(agent, model, d, 1)).toBe(0);
      expect(counts(model)).toEqual(before);
    });

    it('a decision that guardrails stopped after deciding earlier dimensions', () => {
      // sms is the only channel, and the brand rule forbids sms with the only content block
      const agent = sendingAgent({
        dimensions: [
          { ...FREQUENCY, arms: ['send'] },
          { ...CHANNEL, arms: ['sms'], default: 'sms' },
          SEND_TIME,
          { ...CONTENT_BLOCK, arms: ['cb_style'] },
        ],
        guardrails: { consent: { sms: CONSENT_TRAITS.sms }, forbid: [{ channel: 'sms', content_block: 'cb_style' }] },
      });
      const model = createAgentModel(agent);
      const d = decideWith(agent, model, makeProfile());
      expect(d).toMatchObject({
        reason: 'guardrail',
        suppressed: { dimension: 'content_block', reasons: ['forbid'] },
        choices: { frequency: { arm: 'send' }, channel: { arm: 'sms' } },
      });
      expect(learn(agent, model, d, 1)).toBe(0);
      expect(counts(model).frequency).toEqual({ send: 0 });
    });

    it('a customer no channel may reach, stopped before any dimension is decided', () => {
      const agent = sendingAgent();
      const model = createAgentModel(agent);
      const d = decideWith(agent, model, makeProfile({ traits: {} }));
      expect(d).toMatchObject({
        reason: 'guardrail',
        suppressed: { dimension: 'channel', reasons: ['consent'] },
        choices: {},
      });
      expect(learn(agent, model, d, 1)).toBe(0);
      expect(counts(model).frequency).toEqual({ send: 0 });
    });

    it('a decision stopped by a global frequency cap', () => {
      const agent = sendingAgent({ guardrails: { frequency_caps: [{ max: 1, per: '1d' }] } });
      const model = createAgentModel(agent);
      const d = decideWith(agent, model, makeProfile(), { recentSends: [{ at: NOW - DAY_MS / 2 }] });
      expect(d.reason).toBe('guardrail');
      const before = counts(model);
      expect(learn(agent, model, d, 1)).toBe(0);
      expect(counts(model)).toEqual(before);
    });

    it('the default decision made after an error', () => {
      const agent = sendingAgent();
      const model = createAgentModel(agent);
      const d = defaultDecision(agent, 1, makeProfile(), NOW, 'd-err', false);
      const before = counts(model);
      expect(learn(agent, model, d, 1)).toBe(0);
      expect(counts(model)).toEqual(before);
    });

    it('a decision made under another feature layout', () => {
      const agent = sendingAgent();
      const model = createAgentModel(agent);
      const other = sendingAgent({ features: [{ trait: 'lifetime_orders', type: 'numeric', min: 0, max: 50 }] });
      const d = decideWith(other, createAgentModel(other), makeProfile());
      expect(learn(agent, model, d, 1)).toBe(0);
    });
  });

  it.each<[string, number, { alpha: number; beta: number }]>([
    ['above 1 as 1', 5, { alpha: 2, beta: 1 }],
    ['below 0 as 0', -3, { alpha: 1, beta: 2 }],
    ['inside [0, 1] as given', 0.25, { alpha: 1.25, beta: 1.75 }],
  ])('takes a reward %s', (_name, reward, expected) => {
    const agent = makeAgent({ policy: { kind: 'beta-ts' }, dimensions: [CHANNEL] });
    const model = createAgentModel(agent);
    const d = decideWith(agent, model, makeProfile({ consent: consentOnly('sms') }));
    learn(agent, model, d, reward);
    expect(model.dimensions[0].policy.toJSON().arms[1] as BetaArmState).toMatchObject(expected);
  });

  it.each(POLICY_KINDS.filter((k) => k !== 'random'))(
    'comes to prefer an arm that keeps being rewarded under %s',
    (kind) => {
      const agent = makeAgent({ policy: { kind }, dimensions: [CHANNEL, CONTENT_BLOCK] });
      const model = createAgentModel(agent);
      const profile = makeProfile({ consent: consentOnly('email') });
      const share = () =>
        decideWith(agent, model, profile, { explain: true, decisionId: 'probe' }).explanation![1].arms.find(
          (a) => a.arm === 'cb_bundle',
        )!.probability;
      const before = share();
      for (let t = 0; t < 300; t++) {
        const d = decideWith(agent, model, profile, { seed: 'train', decisionId: `t-${t}` });
        learn(agent, model, d, d.choices.content_block.arm === 'cb_bundle' ? 1 : 0);
      }
      expect(before).toBeLessThan(0.5);
      expect(share()).toBeGreaterThan(0.8);
    },
  );
});

describe('policy.detect: restart when behaviour changes', () => {
  const detecting = (detect: Record<string, number> = {}) => sendingAgent({ policy: { kind: 'linucb', detect } });
  const profile = (i: number) =>
    makeProfile({ userId: `u-${i}`, traits: { ...makeProfile().traits, lifetime_orders: i % 40 } });
  /** Decides for `n` customers and learns each outcome `rewardOf(decision, i)`; returns the model's restart count after each outcome learned. */
  function play(
    agent: AgentConfig,
    model: AgentModel,
    n: number,
    rewardOf: (d: Decision, i: number) => number,
    from = 0,
  ): number[] {
    const restarts: number[] = [];
    for (let i = from; i < from + n; i++) {
      const d = decideWith(agent, model, profile(i), { decisionId: `p-${i}` });
      if (learn(agent, model, d, rewardOf(d, i)) > 0) restarts.push(model.change.restarts);
    }
    return restarts;
  }

  it('keeps learning while outcomes match the estimates, noise included', () => {
    const agent = detecting();
    const model = createAgentModel(agent);
    const rng = new Rng('stationary');
    // the email arm converts 40 %, the others 10 %: a stationary world with Bernoulli noise
    const learned = play(agent, model, 6000, (d) =>
      rng.next() < (d.choices.channel.arm === 'email' ? 0.4 : 0.1) ? 1 : 0,
    );
    expect(learned.length).toBeGreaterThan(5000);
    expect(model.change).toMatchObject({ restarts: 0, seen: learned.length });
  });

  it('with retain 0, restarts every dimension from the prior once outcomes fall far below the estimates, after the warm-up only', () => {
    const agent = detecting({ warmup: 300, threshold: 10, retain: 0 });
    const model = createAgentModel(agent);
    const warm = play(agent, model, 260, () => 0.9).length;
    // outcomes far below the estimates, but inside the warm-up: not counted
    const early = play(agent, model, 300 - warm, () => 0, 260).length;
    expect(model.change).toEqual({ seen: warm + early, shortfall: 0, restarts: 0 });
    // estimates ≈ 0.8, outcomes 0: a standardized shortfall of about 0.8/√(0.8·0.2) = 2 an outcome, falling as the
    // estimates learn the zeros: the CUSUM passes 10 after 5 to 10 outcomes
    const restarts = play(agent, model, 20, () => 0, 400);
    const at = restarts.indexOf(1);
    expect(at).toBeGreaterThanOrEqual(4);
    expect(at).toBeLessThanOrEqual(10);
    expect(restarts.at(-1)).toBe(1);
    // the outcome that triggered the restart is the first of the new run; the later ones follow
    const learnedSince = restarts.length - at;
    expect(model.change.seen).toBe(learnedSince);
    // frequency and channel are decided every time (the later dimensions only sometimes)
    for (const id of ['frequency', 'channel']) {
      const dim = model.dimensions.find((d) => d.id === id)!;
      const n = (dim.policy.toJSON().arms as { n: number }[]).reduce((s, a) => s + a.n, 0);
      expect(n, id).toBe(learnedSince);
    }
  });

  it("at a restart, each dimension keeps retain outcomes' worth of its evidence, shrunk toward the prior (all of it when it learned fewer)", () => {
    const agent = detecting({ warmup: 100_000 });
    const model = createAgentModel(agent);
    const rng = new Rng('retain');
    play(agent, model, 1500, (d) => (rng.next() < (d.choices.channel.arm === 'email' ? 0.4 : 0.1) ? 1 : 0));
    const learned = Object.fromEntries(model.dimensions.map((d) => [d.id, d.policy.observations()]));
    // the subject line is decided for email only: it has learned fewer outcomes than the channel
    const retain = Math.round((learned.subject_line + learned.channel) / 2);
    expect(learned.subject_line).toBeLessThan(retain);
    const before = agentModelToJSON(model);
    const channel = model.dimensions.findIndex((d) => d.id === 'channel');
    const x = model.scratch.x[channel];
    const explain = () => model.dimensions[channel].policy.explain(x, new Uint8Array(3).fill(1));
    const was = explain();
    restartAgentModel(detecting({ retain }), model);
    expect(model.change.restarts).toBe(1);
    for (const dim of model.dimensions)
      expect(dim.policy.observations(), dim.id).toBeCloseTo(Math.min(learned[dim.id], retain), 6);
    // a dimension below retain is untouched
    const subject = model.dimensions.findIndex((d) => d.id === 'subject_line');
    expect(agentModelToJSON(model).dimensions[subject].policy).toEqual(before.dimensions[subject].policy);
    // the channel still knows email is best, and is less sure of every estimate
    const now = explain();
    const best = (e: { mean: number }[]) => e.reduce((b, v, a) => (v.mean > e[b].mean ? a : b), 0);
    expect(model.dimensions[channel].armIds[best(was)]).toBe('email');
    expect(best(now)).toBe(best(was));
    now.forEach((e, a) => expect(e.sd, `arm ${a}`).toBeGreaterThan(was[a].sd));
  });

  it('notices conversions stopping at a 1–3 % rate too (the shortfall is standardized), and not before', () => {
    const agent = sendingAgent({ policy: { kind: 'logistic-ts', draws: 100, detect: {} } });
    const model = createAgentModel(agent);
    const rng = new Rng('low-rates');
    play(agent, model, 5000, (d) => (rng.next() < (d.choices.channel.arm === 'email' ? 0.03 : 0.01) ? 1 : 0));
    expect(model.change.restarts).toBe(0);
    // measured with 300 draws: after about 2,150 outcomes of 0 (a shortfall of about √0.03 − slack an outcome, less as the estimates learn the zeros)
    const restarts = play(agent, model, 4000, () => 0, 5000);
    expect(restarts.at(-1)).toBe(1);
  });

  it('ignores an outcome that is not a number', () => {
    const agent = detecting({ warmup: 0 });
    const model = createAgentModel(agent);
    expect(learn(agent, model, decideWith(agent, model, profile(1)), Number.NaN)).toBe(0);
    expect(model.change).toEqual({ seen: 0, shortfall: 0, restarts: 0 });
  });

  it('carries its evidence over a restore only while the layout and detection are unchanged; restarts always', () => {
    const agent = detecting({ warmup: 10 });
    const model = createAgentModel(agent);
    play(agent, model, 40, (_d, i) => (i % 3 === 0 ? 1 : 0));
    model.change.restarts = 2;
    const json = JSON.parse(JSON.stringify(agentModelToJSON(model)));
    expect(agentModelFromJSON(agent, json).change).toEqual(model.change);
    const otherKind = sendingAgent({ policy: { kind: 'lin-ts', detect: { warmup: 10 } } });
    expect(agentModelFromJSON(otherKind, json).change).toEqual({ seen: 0, shortfall: 0, restarts: 2 });
    const off = sendingAgent({ policy: { kind: 'linucb' } });
    expect(agentModelFromJSON(off, json).change).toEqual({ seen: 0, shortfall: 0, restarts: 2 });
  });

  it('does nothing without detect, and nothing for holdout decisions', () => {
    const plain = sendingAgent({ policy: { kind: 'linucb' } });
    const model = createAgentModel(plain);
    play(plain, model, 50, () => 0);
    expect(model.change).toEqual({ seen: 0, shortfall: 0, restarts: 0 });
    const agent = sendingAgent({ holdout: 0.5, policy: { kind: 'linucb', detect: { warmup: 0, threshold: 1 } } });
    const held = createAgentModel(agent);
    const user = findUser((userId) => decideWith(agent, held, makeProfile({ userId })).holdout, true);
    for (let i = 0; i < 20; i++)
      learn(agent, held, decideWith(agent, held, makeProfile({ userId: user }), { decisionId: `h-${i}` }), 0);
    expect(held.change.seen).toBe(0);
  });

  it('keeps its state through JSON, and starts fresh from a model saved before it existed', () => {
    const agent = detecting({ warmup: 10 });
    const model = createAgentModel(agent);
    play(agent, model, 40, (_d, i) => (i % 3 === 0 ? 1 : 0));
    expect(model.change.shortfall).toBeGreaterThan(0);
    const json = JSON.parse(JSON.stringify(agentModelToJSON(model)));
    expect(agentModelFromJSON(agent, json).change).toEqual(model.change);
    delete json.change;
    expect(agentModelFromJSON(agent, json).change).toEqual({ seen: 0, shortfall: 0, restarts: 0 });
    // the policies' own states do not carry the agent's detector settings
    expect(json.dimensions[0].policy.params).not.toHaveProperty('detect');
  });
});
