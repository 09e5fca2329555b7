import { describe, expect, it } from 'vitest';
import { createAgentModel, type AgentModel } from '../../plugin/agent/index.ts';
import {
  agentConfigSchema,
  MAX_AGENTS,
  MAX_CONTEXT_SLOTS,
  MAX_DIAGONAL_SLOTS,
  MAX_MODEL_WEIGHTS,
  MAX_THOMPSON_SCORES,
  MAX_TOTAL_ARMS,
  modelCost,
  validateConfig,
} from '../../plugin/config/index.ts';
import { contractAgent, errorsOf, makeAgentInput, makeWorkspace, type Json } from './contract.ts';
import { largestAgent } from './largest.ts';

const range = (n: number) => Array.from({ length: n }, (_, i) => i);
const armIds = (n: number, prefix = 'a') => range(n).map((i) => `${prefix}${i}`);

/** A workspace of one agent whose input is `largestAgent()` changed by `change`. */
function largestWith(change: (agent: Json) => void): Json {
  const agent = largestAgent();
  change(agent);
  return { workspace: 'w', agents: [agent] };
}

/** Weights the model really allocates: each policy's covariance blocks. */
function allocatedWeights(model: AgentModel): number {
  return model.dimensions.reduce((sum, d) => {
    const state = d.policy.toJSON();
    const blocks = state.shared ? [state.shared] : (state.arms as { cov?: number[] }[]);
    return sum + blocks.reduce((s, b) => s + (b.cov?.length ?? 0), 0);
  }, 0);
}

describe('config size limits: each list has a cap, and the message names it', () => {
  it.each<[string, (agent: Json) => void, string]>([
    [
      'a dimension of 101 arms',
      (a) => {
        a.dimensions[4].arms = armIds(101, 'cb');
        a.dimensions[4].default = 'cb0';
      },
      'agents[0].dimensions[4].arms: must have at most 100 arms',
    ],
    [
      '11 dimensions',
      (a) => {
        a.dimensions.push(...range(6).map((i) => ({ id: `extra${i}`, arms: ['x', 'y'], default: 'x' })));
      },
      'agents[0].dimensions: must have at most 10 dimensions',
    ],
    [
      '51 features',
      (a) => {
        a.features = range(51).map((i) => ({ trait: `t${i}`, type: 'boolean' }));
      },
      'agents[0].features: must have at most 50 features',
    ],
    [
      'a categorical feature of 101 values',
      (a) => {
        a.features[1].values = armIds(101, 'v');
      },
      'agents[0].features[1].values: must have at most 100 values',
    ],
    [
      '4097 hash buckets',
      (a) => {
        a.features[2].buckets = 4097;
      },
      'agents[0].features[2].buckets: must be an integer in [2, 4096], got 4097',
    ],
    [
      'an arm with 21 tags',
      (a) => {
        a.dimensions[3].arms[0].tags = armIds(21, 't');
      },
      'agents[0].dimensions[3].arms[0].tags: must have at most 20 tags',
    ],
    [
      '51 reward rules',
      (a) => {
        a.goal.rewards = range(51).map((i) => ({ event: `E${i}`, value: 1 }));
      },
      'agents[0].goal.rewards: must have at most 50 rules',
    ],
    [
      '21 frequency caps',
      (a) => {
        a.guardrails.frequency_caps = range(21).map((i) => ({ max: i + 1, per: '7d' }));
      },
      'agents[0].guardrails.frequency_caps: must have at most 20 caps',
    ],
    [
      '51 eligibility rules',
      (a) => {
        a.guardrails.eligibility = range(51).map(() => ({
          arm: { subject_line: 'sl_urgency' },
          unless: { trait: 'vip', equals: true },
        }));
      },
      'agents[0].guardrails.eligibility: must have at most 50 rules',
    ],
    [
      '51 forbidden combinations',
      (a) => {
        a.guardrails.forbid = range(51).map(() => ({ channel: 'sms', content_block: 'cb_style' }));
      },
      'agents[0].guardrails.forbid: must have at most 50 combinations',
    ],
    [
      '11 delivery entries',
      (a) => {
        a.delivery = range(11).map((i) => ({ to: 'braze', mode: 'attributes', prefix: `p${i}_` }));
      },
      'agents[0].delivery: must have at most 10 entries',
    ],
    [
      'an `in` test of 1,001 values',
      (a) => {
        a.guardrails.eligibility[0].unless = { trait: 'vip', in: range(1001) };
      },
      'agents[0].guardrails.eligibility[0].unless.in: must have at most 1000 values',
    ],
    [
      'an `any` of 101 conditions',
      (a) => {
        a.dimensions[3].when = { any: range(101).map((i) => ({ trait: 'vip', equals: i })) };
      },
      'agents[0].dimensions[3].when.any: must have at most 100 conditions',
    ],
  ])('refuses %s', (_name, change, error) => {
    expect(errorsOf(makeWorkspace(change))).toContain(error);
  });

  it(`refuses a workspace of ${MAX_AGENTS + 1} agents`, () => {
    const agents = range(MAX_AGENTS + 1).map((i) => makeAgentInput({ id: `a${i}` }));
    expect(errorsOf({ workspace: 'w', agents })).toContain('agents: must have at most 100 agents');
  });
});

