/**
 * Time, waiting and randomness, injected so tests run on a virtual clock (STYLE.md §9).
 */
export interface Pacing {
  clock: () => number;
  sleep: (ms: number) => Promise<void>;
  /** Uniform in [0, 1): jitter. */
  random: () => number;
}

export const realPacing: Pacing = {
  clock: Date.now,
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  random: Math.random,
};

/**
 * At most `max` calls in any `windowMs`: `take()` resolves when the caller may send. Used for
 * the CRM search limit (5 requests per second per account), which HubSpot enforces without
 * rate-limit headers, so it has to be honoured client-side.
 */
export class RequestWindow {
  private readonly sent: number[] = [];
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly max: number,
    private readonly windowMs: number,
    private readonly pacing: Pacing,
  ) {}

  take(): Promise<void> {
    const turn = this.queue.then(() => this.wait());
    this.queue = turn.catch(() => undefined);
    return turn;
  }

  private async wait(): Promise<void> {
    for (;;) {
      const now = this.pacing.clock();
      while (this.sent.length > 0 && this.sent[0] <= now - this.windowMs) this.sent.shift();
      if (this.sent.length < this.max) {
        this.sent.push(now);
        return;
      }
      await this.pacing.sleep(this.sent[0] + this.windowMs - now);
    }
  }
}

/** Exponential backoff with full jitter: a wait in [base·2^attempt / 2, base·2^attempt], capped. */
export function backoffMs(attempt: number, pacing: Pacing, baseMs = 500, capMs = 30_000): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** attempt);
  return Math.round(ceiling / 2 + (pacing.random() * ceiling) / 2);
}
