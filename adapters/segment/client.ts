import { z } from 'zod';
import { formatPath } from '../../plugin/service/errors.ts';
import { PROFILE_API_MAX_PAGES, PROFILE_API_TRAITS_LIMIT_MAX, type PROFILE_ID_TYPES } from './constants.ts';
import { errorForStatus, PayloadValidationError, RetryableError, retryAfterMs, SegmentError } from './errors.ts';
import { sleepFor, TokenBucket } from './rate-limit.ts';
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
  settings: Pick<ProfileSettings, 'token' | 'spaceId' | 'baseUrl' | 'ratePerSecond' | 'maxAttempts' | 'backoffMs' | 'backoffMaxMs' | 'timeoutMs'>;
  fetch?: Fetch;
  /** Share one bucket between clients of the same space; by default each client has its own. */
  limiter?: TokenBucket;
  sleep?: (ms: number) => Promise<void>;
  /** Jitter source in [0, 1). */
  random?: () => number;
  now?: () => number;
}

/** The path segment of a typed id: `user_id:` + the URL-encoded value (`+` → `%2B`). */
export function typedId(type: ProfileIdType, value: string): string {
  return `${type}:${encodeURIComponent(value)}`;
}

export class ProfileApiClient {
  private readonly settings: ProfileApiClientOptions['settings'];
  private readonly fetch: Fetch;
  private readonly limiter: TokenBucket;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;
  private readonly now: () => number;
  private readonly authorization: string;

  constructor(options: ProfileApiClientOptions) {
    this.settings = options.settings;
    this.fetch = options.fetch ?? ((input, init) => fetch(input, init));
    this.sleep = options.sleep ?? sleepFor;
    this.random = options.random ?? Math.random;
    this.now = options.now ?? Date.now;
    this.limiter = options.limiter ?? new TokenBucket({ ratePerSecond: this.settings.ratePerSecond, sleep: this.sleep });
    // Basic auth: the token is the username, the password is blank.
    this.authorization = `Basic ${Buffer.from(`${this.settings.token}:`).toString('base64')}`;
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
      if (!cursor.next) throw new PayloadValidationError('Profile API response: cursor.next: is required when cursor.has_more is true');
      if (seen.has(cursor.next)) throw new PayloadValidationError(`Profile API response: cursor.next: repeats ${JSON.stringify(cursor.next)}; the pagination does not advance`);
      seen.add(cursor.next);
      next = cursor.next;
    }
    throw new PayloadValidationError(`Profile API response: more than ${PROFILE_API_MAX_PAGES} pages of traits for one profile`);
  }

  /** One GET with rate limit and retries; the parsed JSON body, or undefined on 404. */
  private async request(url: string): Promise<unknown> {
    let last: SegmentError | undefined;
    for (let attempt = 1; attempt <= this.settings.maxAttempts; attempt++) {
      if (attempt > 1) await this.sleep(this.backoff(attempt - 1, last instanceof RetryableError ? last.retryAfterMs : undefined));
      await this.limiter.take();
      let res: Response;
      try {
        res = await this.fetch(url, { method: 'GET', headers: { authorization: this.authorization, accept: 'application/json' }, signal: AbortSignal.timeout(this.settings.timeoutMs) });
      } catch (err) {
        last = new RetryableError(`Profile API unreachable: ${(err as Error).message}`, undefined, undefined, { cause: err });
        continue;
      }
      const text = await res.text();
      if (res.status === 404) return undefined;
      if (res.ok) {
        try {
          return JSON.parse(text);
        } catch (err) {
          throw new PayloadValidationError(`Profile API response is not JSON (status ${res.status}): ${text.slice(0, 120)}`, res.status, { cause: err });
        }
      }
      const error = errorForStatus('Segment Profile API', res.status, errorDetail(text, res.headers.get('request-id')), retryAfterMs(res.headers.get('retry-after'), this.now()));
      if (!(error instanceof RetryableError)) throw error;
      last = error;
    }
    throw last!;
  }

  /** Exponential backoff with equal jitter, at least the server's Retry-After. */
  private backoff(retry: number, serverMs: number | undefined): number {
    const exp = Math.min(this.settings.backoffMaxMs, this.settings.backoffMs * 2 ** (retry - 1));
    const jittered = exp / 2 + (exp / 2) * this.random();
    return Math.max(jittered, Math.min(serverMs ?? 0, this.settings.backoffMaxMs * 4));
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
