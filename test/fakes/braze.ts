/**
 * A local fake of Braze's REST API that honours the limits nextbest must live with
 * (https://www.braze.com/docs/api/api_limits/; what nextbest does with them: docs/braze.md):
 *
 * - `POST /users/track`: bearer key; at most `maxTrackObjects` objects (attributes + events +
 *   purchases) → 400 "Max Input Length Exceeded"; an identifier per object, else a partial error
 *   in a 2xx body; custom attributes stored per user (null removes one).
 * - `POST /campaigns/trigger/send`, `/canvas/trigger/send` and their `/schedule/create`: at most 50
 *   recipients, one id kind each, `recipients` and `broadcast` exclusive, entry properties ≤ 50 KB;
 *   recipients' `attributes` are applied before the send is recorded, as Braze does.
 * - `POST /users/export/ids`: ≤ 50 external ids, `fields_to_export` required.
 * - A token bucket per endpoint group (users.track; messaging; export) → 429 with
 *   `X-RateLimit-Limit/-Remaining/-Reset` (reset in epoch seconds) on every response.
 * - Injectable faults: 5xx before processing, 5xx after processing (the in-doubt case), partial
 *   errors for chosen users, a dropped connection after processing.
 * - Reads are eventually consistent: `/users/export/ids` sees writes `readDelayMs` after they were
 *   made (on the injected clock), as Braze advises allowing time between dependent calls.
 * - `_update_existing_only: true` never creates a profile: an object for an id Braze does not
 *   know (see `existingUsers`) is dropped, silently.
 * - Triggered sends apply each campaign's or Canvas's re-eligibility and segment (see `targets`):
 *   a recipient who is not re-eligible or not in the segment is skipped silently, and the request
 *   still answers success with a dispatch_id, as Braze does.
 * - Currents: with `currents`, what was really sent is reported (`users.messages.<channel>.Send`,
 *   then `.Delivery`; engagement with `engage`) to a custom HTTP connector, in batches, with the
 *   connector's bearer token, when `flushCurrents` is called (Braze batches and sends on its own
 *   schedule; a test says when).
 *
 * It records every accepted attribute object and every send, so tests can count deliveries.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type Request, type Response } from 'express';
import { z } from 'zod';

export interface FakeBrazeOptions {
  apiKey?: string;
  /** Objects per /users/track request (Braze: 75, or 50 on MAU plans). */
  maxTrackObjects?: number;
  /** Requests per window for /users/track (Braze: 3,000 per 3 s). */
  trackLimit?: { requests: number; windowMs: number };
  /** Requests per window for the messaging endpoints (Braze: 250,000 per hour). */
  messagingLimit?: { requests: number; windowMs: number };
  /** Requests per window for /users/export/ids (Braze: 250 per minute). */
  exportLimit?: { requests: number; windowMs: number };
  /** The time schedules and read delays are checked against (rate-limit windows always run on real time). */
  clock?: () => number;
  /** How long after a write `/users/export/ids` sees it (default 0: at once). */
  readDelayMs?: number;
  /** The external ids Braze has profiles for (default: every id it is asked about). */
  existingUsers?: Iterable<string>;
  /** Eligibility rules per campaign or Canvas id (default: everyone, every time). */
  targets?: Record<string, TargetRules>;
  /** A Currents custom HTTP connector to report sends to. */
  currents?: { url: string; token: string; batchSize?: number };
}

/** How Braze decides who of a triggered send's recipients receives the message. */
export interface TargetRules {
  /**
   * When a recipient may receive it again: undefined (Braze's default for a campaign) never, a
   * number of ms after the last receipt.
   */
  reEligibleAfterMs?: number;
  /** The campaign's segment: who may receive it (default: everyone). */
  segment?: (externalId: string, attributes: Record<string, unknown>) => boolean;
  /** The channel of its message, in Currents event names (default email). */
  channel?: 'email' | 'sms' | 'pushnotification';
}

