import http from 'node:http';
import https from 'node:https';
import { z } from 'zod';

/**
 * A small Braze REST client: bearer auth, JSON, and the retry rules Braze documents
 * (shared/integrations.md §1.2): 429 waits until `X-RateLimit-Reset`, 5xx and network failures
 * back off exponentially with full jitter, other 4xx are final. It also paces itself: when a
 * response says no requests remain in the window, the next one waits for the reset instead of
 * collecting a 429.
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

/** What the client reads of an HTTP answer, whichever way the request went. */
interface Answer {
  status: number;
  headers: Pick<Headers, 'get'>;
  text(): Promise<string>;
}

type Transport = (url: string, headers: Record<string, string>, body: string, timeoutMs: number) => Promise<Answer>;

function fetchTransport(f: typeof fetch): Transport {
  return (url, headers, body, timeoutMs) => f(url, { method: 'POST', headers, body, signal: AbortSignal.timeout(timeoutMs) });
}

/**
 * POSTs over node:http(s) on kept-alive connections: about half of fetch's CPU per request here
 * (measured on this project's machine for a 50-recipient trigger body: ≈ 0.4 against ≈ 0.8 ms).
 * `timeoutMs` bounds the whole exchange, answer included. Idle sockets are closed after 4 s, before
 * a server that keeps them 5 s (Node's default) closes them under a new request.
 */
function httpTransport(): Transport {
  const agents = { 'http:': new http.Agent({ keepAlive: true, timeout: 4000 }), 'https:': new https.Agent({ keepAlive: true, timeout: 4000 }) };
  return (url, headers, body, timeoutMs) =>
    new Promise<Answer>((resolve, reject) => {
      const target = new URL(url);
      const secure = target.protocol === 'https:';
      const request = (secure ? https : http).request(target, { method: 'POST', agent: agents[secure ? 'https:' : 'http:'], headers: { ...headers, 'content-length': Buffer.byteLength(body) } });
      const deadline = setTimeout(() => request.destroy(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs).unref();
      request.on('error', (err) => {
        clearTimeout(deadline);
        reject(err);
      });
      request.on('response', (res) => {
        // Read at once, so that the socket goes back to the pool; `text()` hands over the result.
        const text = new Promise<string>((done, lost) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => done(Buffer.concat(chunks).toString('utf8')));
          res.on('error', lost);
          res.on('close', () => res.complete || lost(new Error('the connection closed before the whole answer arrived')));
        }).finally(() => clearTimeout(deadline));
        text.catch(() => undefined); // a failure is reported by text()
        const headerOf = (name: string) => {
          const v = res.headers[name.toLowerCase()];
          return v === undefined ? null : Array.isArray(v) ? v.join(', ') : v;
        };
        resolve({ status: res.statusCode ?? 0, headers: { get: headerOf }, text: () => text });
      });
      request.end(body);
    });
}

/** Braze's answer body: `message` always; partial errors in `errors`; ids for sends. */
export const brazeResponseSchema = z.looseObject({
  message: z.string(),
  errors: z
    .array(z.looseObject({ type: z.string().optional(), input_array: z.string().optional(), index: z.number().int().nonnegative().optional() }))
    .optional(),
  dispatch_id: z.string().optional(),
  schedule_id: z.string().optional(),
});
export type BrazeResponse = z.output<typeof brazeResponseSchema>;

export type BrazeResult =
  | { ok: true; status: number; body: BrazeResponse }
  /**
   * `retryable`: trying again later may succeed (rate limit budget spent, 5xx, network).
   * `inDoubt`: the request may have been processed although no success came back (5xx, lost
   * connection): a non-idempotent call must ask before sending again.
   */
  | { ok: false; status?: number; retryable: boolean; inDoubt: boolean; message: string; body?: unknown };

const BACKOFF_CAP_MS = 30_000;

export class BrazeClient {
  private readonly options: Required<Omit<BrazeClientOptions, 'fetch'>>;
  private readonly transport: Transport;
  /**
   * Braze limits each endpoint on its own. Per path: the rate-limit window as Braze last described
   * it (requests left, when it resets, epoch ms), with requests sent since counted off locally so
   * that parallel requests do not overrun it.
   */
  private readonly windows = new Map<string, { remaining: number; resetAt: number; inFlight: number }>();
  /** Requests sent, by path (for tests and metrics). */
  readonly requests = new Map<string, number>();

  constructor(options: BrazeClientOptions) {
    this.options = {
      maxAttempts: 5,
      maxRateLimitWaitMs: 5 * 60_000,
      backoffBaseMs: 250,
      timeoutMs: 30_000,
      clock: Date.now,
      sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
      random: Math.random,
      ...options,
      baseUrl: options.baseUrl.replace(/\/+$/, ''),
    };
    this.transport = options.fetch ? fetchTransport(options.fetch) : httpTransport();
  }

