import { createHash, createHmac } from 'node:crypto';
import { Signature } from '@hubspot/api-client/lib/src/utils/signature.js';
import { describe, expect, it } from 'vitest';
import {
  normalizeV3Uri,
  signV2,
  signV3,
  verifyHubSpotSignature,
  type SignedRequest,
} from '../../../adapters/hubspot/index.ts';
import { CLIENT_SECRET, NOW } from './setup.ts';

const URI = 'https://nextbest.example.com/v1/webhooks/hubspot';
const BODY =
  '[{"eventId":1,"subscriptionId":12345,"portalId":62515,"occurredAt":1564113600000,"subscriptionType":"contact.propertyChange","attemptNumber":0,"objectId":123,"propertyName":"firstname","propertyValue":"Ada","changeSource":"CRM","appId":54321}]';

function request(headers: Record<string, string>, overrides: Partial<SignedRequest> = {}): SignedRequest {
  const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  return { method: 'POST', uri: URI, rawBody: BODY, headers: { get: (n) => lower[n.toLowerCase()] }, ...overrides };
}

/** The v3 signature exactly as the docs describe it, computed here independently of the adapter. */
function documentedV3(secret: string, method: string, uri: string, body: string, timestamp: string): string {
  return createHmac('sha256', secret).update(`${method}${uri}${body}${timestamp}`, 'utf8').digest('base64');
}

describe('HubSpot v3 signatures', () => {
  const ts = String(NOW - 60_000);
  const v3 = documentedV3(CLIENT_SECRET, 'POST', URI, BODY, ts);

  it('accepts a signature computed as HubSpot documents (base64 HMAC-SHA256 of method + URI + body + timestamp)', () => {
    expect(
      verifyHubSpotSignature(request({ 'X-HubSpot-Signature-v3': v3, 'X-HubSpot-Request-Timestamp': ts }), {
        secret: CLIENT_SECRET,
        now: NOW,
        versions: ['v3'],
      }),
    ).toBeUndefined();
  });

  it("agrees with the official SDK's Signature.getSignature for v3", () => {
    const sdk = Signature.getSignature('POST', 'v3', {
      signature: '',
      clientSecret: CLIENT_SECRET,
      requestBody: BODY,
      url: URI,
      timestamp: Number(ts),
    });
    expect(signV3(CLIENT_SECRET, 'POST', URI, BODY, ts)).toBe(sdk);
  });

  it('rejects a tampered body', () => {
    expect(
      verifyHubSpotSignature(
        request(
          { 'X-HubSpot-Signature-v3': v3, 'X-HubSpot-Request-Timestamp': ts },
          { rawBody: BODY.replace('Ada', 'Eve') },
        ),
        { secret: CLIENT_SECRET, now: NOW, versions: ['v3'] },
      ),
    ).toBe('bad_signature');
  });

  it('rejects a signature made with another secret', () => {
    const forged = documentedV3('not-the-secret', 'POST', URI, BODY, ts);
    expect(
      verifyHubSpotSignature(request({ 'X-HubSpot-Signature-v3': forged, 'X-HubSpot-Request-Timestamp': ts }), {
        secret: CLIENT_SECRET,
        now: NOW,
        versions: ['v3'],
      }),
    ).toBe('bad_signature');
  });

  it('rejects a timestamp older than 5 minutes even with a valid signature', () => {
    const stale = String(NOW - 5 * 60_000 - 1);
    const sig = documentedV3(CLIENT_SECRET, 'POST', URI, BODY, stale);
    expect(
      verifyHubSpotSignature(request({ 'X-HubSpot-Signature-v3': sig, 'X-HubSpot-Request-Timestamp': stale }), {
        secret: CLIENT_SECRET,
        now: NOW,
        versions: ['v3'],
      }),
    ).toBe('stale_timestamp');
  });

  it('accepts a timestamp exactly 5 minutes old', () => {
    const edge = String(NOW - 5 * 60_000);
    const sig = documentedV3(CLIENT_SECRET, 'POST', URI, BODY, edge);
    expect(
      verifyHubSpotSignature(request({ 'X-HubSpot-Signature-v3': sig, 'X-HubSpot-Request-Timestamp': edge }), {
        secret: CLIENT_SECRET,
        now: NOW,
        versions: ['v3'],
      }),
    ).toBeUndefined();
  });

  it('rejects a signature moved to another URL (the URI is signed)', () => {
    expect(
      verifyHubSpotSignature(
        request({ 'X-HubSpot-Signature-v3': v3, 'X-HubSpot-Request-Timestamp': ts }, { uri: `${URI}?x=1` }),
        { secret: CLIENT_SECRET, now: NOW, versions: ['v3'] },
      ),
    ).toBe('bad_signature');
  });

  it('decodes the percent-encodings HubSpot lists before signing the URI', () => {
    expect(normalizeV3Uri('https://a.example.com/p%3Aq?x=%40b%2Cc&y=%20')).toBe(
      'https://a.example.com/p:q?x=@b,c&y=%20',
    );
  });

  it.each([
    ['no signature header', {}, 'missing_signature'],
    [
      'a non-numeric timestamp',
      { 'X-HubSpot-Signature-v3': 'abc', 'X-HubSpot-Request-Timestamp': 'yesterday' },
      'bad_timestamp',
    ],
    [
      'only a v2 signature where v3 is required',
      { 'X-HubSpot-Signature': 'abc', 'X-HubSpot-Signature-Version': 'v2' },
      'missing_signature',
    ],
  ])('refuses %s', (_name, headers, failure) => {
    expect(
      verifyHubSpotSignature(request(headers as Record<string, string>), {
        secret: CLIENT_SECRET,
        now: NOW,
        versions: ['v3'],
      }),
    ).toBe(failure);
  });
});

describe('HubSpot v2 signatures (custom workflow actions)', () => {
  it('matches the example hash in the v2 request-validation docs', () => {
    // https://developers.hubspot.com/docs/faq/v2-request-validation: GET https://www.example.com/webhook_uri, no body
    expect(signV2(CLIENT_SECRET, 'GET', 'https://www.example.com/webhook_uri', '')).toBe(
      'eee2dddcc73c94d699f5e395f4b9d454a069a6855fbfa152e91e88823087200e',
    );
  });

  it('accepts a v2 signature (hex SHA-256 of secret + method + URI + body) when v2 is allowed', () => {
    const sig = createHash('sha256').update(`${CLIENT_SECRET}POST${URI}${BODY}`).digest('hex');
    expect(
      Signature.getSignature('POST', 'v2', { signature: '', clientSecret: CLIENT_SECRET, requestBody: BODY, url: URI }),
    ).toBe(sig);
    expect(
      verifyHubSpotSignature(request({ 'X-HubSpot-Signature': sig, 'X-HubSpot-Signature-Version': 'v2' }), {
        secret: CLIENT_SECRET,
        now: NOW,
        versions: ['v3', 'v2'],
      }),
    ).toBeUndefined();
    expect(
      verifyHubSpotSignature(
        request({ 'X-HubSpot-Signature': sig, 'X-HubSpot-Signature-Version': 'v2' }, { rawBody: `${BODY} ` }),
        { secret: CLIENT_SECRET, now: NOW, versions: ['v3', 'v2'] },
      ),
    ).toBe('bad_signature');
  });
});
