import { describe, expect, it } from 'vitest';
import { contractAgent, errorsOf, makeWorkspace, type Json } from './contract.ts';

describe('guardrails', () => {
  const agent = contractAgent();

  it('adds startMinute and endMinute to quiet hours', () => {
    expect(agent.guardrails.quiet_hours).toEqual({
      start: '21:00',
      end: '08:00',
      startMinute: 21 * 60,
      endMinute: 8 * 60,
    });
  });

  it('adds perMs to frequency caps', () => {
    expect(agent.guardrails.frequency_caps).toEqual([
      { max: 3, per: '7d', perMs: 7 * 86_400_000 },
      { max: 1, per: '7d', perMs: 7 * 86_400_000, channel: 'sms' },
    ]);
  });

  it.each<[string, (agent: Json) => void, string[]]>([
    [
      'quiet hours that are not times',
      (a) => {
        a.guardrails.quiet_hours = { start: '25:00', end: 480 };
      },
      [
        'agents[0].guardrails.quiet_hours.start: must be a time "HH:MM" from 00:00 to 23:59 (quoted in YAML), got "25:00"',
        'agents[0].guardrails.quiet_hours.end: must be a time "HH:MM" from 00:00 to 23:59 (quoted in YAML), got 480',
      ],
    ],
    [
      'quiet hours that start when they end',
      (a) => {
        a.guardrails.quiet_hours = { start: '21:00', end: '21:00' };
      },
      ['agents[0].guardrails.quiet_hours.end: must differ from start (21:00)'],
    ],
    [
      'a negative frequency cap',
      (a) => {
        a.guardrails.frequency_caps[0].max = -1;
      },
      ['agents[0].guardrails.frequency_caps[0].max: must be an integer >= 0, got -1'],
    ],
    [
      'an eligibility rule without if or unless',
      (a) => {
        delete a.guardrails.eligibility[0].unless;
      },
      ['agents[0].guardrails.eligibility[0]: needs `if` or `unless`'],
    ],
    [
      'a forbid rule with one dimension',
      (a) => {
        a.guardrails.forbid[0] = { channel: 'sms' };
      },
      ['agents[0].guardrails.forbid[0]: must name at least two dimensions: a combination of arms never sent together'],
    ],
  ])('rejects %s', (_name, change, expected) => {
    expect(errorsOf(makeWorkspace(change))).toEqual(expected);
  });
});
