import { describe, expect, it } from 'vitest';
import { agentConfigSchema, type AgentConfig } from '../../plugin/config/index.ts';
import { maskArms, suppressed, type GuardrailContext, type MaskReason } from '../../plugin/guardrails/index.ts';

const NOW = Date.parse('2026-06-01T12:00:00Z');
const DAY_MS = 86_400_000;

type Json = Record<string, unknown>;

/** An agent with frequency, channel, send_time, subject_line, content_block; `guardrails` replaced by the override. */
function makeAgent(overrides: Json = {}): AgentConfig {
  return agentConfigSchema.parse({
    id: 'winback',
    goal: { window: '72h', rewards: [{ event: 'Order Completed', value: 1 }] },
    policy: { kind: 'random' },
    dimensions: [
      { id: 'frequency', arms: ['send', 'skip'], default: 'send' },
      { id: 'channel', arms: ['email', 'sms', 'push'], default: 'email' },
      { id: 'send_time', type: 'local_hour', arms: [8, 12, 21, 23], default: 12 },
      { id: 'subject_line', arms: ['sl_plain', 'sl_urgency'], default: 'sl_plain' },
      { id: 'content_block', arms: ['cb_specs', 'cb_style'], default: 'cb_specs' },
    ],
    ...overrides,
  });
}

function makeContext(overrides: Partial<GuardrailContext> = {}): GuardrailContext {
  return { traits: {}, now: NOW, choices: {}, ...overrides };
}

const DIM = { frequency: 0, channel: 1, send_time: 2, subject_line: 3, content_block: 4 } as const;

/** Runs maskArms on one dimension: the allowed count, and per arm id its reason (or 'ok'). */
function mask(agent: AgentConfig, dimension: keyof typeof DIM, ctx: GuardrailContext) {
  const arms = agent.dimensions[DIM[dimension]].arms;
  const allowed = new Uint8Array(arms.length);
  const reasons = new Array<MaskReason | undefined>(arms.length).fill('forbid'); // stale values must be overwritten
  const count = maskArms(agent, DIM[dimension], ctx, allowed, reasons);
  const byArm = Object.fromEntries(arms.map((a, i) => [a.id, allowed[i] ? 'ok' : reasons[i]]));
  for (let i = 0; i < arms.length; i++) expect(reasons[i] === undefined).toBe(allowed[i] === 1);
  return { count, byArm };
}

const sends = (...entries: [daysAgo: number, channel?: string][]) =>
  entries.map(([daysAgo, channel]) => ({ at: NOW - daysAgo * DAY_MS, channel }));

