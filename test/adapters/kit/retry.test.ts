import { describe, expect, it } from 'vitest';
import {
  fail,
  fullJitterMs,
  ok,
  RateLimiter,
  requestWithRetry,
  retry,
  RetryableError,
  type Pacing,
  type RetryPolicy,
  type Verdict,
} from '../../../adapters/kit/index.ts';
import { Rng } from '../../../plugin/bandit/index.ts';

/** A virtual clock whose sleeps move it, a seeded random, and the waits it was asked for. */
function pacing(seed = 'kit-retry'): Pacing & { sleeps: number[] } {
  const rng = new Rng(seed);
  const p = { now: 0, sleeps: [] as number[] };
  return {
    sleeps: p.sleeps,
    clock: () => p.now,
    sleep: async (ms) => {
      p.sleeps.push(ms);
      p.now += ms;
    },
    random: () => rng.next(),
  };
}

const POLICY: RetryPolicy = { maxAttempts: 4, baseMs: 100, capMs: 1000 };

/** A request whose answers are `verdicts`, in order; counts its sends. */
function scripted<T>(...verdicts: Verdict<T>[]) {
  let sends = 0;
  return {
    sends: () => sends,
    send: async () => verdicts[sends++],
    classify: (v: Verdict<T>) => v,
  };
}

const unavailable = (retryAfterMs?: number, status = 503) =>
  retry(new RetryableError(`Vendor answered ${status}`, status, retryAfterMs));

describe('full jitter', () => {
  it('draws each wait in [0, min(cap, base·2^(retry-1))), over the whole range', () => {
    const rng = new Rng('kit-jitter');
    for (const retryNo of [1, 2, 3, 4, 5, 8]) {
      const ceiling = Math.min(1000, 100 * 2 ** (retryNo - 1));
      const draws = Array.from({ length: 2000 }, () => fullJitterMs(retryNo, 100, 1000, () => rng.next()));
      expect(Math.min(...draws)).toBeGreaterThanOrEqual(0);
      expect(Math.max(...draws)).toBeLessThan(ceiling);
      expect(Math.min(...draws)).toBeLessThan(ceiling * 0.05);
      expect(Math.max(...draws)).toBeGreaterThan(ceiling * 0.95);
    }
  });

  it('is exactly random() times the step', () => {
    expect([1, 2, 3, 4, 5].map((n) => fullJitterMs(n, 100, 1000, () => 0.5))).toEqual([50, 100, 200, 400, 500]);
  });
});

describe('requestWithRetry', () => {
  it('retries a retryable answer with backoff and resolves with the value', async () => {
    const p = pacing();
    const r = scripted(unavailable(), unavailable(), ok('done'));
    expect(await requestWithRetry({ ...r, policy: POLICY, pacing: p })).toBe('done');
    expect(r.sends()).toBe(3);
    expect(p.sleeps).toHaveLength(2);
    expect(p.sleeps[0]).toBeLessThan(100);
    expect(p.sleeps[1]).toBeLessThan(200);
  });

  it('makes at most maxAttempts attempts, then throws a RetryableError naming them', async () => {
    const p = pacing();
    const r = scripted(...Array.from({ length: 10 }, () => unavailable()));
    const error = await requestWithRetry({ ...r, policy: POLICY, pacing: p }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RetryableError);
    expect(error).toMatchObject({ status: 503, message: 'still failing after 4 attempts: Vendor answered 503' });
    expect(r.sends()).toBe(4);
    expect(p.sleeps).toHaveLength(3);
  });

  it('waits what the vendor names instead of backing off, cut to maxRetryAfterMs', async () => {
    const p = pacing();
    const r = scripted(unavailable(2000, 429), unavailable(60_000, 429), ok(1));
    await requestWithRetry({ ...r, policy: { ...POLICY, maxRetryAfterMs: 4000 }, pacing: p });
    expect(p.sleeps).toEqual([2000, 4000]);
  });

  it('does not retry a failure', async () => {
    const r = scripted(fail(new Error('bad request')), ok(1));
    await expect(requestWithRetry({ ...r, policy: POLICY, pacing: pacing() })).rejects.toThrow('bad request');
    expect(r.sends()).toBe(1);
  });

  it('retries a request that got no answer, as in doubt by default', async () => {
    const p = pacing();
    let sends = 0;
    const send = async () => {
      if (++sends < 3) throw new Error('ECONNRESET');
      return 'answer';
    };
    expect(await requestWithRetry({ send, classify: ok, policy: POLICY, pacing: p })).toBe('answer');
    const error = await requestWithRetry({
      send: () => Promise.reject(new Error('ECONNRESET')),
      classify: ok,
      policy: { ...POLICY, maxAttempts: 1 },
      pacing: p,
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({ inDoubt: true, message: 'still failing after 1 attempt: network error: ECONNRESET' });
  });

  it('with a rate-limit budget, lets 429s cost no attempt until the budget is spent', async () => {
    const p = pacing();
    const r = scripted(
      unavailable(1000, 429),
      unavailable(1000, 429),
      unavailable(1000, 429),
      unavailable(),
      ok('through'),
    );
    expect(
      await requestWithRetry({ ...r, policy: { ...POLICY, maxAttempts: 2, rateLimitBudgetMs: 5000 }, pacing: p }),
    ).toBe('through');
    const over = scripted(...Array.from({ length: 10 }, () => unavailable(2000, 429)));
    const error = await requestWithRetry({
      ...over,
      policy: { ...POLICY, maxAttempts: 2, rateLimitBudgetMs: 5000 },
      pacing: p,
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 429, message: 'rate limited for longer than 5000 ms' });
    expect(over.sends()).toBe(3); // 2000 + 2000 fit the budget; a third wait would not
  });

  it('takes a turn of the limiter for every attempt, retries included', async () => {
    const p = pacing();
    const limiter = new RateLimiter({ limit: { requests: 1, perMs: 1000 }, pacing: p });
    const r = scripted(unavailable(0), unavailable(0), ok(1));
    await requestWithRetry({ ...r, policy: POLICY, pacing: p, limiter });
    expect(p.clock()).toBe(2000); // three sends, one a second
  });
});
