import { describe, expect, it } from 'vitest';
import { learn } from '../../plugin/agent/learn.ts';
import { createAgentModel, type AgentModel } from '../../plugin/agent/model.ts';
import { hash32, toDense, type Context, type SparseContext } from '../../plugin/bandit/index.ts';
import { decideWith, makeAgent, makeProfile } from './factories.ts';

const FEATURES = [
  { trait: 'lifetime_orders', type: 'numeric', min: 0, max: 50 },
  { trait: 'city', type: 'hashed', buckets: 64 },
  { trait: 'segment', type: 'categorical', values: ['a', 'b', 'c'] },
];

function crossed(interactions: [string, string][], dimensions?: unknown[]) {
  return makeAgent({
    policy: { kind: 'squarecb', interactions },
    features: FEATURES,
    ...(dimensions ? { dimensions } : {}),
  });
}

const profile = makeProfile({ traits: { ...makeProfile().traits, city: 'Lyon', segment: 'b', lifetime_orders: 10 } });

/** Records the context each dimension's policy decides and learns with, densified. */
function spy(model: AgentModel) {
  const decided: Record<string, number[]> = {};
  const learned: Record<string, number[]> = {};
  const sparse: Record<string, SparseContext> = {};
  for (const dim of model.dimensions) {
    const distribution = dim.policy.distribution.bind(dim.policy);
    const update = dim.policy.update.bind(dim.policy);
    dim.policy.distribution = (x: Context, eligible, rng, out) => {
      decided[dim.id] = Array.from(toDense(x));
      sparse[dim.id] = { ...(x as SparseContext) };
      distribution(x, eligible, rng, out);
    };
    dim.policy.update = (x: Context, arm, reward, probability) => {
      learned[dim.id] = Array.from(toDense(x));
      update(x, arm, reward, probability);
    };
  }
  return { decided, learned, sparse };
}

function sendingDecision(agent: ReturnType<typeof crossed>, model: AgentModel) {
  for (let i = 0; i < 50; i++) {
    const d = decideWith(agent, model, profile, { decisionId: `d-${i}` });
    if (d.deliver) return d;
  }
  throw new Error('no decision delivered');
}

describe('declared interactions', () => {
  it('lays out a cross of two features after the earlier choices, one slot per pair of their slots, named a*b', () => {
    const model = createAgentModel(crossed([['city', 'segment']]));
    const frequency = model.dimensions[0];
    const slots = model.encoder.dim;
    expect(frequency.policy.dim).toBe(slots + 64 * 4);
    expect(frequency.featureNames.slice(slots, slots + 5)).toEqual([
      'city#0*segment=a',
      'city#0*segment=b',
      'city#0*segment=c',
      'city#0*segment=other',
      'city#1*segment=a',
    ]);
  });

  it('writes only the nonzero products, sparse: one entry for a hashed trait crossed with a categorical one', () => {
    const agent = crossed([['city', 'segment']]);
    const model = createAgentModel(agent);
    const { decided, sparse } = spy(model);
    decideWith(agent, model, profile);
    const names = model.dimensions[0].featureNames;
    const x = decided.frequency;
    const crossSlots = names.map((n, i) => (n.includes('*') ? i : -1)).filter((i) => i >= 0);
    expect(crossSlots.filter((i) => x[i] !== 0).map((i) => names[i])).toEqual([
      `city#${hash32('Lyon') % 64}*segment=b`,
    ]);
    // the intercept, lifetime_orders, the city bucket, the segment and the cross
    expect(sparse.frequency.nnz).toBe(5);
  });

  it('multiplies the values of numeric slots', () => {
    const agent = crossed([['lifetime_orders', 'segment']]);
    const model = createAgentModel(agent);
    const { decided } = spy(model);
    decideWith(agent, model, profile);
    const names = model.dimensions[0].featureNames;
    expect(decided.frequency[names.indexOf('lifetime_orders*segment=b')]).toBeCloseTo(0.2, 12);
    expect(decided.frequency[names.indexOf('lifetime_orders*segment=a')]).toBe(0);
  });

  it('crosses a trait with an earlier choice only in the dimensions decided after it, with the arm that was chosen', () => {
    const agent = crossed([['segment', 'channel']]);
    const model = createAgentModel(agent);
    const { decided } = spy(model);
    const d = sendingDecision(agent, model);
    const names = (id: string) => model.dimensions.find((m) => m.id === id)!.featureNames;
    expect(names('channel').some((n) => n.includes('*'))).toBe(false);
    const sendTime = names('send_time');
    const on = sendTime.filter((n, i) => n.includes('*') && decided.send_time[i] !== 0);
    expect(on).toEqual([`segment=b*channel=${d.choices.channel.arm}`]);
  });

  it('learns each dimension from exactly the context it decided with, crosses included', () => {
    const agent = crossed([
      ['city', 'segment'],
      ['segment', 'channel'],
    ]);
    const model = createAgentModel(agent);
    const { decided, learned } = spy(model);
    const d = sendingDecision(agent, model);
    expect(learn(agent, model, d, 1)).toBeGreaterThan(1);
    for (const id of Object.keys(d.choices)) expect(learned[id], id).toEqual(decided[id]);
  });

  it('leaves a cross out of a dimension whose features do not list both of its parts', () => {
    const agent = crossed(
      [['city', 'segment']],
      [
        { id: 'frequency', arms: ['send', 'skip'], default: 'send', features: ['city'] },
        { id: 'channel', arms: ['email', 'sms', 'push'], default: 'email', features: ['city', 'segment'] },
      ],
    );
    const model = createAgentModel(agent);
    expect(model.dimensions[0].featureNames.some((n) => n.includes('*'))).toBe(false);
    expect(model.dimensions[1].featureNames.filter((n) => n.includes('*'))).toHaveLength(64 * 4);
  });

  it('refuses an interaction that names neither a feature nor a dimension', () => {
    expect(() => createAgentModel(crossed([['city', 'country']]))).toThrow(
      /"country" is neither a feature nor a dimension/,
    );
  });
});
