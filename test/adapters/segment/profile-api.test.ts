import nock from 'nock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AuthError, PayloadValidationError, RetryableError } from '../../../adapters/kit/index.ts';
import { SegmentProfileSource, type ProfileSettingsInput } from '../../../adapters/segment/index.ts';
import authenticationError from './fixtures/authentication-error.json' with { type: 'json' };
import rateLimitError from './fixtures/rate-limit-error.json' with { type: 'json' };
import page1 from './fixtures/traits-page-1.json' with { type: 'json' };
import page2 from './fixtures/traits-page-2.json' with { type: 'json' };

const US = 'https://profiles.segment.com';
const EU = 'https://profiles.euw1.segment.com';
const TOKEN = 'sgp_test_token';
const SPACE = 'spa_test';
const traitsPath = (typedId: string) => `/v1/spaces/${SPACE}/collections/users/profiles/${typedId}/traits`;

/** A source with recorded, instant sleeps and a fixed jitter, so the backoff is checked without real time. */
function makeSource(overrides: Partial<ProfileSettingsInput> = {}) {
  const sleeps: number[] = [];
  const source = new SegmentProfileSource({
    settings: { token: TOKEN, spaceId: SPACE, backoffMs: 100, backoffMaxMs: 1000, maxAttempts: 4, ...overrides },
    sleep: async (ms) => void sleeps.push(ms),
    random: () => 0.5,
  });
  return { source, sleeps };
}

beforeAll(() => {
  nock.disableNetConnect();
  nock.enableNetConnect('127.0.0.1');
});
afterEach(() => {
  const pending = nock.pendingMocks();
  nock.cleanAll();
  expect(pending, 'every declared Profile API call was made').toEqual([]);
});
afterAll(() => nock.enableNetConnect());

