import { describe, expect, it } from 'vitest';
import { POLICY_NAMES } from '../../plugin/bandit/index.ts';
import { agentConfigSchema, POLICY_KINDS, policyConfigSchema } from '../../plugin/config/index.ts';
import { errorsOf, makeAgentInput, makeWorkspace, type Json } from './contract.ts';

describe('policy', () => {
  it('declares the kinds of the bandit, in its order, each with a branch', () => {
    expect(POLICY_KINDS).toBe(POLICY_NAMES);
    for (const kind of POLICY_KINDS) expect(policyConfigSchema.parse({ kind }).kind).toBe(kind);
  });

  it('fills policy defaults for the kind', () => {
    expect(agentConfigSchema.parse(makeAgentInput({ policy: { kind: 'lin-ts' } })).policy).toEqual({
      kind: 'lin-ts',
      floor: 0.05,
      forgetting: 1,
      v: 0.5,
      lambda: 1,
      draws: 300,
      share: 'none',
    });
  });

  it("fills the change detector's defaults when detect is given", () => {
    expect(
      agentConfigSchema.parse(makeAgentInput({ policy: { kind: 'logistic-ts', detect: {} } })).policy,
    ).toMatchObject({
      detect: { slack: 0.1, threshold: 100, warmup: 2000, retain: 750 },
    });
  });

  it.each<[string, (agent: Json) => void, string[]]>([
    [
      'a policy parameter above its range',
      (a) => {
        a.policy = { kind: 'eps-greedy', epsilon: 1.2 };
      },
      ['agents[0].policy.epsilon: must be in [0, 1], got 1.2'],
    ],
    [
      'a floor at its open bound',
      (a) => {
        a.policy.floor = 1;
      },
      ['agents[0].policy.floor: must be in [0, 1), got 1'],
    ],
    [
      'change detection on the random policy (it has no estimates)',
      (a) => {
        a.policy = { kind: 'random', detect: {} };
      },
      ['agents[0].policy.detect: unknown key; allowed keys are kind, floor, floorMin, forgetting'],
    ],
    [
      'a change-detection threshold of 0',
      (a) => {
        a.policy.detect = { threshold: 0 };
      },
      ['agents[0].policy.detect.threshold: must be > 0, got 0'],
    ],
    [
      'a negative retain',
      (a) => {
        a.policy.detect = { retain: -1 };
      },
      ['agents[0].policy.detect.retain: must be >= 0, got -1'],
    ],
    [
      'a forgetting factor of 0',
      (a) => {
        a.policy.forgetting = 0;
      },
      ['agents[0].policy.forgetting: must be in (0, 1], got 0'],
    ],
    [
      'a non-integer number of draws',
      (a) => {
        a.policy = { kind: 'beta-ts', draws: 5.5 };
      },
      ['agents[0].policy.draws: must be an integer in [10, 100000], got 5.5'],
    ],
    [
      'a parameter of another policy kind',
      (a) => {
        a.policy = { kind: 'linucb', epsilon: 0.1 };
      },
      [
        'agents[0].policy.epsilon: unknown key; allowed keys are kind, floor, floorMin, forgetting, detect, alpha, lambda, share, covariance, interactions',
      ],
    ],
    [
      'an unknown policy kind',
      (a) => {
        a.policy = { kind: 'ucb' };
      },
      [
        'agents[0].policy.kind: must be one of random, beta-ts, eps-greedy, linucb, lin-ts, logistic-ts, squarecb, got "ucb"',
      ],
    ],
    [
      'a policy without kind',
      (a) => {
        a.policy = { floor: 0.1 };
      },
      ['agents[0].policy.kind: required, one of random, beta-ts, eps-greedy, linucb, lin-ts, logistic-ts, squarecb'],
    ],
  ])('rejects %s', (_name, change, expected) => {
    expect(errorsOf(makeWorkspace(change))).toEqual(expected);
  });
});