describe('maskArms', () => {
  it('allows every arm without guardrails', () => {
    expect(mask(makeAgent(), 'channel', makeContext())).toEqual({
      count: 3,
      byArm: { email: 'ok', sms: 'ok', push: 'ok' },
    });
  });

  describe('quiet hours', () => {
    const agent = makeAgent({ guardrails: { quiet_hours: { start: '21:00', end: '08:00' } } });

    it('masks the local hours inside quiet hours', () => {
      expect(mask(agent, 'send_time', makeContext())).toEqual({
        count: 2,
        byArm: { 8: 'ok', 12: 'ok', 21: 'quiet_hours', 23: 'quiet_hours' },
      });
    });

    it('leaves categorical dimensions alone', () => {
      expect(mask(agent, 'channel', makeContext()).count).toBe(3);
    });
  });

  describe('consent', () => {
    const agent = makeAgent({ guardrails: { consent: { email: 'email_subscribed', sms: 'sms_opt_in' } } });
    const consentOf = (ctx: Partial<GuardrailContext>) => mask(agent, 'channel', makeContext(ctx)).byArm;

    it.each<[string, unknown, string]>([
      ['true', true, 'ok'],
      ['1', 1, 'ok'],
      ['"true"', 'true', 'ok'],
      ['"yes"', 'yes', 'ok'],
      ['"Yes"', 'Yes', 'ok'],
      ['false', false, 'consent'],
      ['"no"', 'no', 'consent'],
      ['0', 0, 'consent'],
      ['null', null, 'consent'],
    ])('treats a consent trait of %s as %s', (_name, value, expected) => {
      expect(consentOf({ traits: { email_subscribed: value } }).email).toBe(expected);
    });

    it('masks a channel whose consent trait is missing', () => {
      expect(consentOf({ traits: {} }).sms).toBe('consent');
    });

    it('allows a channel without a consent mapping', () => {
      expect(consentOf({ traits: {} }).push).toBe('ok');
    });

    it('lets the profile consent allow a channel whose trait says no', () => {
      expect(consentOf({ traits: { sms_opt_in: false }, consent: { sms: true } }).sms).toBe('ok');
    });

    it('lets the profile consent mask a channel whose trait says yes', () => {
      expect(consentOf({ traits: { sms_opt_in: true }, consent: { sms: false } }).sms).toBe('consent');
    });

    it('masks a channel the profile opted out of even without a consent mapping', () => {
      expect(consentOf({ consent: { push: false } }).push).toBe('consent');
    });

    it('applies only to the channel dimension', () => {
      expect(mask(agent, 'subject_line', makeContext()).count).toBe(2);
    });
  });

  describe('eligibility', () => {
    it('masks an arm when its unless condition holds', () => {
      const agent = makeAgent({
        guardrails: { eligibility: [{ arm: { subject_line: 'sl_urgency' }, unless: { trait: 'vip', equals: true } }] },
      });
      expect(mask(agent, 'subject_line', makeContext({ traits: { vip: true } })).byArm).toEqual({
        sl_plain: 'ok',
        sl_urgency: 'eligibility',
      });
    });

    it('allows an arm when its unless condition does not hold', () => {
      const agent = makeAgent({
        guardrails: { eligibility: [{ arm: { subject_line: 'sl_urgency' }, unless: { trait: 'vip', equals: true } }] },
      });
      expect(mask(agent, 'subject_line', makeContext({ traits: { vip: false } })).byArm.sl_urgency).toBe('ok');
    });

    it('masks an arm when its if condition does not hold', () => {
      const agent = makeAgent({
        guardrails: { eligibility: [{ arm: { subject_line: 'sl_urgency' }, if: { trait: 'orders', gte: 3 } }] },
      });
      expect(mask(agent, 'subject_line', makeContext({ traits: { orders: 1 } })).byArm.sl_urgency).toBe('eligibility');
    });

    it('allows an arm when its if condition holds', () => {
      const agent = makeAgent({
        guardrails: { eligibility: [{ arm: { subject_line: 'sl_urgency' }, if: { trait: 'orders', gte: 3 } }] },
      });
      expect(mask(agent, 'subject_line', makeContext({ traits: { orders: 5 } })).byArm.sl_urgency).toBe('ok');
    });

    it('tests earlier choices in its condition', () => {
      const agent = makeAgent({
        guardrails: { eligibility: [{ arm: { subject_line: 'sl_urgency' }, if: { channel: 'email' } }] },
      });
      expect(mask(agent, 'subject_line', makeContext({ choices: { channel: 'sms' } })).byArm.sl_urgency).toBe(
        'eligibility',
      );
      expect(mask(agent, 'subject_line', makeContext({ choices: { channel: 'email' } })).byArm.sl_urgency).toBe('ok');
    });

    it('applies a rule naming several dimensions only when the earlier ones were chosen', () => {
      const agent = makeAgent({
        guardrails: {
          eligibility: [
            { arm: { channel: 'sms', subject_line: 'sl_urgency' }, unless: { trait: 'vip', equals: true } },
          ],
        },
      });
      const vip = { traits: { vip: true } };
      expect(mask(agent, 'subject_line', makeContext({ ...vip, choices: { channel: 'sms' } })).byArm.sl_urgency).toBe(
        'eligibility',
      );
      expect(mask(agent, 'subject_line', makeContext({ ...vip, choices: { channel: 'email' } })).byArm.sl_urgency).toBe(
        'ok',
      );
    });
  });

  describe('forbid', () => {
    const agent = makeAgent({ guardrails: { forbid: [{ channel: 'sms', content_block: 'cb_style' }] } });

    it('masks the arm that would complete a forbidden combination', () => {
      expect(mask(agent, 'content_block', makeContext({ choices: { channel: 'sms' } })).byArm).toEqual({
        cb_specs: 'ok',
        cb_style: 'forbid',
      });
    });

    it('allows the arm with other earlier choices', () => {
      expect(mask(agent, 'content_block', makeContext({ choices: { channel: 'email' } })).count).toBe(2);
    });

    it('does not mask the earlier dimension, whose partner is not chosen yet', () => {
      expect(mask(agent, 'channel', makeContext()).count).toBe(3);
    });
  });

  describe('channel frequency caps', () => {
    const agent = makeAgent({ guardrails: { frequency_caps: [{ channel: 'sms', max: 1, per: '7d' }] } });

    it('masks a channel that reached its cap in the window', () => {
      expect(mask(agent, 'channel', makeContext({ recentSends: sends([2, 'sms']) })).byArm).toEqual({
        email: 'ok',
        sms: 'frequency_cap',
        push: 'ok',
      });
    });

    it('does not count sends older than the window', () => {
      expect(mask(agent, 'channel', makeContext({ recentSends: sends([8, 'sms']) })).byArm.sms).toBe('ok');
    });

    it('does not count sends on other channels', () => {
      expect(
        mask(agent, 'channel', makeContext({ recentSends: sends([1, 'email'], [1, 'push'], [1]) })).byArm.sms,
      ).toBe('ok');
    });

    it('counts a send scheduled for later', () => {
      expect(mask(agent, 'channel', makeContext({ recentSends: sends([-0.5, 'sms']) })).byArm.sms).toBe(
        'frequency_cap',
      );
    });

    it('masks always with a cap of 0', () => {
      const never = makeAgent({ guardrails: { frequency_caps: [{ channel: 'push', max: 0, per: '1d' }] } });
      expect(mask(never, 'channel', makeContext()).byArm.push).toBe('frequency_cap');
    });
  });

  it('reports the first reason in the order quiet_hours, consent, eligibility, forbid, frequency_cap', () => {
    const agent = makeAgent({
      guardrails: {
        consent: { sms: 'sms_opt_in' },
        eligibility: [{ arm: { channel: 'sms' }, if: { trait: 'vip', equals: true } }],
        frequency_caps: [{ channel: 'sms', max: 0, per: '1d' }],
      },
    });
    expect(mask(agent, 'channel', makeContext()).byArm.sms).toBe('consent');
    expect(mask(agent, 'channel', makeContext({ traits: { sms_opt_in: true } })).byArm.sms).toBe('eligibility');
    expect(mask(agent, 'channel', makeContext({ traits: { sms_opt_in: true, vip: true } })).byArm.sms).toBe(
      'frequency_cap',
    );
  });

  it('returns 0 when every arm is masked', () => {
    const agent = makeAgent({
      guardrails: {
        forbid: [
          { channel: 'sms', subject_line: 'sl_plain' },
          { channel: 'sms', subject_line: 'sl_urgency' },
        ],
      },
    });
    expect(mask(agent, 'subject_line', makeContext({ choices: { channel: 'sms' } })).count).toBe(0);
  });
});

describe('suppressed', () => {
  const agent = makeAgent({
    guardrails: {
      frequency_caps: [
        { max: 3, per: '7d' },
        { channel: 'sms', max: 1, per: '7d' },
      ],
    },
  });

  it('stops the decision when a global cap is reached', () => {
    expect(suppressed(agent, makeContext({ recentSends: sends([1, 'email'], [2, 'push'], [3]) }))).toBe(
      'frequency_cap',
    );
  });

  it('lets the decision go below the cap', () => {
    expect(
      suppressed(agent, makeContext({ recentSends: sends([1, 'email'], [2, 'push'], [9, 'sms']) })),
    ).toBeUndefined();
  });

  it('ignores channel caps', () => {
    expect(suppressed(agent, makeContext({ recentSends: sends([1, 'sms'], [2, 'sms']) }))).toBeUndefined();
  });

  it('lets the decision go without recent sends', () => {
    expect(suppressed(agent, makeContext())).toBeUndefined();
  });
});
