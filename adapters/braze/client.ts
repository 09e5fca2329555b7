import { z } from 'zod';
import {
  errorForStatus,
  fail,
  familyOf,
  ok,
  RateLimiter,
  realPacing,
  requestWithRetry,
  retry,
  retryAfterMs,
  RetryableError,
  type Pacing,
  type RetryPolicy,
  type Verdict,
} from '../kit/index.ts';
import { fetchTransport, httpTransport, type Transport } from './transport.ts';

/**
 * A small Braze REST client: bearer auth, JSON, and the retry rules Braze documents
 * (https://www.braze.com/docs/api/api_limits/; what nextbest does with them: docs/braze.md,
 * "Exactly once, through rate limits, errors and crashes"): a 429 waits until `X-RateLimit-Reset`,
 * 5xx and network failures back off exponentially with full jitter, other 4xx are final. It also
 * paces itself per endpoint: when an answer says no requests remain in the window, the next one
 * waits for the reset instead of collecting a 429.
 *
 * Time and randomness are injected (`clock`, `sleep`, `random`) so that tests are exact and fast.
 */

export interface BrazeClientOptions {
  /** REST endpoint of the workspace's cluster, e.g. `https://rest.iad-01.braze.com`. */
  baseUrl: string;
  apiKey: string;
  /** Attempts per request for 5xx and network failures (default 5). */
  maxAttempts?: number;
  /** Longest total wait for rate limits on one request before giving up (default 5 min). */
  maxRateLimitWaitMs?: number;
  /** First backoff step (default 250 ms); doubles per attempt, capped at 30 s, fully jittered. */
  backoffBaseMs?: number;
  /** Timeout of one HTTP request (default 30 s). */
  timeoutMs?: number;
  clock?: () => number;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  /** Sends the requests instead of node:http(s) with keep-alive (e.g. a test double). */
  fetch?: typeof fetch;
}

/** Braze's answer body: `message` always; partial errors in `errors`; ids for sends. */
export const brazeResponseSchema = z.looseObject({
  message: z.string(),
  errors: z
    .array(
      z.looseObject({
        type: z.string().optional(),
        input_array: z.string().optional(),
        index: z.number().int().nonnegative().optional(),
      }),
    )
    .optional(),
  dispatch_id: z.string().optional(),
  schedule_id: z.string().optional(),
});
export type BrazeResponse = z.output<typeof brazeResponseSchema>;

/** A 2xx answer in Braze's documented shape. */
export interface BrazeReply {
  status: number;
  body: BrazeResponse;
}

/** What one attempt got back: the status and headers, and the body or why it was lost on the way. */
interface Received {
  status: number;
  headers: Pick<Headers, 'get'>;
  text?: string;
  lost?: Error;
}

const BACKOFF_CAP_MS = 30_000;

export class BrazeClient {
  private readonly baseUrl: string;
  private readonly timeoutMs: number;
  private readonly headers: Record<string, string>;
  private readonly pacing: Pacing;
  private readonly policy: RetryPolicy;
  private readonly transport: Transport;
  /** Braze limits each endpoint on its own: one limiter per path, kept on Braze's own count of what is left. */
  private readonly limiters = new Map<string, RateLimiter>();
  /** Requests sent, by path (for tests and metrics). */
  readonly requests = new Map<string, number>();

  constructor(options: BrazeClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.headers = { authorization: `Bearer ${options.apiKey}`, 'content-type': 'application/json' };
    this.pacing = {
      clock: options.clock ?? realPacing.clock,
      sleep: options.sleep ?? realPacing.sleep,
      random: options.random ?? realPacing.random,
    };
    this.policy = {
      maxAttempts: options.maxAttempts ?? 5,
      baseMs: options.backoffBaseMs ?? 250,
      capMs: BACKOFF_CAP_MS,
      rateLimitBudgetMs: options.maxRateLimitWaitMs ?? 5 * 60_000,
    };
    this.transport = options.fetch ? fetchTransport(options.fetch) : httpTransport();
  }

