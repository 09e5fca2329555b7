import { describe, expect, it } from 'vitest';
import { contractAgent, errorsOf, makeWorkspace, type Json } from './contract.ts';

describe('features', () => {
  const agent = contractAgent();

  it('defaults recency max to 365', () => {
    expect(agent.features[3]).toEqual({ trait: 'last_order_at', type: 'recency', unit: 'days', max: 365 });
  });

  it.each<[string, (agent: Json) => void, string[]]>([
    [
      'a numeric feature with min >= max',
      (a) => {
        a.features[0].min = 60;
      },
      ['agents[0].features[0].max: must be greater than min (60), got 50'],
    ],
    [
      'a categorical feature with a repeated value',
      (a) => {
        a.features[1].values = ['running', 'running'];
      },
      ['agents[0].features[1].values[1]: duplicate value "running"'],
    ],
    [
      'too few hash buckets',
      (a) => {
        a.features[2].buckets = 1;
      },
      ['agents[0].features[2].buckets: must be an integer in [2, 4096], got 1'],
    ],
    [
      'an unknown feature type',
      (a) => {
        a.features[0].type = 'numric';
      },
      ['agents[0].features[0].type: must be one of numeric, categorical, hashed, boolean, recency, got "numric"'],
    ],
    [
      'an unknown derived feature',
      (a) => {
        a.features[4].derived = 'local_minute';
      },
      ['agents[0].features[4].derived: must be one of local_hour, local_weekday, got "local_minute"'],
    ],
    [
      'a feature without type',
      (a) => {
        delete a.features[0].type;
      },
      [
        'agents[0].features[0]: must be a trait feature {trait, type: numeric|categorical|hashed|boolean|recency, ...} or {derived: local_hour|local_weekday}',
      ],
    ],
  ])('rejects %s', (_name, change, expected) => {
    expect(errorsOf(makeWorkspace(change))).toEqual(expected);
  });
});
