/**
 * A local fake HubSpot (what nextbest does with it: docs/hubspot.md): contacts getPage / batch read / batch
 * update / search, list memberships, property and group creation, OAuth token and token-info
 * stubs. It enforces the documented limits (100 inputs per batch, 200 per search page, the
 * 10,000-result search cap, 5 searches per second, a 10-second rolling bucket and a daily cap,
 * each settable) with HubSpot's error JSON and X-HubSpot-RateLimit-* headers, and validates
 * every request body against the official OpenAPI specs in test/fixtures/hubspot-openapi/: an
 * invalid body gets a 400 and is recorded in `violations`.
 */
import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import express, { type Response } from 'express';

const SPEC_DIR = join(import.meta.dirname, '..', 'fixtures', 'hubspot-openapi');
const APP_MANIFEST = join(import.meta.dirname, '..', '..', 'manifest', 'hubspot', 'src', 'app', 'app-hsmeta.json');

/** The app's scopes as HubSpot knows them once the project is uploaded: its manifest's. */
function manifestScopes(): { required: string[]; optional: string[] } {
  const app = JSON.parse(readFileSync(APP_MANIFEST, 'utf8')) as {
    config: { auth: { requiredScopes: string[]; optionalScopes?: string[] } };
  };
  return { required: app.config.auth.requiredScopes, optional: app.config.auth.optionalScopes ?? [] };
}

/** The header a test's "admin" sends to the fake's authorize page to pick the account to install into. */
export const FAKE_PORTAL_HEADER = 'x-fake-portal-id';

/** A clock that only moves when told to (or when something sleeps on it). */
export class VirtualClock {
  constructor(public current: number) {}
  now = (): number => this.current;
  sleep = async (ms: number): Promise<void> => {
    this.current += Math.max(0, ms);
    await new Promise((resolve) => setImmediate(resolve));
  };
}

export interface FakeHubSpotOptions {
  clock?: () => number;
  /** Requests per 10-second rolling window per token (110 for marketplace apps). */
  burstMax?: number;
  burstWindowMs?: number;
  /** Requests per day before 429 DAILY (Infinity by default). */
  dailyMax?: number;
  searchPerSecond?: number;
  /** Results one search query may page through (HubSpot: 10,000). */
  searchResultCap?: number;
  clientId?: string;
  clientSecret?: string;
  redirectUri?: string;
  /** Lifetime of issued access tokens, seconds. */
  tokenTtlSeconds?: number;
  hubId?: number;
  /** A static private-app token that is always accepted. */
  privateAppToken?: string;
  /** The app's required scopes (default: manifest/hubspot's `requiredScopes`, as HubSpot has them after upload). */
  requiredScopes?: string[];
  /** The app's optional scopes (default: the manifest's `optionalScopes`). */
  optionalScopes?: string[];
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, unknown>;
  body: unknown;
  status: number;
  at: number;
  /** The portal (hub id) the bearer token acts for; undefined for OAuth endpoints and refused tokens. */
  hubId?: number;
}

export interface Violation {
  method: string;
  path: string;
  errors: string;
}

/** A scripted failure: the next `times` calls matching `path` answer `status` with `body`. */
export interface InjectedFailure {
  path: string;
  status: number;
  body?: unknown;
  times: number;
  headers?: Record<string, string>;
}

interface Operation {
  method: string;
  pattern: RegExp;
  spec: string;
  schemaRef?: string;
}

