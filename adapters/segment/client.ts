import { z } from 'zod';
import { formatPath } from '../../plugin/service/errors.ts';
import {
  errorForStatus,
  fail,
  ok,
  PayloadValidationError,
  perSecond,
  RateLimiter,
  realPacing,
  requestWithRetry,
  retry,
  retryAfterMs,
  RetryableError,
  verdictOf,
  type Pacing,
  type RetryPolicy,
  type Verdict,
} from '../kit/index.ts';
import { PROFILE_API_MAX_PAGES, PROFILE_API_TRAITS_LIMIT_MAX, type PROFILE_ID_TYPES } from './constants.ts';
import type { ProfileSettings } from './settings.ts';

/**
 * A thin client of the Segment Profile API (https://www.twilio.com/docs/segment/unify/profile-api):
 * one method per endpoint used. Auth, timeout, the per-space rate limit and retries are added in
 * one wrapper (`request`); HTTP goes through the injected `fetch`, so nock or a fake can answer.
 */

export type ProfileIdType = (typeof PROFILE_ID_TYPES)[number];
export type Fetch = (input: string, init: RequestInit) => Promise<Response>;

/** `{"traits": {...}, "cursor": {"url", "has_more", "next", "limit"}}` */
export const traitsPageSchema = z.object({
  traits: z.record(z.string(), z.unknown()),
  cursor: z
    .object({
      url: z.string().optional(),
      has_more: z.boolean(),
      next: z.string().nullable().optional(),
      limit: z.number().optional(),
    })
    .optional(),
});
export type TraitsPage = z.output<typeof traitsPageSchema>;

/** `{"error": {"code": "rate_limit_error", "message": "..."}}` */
const errorBodySchema = z.object({ error: z.object({ code: z.string().optional(), message: z.string().optional() }) });

export interface ProfileApiClientOptions {
  settings: Pick<
    ProfileSettings,
    'token' | 'spaceId' | 'baseUrl' | 'ratePerSecond' | 'maxAttempts' | 'backoffMs' | 'backoffMaxMs' | 'timeoutMs'
  >;
  fetch?: Fetch;
  /** Share one limiter between clients of the same space; by default each client has its own. */
  limiter?: RateLimiter;
  sleep?: (ms: number) => Promise<void>;
  /** Jitter source in [0, 1). */
  random?: () => number;
  now?: () => number;
}

/** The path segment of a typed id: `user_id:` + the URL-encoded value (`+` → `%2B`). */
export function typedId(type: ProfileIdType, value: string): string {
  return `${type}:${encodeURIComponent(value)}`;
}

/** What one Profile API request got back. */
interface Received {
  status: number;
  headers: Pick<Headers, 'get'>;
  text: string;
}

export class ProfileApiClient {
  private readonly settings: ProfileApiClientOptions['settings'];
  private readonly fetch: Fetch;
  private readonly pacing: Pacing;
  private readonly policy: RetryPolicy;
  private readonly limiter: RateLimiter;
  private readonly authorization: string;

  constructor(options: ProfileApiClientOptions) {
    const s = (this.settings = options.settings);
    this.fetch = options.fetch ?? ((input, init) => fetch(input, init));
    this.pacing = {
      clock: options.now ?? realPacing.clock,
      sleep: options.sleep ?? realPacing.sleep,
      random: options.random ?? realPacing.random,
    };
    // A Retry-After is honoured up to four times the longest backoff: a decision is waiting on this read.
    this.policy = {
      maxAttempts: s.maxAttempts,
      baseMs: s.backoffMs,
      capMs: s.backoffMaxMs,
      maxRetryAfterMs: s.backoffMaxMs * 4,
    };
    this.limiter = options.limiter ?? new RateLimiter({ limit: perSecond(s.ratePerSecond), pacing: this.pacing });
    // Basic auth: the token is the username, the password is blank.
    this.authorization = `Basic ${Buffer.from(`${s.token}:`).toString('base64')}`;
  }

