/**
 * Time, waiting and randomness, as an adapter paces its requests. Injected, so that tests run on
 * a virtual clock with a seeded random and never wait for real.
 */
export interface Pacing {
  clock: () => number;
  sleep: (ms: number) => Promise<void>;
  /** Uniform in [0, 1): jitter. */
  random: () => number;
}

export const sleepFor = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export const realPacing: Pacing = { clock: Date.now, sleep: sleepFor, random: Math.random };

/**
 * Exponential backoff with full jitter: uniform in [0, min(cap, base·2^(retry-1))), retry ≥ 1.
 * Full jitter spreads the clients that failed together the most for the least total wait
 * (https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/).
 */
export function fullJitterMs(retry: number, baseMs: number, capMs: number, random: () => number): number {
  return Math.floor(random() * Math.min(capMs, baseMs * 2 ** (Math.max(1, retry) - 1)));
}
