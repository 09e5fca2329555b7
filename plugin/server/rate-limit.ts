import { LRUCache } from 'lru-cache';

/** A steady rate and the burst allowed above it. */
export interface Rate {
  perSecond: number;
  burst: number;
}

/**
 * What a public key may ask for: it is in every web page's source, so anyone can use it. Per key:
 * a busy site's page views; per user: a visitor clicking through pages, not a script.
 */
export const PUBLIC_DECIDE_RATES: { perKey: Rate; perUser: Rate } = {
  perKey: { perSecond: 500, burst: 1_000 },
  perUser: { perSecond: 1, burst: 20 },
};

interface Bucket {
  tokens: number;
  at: number;
}

/**
 * Token buckets by name (a key, a user's keyed hash), each refilled at `perSecond` up to `burst`.
 * The least recently used of more than `max` names are forgotten (they start again full).
 */
export class RateLimit {
  private readonly buckets: LRUCache<string, Bucket>;

  constructor(
    private readonly rate: Rate,
    max = 100_000,
  ) {
    this.buckets = new LRUCache({ max });
  }

  /** Takes one request's token at `now` (ms): undefined when allowed, else the seconds until one is there. */
  take(name: string, now: number): number | undefined {
    const b = this.buckets.get(name) ?? { tokens: this.rate.burst, at: now };
    b.tokens = Math.min(this.rate.burst, b.tokens + ((now - b.at) / 1000) * this.rate.perSecond);
    b.at = now;
    this.buckets.set(name, b);
    if (b.tokens < 1) return Math.ceil((1 - b.tokens) / this.rate.perSecond);
    b.tokens -= 1;
    return undefined;
  }
}
