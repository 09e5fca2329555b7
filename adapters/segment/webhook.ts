import express, { type NextFunction, type Request, type Response } from 'express';
import { z } from 'zod';
import { AuthError, formatPath, PARSE_SLICE, parseBody, ValidationError } from '../../plugin/service/errors.ts';
import type { ServerContext, ServerExtension } from '../../plugin/service/ports.ts';
import {
  EVENTS_BATCH_MAX,
  EVENTS_BODY_LIMIT,
  eventListSchema,
  parseJsonBytes,
  segmentEventSchema,
  type SegmentEvent,
} from '../../plugin/service/inputs.ts';
import { SIGNATURE_HEADER, WEBHOOK_PATH } from './constants.ts';
import { StoredMemberships } from './audiences.ts';
import type { SegmentProfileSource } from './profiles.ts';
import { sameSecret, verifySegmentRequest } from './signature.ts';
import { parseSettings, webhookSettingsSchema, type WebhookSettings, type WebhookSettingsInput } from './settings.ts';

export interface SegmentWebhookOptions {
  settings: WebhookSettingsInput;
  /** The profile source whose cache and audience index identify calls update. */
  profiles?: SegmentProfileSource;
  /** Largest body accepted (default EVENTS_BODY_LIMIT, as `POST /v1/events`). */
  bodyLimit?: string;
}

/**
 * The JSON array a batched Webhooks (Actions) mapping sends (a single event is parsed with
 * segmentEventSchema), with the caps of `POST /v1/events`: what one request makes the service
 * parse and store is bounded whichever route it comes by.
 */
const webhookBatchSchema = eventListSchema(
  `must contain at most ${EVENTS_BATCH_MAX} events (set the mapping's batch size lower)`,
);

/** An identify's `context.timezone`, when it has one. */
const identifyContextSchema = z.object({ context: z.object({ timezone: z.string() }).partial().optional() });

/** An event of a batch left out because it is not a valid Segment event, and why (paths inside the event). */
export interface RejectedEvent {
  /** Its position in the batch. */
  index: number;
  /** Its messageId, when it has a usable one. */
  messageId?: string;
  issues: { path: string; message: string }[];
}

/**
 * `POST /v1/webhooks/segment`: the receiver of a Segment Webhooks destination (Classic or Actions).
 * Authenticates the request (the Bearer token when one is configured and sent, else `X-Signature`
 * the way Segment signs: over the body, or over the first event of a batch), then:
 *
 * - one event: parsed whole; a bad one is a 400 naming the field and nothing is stored.
 * - a batch (a JSON array): each event is parsed on its own. The good ones are stored and the
 *   answer is 200 with the bad ones listed under `rejected` (index, messageId, field): Segment's
 *   webhook applies the answer's status to every event of the batch and retries only 5xx and 429,
 *   so a 4xx would drop the good events, and a 5xx would make Segment resend events that can
 *   never become valid. A batch with no good event is a 400 listing them all.
 *
 * Identify calls update the profile cache and audience index. The answer is a 2xx only once the
 * events are stored; any failure after the checks is a 5xx, which Segment retries (for up to 4
 * hours), and duplicates are dropped by messageId, so nothing stored before the failure is stored
 * twice.
 */
export function segmentWebhook(options: SegmentWebhookOptions): ServerExtension {
  const settings: WebhookSettings = parseSettings(webhookSettingsSchema, options.settings, 'Segment webhook settings');
  const profiles = options.profiles;
  return {
    name: 'segment-webhook',
    routes(ctx: ServerContext) {
      // Audience membership is kept in the service's store from now on (it survives a restart).
      profiles?.audiences.useBook(
        new StoredMemberships(ctx.store, ctx.service.workspace, (userId) => ctx.service.userKey(userId)),
      );
      const router = express.Router();
      router.post(
        WEBHOOK_PATH,
        express.raw({ type: () => true, limit: options.bodyLimit ?? EVENTS_BODY_LIMIT }),
        async (req: Request, res: Response, next: NextFunction) => {
          try {
            const raw: Buffer = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
            const json = parseJsonBytes(raw);
            authenticate(settings, raw, json, req);
            const { events, rejected } = await parseEvents(json);
            if (rejected.length > 0) reportRejected(ctx, rejected);
            await applyIdentifies(ctx, profiles, events);
            const result = await ctx.service.ingest(events);
            res.status(200).json({ success: true, ...result, ...(rejected.length > 0 ? { rejected } : {}) });
          } catch (err) {
            next(err);
          }
        },
      );
      return router;
    },
  };
}

