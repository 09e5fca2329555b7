import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../plugin/server/index.ts';

/**
 * policy.detect through the service: outcomes that stop coming restart the agent's learning once,
 * which the report, /metrics and a restarted service all show.
 */

const KEY = 'nb_detect_key';
const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 3, 6, 9);
const AGENT = {
  id: 'promo',
  goal: { window: '1h', rewards: [{ event: 'Order Completed', value: 1 }] },
  holdout: 0,
  policy: { kind: 'linucb', detect: { warmup: 30, threshold: 3, retain: 10 } },
  dimensions: [{ id: 'channel', arms: ['email', 'sms'], default: 'email' }],
  delivery: [{ to: 'braze', mode: 'attributes', prefix: 'nb_' }],
};

describe('policy.detect in the service', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nextbest-detect-'));
  const configPath = join(dir, 'agents.json');
  writeFileSync(configPath, JSON.stringify({ workspace: 'detect', agents: [AGENT] }));
  let now = T0;
  const start = () =>
    startServer({
      configPath,
      db: `sqlite:${join(dir, 'nextbest.db')}`,
      port: 0,
      apiKey: KEY,
      learnerIntervalMs: 0,
      clock: () => now,
      seed: 'detect',
      logger: pino({ level: 'silent' }),
    });
  const call = async (server: RunningServer, method: string, path: string, body?: unknown) => {
    const res = await fetch(`${server.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, text: await res.text() };
  };
  /** `n` decisions now, each converted (an Order Completed a minute later) or not. */
  async function round(server: RunningServer, from: number, n: number, converted: boolean) {
    for (let i = from; i < from + n; i++) {
      expect(
        (await call(server, 'POST', '/v1/agents/promo/decide', { userId: `u-${i}`, traits: {}, requestId: `r-${i}` }))
          .status,
      ).toBe(200);
      if (converted) {
        const event = {
          type: 'track',
          event: 'Order Completed',
          userId: `u-${i}`,
          messageId: `order-${i}`,
          timestamp: new Date(now + 60_000).toISOString(),
        };
        expect((await call(server, 'POST', '/v1/events', event)).status).toBe(200);
      }
    }
    now += 2 * HOUR; // every window closed
    await server.service.learnClosed();
  }
  let server: RunningServer | undefined;
  afterAll(async () => {
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('restarts learning once when conversions stop, and reports, counts and keeps it', async () => {
    server = await start();
    await round(server, 0, 60, true);
    const before = JSON.parse((await call(server, 'GET', '/v1/agents/promo/report')).text);
    expect(before.changeDetector).toEqual({
      restarts: 0,
      shortfall: 0,
      threshold: 3,
      seen: 60,
      warmup: 30,
      retain: 10,
    });
    // estimates near 1, outcomes 0: the standardized shortfall passes 3 at once
    await round(server, 60, 20, false);
    const after = JSON.parse((await call(server, 'GET', '/v1/agents/promo/report')).text);
    expect(after.changeDetector.restarts).toBe(1);
    // The restart kept 10 of the 60 conversions' worth. The arm that was sent most after the change
    // learned its zeros on top of that little (with everything kept, it would still estimate about
    // 0.5); the other learned few or none and still estimates what it kept (from the prior: 0).
    const explained = JSON.parse(
      (
        await call(server, 'POST', '/v1/agents/promo/decide', {
          userId: 'u-explain',
          traits: {},
          requestId: 'r-explain',
          explain: true,
        })
      ).text,
    );
    const estimate = Object.fromEntries(
      explained.explanation[0].arms.map((a: { arm: string; estimate: number }) => [a.arm, a.estimate]),
    );
    const arms = after.dimensions.channel.arms as Record<string, { n: number; meanReward: number }>;
    const zeros = (arm: string) => arms[arm].n * (1 - arms[arm].meanReward);
    const [hit, spared] = Object.keys(arms).sort((a, b) => zeros(b) - zeros(a));
    expect(zeros(hit)).toBeGreaterThanOrEqual(15);
    expect(estimate[hit]).toBeLessThan(0.3);
    expect(estimate[spared]).toBeGreaterThan(0.5);
    expect((await call(server, 'GET', '/metrics')).text).toMatch(/nextbest_learning_restarts_total\{agent="promo"\} 1/);
    await server.close();
    server = await start();
    expect(JSON.parse((await call(server, 'GET', '/v1/agents/promo/report')).text).changeDetector).toEqual(
      after.changeDetector,
    );
  });
});
