/**
 * `GET /v1/connected-content/{agentId}?channel=…`: the message's channel pins the channel
 * dimension, so that an email render never gets an sms or push decision.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InMemoryProfileSource } from '../../../plugin/agent/index.ts';
import type { RunningServer } from '../../../plugin/server/index.ts';
import { call, consentingTraits, EXAMPLE_AGENT, startTestServer } from '../../server/helpers.ts';

describe('Connected Content with the message channel', () => {
  let server: RunningServer;
  const profiles = new InMemoryProfileSource();
  beforeAll(async () => {
    server = await startTestServer({ profileSource: profiles });
  });
  afterAll(() => server.close());

  const render = (userId: string, channel?: string) =>
    call(
      server,
      'GET',
      `/v1/connected-content/${EXAMPLE_AGENT}?user_id=${userId}&request_id=r-${userId}-${channel ?? 'none'}${channel ? `&channel=${channel}` : ''}`,
    );

  function consenting(n: number, prefix: string): string[] {
    return Array.from({ length: n }, (_, i) => {
      const userId = `${prefix}-${i}`;
      profiles.set({ userId, traits: consentingTraits({ sms_opt_in: true, push_enabled: true }), timezone: 'UTC' });
      return userId;
    });
  }

  it('decides other channels than email for some customers when no channel is given', async () => {
    const channels = new Set<unknown>();
    for (const userId of consenting(60, 'free')) {
      const res = await render(userId);
      if (res.body.nb_deliver) channels.add(res.body.nb_channel);
    }
    expect([...channels].some((c) => c !== 'email')).toBe(true);
  });

  it('decides email for every customer of an email render, with probability 1 for the channel', async () => {
    const channels: unknown[] = [];
    for (const userId of consenting(60, 'pinned')) {
      const res = await render(userId, 'email');
      expect(res.status).toBe(200);
      channels.push(res.body.nb_channel);
      const logged = (await call(server, 'GET', `/v1/decisions/${res.body.nb_decision_id}`)).body;
      if (logged.choices.channel) expect(logged.choices.channel).toMatchObject({ arm: 'email', probability: 1 });
    }
    // frequency = skip decides no channel: every other answer is email
    expect(channels.filter((c) => c !== undefined).length).toBeGreaterThan(30);
    expect(channels.filter((c) => c !== undefined && c !== 'email')).toEqual([]);
  });

  it('does not deliver an email render to a customer who does not consent to email', async () => {
    profiles.set({
      userId: 'no-email',
      traits: consentingTraits({ email_subscribed: false, sms_opt_in: true }),
      timezone: 'UTC',
    });
    const res = await render('no-email', 'email');
    expect(res.body).toMatchObject({ nb_deliver: false, nb_reason: 'guardrail' });
  });

  it('answers 400 naming channel for a channel the agent does not have', async () => {
    const res = await render('pinned-0', 'fax');
    expect(res.status).toBe(400);
    expect(res.text).toContain('channel');
    expect(res.text).toContain('email, sms, push');
  });
});
