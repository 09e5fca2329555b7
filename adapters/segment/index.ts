import { segmentDestination } from './destination.ts';
import type { ProfileSource } from '../../plugin/agent/index.ts';
import type { ServerExtension, SinkFactory } from '../../plugin/service/ports.ts';
import type { Adapter } from '../kit/index.ts';
import { SegmentProfileSource } from './profiles.ts';
import { parseSettings, segmentEnvSchema } from './settings.ts';
import { segmentSinks } from './sink.ts';
import { segmentWebhook } from './webhook.ts';

export * from './audiences.ts';
export * from './client.ts';
export * from './constants.ts';
export * from './mapping.ts';
export * from './profiles.ts';
export * from './settings.ts';
export * from './signature.ts';
export * from './sink.ts';
export * from './webhook.ts';

/** What `segmentFromEnv` could build: only the parts whose variables are set. */
export interface SegmentFromEnv {
  /** SEGMENT_PROFILE_TOKEN + SEGMENT_SPACE_ID (+ SEGMENT_PROFILE_BASE_URL). */
  profiles?: SegmentProfileSource & ProfileSource;
  /** SEGMENT_SHARED_SECRET (+ SEGMENT_WEBHOOK_TOKEN): `POST /v1/webhooks/segment`. */
  webhook?: ServerExtension;
  /** SEGMENT_WRITE_KEY (+ SEGMENT_HOST): sinks for `{to: segment, mode: identify}`. */
  sinks?: SinkFactory;
}

/**
 * Builds the Segment parts from environment variables. A set that is only partly given is an
 * error naming the missing variable; nothing set → `{}`.
 */
export function segmentFromEnv(env: Record<string, string | undefined>): SegmentFromEnv {
  const e = parseSettings(segmentEnvSchema, env, 'Segment environment');
  const out: SegmentFromEnv = {};
  if (e.SEGMENT_PROFILE_TOKEN && e.SEGMENT_SPACE_ID) {
    out.profiles = new SegmentProfileSource({
      settings: {
        token: e.SEGMENT_PROFILE_TOKEN,
        spaceId: e.SEGMENT_SPACE_ID,
        ...(e.SEGMENT_PROFILE_BASE_URL ? { baseUrl: e.SEGMENT_PROFILE_BASE_URL } : {}),
      },
    });
  }
  if (e.SEGMENT_SHARED_SECRET) {
    out.webhook = segmentWebhook({
      settings: { sharedSecret: e.SEGMENT_SHARED_SECRET, batchToken: e.SEGMENT_WEBHOOK_TOKEN },
      profiles: out.profiles,
    });
  }
  if (e.SEGMENT_WRITE_KEY)
    out.sinks = segmentSinks({ writeKey: e.SEGMENT_WRITE_KEY, ...(e.SEGMENT_HOST ? { host: e.SEGMENT_HOST } : {}) });
  return out;
}

/** The Segment adapter: profiles and audiences in, outcome events in through the webhook, decisions out (docs/segment.md). */
export const segmentAdapter: Adapter = {
  name: 'segment',
  envSchema: segmentEnvSchema,
  destination: segmentDestination,
  connect(env) {
    const parts = segmentFromEnv(env);
    if (!parts.profiles && !parts.webhook && !parts.sinks) return undefined;
    // A Segment audience is a bare key (the audience's trait): every reference no other adapter claims.
    return {
      profileSource: parts.profiles,
      sinks: parts.sinks,
      extensions: parts.webhook ? [parts.webhook] : [],
      audiencePrefixes: [''],
    };
  },
};