describe('SegmentProfileSource over the Profile API', () => {
  it('reads the traits of a typed user_id with Basic auth (token as username, blank password) and limit=200', async () => {
    nock(US)
      .get(traitsPath('user_id:u-1'))
      .query({ limit: '200' })
      .basicAuth({ user: TOKEN, pass: '' })
      .reply(200, { traits: { lifetime_orders: 4 }, cursor: { has_more: false, next: '' } });
    const { source } = makeSource();
    expect(await source.getProfile('u-1')).toEqual({ userId: 'u-1', traits: { lifetime_orders: 4 } });
  });

  it('URL-encodes the id value (a "+" becomes %2B) and keeps the type prefix', async () => {
    nock(US)
      .get(traitsPath('user_id:ada%2Btest%40example.com'))
      .query(true)
      .reply(200, { traits: { vip: true } });
    const { source } = makeSource();
    expect((await source.getProfile('ada+test@example.com'))?.traits).toEqual({ vip: true });
  });

  it('uses the configured id type', async () => {
    nock(US)
      .get(traitsPath('email:ada%40example.com'))
      .query(true)
      .reply(200, { traits: { vip: true } });
    const { source } = makeSource({ idType: 'email' });
    expect(await source.getProfile('ada@example.com')).toMatchObject({
      userId: 'ada@example.com',
      traits: { vip: true },
    });
  });

  it('reads from the EU base URL when the region is "eu"', async () => {
    nock(EU)
      .get(traitsPath('user_id:u-1'))
      .query(true)
      .reply(200, { traits: { city: 'Lyon' } });
    const { source } = makeSource({ baseUrl: 'eu' });
    expect((await source.getProfile('u-1'))?.traits).toEqual({ city: 'Lyon' });
  });

  it('follows cursor.next until has_more is false and merges every page', async () => {
    nock(US).get(traitsPath('user_id:u-1')).query({ limit: '200' }).reply(200, page1);
    nock(US).get(traitsPath('user_id:u-1')).query({ limit: '200', next: 'lifetime_orders' }).reply(200, page2);
    const { source } = makeSource();
    const profile = await source.getProfile('u-1');
    expect(profile).toEqual({ userId: 'u-1', timezone: 'Europe/Paris', traits: { ...page1.traits, ...page2.traits } });
  });

  it('learns audience membership from the traits it reads (a true boolean trait)', async () => {
    nock(US).get(traitsPath('user_id:u-1')).query({ limit: '200' }).reply(200, page1);
    nock(US).get(traitsPath('user_id:u-1')).query({ limit: '200', next: 'lifetime_orders' }).reply(200, page2);
    const { source } = makeSource();
    await source.getProfile('u-1');
    const members = async (audience: string) => {
      const ids: string[] = [];
      for await (const id of source.audiences.members(audience)) ids.push(id);
      return ids;
    };
    expect(await members('winback_audience')).toEqual(['u-1']);
    expect(await members('vip')).toEqual([]);
  });

  it('answers undefined for a profile Segment does not know (404), and remembers it for the cache TTL', async () => {
    nock(US)
      .get(traitsPath('user_id:nobody'))
      .query(true)
      .once()
      .reply(404, { error: { code: 'not_found', message: 'profile not found' } });
    const { source } = makeSource();
    expect(await source.getProfile('nobody')).toBeUndefined();
    expect(await source.getProfile('nobody')).toBeUndefined(); // a second request would find no interceptor
  });

  it('serves repeated and concurrent reads of one user from one request', async () => {
    nock(US)
      .get(traitsPath('user_id:u-1'))
      .query(true)
      .once()
      .reply(200, { traits: { vip: true } });
    const { source } = makeSource();
    const [a, b] = await Promise.all([source.getProfile('u-1'), source.getProfile('u-1')]);
    const c = await source.getProfile('u-1');
    expect([a, b, c].map((p) => p?.traits.vip)).toEqual([true, true, true]);
  });

  it('retries a 429 rate_limit_error with exponential backoff and jitter, then succeeds', async () => {
    nock(US).get(traitsPath('user_id:u-1')).query(true).times(2).reply(429, rateLimitError);
    nock(US)
      .get(traitsPath('user_id:u-1'))
      .query(true)
      .reply(200, { traits: { vip: true } });
    const { source, sleeps } = makeSource();
    expect((await source.getProfile('u-1'))?.traits).toEqual({ vip: true });
    // backoff steps of 100 ms then 200 ms, each with full jitter at random() = 0.5: half the step
    expect(sleeps).toEqual([50, 100]);
  });

  it('waits at least the Retry-After the server asks for', async () => {
    nock(US).get(traitsPath('user_id:u-1')).query(true).reply(429, rateLimitError, { 'Retry-After': '2' });
    nock(US).get(traitsPath('user_id:u-1')).query(true).reply(200, { traits: {} });
    const { source, sleeps } = makeSource();
    await source.getProfile('u-1');
    expect(sleeps).toEqual([2000]);
  });

  it('gives up after maxAttempts on repeated 5xx with a RetryableError', async () => {
    nock(US).get(traitsPath('user_id:u-1')).query(true).times(3).reply(503, 'unavailable');
    const { source, sleeps } = makeSource({ maxAttempts: 3 });
    const error = await source.getProfile('u-1').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RetryableError);
    expect((error as RetryableError).status).toBe(503);
    expect(sleeps).toHaveLength(2);
  });

  it('does not retry a refused token (401) and says what to fix', async () => {
    nock(US).get(traitsPath('user_id:u-1')).query(true).once().reply(401, authenticationError);
    const { source, sleeps } = makeSource();
    const error = await source.getProfile('u-1').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AuthError);
    expect((error as Error).message).toMatch(/authentication_error: Access token is invalid.*check the token/);
    expect(sleeps).toEqual([]);
  });

  it.each([
    ['traits is not an object', { traits: 'vip' }, /Profile API response: traits: /],
    ['traits is missing', { cursor: { has_more: false } }, /Profile API response: traits: /],
    [
      'cursor.has_more is not a boolean',
      { traits: {}, cursor: { has_more: 'yes' } },
      /Profile API response: cursor\.has_more: /,
    ],
    [
      'cursor.next is missing while has_more is true',
      { traits: {}, cursor: { has_more: true } },
      /cursor\.next: is required when cursor\.has_more is true/,
    ],
  ])('rejects a malformed response (%s) with an error naming the field', async (_name, body, message) => {
    nock(US).get(traitsPath('user_id:u-1')).query(true).reply(200, body);
    const { source } = makeSource();
    const error = await source.getProfile('u-1').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PayloadValidationError);
    expect((error as Error).message).toMatch(message);
  });

  it('rejects a body that is not JSON', async () => {
    nock(US).get(traitsPath('user_id:u-1')).query(true).reply(200, '<html>maintenance</html>');
    const { source } = makeSource();
    await expect(source.getProfile('u-1')).rejects.toThrow(/Profile API response is not JSON/);
  });

  it('stops when the cursor does not advance', async () => {
    nock(US)
      .get(traitsPath('user_id:u-1'))
      .query({ limit: '200' })
      .reply(200, { traits: { a: 1 }, cursor: { has_more: true, next: 'c1' } });
    nock(US)
      .get(traitsPath('user_id:u-1'))
      .query({ limit: '200', next: 'c1' })
      .reply(200, { traits: { b: 2 }, cursor: { has_more: true, next: 'c1' } });
    const { source } = makeSource();
    await expect(source.getProfile('u-1')).rejects.toThrow(/cursor\.next: repeats "c1"/);
  });

  it.each([
    ['the default trait', {}, { timezone: 'Asia/Tokyo' }, 'Asia/Tokyo'],
    [
      'a configured trait',
      { timezoneTrait: 'tz' },
      { tz: 'America/New_York', timezone: 'Asia/Tokyo' },
      'America/New_York',
    ],
    ['no zone when the value is not an IANA zone', {}, { timezone: 'Mars/Olympus' }, undefined],
  ])('takes the time zone from %s', async (_name, settings, traits, timezone) => {
    nock(US).get(traitsPath('user_id:u-1')).query(true).reply(200, { traits });
    const { source } = makeSource(settings);
    expect((await source.getProfile('u-1'))?.timezone).toBe(timezone);
  });

  it.each([
    [{ token: '' }, /token: must not be empty/],
    [{ spaceId: 'spa/../x' }, /spaceId: must be the Unify space id/],
    [{ baseUrl: 'profiles.segment.com' }, /baseUrl: /],
    [{ ratePerSecond: 150 }, /ratePerSecond: must be at most 100/],
  ])('refuses invalid settings %j', (settings, message) => {
    expect(() => makeSource(settings as Partial<ProfileSettingsInput>)).toThrow(message);
  });
});
