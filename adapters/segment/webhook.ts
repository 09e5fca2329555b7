import express, { type NextFunction, type Request, type Response } from 'express';
import { z } from 'zod';
import { AuthError, parseBody, parseListInSlices } from '../../plugin/service/errors.ts';
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
import type { SegmentProfileSource } from './profiles.ts';
import { sameSecret, verifySegmentSignature } from './signature.ts';
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

/**
 * `POST /v1/webhooks/segment`: the receiver of a Segment Webhooks destination (Classic or Actions).
 * Checks `X-Signature` over the raw bytes, parses every event (400 naming the field, also for a
 * timestamp outside the workspace's window; nothing is stored then), applies identify calls to
 * the profile cache and audience index, and answers 200 only once the service has stored the
 * events, a slice at a time. Any failure after the checks is a 5xx, which Segment retries (for up
 * to 4 hours); duplicates are dropped by messageId, so the slices stored before a failure are not
 * stored twice.
 */
export function segmentWebhook(options: SegmentWebhookOptions): ServerExtension {
  const settings: WebhookSettings = parseSettings(webhookSettingsSchema, options.settings, 'Segment webhook settings');
  const profiles = options.profiles;
  return {
    name: 'segment-webhook',
    routes(ctx: ServerContext) {
      const router = express.Router();
      router.post(
        WEBHOOK_PATH,
        express.raw({ type: () => true, limit: options.bodyLimit ?? EVENTS_BODY_LIMIT }),
        async (req: Request, res: Response, next: NextFunction) => {
          try {
            const raw: Buffer = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
            authenticate(settings, raw, req);
            const events = await parseEvents(raw);
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
            const result = await ctx.service.ingest(events);
            res.status(200).json({ success: true, ...result });
          } catch (err) {
            next(err);
          }
        },
      );
      return router;
    },
  };
}

function authenticate(settings: WebhookSettings, raw: Buffer, req: Request): void {
  const signature = req.get(SIGNATURE_HEADER);
  if (signature !== undefined) {
    if (!verifySegmentSignature(settings.sharedSecret, raw, signature)) {
      throw new AuthError(
        401,
        'invalid_signature',
        'X-Signature does not match the body: check that the shared secret of the Segment webhook destination equals SEGMENT_SHARED_SECRET',
      );
    }
    return;
  }
  const bearer = /^Bearer\s+(\S+)$/i.exec(req.get('authorization') ?? '')?.[1];
  if (settings.batchToken && bearer !== undefined) {
    if (!sameSecret(bearer, settings.batchToken))
      throw new AuthError(401, 'invalid_token', 'the Bearer token does not match SEGMENT_WEBHOOK_TOKEN');
    return;
  }
  throw new AuthError(
    401,
    'missing_signature',
    settings.batchToken
      ? 'X-Signature (or Authorization: Bearer <SEGMENT_WEBHOOK_TOKEN>) is required: set a shared secret on the Segment webhook destination'
      : 'X-Signature is required: set a shared secret on the Segment webhook destination (batched Webhooks (Actions) requests are unsigned; see docs/segment.md)',
  );
}

/** The body's events, each valid, or a 4xx naming what is not. */
async function parseEvents(raw: Buffer): Promise<SegmentEvent[]> {
  const json = parseJsonBytes(raw);
  // Parsed by shape, so an error names the field: `[2].messageId: is required`.
  if (!Array.isArray(json)) return [parseBody(segmentEventSchema, json)];
  return parseListInSlices(segmentEventSchema, parseBody(webhookBatchSchema, json), []);
}
