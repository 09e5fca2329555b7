import { describe, expect, it } from 'vitest';
import { validateAgentConfig } from '../../plugin/config/index.ts';
import { errorsOf, makeAgentInput, makeWorkspace, type Json } from './contract.ts';

describe('validateConfig', () => {
  it.each<[string, (agent: Json) => void, string[]]>([
    [
      'missing required fields',
      (a) => {
        delete a.goal;
        delete a.policy;
      },
      ['agents[0].goal: required', 'agents[0].policy: required'],
    ],
    [
      'a misspelt key',
      (a) => {
        a.polcy = a.policy;
      },
      [
        'agents[0].polcy: unknown key; allowed keys are id, salt, goal, holdout, policy, features, dimensions, guardrails, delivery',
      ],
    ],
    [
      'a wrong type',
      (a) => {
        a.holdout = 'ten percent';
      },
      ['agents[0].holdout: expected a number, got string "ten percent"'],
    ],
  ])('rejects %s', (_name, change, expected) => {
    expect(errorsOf(makeWorkspace(change))).toEqual(expected);
  });

  it('reports every error, not just the first', () => {
    const errors = errorsOf(
      makeWorkspace((a) => {
        a.holdout = 0.7;
        a.dimensions[3].arms[1].id = 'sl_plain';
        a.delivery[0].prefix = 'nb-';
      }),
    );
    expect(errors).toEqual([
      'agents[0].holdout: must be in [0, 0.5], got 0.7',
      'agents[0].dimensions[3].arms[1].id: duplicate arm id "sl_plain"',
      'agents[0].delivery[0].prefix: must contain only letters, digits and "_", got "nb-"',
    ]);
  });

  it('rejects a config that is not an object', () => {
    expect(errorsOf('agents')).toEqual(['(root): expected an object, got string "agents"']);
  });

  it('validates a single agent with paths relative to it', () => {
    expect(validateAgentConfig(makeAgentInput({ holdout: 0.7 }))).toEqual({
      ok: false,
      errors: ['holdout: must be in [0, 0.5], got 0.7'],
    });
  });
});