async function applyIdentifies(
  ctx: ServerContext,
  profiles: SegmentProfileSource | undefined,
  events: readonly SegmentEvent[],
): Promise<void> {
  for (const e of events) {
    if (e.type !== 'identify') continue;
    await profiles?.applyIdentify({
      userId: e.userId,
      traits: e.traits,
      timezone: identifyContextSchema.safeParse(e).data?.context?.timezone,
      timestamp: e.timestamp,
    });
    ctx.service.forgetProfile(e.userId);
  }
}

/** Counts and logs the events left out of a batch (index, messageId and field: no user id). */
function reportRejected(ctx: ServerContext, rejected: readonly RejectedEvent[]): void {
  ctx.metrics.events.inc({ status: 'rejected' }, rejected.length);
  ctx.logger.warn(
    { route: WEBHOOK_PATH, rejected: rejected.slice(0, 20), count: rejected.length },
    'Segment webhook: events of a batch left out as invalid; the rest were stored',
  );
}

function authenticate(settings: WebhookSettings, raw: Buffer, json: unknown, req: Request): void {
  const bearer = /^Bearer\s+(\S+)$/i.exec(req.get('authorization') ?? '')?.[1];
  if (settings.batchToken && bearer !== undefined) {
    if (!sameSecret(bearer, settings.batchToken))
      throw new AuthError(401, 'invalid_token', 'the Bearer token does not match SEGMENT_WEBHOOK_TOKEN');
    return;
  }
  const signature = req.get(SIGNATURE_HEADER);
  if (signature !== undefined) {
    if (!verifySegmentRequest(settings.sharedSecret, raw, json, signature)) {
      throw new AuthError(
        401,
        'invalid_signature',
        'X-Signature does not match the body (or, for a batch, its first event): check that the shared secret of the Segment webhook destination equals SEGMENT_SHARED_SECRET',
      );
    }
    return;
  }
  throw new AuthError(
    401,
    'missing_signature',
    settings.batchToken
      ? 'X-Signature (or Authorization: Bearer <SEGMENT_WEBHOOK_TOKEN>) is required: set a shared secret on the Segment webhook destination'
      : 'X-Signature is required: set a shared secret on the Segment webhook destination',
  );
}

/**
 * The events of the body. One event: valid, or a 400 naming the field. A batch: the valid ones
 * and the others with their issues (a 400 listing them when none is valid), PARSE_SLICE per turn
 * of the event loop.
 */
async function parseEvents(json: unknown): Promise<{ events: SegmentEvent[]; rejected: RejectedEvent[] }> {
  // Parsed by shape, so an error names the field: `[2].messageId: is required`.
  if (!Array.isArray(json)) return { events: [parseBody(segmentEventSchema, json)], rejected: [] };
  const items = parseBody(webhookBatchSchema, json);
  const events: SegmentEvent[] = [];
  const rejected: RejectedEvent[] = [];
  for (let i = 0; i < items.length; i++) {
    if (i > 0 && i % PARSE_SLICE === 0) await new Promise((resolve) => setImmediate(resolve));
    const result = segmentEventSchema.safeParse(items[i]);
    if (result.success) events.push(result.data);
    else rejected.push(rejectedEvent(i, items[i], result.error));
  }
  if (events.length === 0) {
    const issues = rejected.flatMap((r) =>
      r.issues.map((x) => ({ ...x, path: formatPath([r.index]) + dotted(x.path) })),
    );
    throw new ValidationError(issues.map((x) => `${x.path}: ${x.message}`).join('; '), issues);
  }
  return { events, rejected };
}

function rejectedEvent(index: number, item: unknown, error: z.ZodError): RejectedEvent {
  const messageId = usableMessageId(item);
  return {
    index,
    ...(messageId === undefined ? {} : { messageId }),
    issues: error.issues.map((i) => ({ path: formatPath(i.path) || 'event', message: i.message })),
  };
}

/** The item's messageId when the report can echo it (at most 200 printable characters, no bidi control). */
function usableMessageId(item: unknown): string | undefined {
  const id = messageIdSchema.safeParse(item).data?.messageId;
  if (id === undefined || id.length > 200) return undefined;
  for (const ch of id) {
    const c = ch.codePointAt(0)!;
    if (c < 0x20 || (c >= 0x7f && c <= 0x9f) || (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069))
      return undefined;
  }
  return id;
}

const messageIdSchema = z.object({ messageId: z.string() });

/** `[2]` + `messageId` → `[2].messageId`; `[2]` + `event` (the whole event) → `[2]`. */
function dotted(path: string): string {
  if (path === 'event') return '';
  return path.startsWith('[') ? path : `.${path}`;
}
