import { describe, expect, it } from 'vitest';
import { conditionSchema, type Condition } from '../../plugin/config/index.ts';
import { matches } from '../../plugin/guardrails/index.ts';

/** Conditions are written in their config (JSON) form and normalized as the loader does. */
function cond(json: unknown): Condition {
  return conditionSchema.parse(json);
}

const traits = {
  vip: true,
  vip_text: 'true',
  tier: 'gold',
  orders: 7,
  orders_text: '7',
  last_seen: null,
  zero: 0,
};

describe('matches', () => {
  it.each<[string, unknown, boolean]>([
    ['equals holds for a strictly equal value', { trait: 'tier', equals: 'gold' }, true],
    ['equals fails for another value', { trait: 'tier', equals: 'silver' }, false],
    ['equals true holds for the boolean true', { trait: 'vip', equals: true }, true],
    ['equals true fails for the string "true"', { trait: 'vip_text', equals: true }, false],
    ['equals "true" fails for the boolean true', { trait: 'vip', equals: 'true' }, false],
    ['equals a number fails for the numeric string', { trait: 'orders_text', equals: 7 }, false],
    ['equals fails for a missing trait', { trait: 'nope', equals: 'gold' }, false],
    ['in holds when the value is listed', { trait: 'tier', in: ['silver', 'gold'] }, true],
    ['in fails when the value is not listed', { trait: 'tier', in: ['silver', 'bronze'] }, false],
    ['gte holds at the bound', { trait: 'orders', gte: 7 }, true],
    ['gte fails below the bound', { trait: 'orders', gte: 8 }, false],
    ['lte holds at the bound', { trait: 'orders', lte: 7 }, true],
    ['lte fails above the bound', { trait: 'orders', lte: 6 }, false],
    ['gte and lte together bound a range', { trait: 'orders', gte: 5, lte: 10 }, true],
    ['gte fails for a numeric string', { trait: 'orders_text', gte: 1 }, false],
    ['lte fails for a missing trait', { trait: 'nope', lte: 100 }, false],
    ['gte compares numerically, not as text', { trait: 'orders', gte: 10 }, false],
    ['exists holds for a present value, even 0', { trait: 'zero', exists: true }, true],
    ['exists fails for null', { trait: 'last_seen', exists: true }, false],
    ['exists fails for a missing trait', { trait: 'nope', exists: true }, false],
    ['exists false holds for a missing trait', { trait: 'nope', exists: false }, true],
    ['exists false holds for null', { trait: 'last_seen', exists: false }, true],
    ['exists false fails for a present value', { trait: 'tier', exists: false }, false],
    ['an inherited property is not a trait', { trait: 'constructor', exists: true }, false],
    ['every operator given must hold', { trait: 'orders', exists: true, gte: 8 }, false],
    [
      'all holds when every condition holds',
      {
        all: [
          { trait: 'vip', equals: true },
          { trait: 'orders', gte: 1 },
        ],
      },
      true,
    ],
    [
      'all fails when one condition fails',
      {
        all: [
          { trait: 'vip', equals: true },
          { trait: 'orders', gte: 100 },
        ],
      },
      false,
    ],
    [
      'any holds when one condition holds',
      {
        any: [
          { trait: 'tier', equals: 'bronze' },
          { trait: 'vip', equals: true },
        ],
      },
      true,
    ],
    [
      'any fails when no condition holds',
      {
        any: [
          { trait: 'tier', equals: 'bronze' },
          { trait: 'vip', equals: false },
        ],
      },
      false,
    ],
    ['not inverts', { not: { trait: 'vip', equals: true } }, false],
    ['a choice holds for the chosen arm', { channel: 'email' }, true],
    ['a choice holds when the chosen arm is listed', { channel: ['sms', 'email'] }, true],
    ['a choice fails for another arm', { channel: 'sms' }, false],
    ['a choice on a dimension not decided is false', { subject_line: 'sl_plain' }, false],
    ['a choice on several dimensions needs them all', { channel: 'email', frequency: 'skip' }, false],
    ['not of an undecided choice holds', { not: { subject_line: 'sl_plain' } }, true],
  ])('%s', (_name, json, expected) => {
    expect(matches(cond(json), { traits, choices: { channel: 'email', frequency: 'send' } })).toBe(expected);
  });
});
