import { describe, expect, it } from 'vitest';
import { agentConfigSchema } from '../../plugin/config/index.ts';
import { contractAgent, errorsOf, makeAgentInput, makeWorkspace, type Json } from './contract.ts';

describe('dimensions and arms', () => {
  const agent = contractAgent();

  it('turns string arms into arm objects with empty tags', () => {
    expect(agent.dimensions[0].arms).toEqual([
      { id: 'send', tags: [] },
      { id: 'skip', tags: [] },
    ]);
  });

  it('turns local_hour numbers into arms with an hour and a string id', () => {
    expect(agent.dimensions[2]).toMatchObject({
      type: 'local_hour',
      default: '12',
      arms: [
        { id: '8', hour: 8 },
        { id: '12', hour: 12 },
        { id: '18', hour: 18 },
        { id: '20', hour: 20 },
      ],
    });
  });

  it('gives local_hour object arms the hour of their id unless they set one', () => {
    const parsed = agentConfigSchema.parse(
      makeAgentInput({
        dimensions: [
          { id: 'send_time', type: 'local_hour', arms: [{ id: '9' }, { id: 'evening', hour: 19 }], default: 'evening' },
        ],
      }),
    );
    expect(parsed.dimensions[0].arms).toEqual([
      { id: '9', hour: 9, tags: [] },
      { id: 'evening', hour: 19, tags: [] },
    ]);
  });

  it('defaults the dimension type to categorical', () => {
    expect(agent.dimensions[1].type).toBe('categorical');
  });

  it.each<[string, (agent: Json) => void, string[]]>([
    [
      'no dimensions',
      (a) => {
        a.dimensions = [];
      },
      ['agents[0].dimensions: must have at least 1 item'],
    ],
    [
      'a duplicate arm id',
      (a) => {
        a.dimensions[3].arms[1].id = 'sl_plain';
      },
      ['agents[0].dimensions[3].arms[1].id: duplicate arm id "sl_plain"'],
    ],
    [
      'a default that is not an arm',
      (a) => {
        a.dimensions[0].default = 'maybe';
      },
      ['agents[0].dimensions[0].default: "maybe" is not one of the arms (send, skip)'],
    ],
    [
      'a dimension id that is a condition keyword',
      (a) => {
        a.dimensions[4].id = 'all';
        a.guardrails.forbid = [];
      },
      ['agents[0].dimensions[4].id: "all" is reserved for conditions'],
    ],
    [
      'a local_hour arm that is not an hour',
      (a) => {
        a.dimensions[2].arms = [8, 'noon', { id: 'late', hour: 25 }];
        a.dimensions[2].default = 8;
      },
      [
        'agents[0].dimensions[2].arms[2].hour: must be an integer in [0, 23], got 25',
        'agents[0].dimensions[2].arms[1]: needs an hour 0–23 in a local_hour dimension: use the hour as the id or give "hour", got id "noon"',
      ],
    ],
    [
      'an hour on a categorical arm',
      (a) => {
        a.dimensions[0].arms = [{ id: 'send', hour: 3 }, 'skip'];
      },
      ['agents[0].dimensions[0].arms[0].hour: is only allowed in a local_hour dimension'],
    ],
    [
      'an arm of the wrong form',
      (a) => {
        a.dimensions[0].arms = [true, 'send'];
      },
      ['agents[0].dimensions[0].arms[0]: must be an arm id, an hour (number) or {id, text?, tags?, hour?}'],
    ],
  ])('rejects %s', (_name, change, expected) => {
    expect(errorsOf(makeWorkspace(change))).toEqual(expected);
  });
});
