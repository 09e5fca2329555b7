/**
 * A local stand-in for a Braze SDK endpoint (`sdk.<cluster>.braze.com`), for browser tests of
 * `@braze/web-sdk`. It answers what the real SDK sends, read from its source (v6.13):
 *
 * - `initialize(apiKey, { baseUrl })` accepts any host string; without a scheme it prefixes
 *   `https://`, with `http://…` it keeps it, and a bare origin gets the path `/api/v3`
 *   (src/managers/braze-instance.js). So `baseUrl: "http://127.0.0.1:PORT"` talks plain HTTP to
 *   this fake, no certificate or request rewriting needed.
 * - Every flush is an XHR `POST {baseUrl}/data/` with `Content-type: application/json` and
 *   `X-Requested-With` / `X-Braze-*` headers (src/request-controller.js, src/util/net.js), so a
 *   page on another origin first sends a CORS preflight, which this fake answers for `origins`.
 * - The body: `{ api_key, device_id, time, sdk_version, events?: [{ name, time, data, session_id,
 *   user_id? }], attributes?: [...], respond_with?, … }`; a custom event has `name: "ce"` and
 *   `data: { n: <event name>, p: <properties> }` (shared-lib/event-types.js).
 * - A 2xx answer must be JSON; `{ "error": "invalid_api_key" }` makes the SDK log an API-key error
 *   and re-queue the data (src/managers/network-manager.js, src/models/backend-errors.js).
 *
 * What the real endpoint answers on success is not documented; this fake answers `{}`, which
 * the SDK accepts as "no error, nothing to update".
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type NextFunction, type Request, type Response } from 'express';

/** Braze's custom event type in SDK payloads (shared-lib/event-types.js `CustomEvent`). */
export const CUSTOM_EVENT_TYPE = 'ce';
/** Braze's session start event type in SDK payloads (shared-lib/event-types.js). */
export const SESSION_START_TYPE = 'ss';
/** The path the Web SDK posts to under a bare-origin baseUrl. */
export const SDK_DATA_PATH = '/api/v3/data/';

type Json = any;

/** One POST the SDK made, as received. */
export interface SdkRequest {
  origin: string | undefined;
  headers: Record<string, string | string[] | undefined>;
  body: Json;
  /** Whether the fake accepted it (known API key, a device id). */
  accepted: boolean;
}

/** One custom event out of the accepted requests. */
export interface SdkCustomEvent {
  name: string;
  properties: Record<string, unknown>;
  userId: string | undefined;
  deviceId: string;
  /** Seconds since the epoch, as the SDK sends it. */
  time: number;
}

export interface FakeBrazeSdk {
  /** `http://127.0.0.1:PORT`: what a page passes as the SDK `baseUrl`. */
  baseUrl: string;
  /** Every data POST, accepted or not, in arrival order. */
  requests: SdkRequest[];
  /** Preflights answered (OPTIONS), for CORS assertions. */
  preflights: { origin: string | undefined; allowed: boolean }[];
  /** The custom events of accepted requests, optionally only those named `name`. */
  customEvents(name?: string): SdkCustomEvent[];
  /** The user ids of the session starts (`openSession`) in accepted requests, one entry per start. */
  sessionStarts(): (string | undefined)[];
  close(): Promise<void>;
}

export interface FakeBrazeSdkOptions {
  /** The Web SDK API key (app identifier) the fake accepts. */
  apiKey: string;
  /** Page origins allowed to post cross-origin (as the real endpoint allows any site). */
  origins: string[];
}

export async function startFakeBrazeSdk(options: FakeBrazeSdkOptions): Promise<FakeBrazeSdk> {
  const requests: SdkRequest[] = [];
  const preflights: FakeBrazeSdk['preflights'] = [];
  const allowed = new Set(options.origins);
  const app = express();

  const cors = (req: Request, res: Response, next: NextFunction) => {
    const origin = req.get('origin');
    const ok = origin !== undefined && allowed.has(origin);
    if (ok) {
      res.set({
        'Access-Control-Allow-Origin': origin,
        Vary: 'Origin',
        'Access-Control-Allow-Methods': 'POST',
        'Access-Control-Allow-Headers': req.get('access-control-request-headers') ?? 'content-type',
      });
    }
    if (req.method === 'OPTIONS') {
      preflights.push({ origin, allowed: ok });
      res.status(204).end();
      return;
    }
    next();
  };

  app.options(SDK_DATA_PATH, cors);
  app.post(SDK_DATA_PATH, cors, express.json({ type: () => true, limit: '1mb' }), (req, res) => {
    const body: Json = req.body;
    if (typeof body !== 'object' || body === null) {
      requests.push({ origin: req.get('origin'), headers: req.headers, body, accepted: false });
      res.status(400).json({ error: 'invalid_json' });
      return;
    }
    if (body.api_key !== options.apiKey) {
      requests.push({ origin: req.get('origin'), headers: req.headers, body, accepted: false });
      res.status(200).json({ error: 'invalid_api_key' });
      return;
    }
    if (typeof body.device_id !== 'string' || body.device_id === '') {
      requests.push({ origin: req.get('origin'), headers: req.headers, body, accepted: false });
      res.status(200).json({ error: 'no_device_identifier' });
      return;
    }
    requests.push({ origin: req.get('origin'), headers: req.headers, body, accepted: true });
    res.status(200).json({});
  });
  app.use((_req, res) => {
    res.status(404).json({ error: 'not_found' });
  });

  const server: Server = await new Promise((resolve, reject) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
    s.on('error', reject);
  });
  const port = (server.address() as AddressInfo).port;

  return {
    baseUrl: `http://127.0.0.1:${port}`,
    requests,
    preflights,
    sessionStarts() {
      return requests
        .filter((r) => r.accepted)
        .flatMap((r) => ((r.body.events ?? []) as Json[]).filter((e) => e?.name === SESSION_START_TYPE))
        .map((e) => e.user_id as string | undefined);
    },
    customEvents(name?: string): SdkCustomEvent[] {
      const out: SdkCustomEvent[] = [];
      for (const r of requests) {
        if (!r.accepted) continue;
        for (const e of (r.body.events ?? []) as Json[]) {
          if (e?.name !== CUSTOM_EVENT_TYPE) continue;
          if (name !== undefined && e.data?.n !== name) continue;
          out.push({
            name: e.data?.n,
            properties: e.data?.p ?? {},
            userId: e.user_id,
            deviceId: r.body.device_id,
            time: e.time,
          });
        }
      }
      return out;
    },
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections?.();
    },
  };
}
