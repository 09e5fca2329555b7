import { z } from 'zod';
import { LATE_MARGIN_DEFAULT_MS } from '../config/index.ts';
import { isValidTimeZone } from '../guardrails/index.ts';
import { RequestError } from './errors.ts';

/** Bodies and queries of the HTTP API (docs/service.md, "Routes" and "Limits"). */

/**
 * Characters no id may hold: C0 and C1 controls (NUL included) and the bidirectional embedding,
 * override and isolate controls, which make an id display as another one in logs and tools.
 */
const FORBIDDEN_IN_IDS = /[\p{Cc}\u202A-\u202E\u2066-\u2069]/u;

/** `String.prototype.isWellFormed` (Node 20; newer than this project's TypeScript lib). */
function isWellFormed(text: string): boolean {
  return (text as unknown as { isWellFormed(): boolean }).isWellFormed();
}

/**
 * Why `text` cannot be an id, or undefined when it can. A lone surrogate has no UTF-8 form: two
 * ids differing only in one would hash (userKey) and store alike.
 */
export function idFlaw(text: string): string | undefined {
  if (!isWellFormed(text)) return 'must be well-formed Unicode (it contains a lone surrogate)';
  const found = FORBIDDEN_IN_IDS.exec(text)?.[0];
  if (found === undefined) return undefined;
  const code = found.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0');
  return `must not contain control or bidirectional-override characters (found U+${code})`;
}

/**
 * A caller's id (userId, messageId, requestId…): a non-empty string of at most `max` characters,
 * well-formed, without control or bidi characters. Each failure says which rule it broke.
 */
function callerId(max: number, required = 'is required') {
  return z
    .string({
      error: (i) => (i.code !== 'invalid_type' ? undefined : i.input === undefined ? required : 'must be a string'),
    })
    .min(1, 'must not be empty')
    .max(max, `must be at most ${max} characters`)
    .superRefine((text, ctx) => {
      const flaw = idFlaw(text);
      if (flaw) ctx.addIssue({ code: 'custom', message: flaw, input: text });
    });
}

/** Lengths of the ids callers send. */
export const USER_ID_MAX = 256;
export const MESSAGE_ID_MAX = 200;
export const REQUEST_ID_MAX = 512;

const userId = callerId(USER_ID_MAX);

/** An IANA time zone name that this runtime knows (checked with Intl.DateTimeFormat, cached per name). */
const timeZone = z
  .string({ error: (i) => (i.code === 'invalid_type' ? 'must be a string' : undefined) })
  .max(64, 'must be at most 64 characters')
  .refine(isValidTimeZone, {
    error: (i) => `must be an IANA time zone such as Europe/Paris, got ${JSON.stringify(i.input)}`,
  });

