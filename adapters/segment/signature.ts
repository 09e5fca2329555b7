import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Segment webhook signatures: `X-Signature` = hex HMAC-SHA1(sharedSecret, body), over the bytes
 * Segment sent (https://segment.com/docs/connections/destinations/catalog/webhooks/). Verified
 * over the raw body: re-serialising a parsed body would not reproduce Segment's bytes reliably.
 */

export function segmentSignature(sharedSecret: string, body: Buffer | string): string {
  return createHmac('sha1', sharedSecret).update(body).digest('hex');
}

/** Constant-time check of a received `X-Signature` against the body. */
export function verifySegmentSignature(sharedSecret: string, body: Buffer, header: string): boolean {
  const received = header.trim().toLowerCase();
  if (!/^[0-9a-f]{40}$/.test(received)) return false;
  return timingSafeEqual(Buffer.from(received, 'hex'), createHmac('sha1', sharedSecret).update(body).digest());
}

/** Constant-time string comparison (for the batch token). */
export function sameSecret(a: string, b: string): boolean {
  const ha = createHmac('sha256', 'nextbest-compare').update(a).digest();
  const hb = createHmac('sha256', 'nextbest-compare').update(b).digest();
  return timingSafeEqual(ha, hb);
}