/** A recipient Braze accepted in a triggered send and did not send to. */
export interface SkipRecord {
  path: string;
  externalUserId: string;
  reason: 'not_re_eligible' | 'not_in_segment' | 'unknown_user';
}

export type Fault =
  /** Answer with `status` without processing. */
  | { kind: 'fail-before'; status: number }
  /** Process the request, then answer with `status` (the caller cannot know it landed). */
  | { kind: 'fail-after'; status: number }
  /** Process the request, then drop the connection. */
  | { kind: 'drop-after' }
  /**
   * Answer 429 as if other clients of the workspace had spent the window, which resets in
   * `resetInMs` (rounded up to the second of X-RateLimit-Reset): the path's own window then resets.
   */
  | { kind: 'rate-limited'; resetInMs: number };

export interface SendRecord {
  path: string;
  externalUserId: string;
  properties: Record<string, unknown>;
  scheduleTime?: string;
}

export interface FakeBraze {
  url: string;
  /** Custom attributes per external_id, as Braze holds them now. */
  users: Map<string, Record<string, unknown>>;
  /** Every attribute object accepted by /users/track, in order. */
  tracked: Record<string, unknown>[];
  /** Every recipient of an accepted triggered send or schedule who was sent the message, in order. */
  sends: SendRecord[];
  /** Every recipient of an accepted triggered send that Braze skipped silently, in order. */
  skipped: SkipRecord[];
  /** Currents events not yet posted to the connector. */
  pendingCurrents(): number;
  /**
   * Posts the pending Currents events to the connector in batches (`batchSize`, default 100),
   * returning the statuses it answered; a batch answered other than 2xx stays pending.
   */
  flushCurrents(): Promise<number[]>;
  /** Reports an engagement with the message last sent to the user for a target (`Open`, `Click`, `Abort`…). */
  engage(externalId: string, targetId: string, action: string): void;
  /** Requests received by path, including refused ones. */
  requests: Map<string, number>;
  /** Status codes answered, by code. */
  statuses: Map<number, number>;
  /** Faults applied to the next requests of a path prefix, in order. */
  inject(pathPrefix: string, ...faults: Fault[]): void;
  /** Users whose next `times` attribute objects get a partial error of `type`. */
  rejectAttributesOf(externalId: string, type: string, times?: number): void;
  /** Data points written (attribute values set or cleared). */
  dataPoints(): number;
  close(): Promise<void>;
}

class Bucket {
  private count = 0;
  private windowStart = 0;
  constructor(
    private readonly limit: { requests: number; windowMs: number },
    private readonly clock: () => number,
  ) {}

  take(res: Response): boolean {
    const now = this.clock();
    if (now - this.windowStart >= this.limit.windowMs) {
      this.windowStart = now;
      this.count = 0;
    }
    const allowed = this.count < this.limit.requests;
    if (allowed) this.count += 1;
    res.set({
      'X-RateLimit-Limit': String(this.limit.requests),
      'X-RateLimit-Remaining': String(Math.max(0, this.limit.requests - this.count)),
      'X-RateLimit-Reset': String(Math.ceil((this.windowStart + this.limit.windowMs) / 1000)),
    });
    return allowed;
  }

  /** Moves the end of the current window to `resetAt` (epoch ms): a new window starts then. */
  resetAt(resetAt: number): void {
    this.windowStart = resetAt - this.limit.windowMs;
  }
}

