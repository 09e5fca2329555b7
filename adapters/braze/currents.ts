import { createHmac, timingSafeEqual } from 'node:crypto';
import express, { type NextFunction, type Request, type Response } from 'express';
import { z } from 'zod';
import { AuthError, formatPath, parseBody } from '../../plugin/service/errors.ts';
import { parseJsonBytes, segmentEventSchema, type SegmentEvent } from '../../plugin/service/inputs.ts';
import type { SendReport } from '../../plugin/service/index.ts';
import type { ServerContext, ServerExtension } from '../../plugin/service/ports.ts';
import { CURRENTS_BATCH_MAX, CURRENTS_BODY_LIMIT, CURRENTS_PATH, sendTarget } from './constants.ts';

/**
 * Braze Currents through its custom HTTP connector
 * (https://www.braze.com/docs/user_guide/data/distribution/braze_currents/setting_up_currents/custom_http_connector/):
 * `POST {"events": [...]}`, each event `{event_type, id, time (epoch s), user: {external_user_id,
 * …}, properties: {campaign_id | canvas_id, dispatch_id, send_id, …}}`, with `Authorization:
 * Bearer <token>` as configured on the connector. Events are delivered at least once (`id`
 * deduplicates them), and new fields and event types may appear at any time.
 */
const currentsEventSchema = z.looseObject({
  event_type: z.string().min(1, 'must not be empty').max(200, 'must be at most 200 characters'),
  id: z.string().min(1, 'must not be empty').max(150, 'must be at most 150 characters'),
  time: z.number({ error: 'must be epoch seconds' }).int('must be whole epoch seconds').nonnegative(),
  user: z.looseObject({ external_user_id: z.string().optional() }).default({}),
  properties: z
    .looseObject({
      campaign_id: z.string().optional(),
      canvas_id: z.string().optional(),
      name: z.string().optional(),
    })
    .default({}),
});
type CurrentsEvent = z.output<typeof currentsEventSchema>;

const currentsBatchSchema = z.looseObject({
  events: z
    .array(z.unknown(), { error: 'must be the array of Currents events' })
    .max(CURRENTS_BATCH_MAX, `must contain at most ${CURRENTS_BATCH_MAX} events (lower the connector's batch size)`),
});

/**
 * The properties an event keeps when stored: what names the message, never what names the person
 * (`email_address`, `to_phone_number`, `user_agent`, `ip`, a clicked `url` that may carry them).
 */
const KEPT_PROPERTIES = [
  'campaign_id',
  'canvas_id',
  'canvas_step_id',
  'canvas_variation_id',
  'message_variation_id',
  'dispatch_id',
  'send_id',
  'platform',
  'button_id',
  'subscription_group_id',
] as const;

/** A message engagement event: `users.messages.<channel>.<Action>`. */
const MESSAGE_EVENT = /^users\.messages\.([a-z]+)\.([A-Za-z]+)$/;

export interface CurrentsOptions {
  /** The bearer token set on the Currents connector (BRAZE_CURRENTS_TOKEN). */
  token: string;
}

/** One event of a batch that was not taken, and why (the field is named). */
export interface RefusedEvent {
  index: number;
  id?: string;
  message: string;
}

/**
 * `POST /v1/webhooks/braze-currents`: the endpoint of a Braze Currents custom HTTP connector.
 * Checks the bearer token (also for an empty batch, as Braze expects), parses each event on its
 * own, stores the good ones as outcome events (`event` = the event type, e.g.
 * `users.messages.email.Click`, or a custom event's name) and applies message events to the send
 * proofs of triggered sends: a send, delivery, open, click, bounce… proves the message was sent;
 * an abort, that it was not. It answers 200 once they are stored, with the events it refused and
 * why: a refused event would be refused again, and a 400 would make Braze send every event of the
 * batch again one by one. Events without `external_user_id` (anonymous users) are ignored.
 */
