/**
 * The two error families of the Segment adapter, classified once (see `errorForStatus`):
 * `RetryableError` (408, 423, 429, 5xx except 501, network failures) and the permanent ones
 * (`AuthError`, `ConfigError`, `PayloadValidationError`, `RequestError`). Each carries a stable
 * `code` and, when an HTTP reply caused it, its `status`.
 */

export class SegmentError extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'SegmentError';
  }
}

/** Worth trying again later: Segment was rate limiting, down or unreachable. */
export class RetryableError extends SegmentError {
  constructor(message: string, status?: number, readonly retryAfterMs?: number, options?: { cause?: unknown }) {
    super(message, status === 429 ? 'rate_limited' : 'unavailable', status, options);
    this.name = 'RetryableError';
  }
}

/** The token or write key was refused (401/403): fix the credential. */
export class AuthError extends SegmentError {
  constructor(message: string, status: number, options?: { cause?: unknown }) {
    super(message, 'authentication_error', status, options);
    this.name = 'AuthError';
  }
}

/** A setting or environment variable is missing or invalid. */
export class ConfigError extends SegmentError {
  constructor(message: string) {
    super(message, 'config_error');
    this.name = 'ConfigError';
  }
}

/** A body did not have the shape Segment documents (or we sent one Segment refused as malformed). */
export class PayloadValidationError extends SegmentError {
  constructor(message: string, status?: number, options?: { cause?: unknown }) {
    super(message, 'payload_validation_error', status, options);
    this.name = 'PayloadValidationError';
  }
}

/** Any other 4xx: the request is wrong and repeating it will not help. */
export class RequestError extends SegmentError {
  constructor(message: string, status: number, code = 'request_error') {
    super(message, code, status);
    this.name = 'RequestError';
  }
}

/** True for the statuses worth retrying: 408, 423, 429 and 5xx except 501. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 423 || status === 429 || (status >= 500 && status !== 501);
}

/** The error for a non-2xx reply; `detail` is the vendor's message when the body had one. */
export function errorForStatus(what: string, status: number, detail: string | undefined, retryAfterMs?: number): SegmentError {
  const suffix = detail ? `: ${detail}` : '';
  if (isRetryableStatus(status)) return new RetryableError(`${what} answered ${status}${suffix}`, status, retryAfterMs);
  if (status === 401 || status === 403) return new AuthError(`${what} refused the credentials (${status})${suffix}; check the token or write key`, status);
  if (status === 400 || status === 422) return new PayloadValidationError(`${what} rejected the request (${status})${suffix}`, status);
  return new RequestError(`${what} answered ${status}${suffix}`, status);
}

/** Milliseconds from a `Retry-After` header (seconds or an HTTP date), or undefined. */
export function retryAfterMs(header: string | null, now: number): number | undefined {
  if (header === null || header.trim() === '') return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const at = Date.parse(header);
  return Number.isFinite(at) ? Math.max(0, at - now) : undefined;
}