const identifier = {
  external_id: z.string().min(1).optional(),
  braze_id: z.string().optional(),
  email: z.string().optional(),
  phone: z.string().optional(),
  user_alias: z.unknown().optional(),
};
const trackSchema = z.strictObject({
  attributes: z.array(z.looseObject(identifier)).optional(),
  events: z.array(z.looseObject({ ...identifier, name: z.string(), time: z.string() })).optional(),
  purchases: z.array(z.looseObject(identifier)).optional(),
});
const recipientSchema = z.strictObject({
  external_user_id: z.string().min(1).optional(),
  user_alias: z.unknown().optional(),
  trigger_properties: z.record(z.string(), z.unknown()).optional(),
  canvas_entry_properties: z.record(z.string(), z.unknown()).optional(),
  context: z.record(z.string(), z.unknown()).optional(),
  send_to_existing_only: z.boolean().optional(),
  attributes: z.record(z.string(), z.unknown()).optional(),
});
const triggerSchema = z.looseObject({
  campaign_id: z.string().optional(),
  canvas_id: z.string().optional(),
  send_id: z.string().optional(),
  broadcast: z.boolean().optional(),
  recipients: z.array(recipientSchema).optional(),
  trigger_properties: z.record(z.string(), z.unknown()).optional(),
  canvas_entry_properties: z.record(z.string(), z.unknown()).optional(),
  schedule: z
    .strictObject({ time: z.string(), in_local_time: z.boolean().optional(), at_optimal_time: z.boolean().optional() })
    .optional(),
});
const exportSchema = z.strictObject({
  external_ids: z.array(z.string()).max(50, 'at most 50 external_ids'),
  fields_to_export: z.array(z.string()).min(1, 'fields_to_export is required'),
});

