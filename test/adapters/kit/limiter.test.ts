import { describe, expect, it } from 'vitest';
import { perSecond, RateLimiter, type Pacing } from '../../../adapters/kit/index.ts';

/** A limiter on a virtual clock that its sleeps move, as a real sleep would; `sleeps` records them. */
function limiterWith(options: {
  limit?: { requests: number; perMs: number };
  oneAtATimeUntilObserved?: boolean;
  countUntilAnswered?: boolean;
}) {
  const state = { now: 0, sleeps: [] as number[] };
  const pacing: Pick<Pacing, 'clock' | 'sleep'> = {
    clock: () => state.now,
    sleep: async (ms) => {
      state.sleeps.push(ms);
      state.now += ms;
      await new Promise((resolve) => setImmediate(resolve));
    },
  };
  return { limiter: new RateLimiter({ ...options, pacing }), state };
}

describe('RateLimiter', () => {
  it('lets the stated limit through at once', async () => {
    const { limiter, state } = limiterWith({ limit: { requests: 100, perMs: 1000 } });
    for (let i = 0; i < 100; i++) expect((await limiter.take())?.waitedMs).toBe(0);
    expect(state.sleeps).toEqual([]);
  });

  it('makes the requests past the limit wait for the rolling window, served in call order', async () => {
    const { limiter, state } = limiterWith({ limit: { requests: 2, perMs: 1000 } });
    const order: number[] = [];
    await Promise.all([0, 1, 2, 3, 4].map(async (i) => (await limiter.take(), order.push(i), state.now)));
    expect(order).toEqual([0, 1, 2, 3, 4]);
    expect(state.now).toBe(2000); // 2 at 0 ms, 2 at 1000 ms, 1 at 2000 ms
  });

  it('never lets more than the limit into any window', async () => {
    const { limiter, state } = limiterWith({ limit: { requests: 5, perMs: 1000 } });
    const sent: number[] = [];
    for (let i = 0; i < 40; i++) {
      await limiter.take();
      sent.push(state.now);
      state.now += 37; // the requests themselves take time
    }
    for (const t of sent) expect(sent.filter((o) => o > t - 1000 && o <= t).length).toBeLessThanOrEqual(5);
  });

  it('counts a request until its answer when asked to: the window frees perMs after the answer, not the departure', async () => {
    const { limiter, state } = limiterWith({ limit: { requests: 2, perMs: 1000 }, countUntilAnswered: true });
    const first = (await limiter.take())!;
    const second = (await limiter.take())!;
    let third: number | undefined;
    const waiting = limiter.take().then((t) => ((third = state.now), t));
    state.now = 5000; // both still on their way: the third waits, however long
    await new Promise((resolve) => setImmediate(resolve));
    expect(third).toBeUndefined();
    const answeredAt = state.now;
    first.done();
    (await waiting)?.done();
    expect(third).toBeGreaterThanOrEqual(answeredAt + 1000);
    second.done();
  });

  it('reads a per-second rate as whole requests per window', () => {
    expect(perSecond(100)).toEqual({ requests: 100, perMs: 1000 });
    expect(perSecond(0.5)).toEqual({ requests: 1, perMs: 2000 });
    expect(() => perSecond(0)).toThrow(/must be > 0/);
    expect(
      () =>
        new RateLimiter({
          limit: { requests: 0, perMs: 1000 },
          pacing: { clock: () => 0, sleep: async () => undefined },
        }),
    ).toThrow(RangeError);
  });

  it('follows the vendor: when none remain, waits for the reset', async () => {
    const { limiter } = limiterWith({});
    (await limiter.take())!.done();
    limiter.observe(0, 500);
    expect((await limiter.take())?.waitedMs).toBe(500);
  });

  it('counts the requests still on their way off what the vendor says remains', async () => {
    const { limiter, state } = limiterWith({});
    const first = (await limiter.take())!;
    await limiter.take(); // in flight while the first answer arrives
    first.done();
    limiter.observe(1, 800); // one left, but the other request takes it
    expect((await limiter.take())?.waitedMs).toBe(800);
    expect(state.now).toBe(800);
  });

  it('sends one request at a time until an answer describes the window', async () => {
    const { limiter, state } = limiterWith({ oneAtATimeUntilObserved: true });
    const first = (await limiter.take())!;
    const second = limiter.take();
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(state.sleeps.length).toBeGreaterThan(0); // the second is waiting
    limiter.observe(10, 60_000);
    first.done();
    expect(await second).toBeDefined();
    await limiter.take(); // the window is known now: no waiting for the one in flight
  });

  it('holds every caller after a 429 until the time named', async () => {
    const { limiter } = limiterWith({});
    limiter.pauseUntil(1500);
    const waits = await Promise.all([limiter.take(), limiter.take()]);
    expect(waits.map((t) => t?.waitedMs)).toEqual([1500, 0]);
  });

  it('gives no turn when it would wait longer than allowed', async () => {
    const { limiter, state } = limiterWith({});
    limiter.pauseUntil(10_000);
    expect(await limiter.take(5000)).toBeUndefined();
    expect(state.now).toBe(0);
    expect(await limiter.take(10_000)).toBeDefined();
  });
});