export function brazeCurrents(options: CurrentsOptions): ServerExtension {
  return {
    name: 'braze-currents',
    routes(ctx: ServerContext) {
      const router = express.Router();
      router.post(
        CURRENTS_PATH,
        express.raw({ type: () => true, limit: CURRENTS_BODY_LIMIT }),
        async (req: Request, res: Response, next: NextFunction) => {
          try {
            authenticate(options.token, req);
            const raw: Buffer = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
            const list = raw.length === 0 ? [] : parseBody(currentsBatchSchema, parseJsonBytes(raw)).events;
            const { events, reports, refused, ignored } = readBatch(list);
            const stored = events.length > 0 ? await ctx.service.ingest(events) : { accepted: 0, duplicates: 0 };
            const proofs = await ctx.service.recordSendReports(reports);
            res.status(200).json({ ...stored, ignored, refused, sendProofs: proofs });
          } catch (err) {
            next(err);
          }
        },
      );
      return router;
    },
  };
}

function authenticate(token: string, req: Request): void {
  const bearer = /^Bearer\s+(\S+)$/i.exec(req.get('authorization') ?? '')?.[1];
  if (bearer === undefined)
    throw new AuthError(401, 'missing_token', 'Authorization: Bearer <BRAZE_CURRENTS_TOKEN> is required');
  if (!sameSecret(bearer, token))
    throw new AuthError(
      401,
      'invalid_token',
      "the Bearer token does not match BRAZE_CURRENTS_TOKEN (the connector's token)",
    );
}

function sameSecret(a: string, b: string): boolean {
  const digest = (s: string) => createHmac('sha256', 'nextbest-compare').update(s).digest();
  return timingSafeEqual(digest(a), digest(b));
}

/** Each event on its own: stored as an outcome event and, for a message event, a send report; or refused with the field. */
export function readBatch(list: readonly unknown[]): {
  events: SegmentEvent[];
  reports: SendReport[];
  refused: RefusedEvent[];
  ignored: number;
} {
  const out = { events: [] as SegmentEvent[], reports: [] as SendReport[], refused: [] as RefusedEvent[], ignored: 0 };
  list.forEach((item, index) => {
    const parsed = currentsEventSchema.safeParse(item);
    if (!parsed.success) return void out.refused.push({ index, ...idOf(item), message: issueOf(parsed.error) });
    const e = parsed.data;
    const userId = e.user.external_user_id;
    if (userId === undefined || userId === '') return void (out.ignored += 1);
    const event = segmentEventSchema.safeParse(asTrackEvent(e, userId));
    if (!event.success) return void out.refused.push({ index, id: e.id, message: issueOf(event.error) });
    out.events.push(event.data);
    const report = sendReportOf(e, userId);
    if (report) out.reports.push(report);
  });
  return out;
}

function asTrackEvent(e: CurrentsEvent, userId: string): unknown {
  const properties: Record<string, unknown> = {};
  for (const key of KEPT_PROPERTIES) if (e.properties[key] !== undefined) properties[key] = e.properties[key];
  return {
    type: 'track',
    messageId: `braze-currents:${e.id}`,
    userId,
    event: e.event_type === 'users.behaviors.CustomEvent' && e.properties.name ? e.properties.name : e.event_type,
    properties,
    timestamp: e.time * 1000,
  };
}

/** What a message event says of the send: any event but an abort proves the message was sent. */
function sendReportOf(e: CurrentsEvent, userId: string): SendReport | undefined {
  const message = MESSAGE_EVENT.exec(e.event_type);
  if (!message) return undefined;
  const { campaign_id: campaign, canvas_id: canvas } = e.properties;
  const target = campaign ? sendTarget('campaign', campaign) : canvas ? sendTarget('canvas', canvas) : undefined;
  if (!target) return undefined;
  return { userId, target, at: e.time * 1000, sent: message[2] !== 'Abort' };
}

function idOf(item: unknown): { id?: string } {
  const id = (item as { id?: unknown } | null)?.id;
  return typeof id === 'string' && id !== '' ? { id: id.slice(0, 150) } : {};
}

function issueOf(error: z.ZodError): string {
  const issue = error.issues[0]!;
  return `${formatPath(issue.path) || '(event)'}: ${issue.message}`;
}