export async function startFakeBraze(options: FakeBrazeOptions = {}): Promise<FakeBraze> {
  const apiKey = options.apiKey ?? 'braze-test-key';
  const clock = options.clock ?? Date.now;
  const maxTrack = options.maxTrackObjects ?? 75;
  const buckets = {
    track: new Bucket(options.trackLimit ?? { requests: 3000, windowMs: 3000 }, Date.now),
    messaging: new Bucket(options.messagingLimit ?? { requests: 250_000, windowMs: 3_600_000 }, Date.now),
    export: new Bucket(options.exportLimit ?? { requests: 250, windowMs: 60_000 }, Date.now),
  };
  const users = new Map<string, Record<string, unknown>>();
  const tracked: Record<string, unknown>[] = [];
  const sends: SendRecord[] = [];
  const skipped: SkipRecord[] = [];
  const readDelay = options.readDelayMs ?? 0;
  const existing = options.existingUsers ? new Set(options.existingUsers) : undefined;
  const exists = (id: string) => existing === undefined || existing.has(id) || users.has(id);
  /** Every attribute write per user with its time, for reads that lag behind writes. */
  const history = new Map<string, { at: number; attrs: Record<string, unknown> }[]>();
  const currents = new CurrentsEmitter(options.currents, clock);
  /** When each user last received each target's message, and the dispatch it was in. */
  const received = new Map<string, Map<string, { at: number; dispatchId: string; kind: 'campaign' | 'canvas' }>>();
  const requests = new Map<string, number>();
  const statuses = new Map<number, number>();
  const faults: { prefix: string; fault: Fault }[] = [];
  const partial = new Map<string, { type: string; times: number }>();
  let points = 0;
  let dispatchSeq = 0;

  const setAttributes = (externalId: string, attrs: Record<string, unknown>) => {
    const user = users.get(externalId) ?? {};
    history.set(externalId, [...(history.get(externalId) ?? []), { at: clock(), attrs }]);
    for (const [k, v] of Object.entries(attrs)) {
      if (k === 'external_id' || k === '_update_existing_only') continue;
      points += 1;
      if (v === null) delete user[k];
      else user[k] = v;
    }
    users.set(externalId, user);
  };

  /** A user's attributes as the writes made up to `at` left them (undefined: no profile yet). */
  const attributesAsOf = (id: string, at: number): Record<string, unknown> | undefined => {
    if (readDelay === 0) return users.has(id) ? { ...users.get(id) } : undefined;
    const writes = (history.get(id) ?? []).filter((w) => w.at <= at);
    if (writes.length === 0) return undefined;
    const user: Record<string, unknown> = {};
    for (const w of writes)
      for (const [k, v] of Object.entries(w.attrs)) {
        if (k === 'external_id' || k === '_update_existing_only') continue;
        if (v === null) delete user[k];
        else user[k] = v;
      }
    return user;
  };

  const app = express();
  app.use(express.json({ limit: '4mb' }));
  app.use((req, res, next) => {
    requests.set(req.path, (requests.get(req.path) ?? 0) + 1);
    res.on('finish', () => statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1));
    if (req.get('authorization') !== `Bearer ${apiKey}`) {
      res.status(401).json({ message: 'Invalid API Key' });
      return;
    }
    next();
  });

  /** Runs `process` under the injected fault for this path, if any; `bucket` is the path's rate limit. */
  const withFault = (req: Request, res: Response, bucket: Bucket, process: () => unknown) => {
    const i = faults.findIndex((f) => req.path.startsWith(f.prefix));
    const fault = i >= 0 ? faults.splice(i, 1)[0].fault : undefined;
    if (fault?.kind === 'fail-before') {
      res.status(fault.status).json({ message: 'Internal Server Error' });
      return;
    }
    if (fault?.kind === 'rate-limited') {
      // Announced as the endpoint's own window, which then does reset at that moment.
      const reset = Math.ceil((Date.now() + fault.resetInMs) / 1000);
      bucket.resetAt(reset * 1000);
      res.set({ 'X-RateLimit-Remaining': '0', 'X-RateLimit-Reset': String(reset) });
      res.status(429).json({ message: 'Rate limit exceeded' });
      return;
    }
    const body = process();
    if (fault?.kind === 'fail-after') res.status(fault.status).json({ message: 'Internal Server Error' });
    else if (fault?.kind === 'drop-after') res.socket?.destroy();
    else if (body !== undefined) res.status(201).json(body);
  };

  const bad = (res: Response, message: string) => res.status(400).json({ message, errors: [message] });

  app.post('/users/track', (req, res) => {
    if (!buckets.track.take(res)) return void res.status(429).json({ message: 'Rate limit exceeded' });
    const parsed = trackSchema.safeParse(req.body);
    if (!parsed.success)
      return void bad(
        res,
        `Invalid request: ${parsed.error.issues[0]?.path.join('.')}: ${parsed.error.issues[0]?.message}`,
      );
    const { attributes = [], events = [], purchases = [] } = parsed.data;
    if (attributes.length + events.length + purchases.length > maxTrack)
      return void bad(res, 'Max Input Length Exceeded');
    withFault(req, res, buckets.track, () => {
      const errors: { type: string; input_array: string; index: number }[] = [];
      attributes.forEach((a, index) => {
        const id = a.external_id;
        if (!id) return void errors.push({ type: 'Missing identifier', input_array: 'attributes', index });
        const reject = partial.get(id);
        if (reject && reject.times > 0) {
          reject.times -= 1;
          return void errors.push({ type: reject.type, input_array: 'attributes', index });
        }
        if (a._update_existing_only === true && !exists(id)) return; // no profile is created, and nothing said
        setAttributes(id, a);
        tracked.push(a);
      });
      return {
        message: 'success',
        attributes_processed: attributes.length - errors.length,
        ...(errors.length ? { errors } : {}),
      };
    });
  });

  const trigger = (kind: 'campaign' | 'canvas', scheduled: boolean) => (req: Request, res: Response) => {
    if (!buckets.messaging.take(res)) return void res.status(429).json({ message: 'Rate limit exceeded' });
    const parsed = triggerSchema.safeParse(req.body);
    if (!parsed.success)
      return void bad(
        res,
        `Invalid request: ${parsed.error.issues[0]?.path.join('.')}: ${parsed.error.issues[0]?.message}`,
      );
    const b = parsed.data;
    const id = kind === 'campaign' ? b.campaign_id : b.canvas_id;
    if (!id) return void bad(res, `${kind}_id is required`);
    if (scheduled && !b.schedule) return void bad(res, 'schedule is required');
    if (b.broadcast && b.recipients) return void bad(res, 'recipients cannot be used with broadcast');
    const recipients = b.recipients ?? [];
    if (recipients.length > 50) return void bad(res, 'Max Input Length Exceeded: at most 50 recipients');
    // a Canvas reads its entry properties as `context` (the legacy `canvas_entry_properties` too)
    const propertiesOf = (r: z.output<typeof recipientSchema>) =>
      kind === 'campaign' ? r.trigger_properties : (r.context ?? r.canvas_entry_properties);
    for (const r of recipients) {
      if ((r.external_user_id ? 1 : 0) + (r.user_alias ? 1 : 0) !== 1)
        return void bad(res, 'each recipient needs exactly one of external_user_id and user_alias');
      if (JSON.stringify(propertiesOf(r) ?? {}).length > 50_000) return void bad(res, 'properties larger than 50 KB');
    }
    if (scheduled && Date.parse(b.schedule!.time) <= clock()) return void bad(res, 'schedule time is in the past');
    withFault(req, res, buckets.messaging, () => {
      dispatchSeq += 1;
      const dispatchId = `dispatch-${dispatchSeq}`;
      const rules = options.targets?.[id] ?? { reEligibleAfterMs: 0 };
      for (const r of recipients) {
        const userId = r.external_user_id!;
        // send_to_existing_only (true by default) skips unknown users; recipients' attributes are written first
        if ((r.send_to_existing_only ?? true) && !exists(userId)) {
          skipped.push({ path: req.path, externalUserId: userId, reason: 'unknown_user' });
          continue;
        }
        if (r.attributes) setAttributes(userId, r.attributes);
        const skip = skipReason(rules, received.get(id)?.get(userId), userId, users.get(userId) ?? {}, clock());
        if (skip) {
          skipped.push({ path: req.path, externalUserId: userId, reason: skip });
          continue;
        }
        if (!received.has(id)) received.set(id, new Map());
        received.get(id)!.set(userId, { at: clock(), dispatchId, kind });
        sends.push({
          path: req.path,
          externalUserId: userId,
          properties: propertiesOf(r) ?? {},
          ...(b.schedule ? { scheduleTime: b.schedule.time } : {}),
        });
        currents.sent(kind, id, rules.channel ?? 'email', userId, dispatchId);
      }
      return {
        message: 'success',
        dispatch_id: dispatchId,
        ...(scheduled ? { schedule_id: `schedule-${dispatchSeq}` } : {}),
      };
    });
  };
  app.post('/campaigns/trigger/send', trigger('campaign', false));
  app.post('/campaigns/trigger/schedule/create', trigger('campaign', true));
  app.post('/canvas/trigger/send', trigger('canvas', false));
  app.post('/canvas/trigger/schedule/create', trigger('canvas', true));

  app.post('/users/export/ids', (req, res) => {
    if (!buckets.export.take(res)) return void res.status(429).json({ message: 'Rate limit exceeded' });
    const parsed = exportSchema.safeParse(req.body);
    if (!parsed.success) return void bad(res, parsed.error.issues[0]?.message ?? 'invalid request');
    withFault(req, res, buckets.export, () => {
      const seen = new Map(parsed.data.external_ids.map((id) => [id, attributesAsOf(id, clock() - readDelay)]));
      const found = parsed.data.external_ids.filter((id) => seen.get(id) !== undefined);
      return {
        message: 'success',
        users: found.map((id) => ({ external_id: id, custom_attributes: seen.get(id) })),
        invalid_user_ids: parsed.data.external_ids.filter((id) => seen.get(id) === undefined),
      };
    });
  });

  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    users,
    tracked,
    sends,
    skipped,
    pendingCurrents: () => currents.pending.length,
    flushCurrents: () => currents.flush(),
    engage(externalId, targetId, action) {
      const last = received.get(targetId)?.get(externalId);
      if (!last) throw new Error(`${externalId} never received ${targetId}`);
      const channel = options.targets?.[targetId]?.channel ?? 'email';
      currents.event(`users.messages.${channel}.${action}`, last.kind, targetId, externalId, last.dispatchId);
    },
    requests,
    statuses,
    inject(prefix, ...list) {
      for (const fault of list) faults.push({ prefix, fault });
    },
    rejectAttributesOf(externalId, type, times = 1) {
      partial.set(externalId, { type, times });
    },
    dataPoints: () => points,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Why Braze would skip this recipient of a target's triggered send, or undefined when it sends. */
