import { z } from 'zod';
import { ConfigError } from '../kit/index.ts';
import {
  PROFILE_API_BASE_URL,
  PROFILE_API_EU_BASE_URL,
  PROFILE_API_RATE_PER_SECOND,
  PROFILE_ID_TYPES,
  TRACKING_API_HOST,
  TRACKING_FLUSH_AT_DEFAULT,
} from './constants.ts';

/**
 * The adapter's settings, schema first (types are inferred). The `describe()` texts are what an
 * admin reads in docs/segment.md and in the errors of a start with a bad setting.
 */

const secret = (what: string) =>
  z
    .string({ error: (i) => (i.input === undefined ? 'is required' : 'must be a string') })
    .min(1, `must not be empty (${what})`);

const httpUrl = z
  .string()
  .refine((v) => /^https?:\/\/[^/\s]+/.test(v), {
    error: 'must be an http(s) URL such as https://profiles.segment.com',
  })
  .transform((v) => v.replace(/\/+$/, ''));

/** "us", "eu" or a URL (a proxy, a fake). */
const profileBaseUrl = z
  .string()
  .refine((v) => v === 'us' || v === 'eu' || /^https?:\/\/[^/\s]+/.test(v), {
    error: 'must be "us", "eu" or an http(s) URL such as https://profiles.segment.com',
  })
  .transform((v) => (v === 'eu' ? PROFILE_API_EU_BASE_URL : v === 'us' ? PROFILE_API_BASE_URL : v.replace(/\/+$/, '')));

export const profileSettingsSchema = z.object({
  token: secret('the Profile API access token').describe(
    'Profile API access token: Unify → Unify settings → API access → Generate token. Sent as the Basic-auth username with a blank password. https://www.twilio.com/docs/segment/unify/profile-api',
  ),
  spaceId: z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/, {
      error: 'must be the Unify space id (letters, digits, "_" and "-"), shown in Unify settings → API access',
    })
    .describe('Unify space id, shown next to the token in Unify settings → API access.'),
  baseUrl: profileBaseUrl
    .default(PROFILE_API_BASE_URL)
    .describe(
      `Profile API base URL: "us" (${PROFILE_API_BASE_URL}, default), "eu" (${PROFILE_API_EU_BASE_URL}) or a URL.`,
    ),
  idType: z
    .enum(PROFILE_ID_TYPES)
    .default('user_id')
    .describe('Which Segment identifier nextbest user ids are: user_id (default), email or anonymous_id.'),
  timezoneTrait: z
    .string()
    .min(1)
    .default('timezone')
    .describe('Trait holding the IANA time zone (e.g. Europe/Paris) used for quiet hours and send times.'),
  ratePerSecond: z
    .number()
    .positive()
    .max(PROFILE_API_RATE_PER_SECOND, `must be at most ${PROFILE_API_RATE_PER_SECOND}: Segment's limit per space`)
    .default(PROFILE_API_RATE_PER_SECOND)
    .describe(
      `Client-side request rate per space (Segment allows ${PROFILE_API_RATE_PER_SECOND}/s; lower it when other tools share the space).`,
    ),
  maxAttempts: z
    .number()
    .int()
    .min(1)
    .max(10)
    .default(5)
    .describe('Attempts per request when Segment answers 429 or 5xx (exponential backoff with jitter).'),
  backoffMs: z
    .number()
    .int()
    .min(0)
    .default(250)
    .describe('First retry delay; doubled per attempt, with jitter, up to backoffMaxMs.'),
  backoffMaxMs: z.number().int().min(0).default(8000).describe('Longest wait between two attempts.'),
  timeoutMs: z.number().int().positive().default(5000).describe('Timeout of one Profile API request.'),
  cacheMax: z.number().int().positive().default(10_000).describe('Profiles kept in memory.'),
  cacheTtlMs: z
    .number()
    .int()
    .min(1)
    .default(5 * 60_000)
    .describe('How long a profile read from the Profile API is reused (identify webhooks update it in between).'),
  audienceTraits: z
    .array(z.string().min(1))
    .optional()
    .describe(
      'Traits that are audiences (computed audience keys). Default: every boolean trait counts as an audience.',
    ),
});
export type ProfileSettings = z.output<typeof profileSettingsSchema>;
export type ProfileSettingsInput = z.input<typeof profileSettingsSchema>;

