import { describe, expect, it } from 'vitest';
import { segmentSignature, verifySegmentRequest, verifySegmentSignature } from '../../../adapters/segment/index.ts';
import { signSegmentBody, signSegmentPayload } from '../../fakes/segment.ts';

/**
 * Vectors computed outside this code base, exactly as Segment documents the signature
 * (hex HMAC-SHA1 of the body bytes with the shared secret):
 *   printf '%s' '<body>' | openssl dgst -sha1 -hmac 'nb-shared-secret'
 */
const VECTORS = [
  {
    name: 'a single track event (Webhooks Classic)',
    body: '{"type":"track","event":"Order Completed","userId":"u-1","messageId":"m-1","properties":{"decision_id":"d-1","revenue":80}}',
    signature: 'c7ba37befd6a6f8d16282d70dbc4066232f3b1ff',
  },
  {
    name: 'a JSON array of events (Webhooks Actions batch)',
    body: '[{"type":"identify","userId":"u-2","messageId":"m-2","traits":{"vip_audience":true}}]',
    signature: '274b6bbdb05b2f1b82435d477342390d4c61b28a',
  },
];
const SECRET = 'nb-shared-secret';

describe('Segment X-Signature', () => {
  it.each(VECTORS)('computes the documented signature of $name', ({ body, signature }) => {
    expect(segmentSignature(SECRET, body)).toBe(signature);
    expect(signSegmentBody(SECRET, body)).toBe(signature);
  });

  it.each(VECTORS)('accepts the documented signature of $name, in either hex case', ({ body, signature }) => {
    expect(verifySegmentSignature(SECRET, Buffer.from(body), signature)).toBe(true);
    expect(verifySegmentSignature(SECRET, Buffer.from(body), signature.toUpperCase())).toBe(true);
  });

  it('rejects a tampered body', () => {
    const { body, signature } = VECTORS[0];
    expect(verifySegmentSignature(SECRET, Buffer.from(body.replace('"revenue":80', '"revenue":800')), signature)).toBe(
      false,
    );
  });

  it('rejects a signature made with another secret', () => {
    const { body } = VECTORS[0];
    expect(verifySegmentSignature(SECRET, Buffer.from(body), segmentSignature('another-secret', body))).toBe(false);
  });

  it.each([
    ['empty', ''],
    ['not hex', 'z'.repeat(40)],
    ['too short', VECTORS[0].signature.slice(0, 39)],
    ['a SHA-256 length', 'a'.repeat(64)],
    ['prefixed as GitHub does', `sha1=${VECTORS[0].signature}`],
  ])('rejects a header that is %s', (_name, header) => {
    expect(verifySegmentSignature(SECRET, Buffer.from(VECTORS[0].body), header)).toBe(false);
  });
});

/**
 * A batched Webhooks (Actions) request: the body is the array of every event, the signature is
 * over JSON.stringify of the first event only (action-destinations' webhook `extendRequest`):
 *   printf '%s' '<first event>' | openssl dgst -sha1 -hmac 'nb-shared-secret'
 */
const BATCH = {
  first: '{"type":"identify","userId":"u-2","messageId":"m-2","traits":{"vip_audience":true}}',
  second: '{"type":"track","userId":"u-3","messageId":"m-3","event":"Email Opened","properties":{}}',
  signature: 'd67311f48d15b969cc059cf26bcf07942c41761b',
};
const batchBody = `[${BATCH.first},${BATCH.second}]`;

describe('Segment X-Signature of a batch', () => {
  it('is what the fake signs, as Segment does: the first event only', () => {
    expect(signSegmentPayload(SECRET, JSON.parse(batchBody))).toBe(BATCH.signature);
  });

  it('is accepted over the array body', () => {
    expect(verifySegmentRequest(SECRET, Buffer.from(batchBody), JSON.parse(batchBody), BATCH.signature)).toBe(true);
  });

  it('is refused when the first event was changed', () => {
    const tampered = batchBody.replace('"vip_audience":true', '"vip_audience":false');
    expect(verifySegmentRequest(SECRET, Buffer.from(tampered), JSON.parse(tampered), BATCH.signature)).toBe(false);
  });

  it('is refused for a single event (only an array is signed by its first element)', () => {
    const single = JSON.parse(BATCH.first);
    expect(verifySegmentRequest(SECRET, Buffer.from(`{"data":${BATCH.first}}`), single, BATCH.signature)).toBe(false);
  });

  it('accepts a batch signed over its whole body too', () => {
    const signature = segmentSignature(SECRET, batchBody);
    expect(verifySegmentRequest(SECRET, Buffer.from(batchBody), JSON.parse(batchBody), signature)).toBe(true);
  });
});
