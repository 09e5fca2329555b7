import { describe, expect, it } from 'vitest';
import { contractAgent, errorsOf, makeWorkspace, type Json } from './contract.ts';

describe('goal', () => {
  const agent = contractAgent();

  it('adds windowMs to the goal and defaults combine to max', () => {
    expect(agent.goal).toMatchObject({ window: '72h', windowMs: 72 * 3_600_000, combine: 'max' });
  });

  it('accepts events up to 7 days after the window by default (late_margin)', () => {
    expect(agent.goal.lateMarginMs).toBe(7 * 86_400_000);
  });

  it('takes late_margin as a duration', () => {
    expect(errorsOf(makeWorkspace((a) => (a.goal.late_margin = 'a week')))).toEqual([
      'agents[0].goal.late_margin: must be a duration like 72h, 7d, 30m, 90s or 2w, got "a week"',
    ]);
  });

  it.each<[string, (agent: Json) => void, string[]]>([
    [
      'a malformed window and combine',
      (a) => {
        a.goal.window = '3 days';
        a.goal.combine = 'avg';
      },
      [
        'agents[0].goal.window: must be a duration like 72h, 7d, 30m, 90s or 2w, got "3 days"',
        'agents[0].goal.combine: must be one of first, sum, max, got "avg"',
      ],
    ],
    [
      'reward values out of range',
      (a) => {
        a.goal.rewards[0].value = 1.5;
        a.goal.rewards[1].value = { property: 'revenue', cap: 0 };
      },
      [
        'agents[0].goal.rewards[0].value: must be in [0, 1], got 1.5',
        'agents[0].goal.rewards[1].value.cap: must be > 0, got 0',
      ],
    ],
    [
      'a reward value of the wrong form',
      (a) => {
        a.goal.rewards[0].value = 'high';
      },
      ['agents[0].goal.rewards[0].value: must be a number in [0, 1] or {property, cap}'],
    ],
  ])('rejects %s', (_name, change, expected) => {
    expect(errorsOf(makeWorkspace(change))).toEqual(expected);
  });
});