const OPERATIONS: Operation[] = [
  {
    method: 'POST',
    pattern: /^\/crm\/v3\/objects\/contacts\/batch\/read$/,
    spec: 'contacts.json',
    schemaRef: '#/components/schemas/BatchReadInputSimplePublicObjectId',
  },
  {
    method: 'POST',
    pattern: /^\/crm\/v3\/objects\/contacts\/batch\/update$/,
    spec: 'contacts.json',
    schemaRef: '#/components/schemas/BatchInputSimplePublicObjectBatchInput',
  },
  {
    method: 'POST',
    pattern: /^\/crm\/v3\/objects\/contacts\/search$/,
    spec: 'contacts.json',
    schemaRef: '#/components/schemas/PublicObjectSearchRequest',
  },
  {
    method: 'POST',
    pattern: /^\/crm\/v3\/properties\/[^/]+$/,
    spec: 'properties.json',
    schemaRef: '#/components/schemas/PropertyCreate',
  },
  {
    method: 'POST',
    pattern: /^\/crm\/v3\/properties\/[^/]+\/groups$/,
    spec: 'properties.json',
    schemaRef: '#/components/schemas/PropertyGroupCreate',
  },
  {
    method: 'POST',
    pattern: /^\/oauth\/v1\/token$/,
    spec: 'oauth.json',
    schemaRef: '#/paths/~1oauth~1v1~1token/post/requestBody/content/application~1x-www-form-urlencoded/schema',
  },
  { method: 'GET', pattern: /^\/oauth\/v1\/access-tokens\/[^/]+$/, spec: 'oauth.json' },
  { method: 'GET', pattern: /^\/oauth\/authorize$/, spec: 'oauth.json' },
  { method: 'DELETE', pattern: /^\/appinstalls\/v3\/external-install$/, spec: 'appinstalls' },
  { method: 'GET', pattern: /^\/crm\/v3\/objects\/contacts$/, spec: 'contacts.json' },
  { method: 'GET', pattern: /^\/crm\/v3\/lists\/[^/]+\/memberships$/, spec: 'lists' },
];

/** Ajv over the copied OpenAPI documents; `#/...` refs resolve inside each document. */
export function openApiValidators(): {
  validator(spec: string, ref: string): ValidateFunction;
  responseValidator(spec: string, ref: string): ValidateFunction;
} {
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats.default(ajv);
  ajv.addFormat('int32', {
    type: 'number',
    validate: (n: number) => Number.isInteger(n) && n >= -(2 ** 31) && n < 2 ** 31,
  });
  ajv.addFormat('int64', { type: 'number', validate: (n: number) => Number.isInteger(n) });
  for (const spec of ['contacts.json', 'properties.json', 'oauth.json']) {
    const doc = JSON.parse(readFileSync(join(SPEC_DIR, spec), 'utf8')) as Record<string, unknown>;
    if (spec === 'contacts.json') sortsAsDocumented(doc);
    ajv.addSchema(doc, spec);
  }
  const get = (spec: string, ref: string) => {
    const fn = ajv.getSchema(`${spec}${ref}`);
    if (!fn) throw new Error(`no schema ${spec}${ref}`);
    return fn;
  };
  return { validator: get, responseValidator: get };
}

/**
 * The contacts spec types `PublicObjectSearchRequest.sorts` as `string[]`; HubSpot's search guide
 * documents `{propertyName, direction}` objects, and HubSpot ignores a string (see searchOrder).
 * Both shapes pass validation; which one HubSpot honours is the fake's search handler's business.
 */
function sortsAsDocumented(doc: Record<string, unknown>): void {
  const schemas = (doc.components as { schemas: Record<string, { properties: Record<string, unknown> }> }).schemas;
  schemas.PublicObjectSearchRequest.properties.sorts = {
    type: 'array',
    items: {
      anyOf: [
        { type: 'string' },
        {
          type: 'object',
          required: ['propertyName'],
          properties: { propertyName: { type: 'string' }, direction: { enum: ['ASCENDING', 'DESCENDING'] } },
          additionalProperties: false,
        },
      ],
    },
  };
}

interface Token {
  accessToken: string;
  refreshToken: string;
  expiresAt: number;
  /** The portal that granted it. */
  hubId: number;
  /** The scopes the install granted. */
  scopes: string[];
}

/** One HubSpot account (portal) of the fake: its own contacts, lists, properties and rate-limit counts. */
export class FakePortal {
  readonly contacts = new Map<string, Record<string, string>>();
  readonly lists = new Map<string, string[]>();
  readonly properties = new Map<string, Record<string, unknown>>();
  readonly groups = new Map<string, Record<string, unknown>>();
  /** Every batch update body written to this portal, in order. */
  readonly updates: { id: string; properties: Record<string, string> }[][] = [];
  /** When the requests of the burst window and of the search second were answered. */
  readonly burst: number[] = [];
  readonly searches: number[] = [];
  daily = 0;

