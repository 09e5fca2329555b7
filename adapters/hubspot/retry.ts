import { classifyHubSpotError, DailyLimitError, RetryableError, type ClassifiedError } from './errors.ts';
import { backoffMs, type Pacing } from './pacing.ts';

export interface RetryOptions {
  /** Attempts in all (first call included). */
  maxAttempts: number;
  pacing: Pacing;
  /** Called before each wait, for logs and tests. */
  onRetry?: (c: ClassifiedError, waitMs: number, attempt: number) => void;
}

/**
 * Runs `call`, retrying the retryable family (429 burst: the wait HubSpot names, else 10 s;
 * 5xx / network: exponential backoff with jitter). A DAILY 429 throws DailyLimitError at once;
 * any other failure is rethrown as it came. After `maxAttempts` a RetryableError is thrown.
 */
export async function withRetries<T>(call: () => Promise<T>, options: RetryOptions): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await call();
    } catch (err) {
      const c = classifyHubSpotError(err);
      if (c.family === 'daily') throw new DailyLimitError(`HubSpot daily API limit reached: ${c.message}`, { cause: err });
      if (c.family !== 'retry') throw err;
      const wait = c.retryAfterMs ?? (c.status === 429 ? 10_000 + backoffMs(0, options.pacing, 200, 1_000) : backoffMs(attempt, options.pacing));
      if (attempt + 1 >= options.maxAttempts) throw new RetryableError(`HubSpot still failing after ${options.maxAttempts} attempts: ${c.message}`, c.status, wait, 'retries_exhausted', { cause: err });
      options.onRetry?.(c, wait, attempt);
      await options.pacing.sleep(wait);
    }
  }
}
