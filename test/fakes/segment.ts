/**
 * A local fake of the Segment services nextbest talks to, honouring their documented contracts
 * (the Segment pages linked from adapters/segment/constants.ts; what nextbest does: docs/segment.md):
 *
 * - Tracking API `POST /v1/batch`: Basic auth with the write key as username; 400 over 32 KB per
 *   event or 500 KB per batch; events deduplicated by messageId; every request recorded; failures
 *   (429 with Retry-After, 5xx) injectable for the next N requests.
 * - Profile API `GET /v1/spaces/:space/collections/users/profiles/:id/traits`: typed ids only (a
 *   bare id is a 404), Basic auth with the token as username, `limit` (default 10, max 200) and
 *   opaque `next` cursor pagination, a token bucket (100 req/s, settable lower, with an injectable
 *   clock) answering 429 `rate_limit_error`, injectable failures.
 * - `sendSegmentWebhook`: POSTs Spec events signed exactly as Segment's Webhooks destinations
 *   sign them: X-Signature = hex HMAC-SHA1(sharedSecret, body) for one event; for a batch (a JSON
 *   array body) the HMAC of JSON.stringify of the first event only, as the Webhooks (Actions)
 *   destination of segmentio/action-destinations does.
 *
 * It shares no code with the adapter it tests, so a bug in one is not mirrored in the other.
 */
import { createHmac, randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type Request, type Response } from 'express';

export const FAKE_WRITE_KEY = 'fake-write-key';
export const FAKE_PROFILE_TOKEN = 'fake-profile-token';
export const FAKE_SPACE_ID = 'spa_fake';

const MAX_EVENT_BYTES = 32 * 1024;
const MAX_BATCH_BYTES = 500 * 1024;
const DEFAULT_TRAITS_LIMIT = 10;
const MAX_TRAITS_LIMIT = 200;

type Json = any;

export interface InjectedFailure {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
}

export interface FakeSegmentOptions {
  writeKey?: string;
  profileToken?: string;
  spaceId?: string;
  /** Profiles by user id (the Profile API's `user_id:` type); email ids are looked up in traits.email. */
  profiles?: Record<string, Record<string, unknown>>;
  /** Profile API token bucket; default 100 req/s with a burst of 100. */
  profileRate?: { perSecond: number; burst?: number };
  /** Clock of the token bucket (ms). */
  now?: () => number;
}

export interface BatchRequest {
  status: number;
  authorization: string | undefined;
  retryCount: number;
  events: Json[];
}

export interface ProfileRequest {
  status: number;
  path: string;
  id: string;
  query: Record<string, string>;
  authorization: string | undefined;
}

export class FakeSegment {
  readonly writeKey: string;
  readonly profileToken: string;
  readonly spaceId: string;
  /** Every /v1/batch request, accepted or not. */
  readonly batchRequests: BatchRequest[] = [];
  /** Every event accepted, once per messageId, in arrival order. */
  readonly events: Json[] = [];
  /** Events refused as duplicates (same messageId). */
  duplicates = 0;
  readonly profileRequests: ProfileRequest[] = [];
  url = '';
  private readonly profiles = new Map<string, Record<string, unknown>>();
  private readonly seen = new Set<string>();
  private readonly batchFailures: InjectedFailure[] = [];
  private readonly profileFailures: InjectedFailure[] = [];
  private readonly now: () => number;
  private rate: { perSecond: number; burst: number };
  private tokens: number;
  private last: number;
  private server?: Server;

  private constructor(options: FakeSegmentOptions) {
    this.writeKey = options.writeKey ?? FAKE_WRITE_KEY;
    this.profileToken = options.profileToken ?? FAKE_PROFILE_TOKEN;
    this.spaceId = options.spaceId ?? FAKE_SPACE_ID;
    for (const [id, traits] of Object.entries(options.profiles ?? {})) this.profiles.set(id, traits);
    this.now = options.now ?? Date.now;
    this.rate = {
      perSecond: options.profileRate?.perSecond ?? 100,
      burst: options.profileRate?.burst ?? options.profileRate?.perSecond ?? 100,
    };
    this.tokens = this.rate.burst;
    this.last = this.now();
  }

