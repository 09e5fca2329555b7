/**
 * Generated requests to every route, with each key scope and without a key: never a 5xx, never an
 * answer later than a bound, and the store unchanged after every 4xx. Bodies are arbitrary JSON,
 * valid bodies with one field replaced by arbitrary JSON, deep nesting, and non-JSON bytes; path
 * parameters are arbitrary strings, percent-encoded or not. The seed is fixed (test/setup).
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signV3 } from '../../adapters/hubspot/index.ts';
import { segmentWebhook } from '../../adapters/segment/index.ts';
import { segmentSignature } from '../../adapters/segment/signature.ts';
import { connectFromEnv, type Connections } from '../../plugin/connections.ts';
import type { RunningServer } from '../../plugin/server/index.ts';
import { installPortal } from '../adapters/hubspot/setup.ts';
import { FakeHubSpot } from '../fakes/hubspot.ts';
import {
  addApiKey,
  API_KEY,
  EXAMPLE_AGENT as AGENT,
  makeAgentInput,
  makeDecideBody,
  makeEvent,
  NOW,
  startTestServer,
  storeCounts,
  tempDir,
} from './helpers.ts';

const SECRET = 'fuzz-shared-secret';
/** No answer may take longer than this (a request that hangs is a failure, not a slow test). */
const ANSWER_BOUND_MS = 10_000;

let server: RunningServer;
let hubspot: FakeHubSpot;
let connections: Connections;
let dir: { path: string; remove: () => Promise<void> };
const keys: Record<string, string | null> = { none: null, admin: API_KEY };

beforeAll(async () => {
  hubspot = await new FakeHubSpot({
    clock: () => NOW,
    privateAppToken: 'pat-fuzz',
    clientId: 'fuzz-client',
    clientSecret: SECRET,
  }).start();
  dir = await tempDir();
  // the HubSpot routes as the CLI mounts them, against the fake
  connections = connectFromEnv(
    {
      HUBSPOT_CLIENT_ID: 'fuzz-client',
      HUBSPOT_CLIENT_SECRET: SECRET,
      HUBSPOT_REDIRECT_URI: 'https://nextbest.example.com/oauth/hubspot/callback',
      HUBSPOT_TOKEN_KEY: '0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0',
      HUBSPOT_TOKEN_DB: `${dir.path}/tokens.db`,
      HUBSPOT_BASE_PATH: hubspot.url,
    },
    [],
  );
  server = await startTestServer({
    extensions: [segmentWebhook({ settings: { sharedSecret: SECRET } }), ...connections.extensions],
  });
  // the portal of the workflow action below installed the app (one from any other portal is refused)
  const installed = await installPortal(server, hubspot, 62515);
  if (installed.status !== 200) throw new Error(`install failed: ${JSON.stringify(installed.body)}`);
  keys.decide = await addApiKey(server, 'nb_fuzz_decide', 'decide');
  keys.public = await addApiKey(server, 'nb_pk_fuzz_public', 'public');
});
afterAll(async () => {
  await server.close();
  await connections.close();
  await hubspot.close();
  await dir.remove();
});

/** HubSpot's v3 signature of a request to `path` at the service's time. */
function hubspotSigned(path: string) {
  return (raw: string): Record<string, string> => {
    const ts = String(NOW);
    return {
      'x-hubspot-signature-v3': signV3(SECRET, 'POST', `${server.url}${path}`, raw, ts),
      'x-hubspot-request-timestamp': ts,
    };
  };
}

interface Route {
  method: string;
  /** The path, with `{}` where a generated parameter goes. */
  path: string;
  /** A valid body to mutate (none: the route takes no body). */
  valid?: () => unknown;
  /** Signs the raw body the way the vendor does. */
  sign?: (raw: string) => Record<string, string>;
}

