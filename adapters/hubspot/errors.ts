import { z } from 'zod';
import { POLICY_DAILY, POLICY_TEN_SECONDLY } from './constants.ts';

/**
 * The two error families of the adapter (STYLE.md §6), classified once in `classifyHubSpotError`:
 * retryable (408/423/429 burst, 5xx, network) and permanent (config, payload, auth, daily cap).
 */
export class RetryableError extends Error {
  constructor(
    message: string,
    readonly status?: number,
    readonly retryAfterMs?: number,
    readonly code = 'retryable',
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'RetryableError';
  }
}

export class PermanentError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'PermanentError';
  }
}

/** A required setting is missing or invalid; the message names the variable. */
export class ConfigError extends PermanentError {
  constructor(message: string) {
    super('config', message);
    this.name = 'ConfigError';
  }
}

/** HubSpot refused our credentials (401/403) or no portal is installed. */
export class AuthError extends PermanentError {
  constructor(message: string, status?: number, options?: { cause?: unknown }) {
    super('auth', message, status, options);
    this.name = 'AuthError';
  }
}

/** The account's daily request cap is spent: nothing more can be sent until it resets. */
export class DailyLimitError extends PermanentError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('daily_limit', message, 429, options);
    this.name = 'DailyLimitError';
  }
}

/** HubSpot's error JSON; every field optional (integrations.md §2.2). */
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

export interface ClassifiedError {
  family: 'retry' | 'daily' | 'auth' | 'invalid' | 'rejected';
  status?: number;
  /** Wait before retrying, when HubSpot said (Retry-After or the rate-limit interval header). */
  retryAfterMs?: number;
  category?: string;
  message: string;
  body?: HubSpotErrorBody;
}

/**
 * One table from a failed call to its family: 429 TEN_SECONDLY_ROLLING and other 429s, 408, 423,
 * 5xx and network errors retry; 429 DAILY stops; 401/403 are auth; 400 is an invalid payload;
 * other 4xx (and 501) are permanent rejections.
 */
export function classifyHubSpotError(err: unknown): ClassifiedError {
  const e = (err ?? {}) as ThrownByClient;
  const status = typeof e.code === 'number' ? e.code : undefined;
  const parsed = hubspotErrorBodySchema.safeParse(typeof e.body === 'string' ? safeJson(e.body) : e.body);
  const body = parsed.success ? parsed.data : undefined;
  const headers = lowerKeys(e.headers ?? {});
  const message = body?.message ?? e.message ?? 'HubSpot request failed';
  if (status === undefined) return { family: 'retry', message: `network error: ${message}` };
  if (status === 429) {
    if (body?.policyName === POLICY_DAILY) return { family: 'daily', status, message, body };
    return { family: 'retry', status, retryAfterMs: retryAfterOf(headers, body), message, body };
  }
  if (status === 408 || status === 423 || (status >= 500 && status !== 501)) return { family: 'retry', status, retryAfterMs: retryAfterOf(headers, body), message, body };
  if (status === 401 || status === 403) return { family: 'auth', status, message, category: body?.category, body };
  if (status === 400) return { family: 'invalid', status, message, category: body?.category, body };
  return { family: 'rejected', status, message, category: body?.category, body };
}

function retryAfterOf(headers: Record<string, string>, body: HubSpotErrorBody | undefined): number | undefined {
  const retryAfter = Number(headers['retry-after']);
  if (Number.isFinite(retryAfter) && retryAfter >= 0) return retryAfter * 1000;
  if (body?.policyName === POLICY_TEN_SECONDLY) {
    const interval = Number(headers['x-hubspot-ratelimit-interval-milliseconds']);
    return Number.isFinite(interval) && interval > 0 ? interval : undefined;
  }
  return undefined;
}

function lowerKeys(h: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(h).map(([k, v]) => [k.toLowerCase(), String(v)]));
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
