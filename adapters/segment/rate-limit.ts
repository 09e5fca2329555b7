/**
 * A client-side token bucket: `ratePerSecond` tokens a second, at most `burst` saved up. Each
 * `take()` reserves the next token and waits until it is due, so concurrent callers are served
 * in call order and the rate holds however many wait. Clock and sleep are injectable so tests
 * need no real time.
 */
export interface TokenBucketOptions {
  ratePerSecond: number;
  /** Tokens available at once; defaults to one second's worth. */
  burst?: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export const sleepFor = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export class TokenBucket {
  private readonly rate: number;
  private readonly burst: number;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private tokens: number;
  private last: number;

  constructor(options: TokenBucketOptions) {
    if (!(options.ratePerSecond > 0)) throw new RangeError(`ratePerSecond == ${options.ratePerSecond}, must be > 0`);
    const burst = options.burst ?? Math.max(1, Math.floor(options.ratePerSecond));
    if (!(burst >= 1)) throw new RangeError(`burst == ${burst}, must be >= 1`);
    this.rate = options.ratePerSecond;
    this.burst = burst;
    this.now = options.now ?? (() => performance.now());
    this.sleep = options.sleep ?? sleepFor;
    this.tokens = burst;
    this.last = this.now();
  }

  /** Milliseconds the caller waited (0 when a token was free). */
  async take(): Promise<number> {
    const now = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) * this.rate) / 1000);
    this.last = now;
    this.tokens -= 1;
    if (this.tokens >= 0) return 0;
    const wait = (-this.tokens / this.rate) * 1000;
    await this.sleep(wait);
    return wait;
  }
}