  /**
   * Every trait of a profile, following `cursor.next` until `has_more` is false; undefined when
   * the Profile API does not know the id (404).
   */
  async traits(type: ProfileIdType, value: string): Promise<Record<string, unknown> | undefined> {
    const base = `${this.settings.baseUrl}/v1/spaces/${encodeURIComponent(this.settings.spaceId)}/collections/users/profiles/${typedId(type, value)}/traits`;
    const traits: Record<string, unknown> = {};
    const seen = new Set<string>();
    let next: string | undefined;
    for (let page = 0; page < PROFILE_API_MAX_PAGES; page++) {
      const query = new URLSearchParams({ limit: String(PROFILE_API_TRAITS_LIMIT_MAX) });
      if (next !== undefined) query.set('next', next);
      const body = await this.request(`${base}?${query}`);
      if (body === undefined) return page === 0 ? undefined : traits; // deleted between two pages
      const parsed = parseTraitsPage(body);
      Object.assign(traits, parsed.traits);
      const cursor = parsed.cursor;
      if (!cursor?.has_more) return traits;
      if (!cursor.next)
        throw new PayloadValidationError('Profile API response: cursor.next: is required when cursor.has_more is true');
      if (seen.has(cursor.next))
        throw new PayloadValidationError(
          `Profile API response: cursor.next: repeats ${JSON.stringify(cursor.next)}; the pagination does not advance`,
        );
      seen.add(cursor.next);
      next = cursor.next;
    }
    throw new PayloadValidationError(
      `Profile API response: more than ${PROFILE_API_MAX_PAGES} pages of traits for one profile`,
    );
  }

  /** One GET with rate limit and retries; the parsed JSON body, or undefined on 404. */
  private request(url: string): Promise<unknown> {
    return requestWithRetry({
      send: async (): Promise<Received> => {
        const res = await this.fetch(url, {
          method: 'GET',
          headers: { authorization: this.authorization, accept: 'application/json' },
          signal: AbortSignal.timeout(this.settings.timeoutMs),
        });
        return { status: res.status, headers: res.headers, text: await res.text() };
      },
      classify: (r) => this.classify(r),
      classifyError: (err) =>
        retry(
          new RetryableError(`Profile API unreachable: ${(err as Error).message}`, undefined, undefined, {
            cause: err,
          }),
        ),
      policy: this.policy,
      pacing: this.pacing,
      limiter: this.limiter,
    });
  }

  private classify(r: Received): Verdict<unknown> {
    if (r.status === 404) return ok(undefined);
    if (r.status < 200 || r.status >= 300) {
      const detail = errorDetail(r.text, r.headers.get('request-id'));
      return verdictOf(
        errorForStatus('Segment Profile API', r.status, {
          detail,
          retryAfterMs: retryAfterMs(r.headers.get('retry-after'), this.pacing.clock()),
          credential: 'the token or write key',
        }),
      );
    }
    try {
      return ok(JSON.parse(r.text));
    } catch (err) {
      return fail(
        new PayloadValidationError(`Profile API response is not JSON (status ${r.status}): ${r.text.slice(0, 120)}`, {
          status: r.status,
          cause: err,
        }),
      );
    }
  }
}

/** Parses a traits page, naming the first wrong field rather than crashing on it. */
export function parseTraitsPage(body: unknown): TraitsPage {
  const result = traitsPageSchema.safeParse(body);
  if (result.success) return result.data;
  const detail = result.error.issues.map((i) => `${formatPath(i.path) || 'body'}: ${i.message}`).join('; ');
  throw new PayloadValidationError(`Profile API response: ${detail}`);
}

function errorDetail(text: string, requestId: string | null): string | undefined {
  let detail: string | undefined;
  try {
    const parsed = errorBodySchema.safeParse(JSON.parse(text));
    if (parsed.success) detail = [parsed.data.error.code, parsed.data.error.message].filter(Boolean).join(': ');
  } catch {
    detail = text.trim().slice(0, 200) || undefined;
  }
  return requestId ? `${detail ?? 'no detail'} (Request-Id ${requestId})` : detail;
}
