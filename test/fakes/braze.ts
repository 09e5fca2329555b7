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
  /** The time schedules are checked against (rate-limit windows always run on real time). */
  clock?: () => number;
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
  /** Every recipient of an accepted triggered send or schedule, in order. */
  sends: SendRecord[];
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
  const requests = new Map<string, number>();
  const statuses = new Map<number, number>();
  const faults: { prefix: string; fault: Fault }[] = [];
  const partial = new Map<string, { type: string; times: number }>();
  let points = 0;
  let dispatchSeq = 0;

  const setAttributes = (externalId: string, attrs: Record<string, unknown>) => {
    const user = users.get(externalId) ?? {};
    for (const [k, v] of Object.entries(attrs)) {
      if (k === 'external_id' || k === '_update_existing_only') continue;
      points += 1;
      if (v === null) delete user[k];
      else user[k] = v;
    }
    users.set(externalId, user);
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
    const propsKey = kind === 'campaign' ? 'trigger_properties' : 'canvas_entry_properties';
    for (const r of recipients) {
      if ((r.external_user_id ? 1 : 0) + (r.user_alias ? 1 : 0) !== 1)
        return void bad(res, 'each recipient needs exactly one of external_user_id and user_alias');
      if (JSON.stringify(r[propsKey] ?? {}).length > 50_000) return void bad(res, `${propsKey} larger than 50 KB`);
    }
    if (scheduled && Date.parse(b.schedule!.time) <= clock()) return void bad(res, 'schedule time is in the past');
    withFault(req, res, buckets.messaging, () => {
      for (const r of recipients) {
        if (r.attributes) setAttributes(r.external_user_id!, r.attributes);
        sends.push({
          path: req.path,
          externalUserId: r.external_user_id!,
          properties: r[propsKey] ?? {},
          ...(b.schedule ? { scheduleTime: b.schedule.time } : {}),
        });
      }
      dispatchSeq += 1;
      return {
        message: 'success',
        dispatch_id: `dispatch-${dispatchSeq}`,
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
      const found = parsed.data.external_ids.filter((id) => users.has(id));
      return {
        message: 'success',
        users: found.map((id) => ({ external_id: id, custom_attributes: { ...users.get(id) } })),
        invalid_user_ids: parsed.data.external_ids.filter((id) => !users.has(id)),
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