  constructor(readonly hubId: number) {}

  /** Adds contacts `first..first+count-1` with properties from `make(id)`. */
  seedContacts(first: number, count: number, make: (id: number) => Record<string, string> = () => ({})): string[] {
    const ids: string[] = [];
    for (let i = first; i < first + count; i++) {
      this.contacts.set(String(i), { hs_object_id: String(i), ...make(i) });
      ids.push(String(i));
    }
    return ids;
  }
}

export class FakeHubSpot {
  /** The portals, by hub id; the fake's own (`options.hubId`) is the one the fields below name. */
  readonly portals = new Map<number, FakePortal>();
  readonly contacts: Map<string, Record<string, string>>;
  readonly lists: Map<string, string[]>;
  readonly properties: Map<string, Record<string, unknown>>;
  readonly groups: Map<string, Record<string, unknown>>;
  readonly requests: RecordedRequest[] = [];
  readonly violations: Violation[] = [];
  /** Every batch update body written to the fake's own portal, in order (what was written). */
  readonly updates: { id: string; properties: Record<string, string> }[][];
  /** Portals that uninstalled the app (DELETE /appinstalls/v3/external-install). */
  readonly uninstalled: number[] = [];
  readonly options: Required<Omit<FakeHubSpotOptions, 'privateAppToken'>> & { privateAppToken?: string };
  private readonly failures: InjectedFailure[] = [];
  /** Authorization codes not yet exchanged, with the portal that granted each and the scopes it granted. */
  private readonly codes = new Map<string, { hubId: number; scopes: string[] }>();
  private readonly tokens = new Map<string, Token>();
  private readonly refreshTokens = new Map<string, string>();
  private seq = 0;
  private server?: Server;
  url = '';

  constructor(options: FakeHubSpotOptions = {}) {
    this.options = {
      clock: options.clock ?? Date.now,
      burstMax: options.burstMax ?? 110,
      burstWindowMs: options.burstWindowMs ?? 10_000,
      dailyMax: options.dailyMax ?? Infinity,
      searchPerSecond: options.searchPerSecond ?? 5,
      searchResultCap: options.searchResultCap ?? 10_000,
      clientId: options.clientId ?? 'fake-client-id',
      clientSecret: options.clientSecret ?? 'fake-client-secret',
      redirectUri: options.redirectUri ?? 'https://nextbest.example.com/oauth/hubspot/callback',
      tokenTtlSeconds: options.tokenTtlSeconds ?? 1800,
      hubId: options.hubId ?? 4_242_424,
      privateAppToken: options.privateAppToken,
      requiredScopes: options.requiredScopes ?? manifestScopes().required,
      optionalScopes: options.optionalScopes ?? manifestScopes().optional,
    };
    const home = this.portal(this.options.hubId);
    this.contacts = home.contacts;
    this.lists = home.lists;
    this.properties = home.properties;
    this.groups = home.groups;
    this.updates = home.updates;
  }

  /** Portal `hubId` (created empty on first use). */
  portal(hubId: number): FakePortal {
    let p = this.portals.get(hubId);
    if (!p) {
      p = new FakePortal(hubId);
      this.portals.set(hubId, p);
    }
    return p;
  }

  /** Adds contacts `first..first+count-1` with properties from `make(id)`. */
  seedContacts(first: number, count: number, make: (id: number) => Record<string, string> = () => ({})): string[] {
    return this.portal(this.options.hubId).seedContacts(first, count, make);
  }

  /**
   * An authorization code the OAuth callback can exchange (what HubSpot appends to the redirect),
   * granted by portal `hubId` (default: the fake's own).
   */
  issueCode(hubId = this.options.hubId, scopes = [...this.options.requiredScopes]): string {
    const code = `code-${++this.seq}`;
    this.codes.set(code, { hubId, scopes });
    return code;
  }

  fail(failure: InjectedFailure): void {
    this.failures.push({ ...failure });
  }

  setBurstMax(max: number): void {
    this.options.burstMax = max;
  }

  setDailyMax(max: number): void {
    this.options.dailyMax = max;
  }