function skipReason(
  rules: TargetRules,
  last: { at: number } | undefined,
  userId: string,
  attributes: Record<string, unknown>,
  now: number,
): SkipRecord['reason'] | undefined {
  if (last && (rules.reEligibleAfterMs === undefined || now - last.at < rules.reEligibleAfterMs))
    return 'not_re_eligible';
  if (rules.segment && !rules.segment(userId, attributes)) return 'not_in_segment';
  return undefined;
}

/**
 * The Currents side of the fake: events in the custom HTTP connector's shape
 * (https://www.braze.com/docs/user_guide/data/distribution/braze_currents/setting_up_currents/custom_http_connector/),
 * queued as Braze makes them and posted in batches of `{"events": [...]}`.
 */
class CurrentsEmitter {
  readonly pending: Record<string, unknown>[] = [];
  private seq = 0;

  constructor(
    private readonly connector: { url: string; token: string; batchSize?: number } | undefined,
    private readonly clock: () => number,
  ) {}

  /** A send Braze made: `.Send`, then `.Delivery` (for email and sms). */
  sent(kind: 'campaign' | 'canvas', id: string, channel: string, userId: string, dispatchId: string): void {
    this.event(`users.messages.${channel}.Send`, kind, id, userId, dispatchId);
    if (channel !== 'pushnotification') this.event(`users.messages.${channel}.Delivery`, kind, id, userId, dispatchId);
  }

