/**
 * The errors every adapter throws, and the one table from an HTTP status to them. Two families:
 * `RetryableError` (trying the same request later may work: 408, 423, 429, 5xx but 501, a lost
 * connection) and `PermanentError` with its kinds `AuthError` (401/403: fix the credential),
 * `PayloadValidationError` (400/422, or an answer that is not the documented shape) and
 * `ConfigError` (a setting or variable is missing or invalid); repeating those will not help.
 * Each carries a stable `code`, the HTTP `status` that caused it (when one did) and its `cause`.
 */

export interface ErrorDetails {
  status?: number;
  /** Overrides the class's code, e.g. with the vendor's own error category. */
  code?: string;
  cause?: unknown;
}

export class AdapterError extends Error {
  readonly code: string;
  readonly status?: number;

  constructor(message: string, defaultCode: string, details: ErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.code = details.code ?? defaultCode;
    this.status = details.status;
    this.name = 'AdapterError';
  }
}

export interface RetryDetails {
  code?: string;
  cause?: unknown;
  /**
   * The vendor may have done what was asked although no success came back (a 5xx, an answer lost
   * on the way): a call that must not happen twice asks the vendor before it is sent again.
   */
  inDoubt?: boolean;
}

/** Worth trying again later: the vendor was rate limiting, down or unreachable. */
export class RetryableError extends AdapterError {
  readonly inDoubt: boolean;

  constructor(
    message: string,
    status?: number,
    /** How long the vendor asked to wait (Retry-After or its own reset), when it said. */
    readonly retryAfterMs?: number,
    details: RetryDetails = {},
  ) {
    super(message, status === 429 ? 'rate_limited' : 'unavailable', {
      status,
      code: details.code,
      cause: details.cause,
    });
    this.inDoubt = details.inDoubt ?? false;
    this.name = 'RetryableError';
  }
}

/** Repeating the request will not help: the request, the payload or the credential is wrong. */
export class PermanentError extends AdapterError {
  constructor(message: string, details: ErrorDetails = {}, defaultCode = 'rejected') {
    super(message, defaultCode, details);
    this.name = 'PermanentError';
  }
}

/** The vendor refused the credential (401/403), or there is none to use. */
export class AuthError extends PermanentError {
  constructor(message: string, details: ErrorDetails = {}) {
    super(message, details, 'authentication_error');
    this.name = 'AuthError';
  }
}

/** A setting or environment variable is missing or invalid; the message names it. */
export class ConfigError extends PermanentError {
  constructor(message: string, details: ErrorDetails = {}) {
    super(message, details, 'config_error');
    this.name = 'ConfigError';
  }
}

/** A body did not have the shape the vendor documents, or the vendor refused ours as malformed (400/422). */
export class PayloadValidationError extends PermanentError {
  constructor(message: string, details: ErrorDetails = {}) {
    super(message, details, 'payload_validation_error');
    this.name = 'PayloadValidationError';
  }
}

export type ErrorFamily = 'retry' | 'auth' | 'invalid' | 'rejected';

/**
 * The one table from a non-2xx status to its family: 408, 423, 429 and 5xx except 501 (a server
 * that does not implement the method will not start to) retry; 401 and 403 are auth; 400 and 422
 * an invalid payload; anything else is rejected for good.
 */
export function familyOf(status: number): ErrorFamily {
  if (status === 408 || status === 423 || status === 429 || (status >= 500 && status !== 501)) return 'retry';
  if (status === 401 || status === 403) return 'auth';
  if (status === 400 || status === 422) return 'invalid';
  return 'rejected';
}

export interface StatusErrorOptions extends Omit<ErrorDetails, 'status'> {
  /** The vendor's own explanation, when its body had one. */
  detail?: string;
  retryAfterMs?: number;
  /** What to check on a 401/403, e.g. "the token or write key". */
  credential?: string;
}

/** The error for a non-2xx answer of `what` (e.g. "Segment Profile API"), by `familyOf`. */
export function errorForStatus(what: string, status: number, options: StatusErrorOptions = {}): AdapterError {
  const { detail, retryAfterMs, credential, ...details } = options;
  const suffix = detail ? `: ${detail}` : '';
  switch (familyOf(status)) {
    case 'retry':
      return new RetryableError(`${what} answered ${status}${suffix}`, status, retryAfterMs, details);
    case 'auth':
      return new AuthError(
        `${what} refused the credentials (${status})${suffix}; check ${credential ?? 'the credentials'}`,
        { ...details, status },
      );
    case 'invalid':
      return new PayloadValidationError(`${what} rejected the request (${status})${suffix}`, { ...details, status });
    default:
      return new PermanentError(`${what} answered ${status}${suffix}`, { ...details, status });
  }
}

/**
 * Milliseconds until the time a `Retry-After` header names: delay-seconds, or an HTTP date
 * (RFC 9110 §10.2.3). Undefined when the header is absent or unreadable.
 */
export function retryAfterMs(header: string | null | undefined, now: number): number | undefined {
  if (header === null || header === undefined || header.trim() === '') return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return seconds >= 0 ? seconds * 1000 : undefined;
  const at = Date.parse(header);
  return Number.isFinite(at) ? Math.max(0, at - now) : undefined;
}