export const webhookSettingsSchema = z.object({
  sharedSecret: secret('the webhook destination shared secret').describe(
    'Shared secret of the Webhooks destination (Classic: settings → Shared Secret; Actions: Settings → Shared Secret). Segment signs each request with X-Signature = hex HMAC-SHA1(secret, body); a batched Actions request over JSON.stringify of its first event.',
  ),
  batchToken: z
    .string()
    .min(16, 'must be at least 16 characters')
    .optional()
    .describe(
      'Optional second credential. Webhooks (Actions) signs a batched request over its first event only, so a batch is authenticated by that event; add the header "Authorization: Bearer <batchToken>" to a batched mapping and set this to make a request carrying it accepted on the token alone (with or without X-Signature).',
    ),
});
export type WebhookSettings = z.output<typeof webhookSettingsSchema>;
export type WebhookSettingsInput = z.input<typeof webhookSettingsSchema>;

export const trackingSettingsSchema = z.object({
  writeKey: secret('the write key of the nextbest source').describe(
    'Write key of the Segment source nextbest writes decisions into (Connections → Sources → add source "Node.js" or "HTTP API" → Settings → API Keys).',
  ),
  host: httpUrl
    .default(TRACKING_API_HOST)
    .describe(`Tracking API host (default ${TRACKING_API_HOST}; EU workspaces use their regional host).`),
  flushAt: z.number().int().min(1).max(500).default(TRACKING_FLUSH_AT_DEFAULT).describe('Events per batch request.'),
  maxRetries: z
    .number()
    .int()
    .min(0)
    .max(10)
    .default(3)
    .describe('Retries of a failed batch (429, 5xx) inside analytics-node before the decision is reported as retry.'),
  httpRequestTimeoutMs: z.number().int().positive().default(10_000).describe('Timeout of one batch request.'),
  maxRateLimitSeconds: z
    .number()
    .int()
    .positive()
    .default(120)
    .describe(
      'Longest time a delivery keeps waiting out 429 Retry-After answers before its decisions are reported as retry.',
    ),
});
export type TrackingSettings = z.output<typeof trackingSettingsSchema>;
export type TrackingSettingsInput = z.input<typeof trackingSettingsSchema>;

/** Parses settings or throws a ConfigError naming every bad field. */
export function parseSettings<S extends z.ZodType>(schema: S, input: unknown, what: string): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  throw new ConfigError(
    `${what}: ${result.error.issues.map((i) => `${i.path.map(String).join('.') || 'settings'}: ${i.message}`).join('; ')}`,
  );
}

const envValue = <T extends z.ZodType>(schema: T) => z.preprocess((v) => (v === '' ? undefined : v), schema.optional());

/** The environment variables `segmentFromEnv` reads; each set of them is all-or-nothing. */
export const segmentEnvSchema = z
  .object({
    SEGMENT_PROFILE_TOKEN: envValue(profileSettingsSchema.shape.token),
    SEGMENT_SPACE_ID: envValue(profileSettingsSchema.shape.spaceId),
    SEGMENT_PROFILE_BASE_URL: envValue(profileBaseUrl),
    SEGMENT_SHARED_SECRET: envValue(webhookSettingsSchema.shape.sharedSecret),
    SEGMENT_WEBHOOK_TOKEN: envValue(z.string().min(16, 'must be at least 16 characters')),
    SEGMENT_WRITE_KEY: envValue(trackingSettingsSchema.shape.writeKey),
    SEGMENT_HOST: envValue(httpUrl),
  })
  .superRefine((env, ctx) => {
    const needs = (present: keyof typeof env, required: keyof typeof env, purpose: string) => {
      if (env[present] !== undefined && env[required] === undefined)
        ctx.addIssue({ code: 'custom', path: [required], message: `is required when ${present} is set (${purpose})` });
    };
    needs('SEGMENT_PROFILE_TOKEN', 'SEGMENT_SPACE_ID', 'Profile API');
    needs('SEGMENT_SPACE_ID', 'SEGMENT_PROFILE_TOKEN', 'Profile API');
    needs('SEGMENT_PROFILE_BASE_URL', 'SEGMENT_PROFILE_TOKEN', 'Profile API');
    needs('SEGMENT_WEBHOOK_TOKEN', 'SEGMENT_SHARED_SECRET', 'webhook receiver');
    needs('SEGMENT_HOST', 'SEGMENT_WRITE_KEY', 'decision delivery');
  });
export type SegmentEnv = z.output<typeof segmentEnvSchema>;