const ROUTES: Route[] = [
  { method: 'POST', path: `/v1/agents/{}/decide`, valid: () => makeDecideBody({ userId: 'fuzz-user' }) },
  { method: 'POST', path: `/v1/agents/{}/decide:batch`, valid: () => ({ users: [makeDecideBody()] }) },
  { method: 'GET', path: `/v1/connected-content/${AGENT}?user_id={}&request_id={}` },
  { method: 'GET', path: '/v1/decisions/{}' },
  { method: 'POST', path: '/v1/events', valid: () => ({ batch: [makeEvent()] }) },
  { method: 'GET', path: '/v1/agents/{}' },
  { method: 'PUT', path: '/v1/agents/fuzzed', valid: () => makeAgentInput({ id: 'fuzzed' }) },
  { method: 'GET', path: '/v1/agents/{}/report' },
  { method: 'POST', path: '/v1/keys', valid: () => ({ scope: 'decide', label: 'fuzz' }) },
  { method: 'DELETE', path: '/v1/users/{}' },
  { method: 'POST', path: '/v1/agents/{}/runs', valid: () => ({ audience: 'file:nothing-here.ndjson', dryRun: true }) },
  { method: 'GET', path: '/v1/runs' },
  { method: 'GET', path: '/v1/runs/{}' },
  { method: 'GET', path: '/healthz' },
  { method: 'GET', path: '/metrics' },
  {
    method: 'POST',
    path: '/v1/webhooks/segment',
    valid: () => [makeEvent()],
    sign: (raw) => ({ 'x-signature': segmentSignature(SECRET, raw) }),
  },
  {
    method: 'POST',
    path: '/v1/webhooks/hubspot',
    valid: () => [
      {
        eventId: 1,
        subscriptionId: 7,
        portalId: 62515,
        subscriptionType: 'contact.propertyChange',
        objectId: 501,
        occurredAt: NOW,
      },
    ],
    sign: hubspotSigned('/v1/webhooks/hubspot'),
  },
  {
    method: 'POST',
    path: '/v1/hubspot/workflow-actions/decide',
    valid: () => ({
      callbackId: 'cb-1',
      origin: { portalId: 62515 },
      object: { objectId: 501, properties: { email_subscribed: 'true' } },
      inputFields: { agentId: AGENT },
    }),
    sign: hubspotSigned('/v1/hubspot/workflow-actions/decide'),
  },
  { method: 'POST', path: '/v1/hubspot/install-links', valid: () => ({}) },
  { method: 'GET', path: '/oauth/hubspot/install?link={}' },
  { method: 'GET', path: '/oauth/hubspot/callback?code={}&state={}' },
];

/** A path parameter: the agent's id, an arbitrary string (encoded), or raw bytes that may not decode. */
const param = fc.oneof(
  fc.constant(AGENT),
  fc.string({ maxLength: 40 }).map(encodeURIComponent),
  fc.constantFrom('%', '%E0%A4%A', '%00', '..%2F..', '%F0%9F%98', 'a%zz'),
);

/** A body: arbitrary JSON, a valid one with one field replaced, a deep nest, or bytes that are not JSON. */
function body(valid: (() => unknown) | undefined): fc.Arbitrary<string | undefined> {
  const json = fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v));
  const deep = fc.integer({ min: 50, max: 5_000 }).map((n) => '['.repeat(n) + ']'.repeat(n));
  const junk = fc.constantFrom('', '{', 'null', '\u0000', '{"a":1}{', '\uFFFF', 'x'.repeat(3));
  const options = [json, deep, junk];
  if (valid) options.push(mutated(valid));
  return fc.oneof(...options);
}

/** A valid body with one top-level field (or an element's field) replaced by arbitrary JSON or removed. */
function mutated(valid: () => unknown): fc.Arbitrary<string> {
  return fc.tuple(fc.nat(), fc.option(fc.jsonValue({ maxDepth: 3 }))).map(([i, value]) => {
    const v = valid() as Record<string, unknown> | unknown[];
    const target = (Array.isArray(v) ? v[0] : v) as Record<string, unknown>;
    const inner = Object.values(target).find((x) => Array.isArray(x)) as Record<string, unknown>[] | undefined;
    const obj = inner?.[0] && i % 2 === 0 ? inner[0] : target;
    const fields = Object.keys(obj);
    const field = fields[i % fields.length]!;
    if (value === null) delete obj[field];
    else obj[field] = value;
    return JSON.stringify(v);
  });
}

async function send(route: Route, params: string[], raw: string | undefined, key: string | null) {
  let k = 0;
  const path = route.path.replace(/\{\}/g, () => params[k++ % params.length]!);
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (key) headers.authorization = `Bearer ${key}`;
  if (route.sign && raw !== undefined) Object.assign(headers, route.sign(raw));
  const res = await fetch(`${server.url}${path}`, {
    method: route.method,
    headers,
    body: route.method === 'GET' ? undefined : raw,
    signal: AbortSignal.timeout(ANSWER_BOUND_MS),
  });
  const text = await res.text();
  if (process.env.FUZZ_DEBUG) console.log(route.method, path, res.status, text.slice(0, 300));
  return res.status;
}

describe('the valid bodies the fuzzer mutates', () => {
  for (const route of ROUTES.filter((r) => r.valid)) {
    it(`are accepted by ${route.method} ${route.path}, so that mutations reach past the checks`, async () => {
      const status = await send(route, [AGENT], JSON.stringify(route.valid!()), API_KEY);
      expect(status).toBeLessThan(route.path.includes('/runs') ? 500 : 300);
    });
  }
});

describe('generated requests to every route', () => {
  for (const route of ROUTES) {
    it(`${route.method} ${route.path}: never a 5xx, always an answer, nothing changed by a 4xx`, async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(param, { minLength: 2, maxLength: 2 }),
          body(route.valid),
          fc.constantFrom(...Object.keys(keys)),
          async (params, raw, scope) => {
            const before = await storeCounts(server);
            const status = await send(route, params, raw, keys[scope]!);
            expect(status, `${scope} key`).toBeLessThan(500);
            if (status >= 400) expect(await storeCounts(server)).toEqual(before);
          },
        ),
        { numRuns: 30 },
      );
    });
  }
});
