import { describe, expect, it } from 'vitest';
import { TokenBucket } from '../../../adapters/segment/index.ts';

/** A bucket on a fake clock whose sleeps advance the clock. */
function bucket(ratePerSecond: number, burst?: number) {
  let now = 0;
  const sleeps: number[] = [];
  const b = new TokenBucket({
    ratePerSecond,
    burst,
    now: () => now,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
  });
  return { b, sleeps, advance: (ms: number) => (now += ms) };
}

describe('TokenBucket (client-side Profile API limit)', () => {
  it('lets a burst of one second through without waiting', async () => {
    const { b, sleeps } = bucket(100);
    for (let i = 0; i < 100; i++) await b.take();
    expect(sleeps).toEqual([]);
  });

  it('makes the request after the burst wait for its token, in call order', async () => {
    const { b } = bucket(100);
    for (let i = 0; i < 100; i++) await b.take();
    const waits = await Promise.all([b.take(), b.take(), b.take()]);
    expect(waits.map((w) => Math.round(w * 1000) / 1000)).toEqual([10, 20, 30]);
  });

  it('refills at the rate as time passes', async () => {
    const { b, advance } = bucket(2, 2);
    await b.take();
    await b.take();
    advance(500);
    expect(await b.take()).toBe(0);
    expect(await b.take()).toBe(500);
  });

  it('never holds more than the burst', async () => {
    const { b, advance } = bucket(10, 1);
    advance(60_000);
    expect(await b.take()).toBe(0);
    expect(await b.take()).toBeCloseTo(100, 9);
  });

  it.each([[0], [-1], [Number.NaN]])('refuses a rate of %s', (rate) => {
    expect(() => new TokenBucket({ ratePerSecond: rate })).toThrow(/ratePerSecond == .*must be > 0/);
  });
});
