import { describe, expect, it } from 'vitest';
import { learn } from '../../plugin/agent/learn.ts';
import { agentModelFromJSON, agentModelToJSON, createAgentModel, type AgentModel } from '../../plugin/agent/model.ts';
import type { Decision } from '../../plugin/agent/types.ts';
import { isGaussianArm, Rng, toDense, type ArmState } from '../../plugin/bandit/index.ts';
import { POLICY_KINDS, type AgentConfig } from '../../plugin/config/index.ts';
import {
  CHANNEL,
  CONTENT_BLOCK,
  decideWith,
  FREQUENCY,
  makeAgent,
  makeProfile,
  SEND_TIME,
  SUBJECT_LINE,
} from './factories.ts';

type Kind = (typeof POLICY_KINDS)[number];

/** Policy config for a kind, with few Monte Carlo draws to keep training fast. */
const policyOf = (kind: Kind) =>
  kind === 'beta-ts' || kind === 'lin-ts' || kind === 'logistic-ts' ? { kind, draws: 200 } : { kind };

/** A varied customer: consent, orders, VIP status and time zone depend on `i`. */
function customer(i: number) {
  return makeProfile({
    userId: `customer-${i}`,
    traits: {
      email_subscribed: i % 3 !== 0,
      sms_opt_in: i % 2 === 0,
      push_enabled: true,
      lifetime_orders: (i * 7) % 50,
      vip: i % 5 === 0,
    },
    timezone: ['UTC', 'America/New_York', 'Europe/Paris', 'Asia/Kolkata'][i % 4],
  });
}

/** Rewards cb_bundle on email and cb_specs elsewhere, so every dimension has something to learn. */
const reward = (d: Decision) =>
  d.choices.content_block?.arm === (d.choices.channel?.arm === 'email' ? 'cb_bundle' : 'cb_specs') ? 1 : 0.1;

function trained(agent: AgentConfig, rounds = 150): AgentModel {
  const model = createAgentModel(agent, 3);
  for (let t = 0; t < rounds; t++) {
    const d = decideWith(agent, model, customer(t), { seed: 'train', decisionId: `t-${t}` });
    learn(agent, model, d, reward(d));
  }
  return model;
}

/** Through JSON text and back, as a store would keep it. */
const viaText = (model: AgentModel) => JSON.parse(JSON.stringify(agentModelToJSON(model)));

/** Arm states of one dimension, by arm id. */
function armStates(model: AgentModel, dimension: string): Record<string, ArmState> {
  const dim = model.dimensions.find((d) => d.id === dimension)!;
  const state = dim.policy.toJSON();
  return Object.fromEntries(dim.armIds.map((id, a) => [id, state.arms[a]]));
}

/** The dimension list with content_block's arms replaced. */
const withBlocks = (arms: string[], rest = [FREQUENCY, CHANNEL, SEND_TIME, SUBJECT_LINE]) => [
  ...rest,
  { ...CONTENT_BLOCK, arms, default: arms[0] },
];

describe('agentModelToJSON → agentModelFromJSON', () => {
  it.each(POLICY_KINDS)('gives identical next decisions, and identical learning after them, under %s', (kind) => {
    const agent = makeAgent({ policy: policyOf(kind), holdout: 0.1 });
    const original = trained(agent);
    const restored = agentModelFromJSON(agent, viaText(original));
    for (let i = 0; i < 40; i++) {
      const options = { seed: 'next', decisionId: `n-${i}`, explain: true };
      const a = decideWith(agent, original, customer(i), options);
      const b = decideWith(agent, restored, customer(i), options);
      expect(b).toEqual(a);
      expect(learn(agent, restored, b, reward(b))).toBe(learn(agent, original, a, reward(a)));
    }
  });

  it('produces plain JSON that survives stringify and parse unchanged', () => {
    const agent = makeAgent({ policy: { kind: 'linucb' } });
    const json = agentModelToJSON(trained(agent, 30));
    expect(JSON.parse(JSON.stringify(json))).toEqual(json);
  });

  it('keeps the agent id and the model version', () => {
    const agent = makeAgent();
    expect(agentModelFromJSON(agent, viaText(createAgentModel(agent, 4)))).toMatchObject({
      agentId: 'winback',
      agentVersion: 4,
    });
  });

  it('takes a newer version number when given one', () => {
    const agent = makeAgent();
    expect(agentModelFromJSON(agent, viaText(createAgentModel(agent, 4)), 5).agentVersion).toBe(5);
  });
});

