import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Segment webhook signatures: `X-Signature` = hex HMAC-SHA1(sharedSecret, …) over what Segment
 * signs (https://segment.com/docs/connections/destinations/catalog/actions-webhook/):
 *
 * - one event (Classic, or an unbatched Actions mapping): the request body. Verified over the raw
 *   bytes: re-serialising a parsed body would not reproduce Segment's bytes reliably.
 * - a batch (an Actions mapping with a batch size): the body is the JSON array of every event's
 *   `data`, but the Webhooks (Actions) destination signs `JSON.stringify` of the first event's
 *   `data` only (its `extendRequest` hashes `payload[0].data` when the payload is an array).
 *   Segment's body is `JSON.stringify` of the array, so its first element serialised again with
 *   `JSON.stringify` is exactly what Segment hashed (JSON.stringify of parsed JSON.stringify output
 *   is the same text). Such a signature authenticates the first event only: docs/segment.md says
 *   what that means and how the Bearer token closes it.
 */

export function segmentSignature(sharedSecret: string, body: Buffer | string): string {
  return createHmac('sha1', sharedSecret).update(body).digest('hex');
}

/** Constant-time check of a received `X-Signature` against bytes (the body, or what a batch signs). */
export function verifySegmentSignature(sharedSecret: string, signed: Buffer | string, header: string): boolean {
  const received = header.trim().toLowerCase();
  if (!/^[0-9a-f]{40}$/.test(received)) return false;
  return timingSafeEqual(Buffer.from(received, 'hex'), createHmac('sha1', sharedSecret).update(signed).digest());
}

/**
 * Checks `X-Signature` of a request as Segment signs it: over the raw body, or, for a JSON array
 * (a batch), over `JSON.stringify` of its first element. A batch signed over its whole body (a
 * sender other than Segment doing the stronger thing) is accepted too.
 */
export function verifySegmentRequest(sharedSecret: string, raw: Buffer, json: unknown, header: string): boolean {
  if (verifySegmentSignature(sharedSecret, raw, header)) return true;
  if (!Array.isArray(json) || json.length === 0) return false;
  return verifySegmentSignature(sharedSecret, JSON.stringify(json[0]), header);
}

/** Constant-time string comparison (for the batch token). */
export function sameSecret(a: string, b: string): boolean {
  const ha = createHmac('sha256', 'nextbest-compare').update(a).digest();
  const hb = createHmac('sha256', 'nextbest-compare').update(b).digest();
  return timingSafeEqual(ha, hb);
}
