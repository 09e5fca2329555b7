import { z } from 'zod';
import { AdapterError, errorForStatus, familyOf, PermanentError, retryAfterMs, RetryableError } from '../kit/index.ts';
import { HUBSPOT_BURST_WINDOW_MS, POLICY_DAILY, POLICY_TEN_SECONDLY } from './constants.ts';

/** The account's daily request cap is spent: nothing more can be sent until it resets (midnight, account time zone). */
export class DailyLimitError extends PermanentError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { status: 429, code: 'daily_limit', cause: options.cause });
    this.name = 'DailyLimitError';
  }
}

/** HubSpot's error JSON; every field optional. https://developers.hubspot.com/docs/api/error-handling */
export const hubspotErrorBodySchema = z
  .object({
    status: z.string().optional(),
    message: z.string().optional(),
    correlationId: z.string().optional(),
    category: z.string().optional(),
    errorType: z.string().optional(),
    policyName: z.string().optional(),
    context: z.record(z.string(), z.unknown()).optional(),
  })
  .loose();
export type HubSpotErrorBody = z.infer<typeof hubspotErrorBodySchema>;

/** What the SDK throws (`ApiException`) and fetch failures look like, as far as we read them. */
interface ThrownByClient {
  code?: unknown;
  body?: unknown;
  headers?: Record<string, string>;
  message?: string;
}

export interface HubSpotFailure {
  /** The HTTP status; undefined when no answer came. */
  status?: number;
  body?: HubSpotErrorBody;
  /** HubSpot's own message, else the thrown one. */
  message: string;
  /** Lower-cased names. */
  headers: Record<string, string>;
}

/** Reads a failed call: what the SDK throws for a non-2xx answer (`code`, `body`, `headers`), or a fetch failure. */
export function readFailure(err: unknown): HubSpotFailure {
  const e = (err ?? {}) as ThrownByClient;
  const parsed = hubspotErrorBodySchema.safeParse(typeof e.body === 'string' ? safeJson(e.body) : e.body);
  const body = parsed.success ? parsed.data : undefined;
  const headers = Object.fromEntries(Object.entries(e.headers ?? {}).map(([k, v]) => [k.toLowerCase(), String(v)]));
  return {
    status: typeof e.code === 'number' ? e.code : undefined,
    body,
    message: body?.message ?? e.message ?? 'HubSpot request failed',
    headers,
  };
}

/**
 * A failed HubSpot call as the kit's error for its status, with HubSpot's own cases: a 429 of the
 * DAILY policy stops everything (DailyLimitError), other 429s wait what HubSpot names, and the
 * error's `category` (e.g. VALIDATION_ERROR) is the code of a permanent error. An error the
 * adapter already classified (no portal installed, a token key that does not open the tokens, an
 * OAuth refusal) keeps its class: a permanent one is never retried as if the network had failed.
 */
export function hubspotError(err: unknown, now = Date.now()): AdapterError {
  if (err instanceof AdapterError) return err;
  const f = readFailure(err);
  if (f.status === undefined)
    return new RetryableError(`network error: ${f.message}`, undefined, undefined, { cause: err });
  if (f.status === 429 && f.body?.policyName === POLICY_DAILY)
    return new DailyLimitError(`HubSpot daily API limit reached; nothing more is sent until it resets: ${f.message}`, {
      cause: err,
    });
  return errorForStatus('HubSpot', f.status, {
    detail: f.message,
    retryAfterMs: waitNamed(f, now),
    code: familyOf(f.status) === 'retry' ? undefined : f.body?.category,
    credential: 'the private-app token, or install the app again',
    cause: err,
  });
}

/**
 * How long HubSpot asks to wait: its Retry-After; for a TEN_SECONDLY_ROLLING 429 the interval of
 * its rolling window (`X-HubSpot-RateLimit-Interval-Milliseconds`); for another 429, the whole
 * burst window. Undefined otherwise (the caller backs off).
 */
function waitNamed(f: HubSpotFailure, now: number): number | undefined {
  const named = retryAfterMs(f.headers['retry-after'], now);
  if (named !== undefined) return named;
  const interval = Number(f.headers['x-hubspot-ratelimit-interval-milliseconds']);
  if (f.body?.policyName === POLICY_TEN_SECONDLY && Number.isFinite(interval) && interval > 0) return interval;
  return f.status === 429 ? HUBSPOT_BURST_WINDOW_MS : undefined;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