  event(type: string, kind: 'campaign' | 'canvas', id: string, userId: string, dispatchId: string): void {
    if (!this.connector) return;
    this.seq += 1;
    const target =
      kind === 'campaign'
        ? { campaign_id: id, campaign_name: `Campaign ${id}`, message_variation_id: `${id}-variation` }
        : {
            canvas_id: id,
            canvas_name: `Canvas ${id}`,
            canvas_step_id: `${id}-step-1`,
            canvas_variation_id: `${id}-v`,
          };
    this.pending.push({
      event_type: type,
      id: `currents-${this.seq}-${dispatchId}`,
      time: Math.floor(this.clock() / 1000),
      user: { user_id: `braze-${userId}`, external_user_id: userId, timezone: 'Europe/Paris' },
      properties: {
        ...target,
        dispatch_id: dispatchId,
        send_id: `send-${dispatchId}`,
        ...(type.includes('.email.') && { email_address: `${userId}@example.com` }),
        ...(type.includes('.sms.') && { to_phone_number: '+15555550100' }),
      },
    });
  }

  async flush(): Promise<number[]> {
    if (!this.connector) return [];
    const statuses: number[] = [];
    const size = this.connector.batchSize ?? 100;
    const batches: Record<string, unknown>[][] = [];
    while (this.pending.length > 0) batches.push(this.pending.splice(0, size));
    for (const events of batches) {
      const res = await fetch(this.connector.url, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${this.connector.token}`,
          'content-type': 'application/json',
          'braze-currents-version': '1',
        },
        body: JSON.stringify({ events }),
      });
      await res.arrayBuffer();
      statuses.push(res.status);
      if (res.status < 200 || res.status >= 300) this.pending.push(...events);
    }
    return statuses;
  }
}
