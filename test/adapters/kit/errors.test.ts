import { describe, expect, it } from 'vitest';
import {
  AuthError,
  errorForStatus,
  familyOf,
  PayloadValidationError,
  PermanentError,
  retryAfterMs,
  RetryableError,
} from '../../../adapters/kit/index.ts';

describe('the status table', () => {
  it.each([
    [408, 'retry'],
    [423, 'retry'],
    [429, 'retry'],
    [500, 'retry'],
    [502, 'retry'],
    [503, 'retry'],
    [504, 'retry'],
    [599, 'retry'],
    [501, 'rejected'],
    [401, 'auth'],
    [403, 'auth'],
    [400, 'invalid'],
    [422, 'invalid'],
    [404, 'rejected'],
    [409, 'rejected'],
    [413, 'rejected'],
  ] as const)('%i is %s', (status, family) => {
    expect(familyOf(status)).toBe(family);
  });

  it.each([
    [503, RetryableError, 'unavailable', 'Vendor answered 503: down'],
    [429, RetryableError, 'rate_limited', 'Vendor answered 429: down'],
    [401, AuthError, 'authentication_error', 'Vendor refused the credentials (401): down; check the key'],
    [422, PayloadValidationError, 'payload_validation_error', 'Vendor rejected the request (422): down'],
    [501, PermanentError, 'rejected', 'Vendor answered 501: down'],
  ] as const)('makes %i a %o with code %s', (status, kind, code, message) => {
    const e = errorForStatus('Vendor', status, { detail: 'down', credential: 'the key' });
    expect(e).toBeInstanceOf(kind);
    expect(e).toMatchObject({ status, code, message });
  });

  it('keeps the retry-after, the cause and a vendor code', () => {
    const cause = new Error('socket hang up');
    expect(errorForStatus('Vendor', 429, { retryAfterMs: 2000, cause })).toMatchObject({ retryAfterMs: 2000, cause });
    expect(errorForStatus('Vendor', 400, { code: 'VALIDATION_ERROR' })).toMatchObject({
      code: 'VALIDATION_ERROR',
      status: 400,
    });
    expect(new RetryableError('lost', undefined, undefined, { inDoubt: true })).toMatchObject({
      inDoubt: true,
      code: 'unavailable',
      name: 'RetryableError',
    });
  });
});

describe('Retry-After', () => {
  const now = Date.parse('2026-03-02T09:00:00Z');

  it('reads delay-seconds', () => {
    expect(retryAfterMs('2', now)).toBe(2000);
    expect(retryAfterMs('0', now)).toBe(0);
    expect(retryAfterMs(' 120 ', now)).toBe(120_000);
  });

  it('reads an HTTP date, counted from now (and a past one as 0)', () => {
    expect(retryAfterMs('Mon, 02 Mar 2026 09:00:30 GMT', now)).toBe(30_000);
    expect(retryAfterMs('Mon, 02 Mar 2026 08:59:00 GMT', now)).toBe(0);
  });

  it.each([[null], [undefined], [''], ['soon'], ['-5']])('is undefined for %j', (header) => {
    expect(retryAfterMs(header, now)).toBeUndefined();
  });
});