  /**
   * POSTs `body` to `path`. With `retryInDoubt: false` (non-idempotent calls such as triggered
   * sends), a 5xx or a lost connection is returned at once as in doubt instead of being retried.
   */
  async post(path: string, body: unknown, { retryInDoubt = true }: { retryInDoubt?: boolean } = {}): Promise<BrazeResult> {
    const o = this.options;
    let attempts = 0;
    let waited = 0;
    let w = this.windows.get(path);
    if (!w) this.windows.set(path, (w = { remaining: Number.POSITIVE_INFINITY, resetAt: 0, inFlight: 0 }));
    const window = w;
    const payload = JSON.stringify(body);
    const headers = { authorization: `Bearer ${o.apiKey}`, 'content-type': 'application/json' };
    for (;;) {
      const pause = window.remaining <= 0 ? window.resetAt - o.clock() : 0;
      if (pause > 0) {
        if (waited + pause > o.maxRateLimitWaitMs) return { ok: false, status: 429, retryable: true, inDoubt: false, message: `rate limited for longer than ${o.maxRateLimitWaitMs} ms` };
        await o.sleep(pause);
        waited += pause;
        continue; // others may have taken the new window meanwhile
      }
      if (window.resetAt <= o.clock()) Object.assign(window, { remaining: Number.POSITIVE_INFINITY, resetAt: 0 });
      if (window.resetAt === 0 && window.inFlight > 0) {
        // The window is unknown: one request at a time until an answer describes it.
        await o.sleep(2);
        continue;
      }
      window.remaining -= 1;
      attempts += 1;
      this.requests.set(path, (this.requests.get(path) ?? 0) + 1);
      let res: Answer;
      window.inFlight += 1;
      try {
        res = await this.transport(`${o.baseUrl}${path}`, headers, payload, o.timeoutMs);
      } catch (err) {
        window.inFlight -= 1;
        const message = `network error: ${(err as Error).message}`;
        if (!retryInDoubt || attempts >= o.maxAttempts) return { ok: false, retryable: true, inDoubt: true, message };
        await o.sleep(this.backoff(attempts));
        continue;
      }
      window.inFlight -= 1;
      noteRateLimit(window, res.headers);
      let text: string;
      try {
        text = await res.text();
      } catch (err) {
        // The answer was lost on the way: Braze may have processed the request.
        const message = `network error reading the answer: ${(err as Error).message}`;
        if (!retryInDoubt || attempts >= o.maxAttempts) return { ok: false, status: res.status, retryable: true, inDoubt: true, message };
        await o.sleep(this.backoff(attempts));
        continue;
      }
      let json: unknown;
      try {
        json = text === '' ? {} : JSON.parse(text);
      } catch {
        json = undefined;
      }
      if (res.status === 429) {
        const wait = this.rateLimitWait(res.headers, attempts);
        Object.assign(window, { remaining: 0, resetAt: o.clock() + wait });
        if (waited + wait > o.maxRateLimitWaitMs) return { ok: false, status: 429, retryable: true, inDoubt: false, message: `rate limited for longer than ${o.maxRateLimitWaitMs} ms`, body: json };
        await o.sleep(wait);
        waited += wait;
        attempts -= 1; // a rate limit is not a failed attempt: Braze did nothing
        continue;
      }
      if (res.status >= 500) {
        const message = `Braze answered ${res.status}${messageOf(json)}`;
        if (!retryInDoubt || attempts >= o.maxAttempts) return { ok: false, status: res.status, retryable: true, inDoubt: true, message, body: json };
        await o.sleep(this.backoff(attempts));
        continue;
      }
      if (res.status < 200 || res.status >= 300) {
        return { ok: false, status: res.status, retryable: res.status === 401 || res.status === 403, inDoubt: false, message: `Braze answered ${res.status}${messageOf(json)}`, body: json };
      }
      const parsed = brazeResponseSchema.safeParse(json);
      if (!parsed.success) {
        // A 2xx whose body is not Braze's shape: the request was processed, but we cannot read what happened.
        return { ok: false, status: res.status, retryable: true, inDoubt: true, message: `unreadable Braze response: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; ')}`, body: json };
      }
      return { ok: true, status: res.status, body: parsed.data };
    }
  }

  /** Full jitter: uniform in [0, min(cap, base·2^(attempt-1))]. */
  private backoff(attempt: number): number {
    const o = this.options;
    return Math.floor(o.random() * Math.min(BACKOFF_CAP_MS, o.backoffBaseMs * 2 ** (attempt - 1)));
  }

  /** Until the window resets (X-RateLimit-Reset, epoch seconds), else Retry-After, else backoff; plus up to 10 % jitter. */
  private rateLimitWait(headers: Pick<Headers, 'get'>, attempt: number): number {
    const o = this.options;
    const reset = Number(headers.get('x-ratelimit-reset'));
    const retryAfter = Number(headers.get('retry-after'));
    let wait: number;
    if (Number.isFinite(reset) && reset > 0) wait = Math.max(0, reset * 1000 - o.clock());
    else if (Number.isFinite(retryAfter) && retryAfter > 0) wait = retryAfter * 1000;
    else wait = this.backoff(attempt + 1);
    return Math.ceil(wait + o.random() * Math.max(50, wait * 0.1));
  }
}

/** Takes Braze's word for the window, minus the requests still on their way to it. */
function noteRateLimit(window: { remaining: number; resetAt: number; inFlight: number }, headers: Pick<Headers, 'get'>): void {
  const remaining = Number(headers.get('x-ratelimit-remaining') ?? Number.NaN);
  const reset = Number(headers.get('x-ratelimit-reset') ?? Number.NaN);
  if (!Number.isFinite(remaining) || !Number.isFinite(reset) || reset <= 0) return;
  const resetAt = reset * 1000;
  const left = remaining - window.inFlight;
  if (resetAt > window.resetAt) Object.assign(window, { remaining: left, resetAt });
  else if (resetAt === window.resetAt) window.remaining = Math.min(window.remaining, left);
}

function messageOf(json: unknown): string {
  const m = (json as { message?: unknown } | undefined)?.message;
  return typeof m === 'string' ? `: ${m}` : '';
}
