import type { Pacing } from './pacing.ts';

/** A vendor's stated limit: at most `requests` in any `perMs`. */
export interface RequestLimit {
  requests: number;
  perMs: number;
}

/** A limit stated per second as a rolling window: whole requests per the window they fit in (0.5/s → 1 per 2 s). */
export function perSecond(rate: number): RequestLimit {
  if (!(rate > 0)) throw new RangeError(`rate == ${rate} per second, must be > 0`);
  const requests = Math.max(1, Math.floor(rate));
  return { requests, perMs: (1000 * requests) / rate };
}

export interface RateLimiterOptions {
  /** The vendor's stated limit (a named constant in the adapter's constants.ts), kept as a rolling window. */
  limit?: RequestLimit;
  /**
   * For vendors that report on every answer what is left of their window (`observe`): while no
   * answer has described the current window (at the start, after a reset), one request at a time.
   */
  oneAtATimeUntilObserved?: boolean;
  /**
   * Counts each request in the window as of its answer rather than its departure: a vendor counts
   * a request when it arrives, which is anywhere between the two, so a request still on its way
   * fills the window until it is answered, and only leaves it `perMs` after its answer. For
   * vendors whose window is strict (HubSpot's rolling 10 s): the limit then holds at the vendor
   * whatever the latency.
   */
  countUntilAnswered?: boolean;
  pacing: Pick<Pacing, 'clock' | 'sleep'>;
}

/** A turn taken: how long it waited for it, and `done()` to call once the request's answer arrived. */
export interface Turn {
  waitedMs: number;
  done(): void;
}

/** How often a caller looks again while another request is finding out what the window is. */
const UNKNOWN_WINDOW_POLL_MS = 2;

/**
 * The client-side rate limiter of every adapter. Callers take turns in call order; a turn waits
 * for the longest of:
 * - the stated limit (`options.limit`): at most N requests in any rolling window, for vendors that
 *   publish a limit without saying how much of it is left (Segment's Profile API, HubSpot search);
 * - the vendor's own count, for vendors that report it on every answer (Braze's
 *   `X-RateLimit-Remaining`/`-Reset`, fed to `observe`): when none remain, until the reset;
 * - a pause after a 429 that named a time (`pauseUntil`), for every caller at once.
 */
export class RateLimiter {
  /**
   * When the requests of the rolling window were sent (oldest first); with `countUntilAnswered`,
   * when they were answered (Infinity while on their way), in no particular order.
   */
  private readonly sent: { at: number }[] = [];
  /** The vendor's window as last described: requests left and when it resets (epoch ms; 0 = unknown). */
  private window = { remaining: Number.POSITIVE_INFINITY, resetAt: 0 };
  private inFlight = 0;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: RateLimiterOptions) {
    const l = options.limit;
    if (l && !(l.requests >= 1 && l.perMs > 0))
      throw new RangeError(`limit == ${l.requests} per ${l.perMs} ms, must be at least 1 request per more than 0 ms`);
  }

  /** Waits for a turn. Undefined, without a turn, when that would mean waiting more than `maxWaitMs` in all. */
  take(maxWaitMs = Number.POSITIVE_INFINITY): Promise<Turn | undefined> {
    const turn = this.queue.then(() => this.wait(maxWaitMs));
    this.queue = turn.catch(() => undefined);
    return turn;
  }

  /** Takes the vendor's word for its window (`resetAt` in epoch ms), minus the requests still on their way to it. */
  observe(remaining: number, resetAt: number): void {
    const left = remaining - this.inFlight;
    if (resetAt > this.window.resetAt) this.window = { remaining: left, resetAt };
    else if (resetAt === this.window.resetAt) this.window.remaining = Math.min(this.window.remaining, left);
  }

  /** Holds every caller until `at` (on the pacing clock): the vendor answered 429 and said until when. */
  pauseUntil(at: number): void {
    this.window = { remaining: 0, resetAt: at };
  }

  private async wait(maxWaitMs: number): Promise<Turn | undefined> {
    const { clock, sleep } = this.options.pacing;
    let waitedMs = 0;
    for (;;) {
      const pause = this.pauseAt(clock());
      if (pause > 0) {
        if (waitedMs + pause > maxWaitMs) return undefined;
        await sleep(pause);
        waitedMs += pause; // and look again: the window may have changed meanwhile
      } else if (this.options.oneAtATimeUntilObserved && this.window.resetAt === 0 && this.inFlight > 0) {
        await sleep(UNKNOWN_WINDOW_POLL_MS);
      } else if (pause < 0) {
        // the window is full of requests still on their way: look again once one may have been answered
        if (waitedMs + UNKNOWN_WINDOW_POLL_MS > maxWaitMs) return undefined;
        await sleep(UNKNOWN_WINDOW_POLL_MS);
        waitedMs += UNKNOWN_WINDOW_POLL_MS;
      } else {
        return this.admit(clock(), waitedMs);
      }
    }
  }

  /**
   * How long from `now` until a request may go (0: at once; below 0: not until a request on its
   * way is answered), after forgetting what has expired.
   */
  private pauseAt(now: number): number {
    const limit = this.options.limit;
    if (this.window.resetAt <= now) this.window = { remaining: Number.POSITIVE_INFINITY, resetAt: 0 };
    const vendor = this.window.remaining <= 0 ? this.window.resetAt - now : 0;
    const rolling = limit ? this.rollingPause(limit, now) : 0;
    if (rolling < 0) return vendor > 0 ? vendor : rolling;
    return Math.max(vendor, rolling, 0);
  }

  /** The stated limit's share of `pauseAt`. */
  private rollingPause(limit: RequestLimit, now: number): number {
    const sent = this.sent;
    if (!this.options.countUntilAnswered) {
      while (sent.length > 0 && sent[0].at <= now - limit.perMs) sent.shift();
      return sent.length >= limit.requests ? sent[0].at + limit.perMs - now : 0;
    }
    for (let i = sent.length - 1; i >= 0; i--) if (sent[i].at <= now - limit.perMs) sent.splice(i, 1);
    if (sent.length < limit.requests) return 0;
    // the window frees when enough answered requests leave it: the (length - requests + 1)-th oldest answer
    const answered = sent
      .map((s) => s.at)
      .filter((at) => at !== Number.POSITIVE_INFINITY)
      .sort((a, b) => a - b);
    const needed = sent.length - limit.requests + 1;
    return answered.length >= needed ? answered[needed - 1] + limit.perMs - now : -1;
  }

  private admit(now: number, waitedMs: number): Turn {
    this.window.remaining -= 1;
    const slot = { at: this.options.countUntilAnswered ? Number.POSITIVE_INFINITY : now };
    if (this.options.limit) this.sent.push(slot);
    this.inFlight += 1;
    let open = true;
    return {
      waitedMs,
      done: () => {
        if (open) {
          this.inFlight -= 1;
          if (this.options.countUntilAnswered) slot.at = this.options.pacing.clock();
        }
        open = false;
      },
    };
  }
}
