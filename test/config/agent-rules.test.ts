import { describe, expect, it } from 'vitest';
import { errorsOf, makeWorkspace, type Json } from './contract.ts';

describe('cross-field rules', () => {
  it.each<[string, (agent: Json) => void, string[]]>([
    [
      'a duplicate feature trait',
      (a) => {
        a.features[2].trait = 'lifetime_orders';
      },
      ['agents[0].features[2].trait: duplicate feature "lifetime_orders"'],
    ],
    [
      'a dimension feature the agent does not have',
      (a) => {
        a.dimensions[3].features = ['last_category', 'age'];
      },
      [
        'agents[0].dimensions[3].features[1]: "age" is neither a feature of the agent nor an earlier dimension (lifetime_orders, last_category, city, last_order_at, local_hour, frequency, channel, send_time)',
      ],
    ],
    [
      'a dimension that sees a later one',
      (a) => {
        a.dimensions[1].features = ['content_block'];
      },
      [
        'agents[0].dimensions[1].features[0]: "content_block" is not decided before "channel": a dimension sees only earlier choices',
      ],
    ],
    [
      'a dimension that sees itself',
      (a) => {
        a.dimensions[1].features = ['channel'];
      },
      [
        'agents[0].dimensions[1].features[0]: "channel" is not decided before "channel": a dimension sees only earlier choices',
      ],
    ],
    [
      'a dimension feature listed twice',
      (a) => {
        a.dimensions[4].features = ['city', 'channel', 'city'];
      },
      ['agents[0].dimensions[4].features[2]: duplicate "city"'],
    ],
    [
      'a name that is both a feature and a dimension',
      (a) => {
        a.features[2].trait = 'channel';
        a.dimensions[4].features = ['channel'];
      },
      ['agents[0].dimensions[4].features[0]: "channel" is both a feature and a dimension: rename one'],
    ],
    [
      'a duplicate dimension id',
      (a) => {
        a.dimensions[4].id = 'frequency';
        a.guardrails.forbid = [];
      },
      ['agents[0].dimensions[4].id: duplicate dimension id "frequency"'],
    ],
    [
      'a when on a later dimension',
      (a) => {
        a.dimensions[3].when = { content_block: 'cb_specs' };
      },
      ['agents[0].dimensions[3].when.content_block: dimension "content_block" is not decided before "subject_line"'],
    ],
    [
      'a when on an unknown dimension',
      (a) => {
        a.dimensions[3].when = { any: [{ chanel: 'email' }] };
      },
      ['agents[0].dimensions[3].when.any[0].chanel: unknown dimension "chanel"'],
    ],
    [
      'a when on an unknown arm',
      (a) => {
        a.dimensions[3].when = { all: [{ channel: ['email', 'fax'] }] };
      },
      ['agents[0].dimensions[3].when.all[0].channel[1]: "fax" is not an arm of dimension "channel" (email, sms, push)'],
    ],
    [
      'a frequency cap on an unknown channel',
      (a) => {
        a.guardrails.frequency_caps[1].channel = 'fax';
      },
      ['agents[0].guardrails.frequency_caps[1].channel: "fax" is not an arm of dimension "channel" (email, sms, push)'],
    ],
    [
      'consent for an unknown channel',
      (a) => {
        a.guardrails.consent.fax = 'fax_ok';
      },
      ['agents[0].guardrails.consent.fax: "fax" is not an arm of dimension "channel" (email, sms, push)'],
    ],
    [
      'consent without a channel dimension',
      (a) => {
        a.dimensions.splice(1, 1);
        delete a.dimensions[2].when;
        a.guardrails.frequency_caps = [];
        a.guardrails.forbid = [];
      },
      ['agents[0].guardrails.consent: needs a dimension with id "channel"'],
    ],
    [
      'an eligibility rule on an unknown arm',
      (a) => {
        a.guardrails.eligibility[0].arm = { subject_line: 'sl_x' };
      },
      [
        'agents[0].guardrails.eligibility[0].arm.subject_line: "sl_x" is not an arm of dimension "subject_line" (sl_plain, sl_urgency)',
      ],
    ],
    [
      'an eligibility condition on a later dimension',
      (a) => {
        a.guardrails.eligibility[0].if = { content_block: 'cb_specs' };
      },
      [
        'agents[0].guardrails.eligibility[0].if.content_block: dimension "content_block" is not decided before "subject_line"',
      ],
    ],
    [
      'a forbid rule on an unknown dimension',
      (a) => {
        a.guardrails.forbid[0] = { channel: 'sms', colour: 'red' };
      },
      ['agents[0].guardrails.forbid[0].colour: unknown dimension "colour"'],
    ],
    [
      'a forbid rule on an unknown arm',
      (a) => {
        a.guardrails.forbid[0].content_block = 'cb_loud';
      },
      [
        'agents[0].guardrails.forbid[0].content_block: "cb_loud" is not an arm of dimension "content_block" (cb_specs, cb_style, cb_bundle)',
      ],
    ],
  ])('rejects %s', (_name, change, expected) => {
    expect(errorsOf(makeWorkspace(change))).toEqual(expected);
  });
});
