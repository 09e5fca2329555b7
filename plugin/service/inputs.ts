import { z } from 'zod';

/** Bodies and queries of the HTTP API (docs/service.md, "Routes"). */

const userId = z
  .string({ error: (i) => (i.input === undefined ? 'is required' : 'must be a string') })
  .min(1, 'must not be empty')
  .max(256, 'must be at most 256 characters');

export const decideRequestSchema = z.strictObject({
  userId: userId.describe('Your id for the customer (Segment userId, HubSpot contact id, Braze external_id).'),
  traits: z
    .record(z.string(), z.unknown())
    .optional()
    .describe('Profile traits; when absent they are read through the ProfileSource.'),
  timezone: z.string().max(64).optional().describe('IANA time zone of the customer, e.g. Europe/Paris.'),
  consent: z
    .record(z.string(), z.boolean())
    .optional()
    .describe('Explicit consent per channel, overriding consent traits.'),
  context: z.record(z.string(), z.unknown()).optional().describe('Request-time context merged over the traits.'),
  requestId: z
    .string()
    .min(1)
    .max(512)
    .optional()
    .describe('Idempotency key: the same requestId returns the same decision.'),
  explain: z
    .boolean()
    .optional()
    .describe(
      'Compute, log and return the per-arm explanation (default false: it costs about as much again as the decision).',
    ),
});
export type DecideRequest = z.output<typeof decideRequestSchema>;

/** decide:batch: up to 1,000 users per call, answered as NDJSON in input order. */
export const DECIDE_BATCH_MAX = 1000;
export const decideBatchSchema = z.strictObject({
  users: z
    .array(decideRequestSchema)
    .min(1, 'must contain at least one user')
    .max(DECIDE_BATCH_MAX, `must contain at most ${DECIDE_BATCH_MAX} users`),
});

const isoTimestamp = z.union([z.string(), z.number()]).transform((v, ctx) => {
  const t = typeof v === 'number' ? v : Date.parse(v);
  if (!Number.isFinite(t)) {
    ctx.addIssue({ code: 'custom', message: `is not a valid ISO-8601 timestamp: ${JSON.stringify(v)}` });
    return z.NEVER;
  }
  return t;
});

/**
 * One Segment-spec event (https://segment.com/docs/connections/spec/common/). `messageId` is
 * required here because it is how duplicates are recognised; `userId` is required because an
 * outcome must belong to someone.
 */
export const segmentEventSchema = z
  .looseObject({
    type: z.enum(['track', 'identify', 'page', 'screen', 'group', 'alias']).default('track'),
    messageId: z
      .string({
        error: (i) =>
          i.input === undefined ? 'is required (it is how duplicates are recognised)' : 'must be a string',
      })
      .min(1)
      .max(200),
    userId: z
      .string({
        error: (i) => (i.input === undefined ? 'is required: an outcome must belong to a user' : 'must be a string'),
      })
      .min(1)
      .max(256),
    event: z.string().min(1).max(200).optional(),
    properties: z.record(z.string(), z.unknown()).default({}),
    traits: z.record(z.string(), z.unknown()).optional(),
    timestamp: isoTimestamp.optional(),
  })
  .superRefine((e, ctx) => {
    if (e.type === 'track' && e.event === undefined)
      ctx.addIssue({ code: 'custom', path: ['event'], message: 'is required for a track event' });
  });
export type SegmentEvent = z.output<typeof segmentEventSchema>;

/** Segment's HTTP API batch limit is 500 KB per request and 32 KB per event. */
export const EVENTS_BODY_LIMIT = '512kb';
export const EVENTS_BATCH_MAX = 2500;

export const eventBatchSchema = z.looseObject({
  batch: z
    .array(segmentEventSchema)
    .min(1, 'must contain at least one event')
    .max(EVENTS_BATCH_MAX, `must contain at most ${EVENTS_BATCH_MAX} events`),
});

export const connectedContentQuerySchema = z.object({
  user_id: userId,
  /** Braze renders a message several times (HTML, text, retries); the same request_id gets the same decision. */
  request_id: z.string().min(1).max(512).optional(),
});

/** `POST /v1/keys`: a new API key of the workspace. */
export const createKeySchema = z.strictObject({
  scope: z
    .enum(['admin', 'decide', 'public'])
    .describe(
      'admin: every route; decide: decide, connected content, events; public: decide only, safe in a web page.',
    ),
  label: z
    .string()
    .min(1, 'must not be empty')
    .max(100)
    .describe('What the key is for, e.g. "braze connected content".'),
});

/** What a `public` key may send to decide: the profile comes from the ProfileSource, never from the browser. */
export const PUBLIC_DECIDE_FIELDS = ['userId', 'timezone', 'context', 'requestId'] as const;
/** What a `public` key may put in `context`: facts about the page, never profile traits (which would override consent). */
export const PUBLIC_CONTEXT_FIELDS = ['page', 'referrer', 'locale'] as const;

/** `POST /v1/agents/{agentId}/runs`: a batch run over an audience. */
export const runRequestSchema = z.strictObject({
  audience: z
    .string()
    .min(1, 'must not be empty')
    .max(500)
    .describe('Audience reference: file:NAME.ndjson (in the audience folder), a HubSpot list, a Segment audience key.'),
  dryRun: z.boolean().optional().describe('Decide and log, deliver nothing.'),
  resume: z.string().min(1).max(100).optional().describe('The id of an interrupted run to continue.'),
});