describe('config size budgets: what the model costs', () => {
  it(`refuses more than ${MAX_TOTAL_ARMS} arms across the dimensions`, () => {
    const workspace = largestWith((a) => a.dimensions[1].arms.push({ id: 'one-more' }));
    expect(errorsOf(workspace)).toEqual([
      "agents[0].dimensions: have 201 arms in all; at most 200 across the agent's dimensions",
    ]);
  });

  it(`refuses a dimension that sees more than ${MAX_CONTEXT_SLOTS} context slots with a full covariance, naming what to cut`, () => {
    const workspace = makeWorkspace((a) => {
      a.features.push({ trait: 'sku', type: 'hashed', buckets: 200 });
      a.policy = { ...a.policy, covariance: 'full' };
    });
    const message = (slots: number) =>
      `sees ${slots} context slots (the intercept, each feature's encoded slots, one per arm of each earlier dimension, one per pair of an interaction's slots); at most 256 with a full covariance: list fewer in its \`features\`, or use fewer hashed buckets, categorical values or interactions, or set policy.covariance: diagonal`;
    expect(errorsOf(workspace)).toEqual(
      [275, 277, 280, 284, 286].map((slots, j) => `agents[0].dimensions[${j}]: ${message(slots)}`),
    );
  });

  it('accepts the same wide dimensions with a diagonal covariance (auto above 128 slots)', () => {
    const workspace = makeWorkspace((a) => a.features.push({ trait: 'sku', type: 'hashed', buckets: 200 }));
    expect(errorsOf(workspace)).toEqual([]);
  });

  it(`refuses a dimension that sees more than ${MAX_DIAGONAL_SLOTS.toLocaleString('en-US')} context slots with a diagonal covariance`, () => {
    const workspace = makeWorkspace((a) => {
      a.features.push({ trait: 'sku', type: 'hashed', buckets: 4096 });
      a.policy = { ...a.policy, interactions: [['sku', 'last_category']] };
    });
    const errors = errorsOf(workspace);
    expect(errors).toHaveLength(5);
    for (const e of errors)
      expect(e).toMatch(
        /^agents\[0\]\.dimensions\[\d\]: sees [\d,]+ context slots .* at most 8,192 with a diagonal covariance/,
      );
  });

  it(`refuses a model of more than ${MAX_MODEL_WEIGHTS.toLocaleString('en-US')} weights, naming the largest dimension`, () => {
    const workspace = makeWorkspace((a) => {
      a.dimensions[4].arms = [...a.dimensions[4].arms, ...armIds(37, 'cb')];
    });
    expect(errorsOf(workspace)).toEqual([
      'agents[0].dimensions: the model would hold 364,589 weights, 295,840 of them for "content_block" (40 arms over 86 context slots); at most 250,000: give dimensions fewer arms or fewer context slots (their `features`)',
    ]);
  });

  it('accepts the same dimension once it sees fewer context slots', () => {
    const workspace = makeWorkspace((a) => {
      a.dimensions[4].arms = [...a.dimensions[4].arms, ...armIds(37, 'cb')];
      a.dimensions[4].features = ['lifetime_orders', 'last_category', 'channel'];
    });
    expect(errorsOf(workspace)).toEqual([]);
  });

  it(`refuses Thompson sampling of more than ${MAX_THOMPSON_SCORES.toLocaleString('en-US')} scores per decision`, () => {
    const workspace = makeWorkspace((a) => {
      a.policy.draws = 5000;
    });
    expect(errorsOf(workspace)).toEqual([
      'agents[0].policy.draws: 5,000 draws × 14 arms (all dimensions) is 70,000 random scores per decision; at most 60,000: lower draws or use fewer arms',
    ]);
  });

  it('counts no weights for the policies without a model of the context', () => {
    const workspace = largestWith((a) => {
      a.policy = { kind: 'beta-ts', draws: 300 };
      a.dimensions[0].features = undefined;
    });
    expect(errorsOf(workspace)).toEqual([]);
  });

  it('reports the budgets only once the parts they count are valid', () => {
    const workspace = makeWorkspace((a) => {
      a.features.push({ trait: 'sku', type: 'hashed', buckets: 200 });
      a.dimensions[3].features = ['nope'];
    });
    expect(errorsOf(workspace)).toEqual([
      'agents[0].dimensions[3].features[0]: "nope" is neither a feature of the agent nor an earlier dimension (lifetime_orders, last_category, city, last_order_at, local_hour, sku, frequency, channel, send_time)',
    ]);
  });
});