describe('agentModelFromJSON with a changed config', () => {
  const BLOCKS = ['cb_specs', 'cb_style', 'cb_bundle'];
  const GROWN = ['cb_specs', 'cb_new', 'cb_style', 'cb_bundle'];

  it.each(POLICY_KINDS)("keeps the old arms' counts and estimates when an arm is added under %s", (kind) => {
    const before = makeAgent({ policy: policyOf(kind), dimensions: withBlocks(BLOCKS) });
    const after = makeAgent({ policy: policyOf(kind), dimensions: withBlocks(GROWN) });
    const old = trained(before);
    const grown = agentModelFromJSON(after, viaText(old));
    const was = armStates(old, 'content_block');
    const is = armStates(grown, 'content_block');
    for (const id of BLOCKS) expect(is[id], id).toEqual(was[id]);
    expect(Object.values(was).some((s) => s.n > 0)).toBe(true);
  });

  it.each(POLICY_KINDS)('starts an added arm at n = 0 from the prior under %s', (kind) => {
    const before = makeAgent({ policy: policyOf(kind), dimensions: withBlocks(BLOCKS) });
    const after = makeAgent({ policy: policyOf(kind), dimensions: withBlocks(GROWN) });
    const grown = agentModelFromJSON(after, viaText(trained(before)));
    expect(armStates(grown, 'content_block').cb_new).toEqual(
      armStates(createAgentModel(after), 'content_block').cb_new,
    );
    expect(armStates(grown, 'content_block').cb_new.n).toBe(0);
  });

  it("keeps the old arms' estimates and uncertainties in any context when an arm is added", () => {
    const before = makeAgent({ policy: { kind: 'logistic-ts' }, dimensions: withBlocks(BLOCKS) });
    const after = makeAgent({ policy: { kind: 'logistic-ts' }, dimensions: withBlocks(GROWN) });
    const old = trained(before);
    const grown = agentModelFromJSON(after, viaText(old));
    const was = old.dimensions.find((d) => d.id === 'content_block')!;
    const is = grown.dimensions.find((d) => d.id === 'content_block')!;
    const rng = new Rng('contexts');
    for (let t = 0; t < 20; t++) {
      const x = Float64Array.from({ length: was.policy.dim }, (_, i) => (i === 0 ? 1 : rng.next()));
      const byId = (dim: typeof was, eligible: Uint8Array) =>
        Object.fromEntries(dim.policy.explain(x, eligible).map((e) => [dim.armIds[e.arm], [e.mean, e.sd]]));
      const grownView = byId(is, Uint8Array.of(1, 1, 1, 1));
      expect({ cb_specs: grownView.cb_specs, cb_style: grownView.cb_style, cb_bundle: grownView.cb_bundle }).toEqual(
        byId(was, Uint8Array.of(1, 1, 1)),
      );
    }
  });

  it("keeps later dimensions' learning when an earlier dimension gains an arm", () => {
    const before = makeAgent({ policy: { kind: 'linucb' }, dimensions: withBlocks(BLOCKS) });
    const after = makeAgent({
      policy: { kind: 'linucb' },
      dimensions: withBlocks(BLOCKS, [
        FREQUENCY,
        { ...CHANNEL, arms: ['email', 'sms', 'push', 'whatsapp'] },
        SEND_TIME,
        SUBJECT_LINE,
      ]),
    });
    const old = trained(before);
    const grown = agentModelFromJSON(after, viaText(old));
    const oldDim = old.dimensions.find((d) => d.id === 'content_block')!;
    const newDim = grown.dimensions.find((d) => d.id === 'content_block')!;
    expect(newDim.featureNames).toContain('channel=whatsapp');
    const was = armStates(old, 'content_block');
    const is = armStates(grown, 'content_block');
    for (const id of BLOCKS) {
      const w = was[id];
      const n = is[id];
      expect(n.n, id).toBe(w.n);
      if (!isGaussianArm(w) || !isGaussianArm(n)) throw new Error('linucb keeps Gaussian arms');
      // each old feature keeps its weight; the new one enters at 0
      newDim.featureNames.forEach((name, i) => {
        const from = oldDim.featureNames.indexOf(name);
        expect(n.mean[i], `${id} ${name}`).toBe(from < 0 ? 0 : w.mean[from]);
      });
    }
  });

  it('drops a removed arm and keeps the others', () => {
    const before = makeAgent({ dimensions: withBlocks(BLOCKS), policy: { kind: 'beta-ts', draws: 200 } });
    const after = makeAgent({
      dimensions: withBlocks(['cb_specs', 'cb_bundle']),
      policy: { kind: 'beta-ts', draws: 200 },
    });
    const old = trained(before);
    const shrunk = agentModelFromJSON(after, viaText(old));
    const dim = shrunk.dimensions.find((d) => d.id === 'content_block')!;
    expect(dim.armIds).toEqual(['cb_specs', 'cb_bundle']);
    expect(dim.policy.toJSON().arms).toHaveLength(2);
    const was = armStates(old, 'content_block');
    expect(armStates(shrunk, 'content_block')).toEqual({ cb_specs: was.cb_specs, cb_bundle: was.cb_bundle });
  });

  it('never chooses a removed arm afterwards', () => {
    const before = makeAgent({ dimensions: withBlocks(BLOCKS) });
    const after = makeAgent({ dimensions: withBlocks(['cb_specs', 'cb_bundle']) });
    const shrunk = agentModelFromJSON(after, viaText(trained(before, 20)));
    for (let i = 0; i < 100; i++)
      expect(decideWith(after, shrunk, customer(i), { decisionId: `d-${i}` }).choices.content_block?.arm).not.toBe(
        'cb_style',
      );
  });

  it('matches arms by id, not position, when their order changes', () => {
    const before = makeAgent({ dimensions: withBlocks(BLOCKS), policy: { kind: 'eps-greedy' } });
    const after = makeAgent({ dimensions: withBlocks([...BLOCKS].reverse()), policy: { kind: 'eps-greedy' } });
    const old = trained(before);
    expect(armStates(agentModelFromJSON(after, viaText(old)), 'content_block')).toEqual(
      armStates(old, 'content_block'),
    );
  });

  it('starts an added dimension from the prior and keeps the learning of the others', () => {
    const before = makeAgent({ policy: { kind: 'beta-ts', draws: 200 } });
    const tone = { id: 'tone', arms: ['warm', 'bold'], default: 'warm' };
    const after = makeAgent({
      policy: { kind: 'beta-ts', draws: 200 },
      dimensions: [FREQUENCY, CHANNEL, tone, SEND_TIME, SUBJECT_LINE, CONTENT_BLOCK],
    });
    const old = trained(before);
    const added = agentModelFromJSON(after, viaText(old));
    expect(armStates(added, 'tone')).toEqual(armStates(createAgentModel(after), 'tone'));
    for (const id of ['frequency', 'channel', 'send_time', 'subject_line', 'content_block'])
      expect(armStates(added, id), id).toEqual(armStates(old, id));
  });

  it('drops a removed dimension and keeps the others', () => {
    const before = makeAgent({ policy: { kind: 'beta-ts', draws: 200 } });
    const after = makeAgent({
      policy: { kind: 'beta-ts', draws: 200 },
      dimensions: [FREQUENCY, CHANNEL, SEND_TIME, SUBJECT_LINE],
    });
    const old = trained(before);
    const kept = agentModelFromJSON(after, viaText(old));
    expect(kept.dimensions.map((d) => d.id)).toEqual(['frequency', 'channel', 'send_time', 'subject_line']);
    for (const id of ['frequency', 'channel', 'send_time', 'subject_line'])
      expect(armStates(kept, id), id).toEqual(armStates(old, id));
  });

  it('restarts every dimension from the prior when the policy kind changes', () => {
    const old = trained(makeAgent({ policy: { kind: 'linucb' } }));
    const after = makeAgent({ policy: { kind: 'lin-ts' } });
    const switched = agentModelFromJSON(after, viaText(old));
    for (const d of switched.dimensions)
      expect(armStates(switched, d.id), d.id).toEqual(armStates(createAgentModel(after), d.id));
  });

  it('keeps the learning and takes the new parameters when only parameters change', () => {
    const old = trained(makeAgent({ policy: { kind: 'linucb', alpha: 1, floor: 0.05 } }));
    const after = makeAgent({ policy: { kind: 'linucb', alpha: 0.3, floor: 0.2 } });
    const tuned = agentModelFromJSON(after, viaText(old));
    for (const d of tuned.dimensions) {
      expect(armStates(tuned, d.id), d.id).toEqual(armStates(old, d.id));
      expect(d.policy.params).toMatchObject({ alpha: 0.3, floor: 0.2 });
    }
  });
});