  /**
   * POSTs `body` to `path` and resolves with Braze's reply, or throws: a RetryableError (`inDoubt`
   * when Braze may have processed the request), or a PermanentError for a final 4xx. With
   * `retryInDoubt: false` (non-idempotent calls such as triggered sends), a 5xx or a lost
   * connection is thrown at once, in doubt, instead of being retried.
   */
  post(path: string, body: unknown, { retryInDoubt = true }: { retryInDoubt?: boolean } = {}): Promise<BrazeReply> {
    const limiter = this.limiterFor(path);
    const payload = JSON.stringify(body);
    const inDoubt = (message: string, status?: number): Verdict<never> => {
      const error = new RetryableError(message, status, undefined, { inDoubt: true });
      return retryInDoubt ? retry(error) : fail(error);
    };
    return requestWithRetry({
      send: () => this.send(path, payload),
      classify: (received) => this.classify(received, limiter, inDoubt),
      classifyError: (err) => inDoubt(`network error: ${(err as Error).message}`),
      policy: this.policy,
      pacing: this.pacing,
      limiter,
    });
  }

  private limiterFor(path: string): RateLimiter {
    let limiter = this.limiters.get(path);
    if (!limiter)
      this.limiters.set(path, (limiter = new RateLimiter({ oneAtATimeUntilObserved: true, pacing: this.pacing })));
    return limiter;
  }

  private async send(path: string, payload: string): Promise<Received> {
    this.requests.set(path, (this.requests.get(path) ?? 0) + 1);
    const answer = await this.transport(`${this.baseUrl}${path}`, this.headers, payload, this.timeoutMs);
    try {
      return { status: answer.status, headers: answer.headers, text: await answer.text() };
    } catch (err) {
      return { status: answer.status, headers: answer.headers, lost: err as Error };
    }
  }

  private classify(
    r: Received,
    limiter: RateLimiter,
    inDoubt: (message: string, status?: number) => Verdict<never>,
  ): Verdict<BrazeReply> {
    noteRateLimit(limiter, r.headers);
    // The answer was lost on the way: Braze may have processed the request.
    if (r.lost) return inDoubt(`network error reading the answer: ${r.lost.message}`, r.status);
    const json = parseJson(r.text ?? '');
    if (r.status === 429) return retry(this.rateLimited(r.headers, limiter, json));
    if (r.status >= 200 && r.status < 300) return readReply(r.status, json);
    if (familyOf(r.status) === 'retry') return inDoubt(`Braze answered ${r.status}${messageOf(json)}`, r.status);
    return fail(errorForStatus('Braze', r.status, { detail: vendorMessage(json) }));
  }

  /**
   * A 429: the endpoint's window is spent until `X-RateLimit-Reset` (epoch seconds), else for the
   * Retry-After. Every caller of the endpoint waits for it, plus up to 10 % (at least 50 ms) of
   * jitter so that the clients of the workspace do not all come back at the same instant.
   */
  private rateLimited(headers: Pick<Headers, 'get'>, limiter: RateLimiter, json: unknown): RetryableError {
    const now = this.pacing.clock();
    const reset = Number(headers.get('x-ratelimit-reset'));
    const named =
      Number.isFinite(reset) && reset > 0
        ? Math.max(0, reset * 1000 - now)
        : retryAfterMs(headers.get('retry-after'), now);
    const wait = named === undefined ? undefined : Math.ceil(named + this.pacing.random() * Math.max(50, named * 0.1));
    if (wait !== undefined) limiter.pauseUntil(now + wait);
    return new RetryableError(`Braze answered 429${messageOf(json)}`, 429, wait);
  }
}

/** A 2xx whose body is not Braze's shape was processed, but what happened cannot be read: in doubt. */
function readReply(status: number, json: unknown): Verdict<BrazeReply> {
  const parsed = brazeResponseSchema.safeParse(json);
  if (parsed.success) return ok({ status, body: parsed.data });
  const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; ');
  return fail(new RetryableError(`unreadable Braze response: ${issues}`, status, undefined, { inDoubt: true }));
}

/** Takes Braze's word for the endpoint's window: `X-RateLimit-Remaining`, and `X-RateLimit-Reset` in epoch seconds. */
function noteRateLimit(limiter: RateLimiter, headers: Pick<Headers, 'get'>): void {
  const remaining = Number(headers.get('x-ratelimit-remaining') ?? Number.NaN);
  const reset = Number(headers.get('x-ratelimit-reset') ?? Number.NaN);
  if (Number.isFinite(remaining) && Number.isFinite(reset) && reset > 0) limiter.observe(remaining, reset * 1000);
}

function parseJson(text: string): unknown {
  try {
    return text === '' ? {} : JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Braze's `message`, when the body has one. */
function vendorMessage(json: unknown): string | undefined {
  const m = (json as { message?: unknown } | undefined)?.message;
  return typeof m === 'string' ? m : undefined;
}

function messageOf(json: unknown): string {
  const m = vendorMessage(json);
  return m === undefined ? '' : `: ${m}`;
}
