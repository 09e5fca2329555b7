import { ok, requestWithRetry, verdictOf, type Pacing } from '../kit/index.ts';
import { hubspotError } from './errors.ts';

/** Backoff of HubSpot calls: from 500 ms, doubling up to 30 s, fully jittered. */
const BACKOFF = { baseMs: 500, capMs: 30_000 };

export interface RetryOptions {
  /** Attempts in all (first call included). */
  maxAttempts: number;
  pacing: Pacing;
}

/**
 * Runs an SDK call (which throws for any non-2xx answer, and which the portal's client paces)
 * through the kit's request-with-retry:
 * 408, 423, 429 burst, 5xx and network failures are tried again, a 429 after the wait HubSpot
 * names; a DAILY 429 fails at once with DailyLimitError, anything else as the kit's error for it.
 */
export function withRetries<T>(call: () => Promise<T>, options: RetryOptions): Promise<T> {
  return requestWithRetry({
    send: call,
    classify: ok,
    classifyError: (err) => verdictOf(hubspotError(err, options.pacing.clock())),
    policy: { maxAttempts: options.maxAttempts, ...BACKOFF },
    pacing: options.pacing,
  });
}
