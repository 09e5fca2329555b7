import { describe, expect, it } from 'vitest';
import { agentConfigSchema } from '../../plugin/config/index.ts';
import { contractAgent, errorsOf, makeAgentInput, makeWorkspace, type Json } from './contract.ts';

describe('conditions', () => {
  const agent = contractAgent();

  it('tags conditions by kind and turns a single arm into a list', () => {
    expect(agent.dimensions[3].when).toEqual({ kind: 'choice', choices: { channel: ['email'] } });
    expect(agent.guardrails.eligibility[0].unless).toEqual({ kind: 'trait', trait: 'vip', equals: true });
  });

  it('normalizes nested conditions', () => {
    const parsed = agentConfigSchema.parse(
      makeAgentInput({
        dimensions: [
          { id: 'channel', arms: ['email', 'sms'], default: 'email' },
          {
            id: 'subject',
            arms: ['a'],
            default: 'a',
            when: { all: [{ channel: ['email', 'sms'] }, { not: { trait: 'vip', exists: true } }] },
          },
        ],
      }),
    );
    expect(parsed.dimensions[1].when).toEqual({
      kind: 'all',
      all: [
        { kind: 'choice', choices: { channel: ['email', 'sms'] } },
        { kind: 'not', not: { kind: 'trait', trait: 'vip', exists: true } },
      ],
    });
  });

  it.each<[string, (agent: Json) => void, string[]]>([
    [
      'a trait condition without operator',
      (a) => {
        a.dimensions[3].when = { all: [{ trait: 'vip' }] };
      },
      ['agents[0].dimensions[3].when.all[0]: needs at least one of equals, in, gte, lte, exists'],
    ],
    [
      'a trait condition with a wrong type',
      (a) => {
        a.dimensions[3].when = { not: { trait: 3, equals: 1 } };
      },
      ['agents[0].dimensions[3].when.not.trait: expected a string, got number 3'],
    ],
    [
      'an empty condition',
      (a) => {
        a.dimensions[3].when = {};
      },
      ['agents[0].dimensions[3].when: an empty condition; give a trait test, all, any, not or {<dimension>: <arm>}'],
    ],
  ])('rejects %s', (_name, change, expected) => {
    expect(errorsOf(makeWorkspace(change))).toEqual(expected);
  });
});
