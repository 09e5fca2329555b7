import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../plugin/server/index.ts';
import { CHANNEL, CONSENT_TRAITS, CONTENT_BLOCK, DAY_MS } from '../agent/factories.ts';
import {
  call,
  consentingTraits,
  makeAgentInput,
  NOW,
  startTestServer,
  tempDir,
  userRows,
  writeConfigYaml,
} from './helpers.ts';

const PARALLEL = 50;

type Json = any;

/** Agents without a `frequency` dimension, so every decision delivers unless a guardrail stops it. */
const capped = (id: string, frequency_caps: Record<string, unknown>[]) =>
  makeAgentInput({ id, dimensions: [CHANNEL, CONTENT_BLOCK], guardrails: { consent: CONSENT_TRAITS, frequency_caps } });

const AGENTS = [
  capped('global-cap', [{ max: 3, per: '7d' }]),
  capped('global-cap-too', [{ max: 3, per: '7d' }]),
  capped('sms-cap', [{ channel: 'sms', max: 1, per: '7d' }]),
];

const SMS_ONLY = consentingTraits({ email_subscribed: false, push_enabled: false, sms_opt_in: true });

describe('frequency caps under concurrency', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let server: RunningServer;
  let now = NOW;

  beforeAll(async () => {
    dir = await tempDir();
    server = await startTestServer({
      configPath: await writeConfigYaml(dir.path, AGENTS, 'caps-workspace'),
      clock: () => now,
    });
  });

  afterAll(async () => {
    await server?.close();
    await dir?.remove();
  });

  /** `n` decide calls for one user, all in flight at once; each has its own requestId (reproducible). */
  async function race(agentId: string, userId: string, traits = consentingTraits(), n = PARALLEL): Promise<Json[]> {
    const answers = await Promise.all(
      Array.from({ length: n }, (_, i) =>
        call(server, 'POST', `/v1/agents/${agentId}/decide`, {
          body: { userId, timezone: 'UTC', traits, requestId: `${agentId}/${userId}/${now}/${i}` },
        }),
      ),
    );
    expect(answers.map((a) => a.status)).toEqual(answers.map(() => 200));
    return answers.map((a) => a.body);
  }

  const sends = (userId: string) => userRows(server, userId, 'caps-workspace').sends;

  describe('a global cap of 3 per 7 days', () => {
    let answers: Json[];

    beforeAll(async () => {
      answers = await race('global-cap', 'user-a');
    });

    it('delivers at most 3 of 50 concurrent decisions for one user', () => {
      expect(answers.filter((a) => a.deliver).length).toBeLessThanOrEqual(3);
    });

    it('stores at most 3 sends for that user', () => {
      expect(sends('user-a').length).toBeLessThanOrEqual(3);
    });

    it('fills the cap: exactly 3 are delivered', () => {
      expect(answers.filter((a) => a.deliver)).toHaveLength(3);
    });

    it('suppresses the rest with the cap as the reason', () => {
      for (const a of answers.filter((x) => !x.deliver))
        expect(a).toMatchObject({ reason: 'guardrail', suppressed: { reasons: ['frequency_cap'] } });
    });

    it('stores one send per delivered decision', () => {
      expect(sends('user-a').length).toBe(answers.filter((a) => a.deliver).length);
    });

    it('counts the sends of every agent of the workspace against it', async () => {
      const [first, second] = await Promise.all([
        race('global-cap', 'user-x', undefined, 25),
        race('global-cap-too', 'user-x', undefined, 25),
      ]);
      expect([...first, ...second].filter((a) => a.deliver).length).toBeLessThanOrEqual(3);
      expect(sends('user-x').length).toBeLessThanOrEqual(3);
    });

    it('leaves other users free to receive', async () => {
      const other = await race('global-cap', 'user-b', undefined, 10);
      expect(other.filter((a) => a.deliver)).toHaveLength(3);
    });

    it('delivers again once the sends leave the 7-day window', async () => {
      now = NOW + 7 * DAY_MS + 1;
      try {
        const later = await race('global-cap', 'user-a', undefined, 10);
        expect(later.filter((a) => a.deliver)).toHaveLength(3);
      } finally {
        now = NOW;
      }
    });
  });

  describe('an sms cap of 1 per 7 days', () => {
    let smsOnly: Json[];

    beforeAll(async () => {
      smsOnly = await race('sms-cap', 'user-c', SMS_ONLY);
    });

    it('delivers at most one of 50 concurrent decisions when sms is the only consented channel', () => {
      expect(smsOnly.filter((a) => a.deliver).length).toBeLessThanOrEqual(1);
    });

    it('stores at most one sms send for that user', () => {
      expect(sends('user-c').filter((s) => s.channel === 'sms').length).toBeLessThanOrEqual(1);
    });

    it('fills the cap: exactly one is delivered, on sms', () => {
      expect(smsOnly.filter((a) => a.deliver).map((a) => a.choices.channel.arm)).toEqual(['sms']);
    });

    it('suppresses the rest on the channel dimension with the cap as the reason', () => {
      for (const a of smsOnly.filter((x) => !x.deliver))
        expect(a).toMatchObject({
          reason: 'guardrail',
          suppressed: { dimension: 'channel', reasons: expect.arrayContaining(['frequency_cap']) },
        });
    });

    it('sends sms at most once while the other channels keep delivering', async () => {
      const answers = await race('sms-cap', 'user-d');
      const stored = sends('user-d');
      expect(stored.filter((s) => s.channel === 'sms').length).toBeLessThanOrEqual(1);
      expect(answers.filter((a) => a.deliver && a.choices.channel.arm === 'sms').length).toBeLessThanOrEqual(1);
      expect(answers.every((a) => a.deliver)).toBe(true);
    });
  });
});