  static async start(options: FakeSegmentOptions = {}): Promise<FakeSegment> {
    const fake = new FakeSegment(options);
    const app = fake.app();
    fake.server = await new Promise<Server>((resolve, reject) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
      s.on('error', reject);
    });
    fake.url = `http://127.0.0.1:${(fake.server.address() as AddressInfo).port}`;
    return fake;
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
  }

  setProfile(userId: string, traits: Record<string, unknown>): void {
    this.profiles.set(userId, traits);
  }

  /** The next `times` /v1/batch requests fail with `failure`. */
  failBatches(failure: InjectedFailure, times = 1): void {
    for (let i = 0; i < times; i++) this.batchFailures.push(failure);
  }

  /** The next `times` Profile API requests fail with `failure`. */
  failProfiles(failure: InjectedFailure, times = 1): void {
    for (let i = 0; i < times; i++) this.profileFailures.push(failure);
  }

  /** Changes the Profile API bucket (refilled to `burst`). */
  setProfileRate(perSecond: number, burst = perSecond): void {
    this.rate = { perSecond, burst };
    this.tokens = burst;
    this.last = this.now();
  }

  /** Accepted events of a type (and, for track, of an event name). */
  received(type: string, event?: string): Json[] {
    return this.events.filter((e) => e.type === type && (event === undefined || e.event === event));
  }

  private app(): express.Express {
    const app = express();
    app.post('/v1/batch', express.raw({ type: () => true, limit: '10mb' }), (req, res) => this.batch(req, res));
    app.get('/v1/spaces/:space/collections/users/profiles/:id/traits', (req, res) => this.traits(req, res));
    app.use(
      (_req, res) => void res.status(404).json({ error: { code: 'not_found', message: 'no such route in the fake' } }),
    );
    return app;
  }

  private batch(req: Request, res: Response): void {
    const raw: Buffer = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const record = (status: number, events: Json[] = []) =>
      this.batchRequests.push({
        status,
        authorization: req.get('authorization'),
        retryCount: Number(req.get('x-retry-count') ?? 0),
        events,
      });
    const expected = `Basic ${Buffer.from(`${this.writeKey}:`).toString('base64')}`;
    if (req.get('authorization') !== expected) {
      record(401);
      res.status(401).json({ success: false, message: 'invalid write key' });
      return;
    }
    if (raw.length > MAX_BATCH_BYTES) {
      record(400);
      res.status(400).json({ success: false, message: `batch is ${raw.length} bytes, over the 500 KB limit` });
      return;
    }
    let body: Json;
    try {
      body = JSON.parse(raw.toString('utf8'));
    } catch {
      record(400);
      res.status(400).json({ success: false, message: 'invalid JSON' });
      return;
    }
    const events: Json[] = Array.isArray(body?.batch) ? body.batch : [];
    const oversize = events.find((e) => Buffer.byteLength(JSON.stringify(e)) > MAX_EVENT_BYTES);
    if (oversize) {
      record(400, events);
      res.status(400).json({ success: false, message: 'an event is over the 32 KB limit' });
      return;
    }
    const failure = this.batchFailures.shift();
    if (failure) {
      record(failure.status, events);
      res
        .status(failure.status)
        .set(failure.headers ?? {})
        .json(failure.body ?? { success: false });
      return;
    }
    record(200, events);
    for (const e of events) {
      if (typeof e?.messageId !== 'string' || this.seen.has(e.messageId)) {
        this.duplicates += 1;
        continue;
      }
      this.seen.add(e.messageId);
      this.events.push(e);
    }
    res.status(200).json({ success: true });
  }

  private traits(req: Request, res: Response): void {
    const query = Object.fromEntries(Object.entries(req.query).map(([k, v]) => [k, String(v)]));
    const id = String(req.params.id);
    const log = (status: number) =>
      this.profileRequests.push({ status, path: req.path, id, query, authorization: req.get('authorization') });
    const fail = (status: number, code: string, message: string) => {
      log(status);
      res.status(status).set('Request-Id', randomUUID()).json({ error: { code, message } });
    };
    if (!this.takeToken()) return fail(429, 'rate_limit_error', 'Too many requests for this space');
    const failure = this.profileFailures.shift();
    if (failure) {
      log(failure.status);
      res
        .status(failure.status)
        .set(failure.headers ?? {})
        .json(failure.body ?? { error: { code: 'server_error', message: 'injected failure' } });
      return;
    }
    const expected = `Basic ${Buffer.from(`${this.profileToken}:`).toString('base64')}`;
    if (req.get('authorization') !== expected) return fail(401, 'authentication_error', 'invalid access token');
    if (req.params.space !== this.spaceId) return fail(404, 'not_found', 'space not found');
    const typed = /^(user_id|email|anonymous_id):(.+)$/.exec(id);
    if (!typed) return fail(404, 'not_found', 'profile not found (ids must be typed, e.g. user_id:u123)');
    const traits =
      typed[1] === 'user_id'
        ? this.profiles.get(typed[2])
        : [...this.profiles.values()].find((t) => t[typed[1] === 'email' ? 'email' : 'anonymous_id'] === typed[2]);
    if (!traits) return fail(404, 'not_found', 'profile not found');
    const limit = query.limit === undefined ? DEFAULT_TRAITS_LIMIT : Number(query.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_TRAITS_LIMIT)
      return fail(400, 'validation_error', `limit must be an integer in [1, ${MAX_TRAITS_LIMIT}]`);
    const keys = Object.keys(traits).sort();
    let offset = 0;
    if (query.next !== undefined) {
      const decoded = /^o:(\d+)$/.exec(Buffer.from(query.next, 'base64url').toString('utf8'));
      if (!decoded) return fail(400, 'invalid_request_error', 'next is not a cursor this API issued');
      offset = Number(decoded[1]);
    }
    const page = keys.slice(offset, offset + limit);
    const hasMore = offset + limit < keys.length;
    log(200);
    res.status(200).json({
      traits: Object.fromEntries(page.map((k) => [k, traits[k]])),
      cursor: {
        url: req.originalUrl,
        has_more: hasMore,
        next: hasMore ? Buffer.from(`o:${offset + limit}`).toString('base64url') : '',
        limit,
      },
    });
  }

  private takeToken(): boolean {
    const now = this.now();
    this.tokens = Math.min(this.rate.burst, this.tokens + ((now - this.last) * this.rate.perSecond) / 1000);
    this.last = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

/** X-Signature as Segment computes it: hex HMAC-SHA1 of the body bytes with the shared secret. */
export function signSegmentBody(sharedSecret: string, body: string | Buffer): string {
  return createHmac('sha1', sharedSecret).update(body).digest('hex');
}

/**
 * X-Signature of what a Webhooks (Actions) mapping sends, as its `extendRequest` computes it: one
 * event → HMAC of JSON.stringify(data); a batch (an array) → HMAC of JSON.stringify of the FIRST
 * event's data only, though the body carries them all; an empty batch → unsigned (undefined).
 */
export function signSegmentPayload(sharedSecret: string, payload: unknown): string | undefined {
  if (!Array.isArray(payload)) return signSegmentBody(sharedSecret, JSON.stringify(payload));
  if (payload.length === 0) return undefined;
  return signSegmentBody(sharedSecret, JSON.stringify(payload[0]));
}

export interface WebhookSendOptions {
  /** Header value to send instead of the computed signature; null sends none. */
  signature?: string | null;
  /**
   * Body bytes to send instead of JSON.stringify(events); signed as Segment would sign them (a
   * JSON array by its first element, anything else as bytes) unless `signature` says otherwise.
   */
  raw?: string;
  headers?: Record<string, string>;
}

function signatureOf(sharedSecret: string, events: unknown, raw: string | undefined): string | undefined {
  if (raw === undefined) return signSegmentPayload(sharedSecret, events);
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return signSegmentBody(sharedSecret, raw);
  }
  return Array.isArray(parsed) ? signSegmentPayload(sharedSecret, parsed) : signSegmentBody(sharedSecret, raw);
}

/** POSTs events to a nextbest server the way a Segment Webhooks destination does. */
export async function sendSegmentWebhook(
  baseUrl: string,
  sharedSecret: string,
  events: unknown,
  options: WebhookSendOptions = {},
): Promise<{ status: number; body: Json; text: string }> {
  const body = options.raw ?? JSON.stringify(events);
  const signature =
    options.signature === undefined ? signatureOf(sharedSecret, events, options.raw) : options.signature;
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'user-agent': 'Segment.io/1.0',
    ...options.headers,
  };
  if (signature !== null && signature !== undefined) headers['x-signature'] = signature;
  const res = await fetch(`${baseUrl}/v1/webhooks/segment`, {
    method: 'POST',
    headers,
    body,
    signal: AbortSignal.timeout(20_000),
  });
  const text = await res.text();
  let parsed: Json;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  return { status: res.status, body: parsed, text };
}
