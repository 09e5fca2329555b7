import { describe, expect, it } from 'vitest';
import { SegmentProfileSource, segmentFromEnv } from '../../../adapters/segment/index.ts';

const PROFILE = { SEGMENT_PROFILE_TOKEN: 'sgp_token', SEGMENT_SPACE_ID: 'spa_1' };
const WEBHOOK = { SEGMENT_SHARED_SECRET: 'shh' };
const TRACKING = { SEGMENT_WRITE_KEY: 'wk' };

describe('segmentFromEnv', () => {
  it('builds nothing when no Segment variable is set', () => {
    expect(segmentFromEnv({ PATH: '/usr/bin' })).toEqual({});
  });

  it('builds every part whose variables are set', () => {
    const parts = segmentFromEnv({
      ...PROFILE,
      ...WEBHOOK,
      ...TRACKING,
      SEGMENT_PROFILE_BASE_URL: 'eu',
      SEGMENT_HOST: 'http://127.0.0.1:9',
    });
    expect(parts.profiles).toBeInstanceOf(SegmentProfileSource);
    expect(parts.profiles?.settings.baseUrl).toBe('https://profiles.euw1.segment.com');
    expect(parts.webhook?.name).toBe('segment-webhook');
    expect(typeof parts.sinks).toBe('function');
  });

  it.each([
    [{ ...WEBHOOK }, ['webhook']],
    [{ ...TRACKING }, ['sinks']],
    [{ ...PROFILE, SEGMENT_WRITE_KEY: '' }, ['profiles']],
  ])('builds only the parts that are configured: %j', (env, parts) => {
    expect(Object.keys(segmentFromEnv(env)).sort()).toEqual(parts);
  });

  it.each([
    [{ SEGMENT_PROFILE_TOKEN: 'sgp_token' }, /SEGMENT_SPACE_ID: is required when SEGMENT_PROFILE_TOKEN is set/],
    [{ SEGMENT_SPACE_ID: 'spa_1' }, /SEGMENT_PROFILE_TOKEN: is required when SEGMENT_SPACE_ID is set/],
    [{ SEGMENT_PROFILE_BASE_URL: 'eu' }, /SEGMENT_PROFILE_TOKEN: is required when SEGMENT_PROFILE_BASE_URL is set/],
    [{ SEGMENT_HOST: 'https://api.segment.io' }, /SEGMENT_WRITE_KEY: is required when SEGMENT_HOST is set/],
    [
      { SEGMENT_WEBHOOK_TOKEN: 'a-long-enough-token' },
      /SEGMENT_SHARED_SECRET: is required when SEGMENT_WEBHOOK_TOKEN is set/,
    ],
    [
      { ...PROFILE, SEGMENT_PROFILE_BASE_URL: 'profiles.segment.com' },
      /SEGMENT_PROFILE_BASE_URL: must be "us", "eu" or an http\(s\) URL/,
    ],
    [{ ...PROFILE, SEGMENT_SPACE_ID: 'spa 1' }, /SEGMENT_SPACE_ID: must be the Unify space id/],
    [{ ...TRACKING, SEGMENT_HOST: 'api.segment.io' }, /SEGMENT_HOST: must be an http\(s\) URL/],
  ])('refuses an incomplete or invalid set %j, naming the variable', (env, message) => {
    expect(() => segmentFromEnv(env)).toThrow(message);
  });
});
