import { RetryableError } from './errors.ts';
import type { RateLimiter } from './limiter.ts';
import { fullJitterMs, type Pacing } from './pacing.ts';

/*
 * The one request-with-retry of the adapters. Not p-retry (9.0 was checked for it): its waits run
 * on the global setTimeout, so tests would need fake timers instead of an injected sleep and
 * clock; its jitter multiplies the delay by 1 to 2 rather than drawing it in [0, delay); it cannot
 * wait, for one attempt, the time a Retry-After or a vendor's reset names; and it gives up on any
 * TypeError that does not look like a network error. Those waits are most of what this loop does,
 * so it is written once here instead of wrapped around a library that does them differently.
 */

/** An adapter's reading of one attempt: done, worth another attempt, or failed for good. */
export type Verdict<T> =
  { kind: 'ok'; value: T } | { kind: 'retry'; error: RetryableError } | { kind: 'fail'; error: unknown };

export const ok = <T>(value: T): Verdict<T> => ({ kind: 'ok', value });
export const retry = (error: RetryableError): Verdict<never> => ({ kind: 'retry', error });
export const fail = (error: unknown): Verdict<never> => ({ kind: 'fail', error });
/** A RetryableError is tried again; anything else fails the request. */
export const verdictOf = (error: unknown): Verdict<never> =>
  error instanceof RetryableError ? retry(error) : fail(error);

export interface RetryPolicy {
  /** Attempts in all, the first included. */
  maxAttempts: number;
  /** First backoff step, doubled per retry up to `capMs`, fully jittered. */
  baseMs: number;
  capMs: number;
  /** A wait the vendor names that is longer than this is cut to it (default: honoured as named). */
  maxRetryAfterMs?: number;
  /**
   * When set, a 429 does not use up an attempt (the vendor did nothing and said when to come
   * back); the time spent waiting out rate limits (429s and the limiter) is bounded by this
   * budget instead, beyond which the request fails as rate limited.
   */
  rateLimitBudgetMs?: number;
}

export interface RequestOptions<R, T> {
  /** One attempt: resolves with the vendor's answer, throws when none came. */
  send: () => Promise<R>;
  /** The adapter's reading of an answer. */
  classify: (answer: R) => Verdict<T>;
  /** The adapter's reading of a failure to get an answer; default: retry, in doubt (the request may have arrived). */
  classifyError?: (error: unknown) => Verdict<T>;
  policy: RetryPolicy;
  pacing: Pacing;
  /** Paces every attempt, retries included. */
  limiter?: RateLimiter;
}

interface Spent {
  attempts: number;
  rateLimitWaitMs: number;
}

/**
 * Sends and classifies a request until it is done: a retryable answer waits for the time the
 * vendor named (`retryAfterMs`) or else backs off exponentially with full jitter, then goes again
 * through the limiter, for at most `maxAttempts` attempts. Resolves with the classified value;
 * throws the failure, or a RetryableError once out of attempts or rate-limit budget.
 */
export async function requestWithRetry<R, T>(o: RequestOptions<R, T>): Promise<T> {
  const spent: Spent = { attempts: 0, rateLimitWaitMs: 0 };
  for (;;) {
    const verdict = await attempt(o, spent);
    if (verdict.kind === 'ok') return verdict.value;
    if (verdict.kind === 'fail') throw verdict.error;
    await backOff(o, verdict.error, spent);
  }
}

async function attempt<R, T>(o: RequestOptions<R, T>, spent: Spent): Promise<Verdict<T>> {
  const turn = await o.limiter?.take(budgetLeft(o.policy, spent));
  if (o.limiter && !turn) throw rateLimitedTooLong(o.policy);
  spent.rateLimitWaitMs += turn?.waitedMs ?? 0;
  let answer: R;
  try {
    answer = await o.send();
  } catch (err) {
    return (o.classifyError ?? networkFailure)(err);
  } finally {
    turn?.done(); // before classify, which may read the vendor's count of what is left
  }
  return o.classify(answer);
}

/** Waits before the next attempt; throws when there is to be none. */
async function backOff<R, T>(o: RequestOptions<R, T>, error: RetryableError, spent: Spent): Promise<void> {
  const free = error.status === 429 && o.policy.rateLimitBudgetMs !== undefined;
  if (!free && ++spent.attempts >= o.policy.maxAttempts) throw outOfAttempts(error, spent.attempts);
  const { baseMs, capMs, maxRetryAfterMs = Number.POSITIVE_INFINITY } = o.policy;
  const wait =
    error.retryAfterMs !== undefined
      ? Math.min(error.retryAfterMs, maxRetryAfterMs)
      : fullJitterMs(spent.attempts + (free ? 1 : 0), baseMs, capMs, o.pacing.random);
  if (free) {
    if (wait > budgetLeft(o.policy, spent)) throw rateLimitedTooLong(o.policy, error);
    spent.rateLimitWaitMs += wait;
  }
  await o.pacing.sleep(wait);
}

function budgetLeft(policy: RetryPolicy, spent: Spent): number {
  return (policy.rateLimitBudgetMs ?? Number.POSITIVE_INFINITY) - spent.rateLimitWaitMs;
}

function networkFailure(err: unknown): Verdict<never> {
  return retry(
    new RetryableError(`network error: ${err instanceof Error ? err.message : String(err)}`, undefined, undefined, {
      cause: err,
      inDoubt: true,
    }),
  );
}

function outOfAttempts(last: RetryableError, attempts: number): RetryableError {
  return new RetryableError(
    `still failing after ${attempts} attempt${attempts === 1 ? '' : 's'}: ${last.message}`,
    last.status,
    last.retryAfterMs,
    { code: last.code, cause: last, inDoubt: last.inDoubt },
  );
}

function rateLimitedTooLong(policy: RetryPolicy, last?: RetryableError): RetryableError {
  return new RetryableError(`rate limited for longer than ${policy.rateLimitBudgetMs} ms`, 429, last?.retryAfterMs, {
    cause: last,
  });
}
