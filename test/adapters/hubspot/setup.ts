/**
 * Shared pieces of the HubSpot adapter tests: the example agent with a HubSpot delivery, decision
 * factories, a seeded RNG for jitter, a virtual clock shared by the adapter and the fake, and an
 * admin's browser going through the OAuth install.
 */
import { loadConfigFile, type AgentConfig, type Decision } from '../../../plugin/agent/index.ts';
import { Rng } from '../../../plugin/bandit/index.ts';
import { HubSpotCrm, INSTALL_COOKIE, OnePortal, signV3 } from '../../../adapters/hubspot/index.ts';
import type { Pacing } from '../../../adapters/kit/index.ts';
import { FAKE_PORTAL_HEADER, FakeHubSpot, VirtualClock, type FakeHubSpotOptions } from '../../fakes/hubspot.ts';
import { API_KEY, EXAMPLE_CONFIG, NOW } from '../../server/helpers.ts';

export { NOW };
export const CLIENT_SECRET = 'yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy';
export const PRIVATE_TOKEN = 'pat-test-token';

/** The example `winback` agent, delivering to HubSpot contact properties with prefix nb_. */
export async function winbackWithHubSpot(): Promise<AgentConfig> {
  const agent = (await loadConfigFile(EXAMPLE_CONFIG)).agents.find((a) => a.id === 'winback')!;
  return { ...agent, delivery: [{ to: 'hubspot', mode: 'contact_properties', prefix: 'nb_' }] };
}

export function pacingOn(clock: VirtualClock, seed = 'hubspot-tests'): Pacing {
  const rng = new Rng(seed);
  return { clock: clock.now, sleep: clock.sleep, random: () => rng.next() };
}

let seq = 0;
/** A decision for contact `userId` with the contract dimensions. */
export function makeDecision(userId: string, overrides: Partial<Decision> = {}): Decision {
  seq += 1;
  return {
    decisionId: `dec-${seq}`,
    agentId: 'winback',
    agentVersion: 1,
    userId,
    at: new Date(NOW).toISOString(),
    holdout: false,
    choices: {
      frequency: { arm: 'send', probability: 0.9 },
      channel: { arm: 'email', probability: 0.6 },
      send_time: { arm: '18', probability: 0.3 },
      subject_line: { arm: 'sl_urgency', probability: 0.5 },
      content_block: { arm: 'cb_specs', probability: 0.4 },
    },
    probability: 0.0324,
    sendAt: '2026-06-01T18:00:00.000Z',
    deliver: true,
    reason: 'explore',
    features: [],
    ...overrides,
  };
}

/** A started fake on a virtual clock, with a private-app token, and a CRM client for it (paced on that clock), as the one portal. */
export async function startFake(options: FakeHubSpotOptions = {}): Promise<{
  fake: FakeHubSpot;
  clock: VirtualClock;
  crm: HubSpotCrm;
  portals: OnePortal;
  pacing: Pacing;
}> {
  const clock = new VirtualClock(NOW);
  const fake = await new FakeHubSpot({ clock: clock.now, privateAppToken: PRIVATE_TOKEN, ...options }).start();
  const pacing = pacingOn(clock);
  const crm = new HubSpotCrm({ basePath: fake.url, accessToken: async () => PRIVATE_TOKEN, pacing });
  return { fake, clock, crm, portals: new OnePortal(crm), pacing };
}

/** What starting an install answered: the redirect to HubSpot, the browser's install cookie and the OAuth state. */
export interface InstallStart {
  status: number;
  /** The whole Set-Cookie header. */
  setCookie: string | null;
  /** The nonce the install cookie holds. */
  nonce?: string;
  location?: URL;
  state?: string;
  body: any;
}

/**
 * Opens `/oauth/hubspot/install` as an admin's browser does: with an admin key (default
 * `API_KEY`), or with an install link (`link`: the URL `POST /v1/hubspot/install-links` answered,
 * opened on the test server).
 */