describe('share: tags', () => {
  const TAGGED = [
    { id: 'cb_specs', tags: ['performance'] },
    { id: 'cb_race', tags: ['performance', 'urgency'] },
    { id: 'cb_style', tags: ['style'] },
    { id: 'cb_new' },
  ];
  const agentWith = (arms: unknown[], share = 'tags') =>
    makeAgent({
      policy: { kind: 'logistic-ts', draws: 200, share },
      dimensions: [FREQUENCY, CHANNEL, SEND_TIME, SUBJECT_LINE, { ...CONTENT_BLOCK, arms, default: 'cb_specs' }],
    });

  it('groups a dimension by its tags, an untagged arm on its own, and leaves untagged dimensions per arm', () => {
    const model = createAgentModel(agentWith(TAGGED));
    const blocks = model.dimensions.find((d) => d.id === 'content_block')!;
    expect(blocks.groups).toEqual({
      names: ['performance', 'urgency', 'style', 'arm:cb_new'],
      count: 4,
      of: [[0], [0, 1], [2], [3]],
    });
    expect(blocks.policy.toJSON().shared?.groupCount).toBe(4);
    // the contract's subject lines share no tag, and the other dimensions have none
    for (const id of ['frequency', 'channel', 'send_time', 'subject_line'])
      expect(model.dimensions.find((d) => d.id === id)!.groups, id).toBeUndefined();
  });

  it('is refused for a policy without a Gaussian model', () => {
    expect(() => makeAgent({ policy: { kind: 'beta-ts', share: 'tags' } })).toThrow(/policy\.share: unknown key/);
  });

  it('gives identical next decisions after a JSON round trip', () => {
    const agent = agentWith(TAGGED);
    const original = trained(agent);
    const restored = agentModelFromJSON(agent, viaText(original));
    for (let i = 0; i < 30; i++) {
      const options = { seed: 'next', decisionId: `n-${i}`, explain: true };
      const a = decideWith(agent, original, customer(i), options);
      expect(decideWith(agent, restored, customer(i), options)).toEqual(a);
      learn(agent, original, a, reward(a));
      learn(agent, restored, a, reward(a));
    }
  });

  it('carries tags and arms over by name when a tagged arm is added, and restarts a dimension when sharing is switched', () => {
    const before = agentWith(TAGGED);
    const old = trained(before);
    const after = agentWith([...TAGGED, { id: 'cb_trail', tags: ['outdoor', 'urgency'] }]);
    const grown = agentModelFromJSON(after, viaText(old));
    const was = old.dimensions.find((d) => d.id === 'content_block')!;
    const is = grown.dimensions.find((d) => d.id === 'content_block')!;
    expect(is.groups?.names).toEqual(['performance', 'urgency', 'style', 'arm:cb_new', 'outdoor']);
    const x = Float64Array.from({ length: was.policy.dim }, (_, i) => (i === 0 ? 1 : (i % 3) / 3));
    const before4 = was.policy.explain(x, Uint8Array.of(1, 1, 1, 1));
    const after5 = is.policy.explain(x, Uint8Array.of(1, 1, 1, 1, 1));
    for (let a = 0; a < 4; a++) expect(after5[a].mean).toBeCloseTo(before4[a].mean, 12);
    const off = agentModelFromJSON(agentWith(TAGGED, 'none'), viaText(old));
    expect(armStates(off, 'content_block')).toEqual(
      armStates(createAgentModel(agentWith(TAGGED, 'none')), 'content_block'),
    );
  });
});