export const decideRequestSchema = z.strictObject({
  userId: userId.describe('Your id for the customer (Segment userId, HubSpot contact id, Braze external_id).'),
  traits: z
    .record(z.string(), z.unknown())
    .optional()
    .describe('Profile traits; when absent they are read through the ProfileSource.'),
  timezone: timeZone.optional().describe('IANA time zone of the customer, e.g. Europe/Paris.'),
  consent: z
    .record(z.string(), z.boolean())
    .optional()
    .describe('Explicit consent per channel, overriding consent traits.'),
  context: z.record(z.string(), z.unknown()).optional().describe('Request-time context merged over the traits.'),
  requestId: callerId(REQUEST_ID_MAX)
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

/**
 * The range any event time must fall in, whatever the workspace: it refuses what no clock means
 * (1e20, -1e15, 9999-12-31) and seconds sent as milliseconds. The workspace's own window, from
 * its agents' goals, is narrower (`eventTimeWindow`).
 */
export const EVENT_TIME_RANGE = { from: Date.UTC(2000, 0, 1), to: Date.UTC(2100, 0, 1) } as const;

const dayText = (t: number) => new Date(t).toISOString().slice(0, 10);

const isoTimestamp = z
  .union([z.string(), z.number()], { error: 'must be an ISO-8601 string or epoch milliseconds' })
  .transform((v, ctx) => {
    const t = typeof v === 'number' ? v : Date.parse(v);
    if (!Number.isFinite(t)) {
      ctx.addIssue({ code: 'custom', message: `is not a valid ISO-8601 timestamp: ${JSON.stringify(v)}` });
      return z.NEVER;
    }
    if (t < EVENT_TIME_RANGE.from || t >= EVENT_TIME_RANGE.to) {
      ctx.addIssue({
        code: 'custom',
        message: `must be between ${dayText(EVENT_TIME_RANGE.from)} and ${dayText(EVENT_TIME_RANGE.to)} (epoch milliseconds, not seconds), got ${JSON.stringify(v)}`,
      });
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
    messageId: callerId(MESSAGE_ID_MAX, 'is required (it is how duplicates are recognised)'),
    userId: callerId(USER_ID_MAX, 'is required: an outcome must belong to a user'),
    anonymousId: callerId(USER_ID_MAX).optional(),
    previousId: callerId(USER_ID_MAX).optional(),
    event: z.string().min(1, 'must not be empty').max(200, 'must be at most 200 characters').optional(),
    properties: z.record(z.string(), z.unknown()).default({}),
    traits: z.record(z.string(), z.unknown()).optional(),
    timestamp: isoTimestamp.optional(),
  })
  .superRefine((e, ctx) => {
    if (e.type === 'track' && e.event === undefined)
      ctx.addIssue({ code: 'custom', path: ['event'], message: 'is required for a track event' });
    const decisionId = e.properties.decision_id;
    const flaw = typeof decisionId === 'string' ? decisionIdFlaw(decisionId) : undefined;
    if (flaw) ctx.addIssue({ code: 'custom', path: ['properties', 'decision_id'], message: flaw });
  });

/** Decision ids are UUIDs (36 characters); a longer or malformed one names no decision. */
const DECISION_ID_MAX = 64;

function decisionIdFlaw(text: string): string | undefined {
  return text.length > DECISION_ID_MAX ? `must be at most ${DECISION_ID_MAX} characters` : idFlaw(text);
}
export type SegmentEvent = z.output<typeof segmentEventSchema>;

/** Segment's HTTP API batch limit is 500 KB per request and 32 KB per event. */
export const EVENTS_BODY_LIMIT = '512kb';
export const EVENTS_BATCH_MAX = 2500;

/** A list of events, each to be parsed with segmentEventSchema (see parseListInSlices). */
export const eventListSchema = (tooMany = `must contain at most ${EVENTS_BATCH_MAX} events`) =>
  z.array(z.unknown()).min(1, 'must contain at least one event').max(EVENTS_BATCH_MAX, tooMany);

/** `{batch: [...]}` as in Segment's HTTP API; its events are parsed one by one, a slice per turn. */
export const eventBatchSchema = z.looseObject({ batch: eventListSchema() });

export const connectedContentQuerySchema = z.object({
  user_id: userId,
  /** Braze renders a message several times (HTML, text, retries); the same request_id gets the same decision. */
  request_id: callerId(REQUEST_ID_MAX).optional(),
  /**
   * The message's channel (`email`, `sms`, `push`: an arm of the agent's channel dimension): the
   * decision is made for that channel only, so that an email render never gets an sms decision.
   */
  channel: z
    .string()
    .min(1, 'must not be empty')
    .max(64, 'must be at most 64 characters')
    .regex(/^[A-Za-z0-9_-]+$/, 'must be an arm id of the channel dimension, e.g. email')
    .optional(),
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
  resume: callerId(100).optional().describe('The id of an interrupted run to continue.'),
});

/**
 * How deep a JSON body may nest: far beyond any event, decide body or agent config (the example
 * agent's is 6), and shallow enough that nothing recursive (zod, JSON.stringify in the store,
 * conditions) can overflow the stack.
 */
export const JSON_DEPTH_MAX = 64;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;

/** The index of the quote that closes the JSON string opened at `open` (or past the end). */
function stringEnd(bytes: Uint8Array, open: number): number {
  let at = bytes.indexOf(QUOTE, open + 1);
  while (at > 0) {
    let escapes = 0;
    while (bytes[at - 1 - escapes] === BACKSLASH) escapes++;
    if (escapes % 2 === 0) return at;
    at = bytes.indexOf(QUOTE, at + 1);
  }
  return bytes.length;
}

/**
 * Whether JSON `bytes` (UTF-8, whose multi-byte characters never hold an ASCII byte) open more
 * than `max` arrays or objects inside each other: one pass that skips strings, no recursion.
 */
export function nestsDeeperThan(bytes: Uint8Array, max: number): boolean {
  let depth = 0;
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i];
    if (c === QUOTE) i = stringEnd(bytes, i);
    else if (c === OPEN_ARRAY || c === OPEN_OBJECT) {
      if (++depth > max) return true;
    } else if (c === CLOSE_ARRAY || c === CLOSE_OBJECT) depth--;
  }
  return false;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * A JSON body's bytes → its value: UTF-8 (400 `malformed_body` otherwise), at most JSON_DEPTH_MAX
 * levels deep (400 `body_too_deep`, checked before parsing), valid JSON (400 `malformed_json`).
 */
export function parseJsonBytes(bytes: Uint8Array): unknown {
  if (nestsDeeperThan(bytes, JSON_DEPTH_MAX))
    throw new RequestError(400, 'body_too_deep', `the body is nested deeper than ${JSON_DEPTH_MAX} levels`);
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    throw new RequestError(400, 'malformed_body', 'the body is not valid UTF-8 (JSON bodies are UTF-8)');
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new RequestError(400, 'malformed_json', `the body is not valid JSON: ${(err as Error).message}`);
  }
}

/** How far ahead of the service's clock an event may be dated (device clocks drift; a day is plenty). */
export const EVENT_AHEAD_MAX_MS = 86_400_000;

/** The event times a workspace accepts: from `now - maxAgeMs` to `now + EVENT_AHEAD_MAX_MS`. */
export interface EventTimeWindow {
  now: number;
  maxAgeMs: number;
}

/** What the window is computed from: each agent's goal window and the lateness it tolerates after it. */
export interface GoalTimes {
  windowMs: number;
  lateMarginMs: number;
}

/**
 * The workspace's window at `now`: an event older than every agent's goal window plus its
 * `late_margin` can earn no reward and is left out; with no agent, LATE_MARGIN_DEFAULT_MS.
 */
export function eventTimeWindow(now: number, goals: readonly GoalTimes[]): EventTimeWindow {
  const ages = goals.map((goal) => goal.windowMs + goal.lateMarginMs);
  return { now, maxAgeMs: ages.length > 0 ? Math.max(...ages) : LATE_MARGIN_DEFAULT_MS };
}

const durationText = (ms: number) => (ms % 86_400_000 === 0 ? `${ms / 86_400_000}d` : `${ms / 3_600_000}h`);

/** Why an event of time `t` is outside the workspace's window, or undefined when it is inside. */
export function eventTimeFlaw(t: number, window: EventTimeWindow): string | undefined {
  if (t > window.now + EVENT_AHEAD_MAX_MS)
    return `is more than ${durationText(EVENT_AHEAD_MAX_MS)} ahead of the server's clock (${new Date(window.now).toISOString()}), got ${new Date(t).toISOString()}`;
  if (t < window.now - window.maxAgeMs)
    return `is older than ${durationText(window.maxAgeMs)} (the longest goal window plus its late_margin), got ${new Date(t).toISOString()}`;
  return undefined;
}