export async function startInstall(
  server: { url: string },
  how: { key?: string | null; link?: string } = {},
): Promise<InstallStart> {
  const headers: Record<string, string> = {};
  const key = how.key === undefined && how.link === undefined ? API_KEY : how.key;
  if (key) headers.authorization = `Bearer ${key}`;
  const path = how.link ? `${new URL(how.link).pathname}${new URL(how.link).search}` : '/oauth/hubspot/install';
  const res = await fetch(`${server.url}${path}`, { redirect: 'manual', headers });
  const setCookie = res.headers.get('set-cookie');
  const location = res.headers.get('location') ? new URL(res.headers.get('location')!) : undefined;
  const json = (res.headers.get('content-type') ?? '').includes('json');
  return {
    status: res.status,
    setCookie,
    nonce: setCookie ? new RegExp(`${INSTALL_COOKIE}=([^;]+)`).exec(setCookie)?.[1] : undefined,
    location,
    state: location?.searchParams.get('state') ?? undefined,
    body: json ? await res.json() : await res.text(),
  };
}

/** HubSpot's redirect back to the callback with `code` and `state`, in the browser holding the install cookie `nonce`. */
export async function installCallback(
  server: { url: string },
  query: { code: string; state: string },
  nonce: string | undefined,
): Promise<{ status: number; body: any }> {
  const q = new URLSearchParams(query);
  const res = await fetch(`${server.url}/oauth/hubspot/callback?${q.toString()}`, {
    headers: nonce === undefined ? {} : { cookie: `other=1; ${INSTALL_COOKIE}=${nonce}` },
  });
  return { status: res.status, body: await res.json() };
}

/**
 * The admin's browser on HubSpot's authorize page (the fake's), choosing portal `hubId`: the
 * install URL as nextbest built it, sent to the fake. Answers the redirect back (code, state) or
 * HubSpot's refusal.
 */
export async function authorizeOnHubSpot(
  fake: FakeHubSpot,
  installUrl: URL,
  hubId?: number,
): Promise<{ status: number; code?: string; state?: string; page: string }> {
  const res = await fetch(`${fake.url}/oauth/authorize${installUrl.search}`, {
    redirect: 'manual',
    headers: hubId === undefined ? {} : { [FAKE_PORTAL_HEADER]: String(hubId) },
  });
  const back = res.headers.get('location') ? new URL(res.headers.get('location')!) : undefined;
  return {
    status: res.status,
    code: back?.searchParams.get('code') ?? undefined,
    state: back?.searchParams.get('state') ?? undefined,
    page: await res.text(),
  };
}

/** A whole install by an admin of portal `hubId` (default: the fake's own), through HubSpot's authorize page. */
export async function installPortal(
  server: { url: string },
  fake: FakeHubSpot,
  hubId?: number,
): Promise<{ status: number; body: any }> {
  const start = await startInstall(server);
  if (start.status !== 302) throw new Error(`install did not start: ${start.status} ${JSON.stringify(start.body)}`);
  const granted = await authorizeOnHubSpot(fake, start.location!, hubId);
  if (granted.status !== 302) throw new Error(`HubSpot refused the install: ${granted.status} ${granted.page}`);
  return installCallback(server, { code: granted.code!, state: granted.state! }, start.nonce);
}

/** POSTs `body` to `path` signed as HubSpot signs webhooks and workflow actions (v3, at `now`). */
export async function postSignedByHubSpot(
  server: { url: string },
  path: string,
  body: unknown,
  now: number,
): Promise<{ status: number; body: any }> {
  const raw = JSON.stringify(body);
  const uri = `${server.url}${path}`;
  const res = await fetch(uri, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'X-HubSpot-Signature-v3': signV3(CLIENT_SECRET, 'POST', uri, raw, String(now)),
      'X-HubSpot-Request-Timestamp': String(now),
    },
    body: raw,
  });
  return { status: res.status, body: await res.json() };
}
