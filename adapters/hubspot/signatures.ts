import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { HUBSPOT_SIGNATURE_MAX_AGE_MS } from './constants.ts';

/**
 * HubSpot request signatures.
 * https://developers.hubspot.com/docs/apps/developer-platform/build-apps/authentication/request-validation
 *
 * v3: `X-HubSpot-Signature-v3` = base64(HMAC-SHA256(client secret, method + uri + body + timestamp)),
 *     `X-HubSpot-Request-Timestamp` in epoch ms, refused when older than 5 minutes. `uri` is the
 *     full URL (scheme, host, path, query) with the percent-encodings listed in the docs decoded.
 * v2: `X-HubSpot-Signature` = hex SHA-256(client secret + method + uri + body), with
 *     `X-HubSpot-Signature-Version: v2`; no timestamp, so a v2 signature never expires: the
 *     workflow-action route remembers what it answered (replays.ts). HubSpot documents v2 for
 *     custom workflow action calls.
 */

/** Percent-encodings HubSpot decodes in the URI before signing (v3). */
const V3_DECODED: Record<string, string> = {
  '%3A': ':',
  '%2F': '/',
  '%3F': '?',
  '%40': '@',
  '%21': '!',
  '%24': '$',
  '%27': "'",
  '%28': '(',
  '%29': ')',
  '%2A': '*',
  '%2C': ',',
  '%3B': ';',
};

export function normalizeV3Uri(uri: string): string {
  return uri.replace(/%(3A|2F|3F|40|21|24|27|28|29|2A|2C|3B)/gi, (m) => V3_DECODED[m.toUpperCase()] ?? m);
}

export function signV3(secret: string, method: string, uri: string, rawBody: string, timestamp: string): string {
  return createHmac('sha256', secret)
    .update(`${method.toUpperCase()}${normalizeV3Uri(uri)}${rawBody}${timestamp}`, 'utf8')
    .digest('base64');
}

export function signV2(secret: string, method: string, uri: string, rawBody: string): string {
  return createHash('sha256').update(`${secret}${method.toUpperCase()}${uri}${rawBody}`, 'utf8').digest('hex');
}

export type SignatureFailure = 'missing_signature' | 'bad_timestamp' | 'stale_timestamp' | 'bad_signature';

export interface SignedRequest {
  method: string;
  /** The full URL HubSpot called, e.g. `https://nextbest.example.com/v1/webhooks/hubspot?x=1`. */
  uri: string;
  rawBody: string;
  headers: { get(name: string): string | undefined };
}

export interface VerifyOptions {
  secret: string;
  now: number;
  /** Which versions are accepted: webhooks take v3 only; workflow actions v3 or v2. */
  versions: readonly ('v3' | 'v2')[];
  maxAgeMs?: number;
}

/** The signature a request was accepted with: v3 carries its timestamp (epoch ms); v2 has none. */
export type VerifiedSignature =
  { version: 'v3'; signature: string; timestamp: number } | { version: 'v2'; signature: string };

export type SignatureCheck = { ok: true; verified: VerifiedSignature } | { ok: false; failure: SignatureFailure };

/** The valid signature of an accepted version the request carries, or why there is none. */
export function checkHubSpotSignature(req: SignedRequest, options: VerifyOptions): SignatureCheck {
  const v3 = req.headers.get('x-hubspot-signature-v3');
  if (v3 !== undefined && options.versions.includes('v3')) return checkV3(req, v3, options);
  const v2 = req.headers.get('x-hubspot-signature');
  const version = (req.headers.get('x-hubspot-signature-version') ?? 'v2').toLowerCase();
  if (v2 === undefined || !options.versions.includes('v2') || version !== 'v2')
    return { ok: false, failure: 'missing_signature' };
  const signature = v2.toLowerCase();
  return sameText(signature, signV2(options.secret, req.method, req.uri, req.rawBody))
    ? { ok: true, verified: { version: 'v2', signature } }
    : { ok: false, failure: 'bad_signature' };
}

/** Undefined when the request carries a valid signature of an accepted version, else the reason. */
export function verifyHubSpotSignature(req: SignedRequest, options: VerifyOptions): SignatureFailure | undefined {
  const checked = checkHubSpotSignature(req, options);
  return checked.ok ? undefined : checked.failure;
}

function checkV3(req: SignedRequest, v3: string, options: VerifyOptions): SignatureCheck {
  const timestamp = req.headers.get('x-hubspot-request-timestamp');
  if (timestamp === undefined || !/^\d{1,16}$/.test(timestamp)) return { ok: false, failure: 'bad_timestamp' };
  const maxAge = options.maxAgeMs ?? HUBSPOT_SIGNATURE_MAX_AGE_MS;
  // a timestamp from the future beyond the same window is as suspicious as a stale one
  if (Math.abs(options.now - Number(timestamp)) > maxAge) return { ok: false, failure: 'stale_timestamp' };
  return sameText(v3, signV3(options.secret, req.method, req.uri, req.rawBody, timestamp))
    ? { ok: true, verified: { version: 'v3', signature: v3, timestamp: Number(timestamp) } }
    : { ok: false, failure: 'bad_signature' };
}

/** Constant-time comparison of two strings of any length (their SHA-256 digests are compared). */
function sameText(a: string, b: string): boolean {
  const x = createHash('sha256').update(a).digest();
  const y = createHash('sha256').update(b).digest();
  return timingSafeEqual(x, y);
}