  requestsTo(path: RegExp | string, method = 'POST'): RecordedRequest[] {
    return this.requests.filter(
      (r) => r.method === method && (typeof path === 'string' ? r.path === path : path.test(r.path)),
    );
  }

  async start(): Promise<this> {
    const app = this.app();
    this.server = await new Promise<Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async close(): Promise<void> {
    if (!this.server) return;
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
    this.server.closeAllConnections?.();
  }

  private app(): express.Express {
    const app = express();
    const { validator } = openApiValidators();
    app.use(express.json({ limit: '5mb' }));
    app.use(express.urlencoded({ extended: false }));

    // record, validate, authenticate, rate-limit
    app.use((req, res, next) => {
      const now = this.options.clock();
      const entry: RecordedRequest = {
        method: req.method,
        path: req.path,
        query: { ...req.query },
        body: req.body,
        status: 0,
        at: now,
      };
      this.requests.push(entry);
      res.on('finish', () => (entry.status = res.statusCode));
      const op = OPERATIONS.find((o) => o.method === req.method && o.pattern.test(req.path));
      if (!op) return error(res, 404, 'OBJECT_NOT_FOUND', `no fake route ${req.method} ${req.path}`);
      if (op.schemaRef) {
        const validate = validator(op.spec, op.schemaRef);
        if (!validate(req.body ?? {})) {
          const errors = (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}`).join('; ');
          this.violations.push({ method: req.method, path: req.path, errors });
          return error(res, 400, 'VALIDATION_ERROR', `Invalid input JSON: ${errors}`);
        }
      }
      if (req.path.startsWith('/oauth/')) return next();
      const auth = /^Bearer (.+)$/.exec(req.get('authorization') ?? '');
      const token = auth ? this.tokens.get(auth[1]) : undefined;
      const privateApp = auth !== null && auth[1] === this.options.privateAppToken;
      const valid = privateApp || (token !== undefined && token.expiresAt > now);
      if (valid) entry.hubId = privateApp ? this.options.hubId : token!.hubId;
      const portal = valid ? this.portal(entry.hubId!) : undefined;
      res.locals.portal = portal;
      if (!valid)
        return error(
          res,
          401,
          'INVALID_AUTHENTICATION',
          'Authentication credentials not found. This API supports OAuth 2.0 authentication.',
        );
      const injected = this.failures.find((f) => f.times > 0 && (f.path === req.path || f.path === '*'));
      if (injected) {
        injected.times--;
        if (injected.headers) res.set(injected.headers);
        res.status(injected.status).json(
          injected.body ?? {
            status: 'error',
            message: 'injected failure',
            category: 'INTERNAL_ERROR',
            correlationId: this.correlationId(),
          },
        );
        return;
      }
      if (req.path === '/crm/v3/objects/contacts/search') {
        // search: its own 5/s limit, no rate-limit headers, exempt from the burst bucket
        const { searches } = portal!;
        while (searches.length > 0 && searches[0] <= now - 1000) searches.shift();
        if (searches.length >= this.options.searchPerSecond) {
          res.status(429).json({
            status: 'error',
            message: 'You have reached your secondly limit.',
            errorType: 'RATE_LIMIT',
            correlationId: this.correlationId(),
            policyName: 'SECONDLY',
          });
          return;
        }
        searches.push(now);
        return next();
      }
      const { burst } = portal!;
      if (portal!.daily >= this.options.dailyMax) {
        res.set({
          'X-HubSpot-RateLimit-Daily': String(this.options.dailyMax),
          'X-HubSpot-RateLimit-Daily-Remaining': '0',
        });
        res.status(429).json({
          status: 'error',
          message: 'You have reached your daily limit.',
          errorType: 'RATE_LIMIT',
          correlationId: this.correlationId(),
          policyName: 'DAILY',
          requestId: this.correlationId(),
        });
        return;
      }
      while (burst.length > 0 && burst[0] <= now - this.options.burstWindowMs) burst.shift();
      const headers = {
        'X-HubSpot-RateLimit-Interval-Milliseconds': String(this.options.burstWindowMs),
        'X-HubSpot-RateLimit-Max': String(this.options.burstMax),
      };
      if (burst.length >= this.options.burstMax) {
        res.set({ ...headers, 'X-HubSpot-RateLimit-Remaining': '0' });
        res.status(429).json({
          status: 'error',
          message: 'You have reached your ten_secondly_rolling limit.',
          errorType: 'RATE_LIMIT',
          correlationId: this.correlationId(),
          policyName: 'TEN_SECONDLY_ROLLING',
          requestId: this.correlationId(),
        });
        return;
      }
      burst.push(now);
      portal!.daily++;
      res.set({ ...headers, 'X-HubSpot-RateLimit-Remaining': String(this.options.burstMax - burst.length) });
      next();
    });

    app.get('/crm/v3/objects/contacts', (req, res) => {
      const p = res.locals.portal as FakePortal;
      const limit = Number(req.query.limit ?? 10);
      if (limit > 100) return error(res, 400, 'VALIDATION_ERROR', `limit may not exceed 100, got ${limit}`);
      const props = String(req.query.properties ?? '')
        .split(',')
        .filter(Boolean);
      const ids = sortedIds(p);
      const start = req.query.after ? ids.findIndex((id) => Number(id) > Number(req.query.after)) : 0;
      const page = start < 0 ? [] : ids.slice(start, start + limit);
      const more = start >= 0 && start + limit < ids.length;
      res.json({
        results: page.map((id) => this.objectOf(p, id, props)),
        ...(more ? { paging: { next: { after: page[page.length - 1], link: '' } } } : {}),
      });
    });

    app.post('/crm/v3/objects/contacts/batch/read', (req, res) => {
      const p = res.locals.portal as FakePortal;
      const body = req.body as { inputs: { id: string }[]; properties: string[] };
      if (body.inputs.length > 100)
        return error(res, 400, 'VALIDATION_ERROR', `Batch input limit exceeded: ${body.inputs.length} > 100`);
      const found = body.inputs.filter((i) => p.contacts.has(i.id));
      const missing = body.inputs.filter((i) => !p.contacts.has(i.id)).map((i) => i.id);
      const stamp = new Date(this.options.clock()).toISOString();
      const reply = {
        status: 'COMPLETE',
        results: found.map((i) => this.objectOf(p, i.id, body.properties)),
        startedAt: stamp,
        completedAt: stamp,
      };
      if (missing.length === 0) return res.status(200).json(reply);
      res.status(207).json({
        ...reply,
        numErrors: 1,
        errors: [
          {
            status: 'error',
            category: 'OBJECT_NOT_FOUND',
            message: 'Could not get some CONTACT objects, they may be deleted or not exist. Check that ids are valid.',
            context: { ids: missing },
            links: {},
            errors: [],
          },
        ],
      });
    });

    app.post('/crm/v3/objects/contacts/batch/update', (req, res) => {
      const p = res.locals.portal as FakePortal;
      const body = req.body as { inputs: { id: string; properties: Record<string, string> }[] };
      if (body.inputs.length > 100)
        return error(res, 400, 'VALIDATION_ERROR', `Batch input limit exceeded: ${body.inputs.length} > 100`);
      const ids = body.inputs.map((i) => i.id);
      if (new Set(ids).size !== ids.length)
        return error(res, 400, 'VALIDATION_ERROR', 'Duplicate IDs found in batch input');
      const unknownProperty = body.inputs
        .flatMap((i) => Object.keys(i.properties))
        .find(
          (name) =>
            !p.properties.has(name) &&
            !name.startsWith('hs_') &&
            !['email', 'firstname', 'lastname', 'lifecyclestage'].includes(name),
        );
      if (unknownProperty)
        return error(
          res,
          400,
          'VALIDATION_ERROR',
          `Property values were not valid: Property "${unknownProperty}" does not exist`,
        );
      const ok = body.inputs.filter((i) => p.contacts.has(i.id));
      const missing = body.inputs.filter((i) => !p.contacts.has(i.id)).map((i) => i.id);
      for (const i of ok) Object.assign(p.contacts.get(i.id)!, i.properties);
      p.updates.push(ok.map((i) => ({ id: i.id, properties: { ...i.properties } })));
      const stamp = new Date(this.options.clock()).toISOString();
      const reply = {
        status: 'COMPLETE',
        results: ok.map((i) => this.objectOf(p, i.id, Object.keys(i.properties))),
        startedAt: stamp,
        completedAt: stamp,
      };
      if (missing.length === 0) return res.status(200).json(reply);
      res.status(207).json({
        ...reply,
        numErrors: 1,
        errors: [
          {
            status: 'error',
            category: 'OBJECT_NOT_FOUND',
            message: 'Could not update some CONTACT objects, they may be deleted or not exist.',
            context: { ids: missing },
            links: {},
            errors: [],
          },
        ],
      });
    });

    app.post('/crm/v3/objects/contacts/search', (req, res) => {
      const p = res.locals.portal as FakePortal;
      const body = req.body as {
        filterGroups?: { filters: { propertyName: string; operator: string; value?: string }[] }[];
        sorts?: unknown[];
        properties?: string[];
        limit?: number;
        after?: string;
      };
      const limit = body.limit ?? 10;
      if (limit > 200) return error(res, 400, 'VALIDATION_ERROR', `limit may not exceed 200, got ${limit}`);
      const offset = Number(body.after ?? 0);
      if (offset + limit > this.options.searchResultCap)
        return error(
          res,
          400,
          'VALIDATION_ERROR',
          `paging past ${this.options.searchResultCap} results is not allowed (after=${offset}, limit=${limit})`,
        );
      const groups = body.filterGroups ?? [];
      const matches = searchOrder(p, body.sorts ?? []).filter(
        (id) =>
          groups.length === 0 || groups.some((g) => g.filters.every((f) => matchesFilter(p.contacts.get(id)!, id, f))),
      );
      const page = matches.slice(offset, offset + limit);
      const more = offset + limit < matches.length;
      res.json({
        total: matches.length,
        results: page.map((id) => this.objectOf(p, id, body.properties ?? [])),
        ...(more ? { paging: { next: { after: String(offset + limit), link: '' } } } : {}),
      });
    });

    app.get('/crm/v3/lists/:listId/memberships', (req, res) => {
      const p = res.locals.portal as FakePortal;
      const members = p.lists.get(String(req.params.listId));
      if (!members) return error(res, 404, 'OBJECT_NOT_FOUND', `list ${String(req.params.listId)} does not exist`);
      const limit = Number(req.query.limit ?? 100);
      if (!Number.isInteger(limit) || limit < 1 || limit > 250)
        return error(res, 400, 'VALIDATION_ERROR', `limit must be in [1, 250], got ${String(req.query.limit)}`);
      const offset = Number(req.query.after ?? 0);
      const page = members.slice(offset, offset + limit);
      const more = offset + limit < members.length;
      res.json({
        total: members.length,
        results: page.map((recordId) => ({
          recordId,
          membershipTimestamp: new Date(this.options.clock()).toISOString(),
        })),
        ...(more ? { paging: { next: { after: String(offset + limit) } } } : {}),
      });
    });

    app.post('/crm/v3/properties/:objectType/groups', (req, res) => {
      const p = res.locals.portal as FakePortal;
      const body = req.body as { name: string; label: string; displayOrder?: number };
      if (p.groups.has(body.name))
        return error(res, 409, 'OBJECT_ALREADY_EXISTS', `A property group named ${body.name} already exists.`);
      p.groups.set(body.name, body);
      res
        .status(201)
        .json({ name: body.name, label: body.label, displayOrder: body.displayOrder ?? -1, archived: false });
    });

    app.post('/crm/v3/properties/:objectType', (req, res) => {
      const p = res.locals.portal as FakePortal;
      const body = req.body as { name: string; groupName: string };
      if (!p.groups.has(body.groupName) && body.groupName !== 'contactinformation')
        return error(res, 400, 'VALIDATION_ERROR', `Property group ${body.groupName} does not exist.`);
      if (p.properties.has(body.name))
        return error(res, 409, 'OBJECT_ALREADY_EXISTS', `Property named ${body.name} already exists.`);
      p.properties.set(body.name, body);
      const stamp = new Date(this.options.clock()).toISOString();
      res.status(201).json({
        ...body,
        createdAt: stamp,
        updatedAt: stamp,
        archived: false,
        options: (body as { options?: unknown[] }).options ?? [],
      });
    });

    // the app uninstalled from the token's portal: every token of that portal stops working
    app.delete('/appinstalls/v3/external-install', (_req, res) => {
      const hubId = (res.locals.portal as FakePortal).hubId;
      for (const [access, t] of this.tokens)
        if (t.hubId === hubId) {
          this.tokens.delete(access);
          this.refreshTokens.delete(t.refreshToken);
        }
      this.uninstalled.push(hubId);
      res.status(204).end();
    });

    app.post('/oauth/v1/token', (req, res) => {
      const form = req.body as Record<string, string>;
      if (form.client_id !== this.options.clientId || form.client_secret !== this.options.clientSecret)
        return oauthError(res, 'BAD_CLIENT_ID', 'missing or unknown client id / secret');
      let refreshToken: string;
      let hubId: number;
      let scopes: string[];
      if (form.grant_type === 'authorization_code') {
        if (form.redirect_uri !== this.options.redirectUri)
          return oauthError(res, 'BAD_REDIRECT_URI', 'redirect_uri does not match');
        const granted = form.code ? this.codes.get(form.code) : undefined;
        if (granted === undefined) return oauthError(res, 'BAD_AUTH_CODE', 'missing or unknown auth code');
        this.codes.delete(form.code);
        hubId = granted.hubId;
        scopes = granted.scopes;
        refreshToken = `refresh-${++this.seq}`;
      } else if (form.grant_type === 'refresh_token') {
        const previous = form.refresh_token ? this.refreshTokens.get(form.refresh_token) : undefined;
        if (previous === undefined) return oauthError(res, 'BAD_REFRESH_TOKEN', 'missing or unknown refresh token');
        ({ hubId, scopes } = this.tokens.get(previous)!);
        refreshToken = form.refresh_token;
      } else return oauthError(res, 'BAD_GRANT_TYPE', `unsupported grant_type ${form.grant_type}`);
      const accessToken = `access-${++this.seq}-${'x'.repeat(24)}`;
      this.tokens.set(accessToken, {
        accessToken,
        refreshToken,
        expiresAt: this.options.clock() + this.options.tokenTtlSeconds * 1000,
        hubId,
        scopes,
      });
      this.refreshTokens.set(refreshToken, accessToken);
      res.json({
        token_type: 'bearer',
        refresh_token: refreshToken,
        access_token: accessToken,
        expires_in: this.options.tokenTtlSeconds,
      });
    });

    app.get('/oauth/authorize', (req, res) => this.authorize(req, res));

    app.get('/oauth/v1/access-tokens/:token', (req, res) => {
      const t = this.tokens.get(String(req.params.token));
      if (!t || t.expiresAt <= this.options.clock())
        return error(res, 404, 'OBJECT_NOT_FOUND', 'access token not found or expired');
      res.json({
        token: t.accessToken,
        user: 'admin@example.com',
        hub_domain: 'example.com',
        scopes: t.scopes,
        hub_id: t.hubId,
        app_id: 777,
        expires_in: Math.round((t.expiresAt - this.options.clock()) / 1000),
        user_id: 12,
        token_type: 'access',
      });
    });

    return app;
  }

  /**
   * HubSpot's authorize page, once the admin chose the account (header FAKE_PORTAL_HEADER, default
   * the fake's own): the install URL must name this app's client id and a registered redirect URL,
   * and its `scope` must hold every required scope of the app, and nothing that is not a scope of
   * the app, else HubSpot shows an error page and installs nothing. Granted: a redirect to the app's
   * callback with a code and the state.
   */
  private authorize(req: express.Request, res: Response): void {
    const q = req.query as Record<string, string | undefined>;
    const asked = (q.scope ?? '').split(' ').filter(Boolean);
    const optional = (q.optional_scope ?? '').split(' ').filter(Boolean);
    const { requiredScopes, optionalScopes } = this.options;
    const missing = requiredScopes.filter((s) => !asked.includes(s));
    const unknown = [...asked, ...optional].filter((s) => !requiredScopes.includes(s) && !optionalScopes.includes(s));
    const refuse = (why: string) => res.status(400).type('html').send(`<html><body><h1>${why}</h1></body></html>`);
    if (q.client_id !== this.options.clientId) return void refuse('Authorization failed: unknown client_id');
    if (q.redirect_uri !== this.options.redirectUri)
      return void refuse('Authorization failed: redirect_uri does not match the app');
    if (missing.length > 0)
      return void refuse(
        `Authorization failed because the provided scopes are insufficient (missing: ${missing.join(' ')})`,
      );
    if (unknown.length > 0)
      return void refuse(`Authorization failed: scopes mismatch (not scopes of this app: ${unknown.join(' ')})`);
    const hubId = Number(req.get(FAKE_PORTAL_HEADER) ?? this.options.hubId);
    const back = new URL(q.redirect_uri);
    back.searchParams.set('code', this.issueCode(hubId, [...asked, ...optional]));
    if (q.state !== undefined) back.searchParams.set('state', q.state);
    res.redirect(302, back.toString());
  }

  /** Bumps an access token's expiry to `at` (to test refresh without waiting). */
  expireTokensAt(at: number): void {
    for (const t of this.tokens.values()) t.expiresAt = Math.min(t.expiresAt, at);
  }

  private objectOf(p: FakePortal, id: string, props: string[]): Record<string, unknown> {
    const all = p.contacts.get(id)!;
    const stamp = new Date(this.options.clock()).toISOString();
    const properties: Record<string, string | null> = { hs_object_id: id };
    for (const p of props) properties[p] = all[p] ?? null;
    return { id, properties, createdAt: stamp, updatedAt: stamp, archived: false };
  }

  private correlationId(): string {
    return `00000000-0000-4000-8000-${String(++this.seq).padStart(12, '0')}`;
  }
}

/**
 * The order of search results: by the first `{propertyName, direction}` sort. A plain string
 * sort is ignored, as SDK users report of HubSpot; without a sort HubSpot promises no order,
 * and the fake answers the most recently created first.
 */
function searchOrder(p: FakePortal, sorts: unknown[]): string[] {
  const sort = sorts.find(
    (s): s is { propertyName: string; direction?: string } =>
      typeof s === 'object' && s !== null && typeof (s as { propertyName?: unknown }).propertyName === 'string',
  );
  if (!sort) return sortedIds(p).reverse();
  const value = (id: string) => (sort.propertyName === 'hs_object_id' ? id : p.contacts.get(id)![sort.propertyName]);
  const sign = sort.direction === 'DESCENDING' ? -1 : 1;
  return sortedIds(p).sort((a, b) => sign * compareValues(value(a), value(b)));
}

function sortedIds(p: FakePortal): string[] {
  return [...p.contacts.keys()].sort((a, b) => Number(a) - Number(b));
}

/** Numbers by value, anything else as text; a missing value last. */
function compareValues(a: string | undefined, b: string | undefined): number {
  if (a === undefined || b === undefined) return a === b ? 0 : a === undefined ? 1 : -1;
  const [x, y] = [Number(a), Number(b)];
  if (a !== '' && b !== '' && Number.isFinite(x) && Number.isFinite(y)) return x - y;
  return a < b ? -1 : a > b ? 1 : 0;
}

function matchesFilter(
  props: Record<string, string>,
  id: string,
  f: { propertyName: string; operator: string; value?: string },
): boolean {
  const v = f.propertyName === 'hs_object_id' ? id : props[f.propertyName];
  switch (f.operator) {
    case 'EQ':
      return v === f.value;
    case 'NEQ':
      return v !== f.value;
    case 'GT':
      return v !== undefined && Number(v) > Number(f.value);
    case 'GTE':
      return v !== undefined && Number(v) >= Number(f.value);
    case 'LT':
      return v !== undefined && Number(v) < Number(f.value);
    case 'HAS_PROPERTY':
      return v !== undefined && v !== '';
    default:
      return false;
  }
}

function error(res: Response, status: number, category: string, message: string): void {
  res.status(status).json({ status: 'error', message, correlationId: `fake-${status}`, category });
}

function oauthError(res: Response, status: string, message: string): void {
  res.status(400).json({ status, message, correlationId: 'fake-oauth', category: 'VALIDATION_ERROR' });
}