describe('the budgets count what the model holds', () => {
  it.each<[string, () => Json]>([
    ['the example agent', () => makeWorkspace().agents[0]],
    ['the largest allowed agent', () => largestAgent()],
    [
      'an agent sharing by tags',
      () => {
        const a = makeWorkspace().agents[0];
        a.policy = { kind: 'lin-ts', share: 'tags' };
        a.dimensions[4].arms = ['cb_specs', 'cb_style', 'cb_bundle'].map((id, i) => ({
          id,
          tags: i === 2 ? [] : ['content', `t${i}`],
        }));
        return a;
      },
    ],
    [
      'an agent with a diagonal covariance',
      () => ({ ...makeWorkspace().agents[0], policy: { kind: 'logistic-ts', covariance: 'diagonal' } }),
    ],
    [
      'an agent with a wide hashed trait (auto: diagonal above 128 slots) and declared interactions',
      () => {
        const a = makeWorkspace().agents[0];
        a.features.push({ trait: 'sku', type: 'hashed', buckets: 1024 });
        a.policy = {
          kind: 'squarecb',
          interactions: [
            ['sku', 'channel'],
            ['lifetime_orders', 'last_category'],
          ],
        };
        return a;
      },
    ],
  ])('%s', (_name, input) => {
    const agent = agentConfigSchema.parse(input());
    expect(modelCost(agent).weights).toBe(allocatedWeights(createAgentModel(agent)));
  });

  it('the example agent is well inside them', () => {
    expect(modelCost(contractAgent())).toEqual({ slots: [75, 77, 80, 84, 86], weights: 90_937, arms: 14 });
  });

  it('the largest allowed agent is valid and at the budgets', () => {
    const result = validateConfig({ workspace: 'w', agents: [largestAgent()] });
    expect(result.ok && modelCost(result.config.agents[0])).toMatchObject({ arms: MAX_TOTAL_ARMS, weights: 243_400 });
  });
});