describe("a dimension's features", () => {
  // frequency sees one trait, channel everything (the default), content_block one trait and channel
  const focused = (policy: Record<string, unknown> = { kind: 'logistic-ts', draws: 200 }, frequency = ['vip']) =>
    makeAgent({
      policy,
      dimensions: [
        { ...FREQUENCY, features: frequency },
        CHANNEL,
        SEND_TIME,
        SUBJECT_LINE,
        { ...CONTENT_BLOCK, features: ['lifetime_orders', 'channel'] },
      ],
    });
  const dimension = (model: AgentModel, id: string) => model.dimensions.find((d) => d.id === id)!;

  it('gives each dimension the intercept, the listed features and the listed earlier choices; every one without a list', () => {
    const model = createAgentModel(focused());
    expect(dimension(model, 'frequency').featureNames).toEqual(['intercept', 'vip', 'vip:missing']);
    expect(dimension(model, 'content_block').featureNames).toEqual([
      'intercept',
      'lifetime_orders',
      'lifetime_orders:missing',
      'channel=email',
      'channel=sms',
      'channel=push',
    ]);
    expect(dimension(model, 'channel').featureNames).toEqual([
      ...model.encoder.names,
      'frequency=send',
      'frequency=skip',
    ]);
    expect(dimension(model, 'content_block').policy.dim).toBe(6);
  });

  it('shows each policy exactly the slots it sees, and a later dimension the whole encoding whatever an earlier one sees', () => {
    const agent = focused();
    const model = createAgentModel(agent);
    const seen: Record<string, number[]> = {};
    for (const dim of model.dimensions) {
      const distribution = dim.policy.distribution.bind(dim.policy);
      dim.policy.distribution = (x, eligible, rng, out) => {
        seen[dim.id] = Array.from(toDense(x));
        distribution(x, eligible, rng, out);
      };
    }
    const profile = makeProfile({ traits: { ...makeProfile().traits, lifetime_orders: 25, vip: true } });
    // the first decision that sends (skipping decides nothing after frequency)
    let d = decideWith(agent, model, profile, { decisionId: 'seen-0' });
    for (let i = 1; !d.deliver && i < 20; i++) d = decideWith(agent, model, profile, { decisionId: `seen-${i}` });
    expect(d.deliver).toBe(true);
    expect(seen.frequency).toEqual([1, 1, 0]);
    expect(seen.channel).toEqual([...d.features, 1, 0]);
    expect(seen.content_block).toEqual([
      1,
      0.5,
      0,
      ...['email', 'sms', 'push'].map((c) => (d.choices.channel.arm === c ? 1 : 0)),
    ]);
  });

  it('explains a dimension by the features it sees only', () => {
    const agent = focused();
    const model = trained(agent);
    const drivers = Array.from({ length: 20 }, (_, i) =>
      decideWith(agent, model, customer(i), { decisionId: `why-${i}`, explain: true }),
    )
      .flatMap((d) => d.explanation!.find((e) => e.dimension === 'frequency')!.drivers)
      .map((x) => x.feature);
    expect(drivers.length).toBeGreaterThan(0);
    for (const name of drivers) expect(['intercept', 'vip', 'vip:missing']).toContain(name);
  });

  it("narrows a dimension shared by tags, keeping each tag's weights, the offsets and their covariance for the inputs still seen", () => {
    const tagged = [
      { id: 'cb_specs', tags: ['performance'] },
      { id: 'cb_race', tags: ['performance', 'urgency'] },
      { id: 'cb_style', tags: ['style'] },
      { id: 'cb_new' },
    ];
    const agentSeeing = (features?: string[]) =>
      makeAgent({
        policy: { kind: 'lin-ts', share: 'tags' },
        dimensions: [
          FREQUENCY,
          CHANNEL,
          SEND_TIME,
          SUBJECT_LINE,
          { ...CONTENT_BLOCK, arms: tagged, default: 'cb_specs', ...(features && { features }) },
        ],
      });
    const old = trained(agentSeeing());
    const narrowed = agentModelFromJSON(agentSeeing(['lifetime_orders', 'channel']), viaText(old));
    const was = dimension(old, 'content_block');
    const is = dimension(narrowed, 'content_block');
    expect(is.featureNames).toEqual([
      'intercept',
      'lifetime_orders',
      'lifetime_orders:missing',
      'channel=email',
      'channel=sms',
      'channel=push',
    ]);
    const [G, K, d, d2] = [4, 4, was.featureNames.length, is.featureNames.length];
    const [D, D2] = [d * G + K, d2 * G + K];
    const before = was.policy.toJSON().shared!;
    const after = is.policy.toJSON().shared!;
    // the index of every kept weight, old and new: a weight vector per tag, then an offset per arm
    const kept: [number, number][] = [];
    for (let g = 0; g < G; g++)
      for (let f = 0; f < d2; f++) kept.push([g * d2 + f, g * d + was.featureNames.indexOf(is.featureNames[f])]);
    for (let a = 0; a < K; a++) kept.push([d2 * G + a, d * G + a]);
    expect(kept.some(([, o]) => before.mean[o] !== 0)).toBe(true);
    for (const [n, o] of kept) {
      expect(after.mean[n]).toBe(before.mean[o]);
      for (const [n2, o2] of kept) expect(after.cov[n * D2 + n2]).toBe(before.cov[o * D + o2]);
    }
  });

  it('learns from a decision made before its dimensions were narrowed, through the inputs they still see', () => {
    const wide = focused({ kind: 'linucb' }, ['lifetime_orders', 'vip']);
    const narrow = focused({ kind: 'linucb' }, ['vip']);
    const model = createAgentModel(wide);
    const d = decideWith(wide, model, customer(4), { decisionId: 'before' });
    const restored = agentModelFromJSON(narrow, viaText(model));
    expect(learn(narrow, restored, d, 1)).toBeGreaterThan(0);
    const frequency = dimension(restored, 'frequency');
    const arm = frequency.armIds.indexOf(d.choices.frequency.arm);
    const { mean } = frequency.policy.toJSON().arms[arm] as { mean: number[] };
    // customer 4 is not a VIP: the intercept and vip:missing=0, vip=0 → only the intercept's weight moves
    expect(frequency.featureNames).toEqual(['intercept', 'vip', 'vip:missing']);
    expect(mean[0]).toBeGreaterThan(0);
    expect(mean.slice(1)).toEqual([0, 0]);
  });

  it('carries the weights of the features still seen over by name when the list changes', () => {
    const agent = focused({ kind: 'linucb' });
    const old = trained(agent);
    const wider = focused({ kind: 'linucb' }, ['lifetime_orders', 'vip']);
    const grown = agentModelFromJSON(wider, viaText(old));
    const was = dimension(old, 'frequency');
    const is = dimension(grown, 'frequency');
    expect(is.featureNames).toEqual(['intercept', 'lifetime_orders', 'lifetime_orders:missing', 'vip', 'vip:missing']);
    const wasArm = was.policy.toJSON().arms[0] as { mean: number[] };
    const isArm = is.policy.toJSON().arms[0] as { mean: number[] };
    expect(wasArm.mean.some((m) => m !== 0)).toBe(true);
    for (const [k, name] of was.featureNames.entries())
      expect(isArm.mean[is.featureNames.indexOf(name)], name).toBe(wasArm.mean[k]);
    expect(isArm.mean[is.featureNames.indexOf('lifetime_orders')]).toBe(0);
  });
});
