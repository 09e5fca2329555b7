/**
 * The onsite module (adapters/braze/web) in a real browser: Debian's headless Chromium loads a
 * shop page from one local origin, the bundle decides against the real nextbest server on
 * another origin (CORS for real) with a public key, fills the content-block slot and records the
 * exposure with the real `@braze/web-sdk`, whose baseUrl points at a local fake Braze SDK
 * endpoint (test/fakes/braze-sdk.ts) that records what arrives on the wire.
 */
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildBrazeWebBundles, IIFE_FILE } from '../../../adapters/braze/web/build.ts';
import { InMemoryProfileSource, loadConfigFile } from '../../../plugin/agent/index.ts';
import type { RunningServer } from '../../../plugin/server/index.ts';
import { startFakeBrazeSdk, type FakeBrazeSdk } from '../../fakes/braze-sdk.ts';
import { chromiumForTests } from '../../helpers/chromium.ts';
import {
  addApiKey,
  call,
  consentingTraits,
  EXAMPLE_AGENT,
  EXAMPLE_CONFIG,
  exampleUser,
  startTestServer,
  storeCounts,
  tempDir,
} from '../../server/helpers.ts';

/** Skipped with a line saying how to get a browser when there is none, except under CI=true, where that fails. */
const CHROMIUM = chromiumForTests();
const describeInBrowser = describe.skipIf(CHROMIUM === undefined);
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const PUBLIC_KEY = 'nb_pk_shop_content_blocks';
const BRAZE_API_KEY = 'braze-web-app-identifier';
const EXPOSURE = 'nextbest_exposure';
const DIMENSION = 'content_block';
const SHOP_PATH = '/shop/running-shoes';
/** The visitor's time zone: 14:00 there at the server's fixed clock (12:00 UTC), outside quiet hours. */
const VISITOR_TIMEZONE = 'Europe/Paris';
/** A fixed requestId makes the decision reproducible (its randomness is forked by the decision id derived from it). */
const MAIN_REQUEST_ID = 'pv-running-shoes-7';

type Json = any;

let bundleDir: { path: string; remove: () => Promise<void> };
let shop: StaticShop;
let braze: FakeBrazeSdk;
let profiles: InMemoryProfileSource;
let server: RunningServer;
let broken: BrokenNextbest;
let browser: Browser;
let context: BrowserContext;
let contentBlockArms: string[];
/** Every URL the browser requested, to prove nothing left the machine. */
const requested: string[] = [];
/** The decide requests the browser sent, as sent. */
const decideRequests: { url: string; body: Json; authorization: string | undefined }[] = [];
let barrierSeq = 0;
/** Per decided page view: navigation start → slot filled, and the decide request alone (ms). Reported, never asserted. */
const timings: { firstRender: number; fromCall: number; decide: number }[] = [];

beforeAll(async () => {
  if (CHROMIUM === undefined) return;
  bundleDir = await tempDir();
  await buildBrazeWebBundles(bundleDir.path);

  const agent = (await loadConfigFile(EXAMPLE_CONFIG)).agents.find((a) => a.id === EXAMPLE_AGENT)!;
  contentBlockArms = agent.dimensions.find((d) => d.id === DIMENSION)!.arms.map((a) => a.id);

  shop = await startShop(join(bundleDir.path, IIFE_FILE));
  braze = await startFakeBrazeSdk({ apiKey: BRAZE_API_KEY, origins: [shop.origin] });
  profiles = new InMemoryProfileSource();
  server = await startTestServer({ profileSource: profiles, corsOrigins: [shop.origin] });
  await addApiKey(server, PUBLIC_KEY, 'public');
  // A first decision on the server side, so that the first page view's decide (800 ms budget)
  // does not pay for the cold start of the decide path on a busy machine.
  await call(server, 'POST', `/v1/agents/${EXAMPLE_AGENT}/decide`, { body: { userId: addVisitor('warm-up') } });
  broken = await startBrokenNextbest(shop.origin);

  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  context = await browser.newContext({ timezoneId: VISITOR_TIMEZONE });
  context.on('request', (req) => {
    requested.push(req.url());
    if (req.method() === 'POST' && req.url().endsWith('/decide'))
      decideRequests.push({ url: req.url(), body: req.postDataJSON(), authorization: req.headers().authorization });
  });
});

afterAll(async () => {
  if (timings.length > 0) {
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    console.info(
      `[braze-web] ${timings.length} decided page views: time to first render (navigation start → slot filled) median ${median(timings.map((t) => t.firstRender)).toFixed(0)} ms ` +
        `(first ${timings[0].firstRender.toFixed(0)} ms); render call → slot filled median ${median(timings.map((t) => t.fromCall)).toFixed(0)} ms; decide request median ${median(timings.map((t) => t.decide)).toFixed(1)} ms`,
    );
  }
  await context?.close();
  await browser?.close();
  await broken?.close();
  await server?.close();
  await braze?.close();
  await shop?.close();
  await bundleDir?.remove();
});

/** A visitor the profile source knows, with consent on every channel. */
function addVisitor(userId: string): string {
  profiles.set({ userId, traits: consentingTraits(), timezone: VISITOR_TIMEZONE });
  return userId;
}

function optionsFor(userId: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    nextbestUrl: server.url,
    publicKey: PUBLIC_KEY,
    agentId: EXAMPLE_AGENT,
    userId,
    braze: { apiKey: BRAZE_API_KEY, baseUrl: braze.baseUrl },
    ...overrides,
  };
}

/** The slot as a marketer writes it: default content plus one approved template per arm. */
function contentBlockSlot(arms: readonly string[]): string {
  const templates = arms
    .map(
      (arm) =>
        `<template data-arm="${arm}"><section class="block" data-block="${arm}"><h2>Approved block ${arm}</h2></section></template>`,
    )
    .join('\n    ');
  return `<div id="hero" data-nextbest-slot="${DIMENSION}">
    <p class="default">Our latest running gear</p>
    ${templates}
  </div>`;
}

/**
 * A shop page that loads the bundle and renders on load, the way docs/braze-web.md tells a site
 * owner to. `window.__first` is the first render's outcome; `window.__renders` the render
 * events with their time since navigation start.
 */
function shopPage(
  options: Record<string, unknown>,
  slot = contentBlockSlot(contentBlockArms),
  environment = '{}',
): string {
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>Running shoes</title>
<style>[data-nextbest-state="pending"] { visibility: hidden }</style></head>
<body>
  ${slot}
  <script src="/assets/${IIFE_FILE}"></script>
  <script>
    window.__called = performance.now();
    window.__renders = [];
    document.addEventListener('nextbest:render', (e) => window.__renders.push({ at: performance.now(), detail: e.detail }));
    window.__options = ${JSON.stringify(options)};
    window.__first = nextbest.renderOnsiteContent(window.__options, ${environment});
  </script>
</body></html>`;
}

async function openShop(html: string, origin = shop.origin): Promise<{ page: Page; outcome: Json }> {
  const path = shop.add(html);
  const page = await context.newPage();
  await page.goto(`${origin}${path}`);
  const outcome = await page.evaluate(() => (window as Json).__first);
  if (outcome?.source === 'decision') {
    timings.push(
      await page.evaluate(() => ({
        firstRender: (window as Json).__renders[0].at as number,
        fromCall: ((window as Json).__renders[0].at as number) - ((window as Json).__called as number),
        decide: performance.getEntriesByType('resource').find((e) => e.name.endsWith('/decide'))?.duration ?? NaN,
      })),
    );
  }
  return { page, outcome };
}

async function slotState(
  page: Page,
): Promise<{ state: string | null; arm: string | null; decisionId: string | null; html: string; text: string }> {
  return page.$eval('#hero', (el) => ({
    state: el.getAttribute('data-nextbest-state'),
    arm: el.getAttribute('data-nextbest-arm'),
    decisionId: el.getAttribute('data-nextbest-decision-id'),
    html: Array.from(el.childNodes)
      .filter((n) => n.nodeName !== 'TEMPLATE')
      .map((n) => (n as Element).outerHTML ?? n.textContent)
      .join('')
      .trim(),
    text: (el as HTMLElement).innerText.trim(),
  }));
}

/**
 * Waits until everything the SDK queued before now has reached the fake: a fresh page view of a
 * holdout visitor (always shown the default arm, so always exposed) records its own exposure,
 * and the SDK sends its whole localStorage queue with that flush. After this, a missing event
 * was never logged, rather than still on its way.
 */
async function drainBraze(): Promise<void> {
  barrierSeq += 1;
  const userId = addVisitor(await exampleUser(true, `barrier-${barrierSeq}`));
  const { page, outcome } = await openShop(shopPage(optionsFor(userId)));
  expect(outcome.exposures).toEqual([{ dimension: DIMENSION, arm: expect.any(String), status: 'recorded' }]);
  expect(braze.customEvents(EXPOSURE).filter((e) => e.userId === userId)).toHaveLength(1);
  await page.close();
}

describeInBrowser('a shop page with a content-block slot', () => {
  let page: Page;
  let outcome: Json;
  let decision: Json;
  const visitor = 'shopper-1';

  beforeAll(async () => {
    addVisitor(visitor);
    ({ page, outcome } = await openShop(shopPage(optionsFor(visitor, { requestId: MAIN_REQUEST_ID }))));
    const res = await call(server, 'GET', `/v1/decisions/${outcome.decisionId}`);
    expect(res.status).toBe(200);
    decision = res.body;
    expect(
      decision.choices[DIMENSION],
      `requestId ${MAIN_REQUEST_ID} no longer decides ${DIMENSION} (frequency = skip?); choose another fixed requestId`,
    ).toBeDefined();
  });
  afterAll(() => page?.close());

  it('shows the approved template of the arm the server decided and logged', async () => {
    const arm = decision.choices[DIMENSION].arm;
    expect(outcome).toMatchObject({
      source: 'decision',
      decisionId: decision.decisionId,
      slots: [{ dimension: DIMENSION, arm, content: 'template' }],
    });
    expect(await slotState(page)).toEqual({
      state: 'decided',
      arm,
      decisionId: decision.decisionId,
      html: `<section class="block" data-block="${arm}"><h2>Approved block ${arm}</h2></section>`,
      text: `Approved block ${arm}`,
    });
  });

  it('asked with only the fields a public key may send: visitor, browser time zone, page path, requestId', () => {
    const sent = decideRequests.filter((r) => r.body?.userId === visitor);
    expect(sent).toEqual([
      {
        url: `${server.url}/v1/agents/${EXAMPLE_AGENT}/decide`,
        authorization: `Bearer ${PUBLIC_KEY}`,
        body: { userId: visitor, timezone: VISITOR_TIMEZONE, context: { page: SHOP_PATH }, requestId: MAIN_REQUEST_ID },
      },
    ]);
    expect(decision).toMatchObject({ agentId: EXAMPLE_AGENT, holdout: false, deliver: true });
  });

  it('records exactly one nextbest_exposure in Braze, for this visitor, decision and arm', async () => {
    expect(outcome.exposures).toEqual([
      { dimension: DIMENSION, arm: decision.choices[DIMENSION].arm, status: 'recorded' },
    ]);
    const events = braze.customEvents(EXPOSURE).filter((e) => e.userId === visitor);
    expect(events).toHaveLength(1);
    expect(events[0].properties).toEqual({
      decision_id: decision.decisionId,
      agent_id: EXAMPLE_AGENT,
      dimension: DIMENSION,
      arm: decision.choices[DIMENSION].arm,
    });
    // The module opened this visitor's session, as Braze's Web SDK integration requires.
    expect(braze.sessionStarts().filter((userId) => userId === visitor)).toHaveLength(1);
    // It went through a CORS preflight from the shop's origin, like a real site's SDK traffic.
    expect(braze.preflights.some((p) => p.origin === shop.origin && p.allowed)).toBe(true);
  });

  it('does not log the exposure again when the page renders a second time', async () => {
    const [second, third] = await page.evaluate(() => {
      const w = window as Json;
      return Promise.all([w.nextbest.renderOnsiteContent(w.__options), w.nextbest.renderOnsiteContent(w.__options)]);
    });
    for (const again of [second, third]) {
      expect(again).toMatchObject({
        source: 'decision',
        decisionId: decision.decisionId,
        exposures: [{ dimension: DIMENSION, status: 'already-recorded' }],
      });
    }
    expect((await slotState(page)).arm).toBe(decision.choices[DIMENSION].arm);
    await drainBraze();
    expect(braze.customEvents(EXPOSURE).filter((e) => e.userId === visitor)).toHaveLength(1);
  });

  it('sent nothing anywhere but the shop, nextbest and the fake Braze endpoint', () => {
    const local = new Set([
      new URL(shop.origin).host,
      new URL(shop.origin.replace('127.0.0.1', 'localhost')).host,
      new URL(server.url).host,
      new URL(braze.baseUrl).host,
    ]);
    const hosts = new Set(requested.filter((u) => /^https?:/.test(u)).map((u) => new URL(u).host));
    expect([...hosts].filter((h) => !local.has(h))).toEqual([]);
    expect(hosts.has(new URL(braze.baseUrl).host)).toBe(true);
  });
});

describeInBrowser('a holdout visitor', () => {
  it('sees the default arm and its exposure is recorded, so lift can be measured', async () => {
    const visitor = addVisitor(await exampleUser(true, 'holdout-shopper'));
    const { page, outcome } = await openShop(shopPage(optionsFor(visitor)));
    const res = await call(server, 'GET', `/v1/decisions/${outcome.decisionId}`);
    expect(res.body).toMatchObject({
      holdout: true,
      reason: 'holdout',
      choices: { [DIMENSION]: { arm: 'cb_style', probability: 1 } },
    });
    expect((await slotState(page)).arm).toBe('cb_style');
    expect(
      braze
        .customEvents(EXPOSURE)
        .filter((e) => e.userId === visitor)
        .map((e) => e.properties),
    ).toEqual([{ decision_id: outcome.decisionId, agent_id: EXAMPLE_AGENT, dimension: DIMENSION, arm: 'cb_style' }]);
    await page.close();
  });
});

describeInBrowser('when there is no usable decision', () => {
  const cases: { name: string; userId: string; url: () => string; options?: Record<string, unknown>; failure: Json }[] =
    [
      {
        name: 'the nextbest server is unreachable',
        userId: 'offline-1',
        url: () => broken.closedUrl,
        failure: { kind: 'network' },
      },
      {
        name: 'the nextbest server answers 500',
        userId: 'offline-2',
        url: () => `${broken.url}/fail-500`,
        failure: { kind: 'http', status: 500, code: 'internal' },
      },
      {
        name: 'the nextbest server does not answer within timeoutMs',
        userId: 'offline-3',
        url: () => `${broken.url}/hang`,
        options: { timeoutMs: 300 },
        failure: { kind: 'timeout' },
      },
    ];

  it.each(cases)(
    'keeps the default content and records nothing when $name',
    async ({ userId, url, options, failure }) => {
      addVisitor(userId);
      const before = await storeCounts(server);
      const { page, outcome } = await openShop(shopPage(optionsFor(userId, { nextbestUrl: url(), ...options })));
      expect(outcome).toMatchObject({
        source: 'default',
        failure,
        slots: [{ dimension: DIMENSION, content: 'default' }],
        exposures: [],
      });
      expect(await slotState(page)).toEqual({
        state: 'default',
        arm: null,
        decisionId: null,
        html: '<p class="default">Our latest running gear</p>',
        text: 'Our latest running gear',
      });
      expect((await storeCounts(server)).decisions).toBe(before.decisions);
      await page.close();
      await drainBraze();
      expect(braze.customEvents().filter((e) => e.userId === userId)).toEqual([]);
    },
  );

  it("keeps the default content when the page origin is not among the server's --cors-origin, and the browser never sends the decide request", async () => {
    // localhost and 127.0.0.1 are different origins; the server allows only the latter.
    const userId = addVisitor('elsewhere-1');
    const before = await storeCounts(server);
    const { page, outcome } = await openShop(
      shopPage(optionsFor(userId)),
      shop.origin.replace('127.0.0.1', 'localhost'),
    );
    expect(outcome).toMatchObject({
      source: 'default',
      failure: { kind: 'network' },
      slots: [{ dimension: DIMENSION, content: 'default' }],
      exposures: [],
    });
    expect((await slotState(page)).state).toBe('default');
    expect(await storeCounts(server)).toEqual(before);
    await page.close();
  });
});

describeInBrowser('a slot without a template for the chosen arm', () => {
  it("shows the arm's approved text as text, never as markup, and records that exposure", async () => {
    // The example agent's content blocks have no text, so the page answers decide itself here
    // (fetch is injectable) with a text that would run script if it were parsed as HTML; the
    // Braze calls go to a recorder in the page.
    const text = '<img src=x onerror="window.__pwned = true">Race-day <b>specs</b>';
    const answer = {
      decisionId: 'd-text-1',
      agentId: EXAMPLE_AGENT,
      deliver: true,
      reason: 'exploit',
      choices: { [DIMENSION]: { arm: 'cb_specs', probability: 0.7 } },
      attributes: { nb_decision_id: 'd-text-1', nb_content_block: 'cb_specs', nb_content_block_text: text },
    };
    const environment = `{
      fetch: async () => new Response(${JSON.stringify(JSON.stringify(answer))}, { status: 200, headers: { 'content-type': 'application/json' } }),
      braze: (window.__braze = { calls: [],
        initialize(...a) { this.calls.push(['initialize', ...a]); return true; },
        changeUser(...a) { this.calls.push(['changeUser', ...a]); },
        openSession() { this.calls.push(['openSession']); },
        logCustomEvent(...a) { this.calls.push(['logCustomEvent', ...a]); return true; },
        requestImmediateDataFlush(done) { this.calls.push(['requestImmediateDataFlush']); done(true); } }),
    }`;
    const { page, outcome } = await openShop(
      shopPage(optionsFor('text-shopper'), contentBlockSlot(['cb_style']), environment),
    );
    expect(outcome).toMatchObject({
      source: 'decision',
      slots: [{ dimension: DIMENSION, arm: 'cb_specs', content: 'text' }],
    });
    const slot = await slotState(page);
    expect(slot).toMatchObject({ state: 'decided', arm: 'cb_specs', text });
    expect(await page.$$('#hero img, #hero b')).toHaveLength(0);
    expect(await page.evaluate(() => (window as Json).__pwned)).toBeUndefined();
    expect(await page.evaluate(() => (window as Json).__braze.calls)).toEqual([
      ['initialize', 'braze-web-app-identifier', { baseUrl: braze.baseUrl }],
      ['changeUser', 'text-shopper'],
      ['openSession'],
      [
        'logCustomEvent',
        EXPOSURE,
        { decision_id: 'd-text-1', agent_id: EXAMPLE_AGENT, dimension: DIMENSION, arm: 'cb_specs' },
      ],
      ['requestImmediateDataFlush'],
    ]);
    await page.close();
  });
});

describeInBrowser('the public key', () => {
  it('is refused (403 forbidden_field) when the page tries to send traits, and nothing is decided', async () => {
    const visitor = addVisitor('sneaky-shopper');
    const page = await context.newPage();
    await page.goto(`${shop.origin}${shop.add('<!doctype html><title>blank</title>')}`);
    const before = await storeCounts(server);
    const res = await page.evaluate(
      async ({ url, key, userId }) => {
        const r = await fetch(url, {
          method: 'POST',
          headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
          body: JSON.stringify({ userId, traits: { vip: true } }),
        });
        return { status: r.status, body: await r.json() };
      },
      { url: `${server.url}/v1/agents/${EXAMPLE_AGENT}/decide`, key: PUBLIC_KEY, userId: visitor },
    );
    expect(res).toMatchObject({
      status: 403,
      body: { error: { code: 'forbidden_field', message: expect.stringContaining('traits') } },
    });
    expect(await storeCounts(server)).toEqual(before);
    await page.close();
  });

  it('is the only kind of key the module accepts: an admin key is refused in the browser before anything is sent', async () => {
    const page = await context.newPage();
    await page.goto(`${shop.origin}${shop.add(`<!doctype html><script src="/assets/${IIFE_FILE}"></script>`)}`);
    const error = await page.evaluate(
      async (options) => {
        try {
          await (window as Json).nextbest.renderOnsiteContent(options);
          return undefined;
        } catch (err) {
          return { name: (err as Error).name, message: (err as Error).message };
        }
      },
      optionsFor('admin-shopper', { publicKey: 'nb_test_key', timeoutMs: 0 }),
    );
    expect(error).toEqual({
      name: 'OnsiteConfigError',
      message: expect.stringMatching(/publicKey must be a public-scope key .*; timeoutMs must be more than 0$/),
    });
    await page.close();
  });
});

// ---------------------------------------------------------------------------------------------
// Local servers

interface StaticShop {
  origin: string;
  /** Serves `html` at a fresh path under /shop/ and returns the path. */
  add(html: string): string;
  close(): Promise<void>;
}

/** The shop's web server: the bundle under /assets/ and the pages the tests add. */
async function startShop(bundlePath: string): Promise<StaticShop> {
  const pages = new Map<string, string>();
  const bundle = await readFile(bundlePath);
  let seq = 0;
  const http = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://shop').pathname;
    if (path === `/assets/${IIFE_FILE}`) {
      res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' }).end(bundle);
      return;
    }
    const page = pages.get(path);
    if (page === undefined) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(page);
  });
  const port = await listen(http);
  return {
    origin: `http://127.0.0.1:${port}`,
    add(html) {
      seq += 1;
      const path = seq === 1 ? SHOP_PATH : `${SHOP_PATH}-${seq}`;
      pages.set(path, html);
      return path;
    },
    close: () => closeServer(http),
  };
}

interface BrokenNextbest {
  /** Answers `/fail-500/...` with 500 and `/hang/...` never (both with CORS for the shop). */
  url: string;
  /** A port nothing listens on. */
  closedUrl: string;
  close(): Promise<void>;
}

/** A nextbest that fails the way a real deployment can, for the fail-open cases. */
async function startBrokenNextbest(shopOrigin: string): Promise<BrokenNextbest> {
  const http = createServer((req, res) => {
    if (req.headers.origin === shopOrigin) {
      res.setHeader('access-control-allow-origin', shopOrigin);
      res.setHeader('access-control-allow-headers', 'authorization, content-type');
      res.setHeader('access-control-allow-methods', 'POST');
    }
    if (req.method === 'OPTIONS') {
      res.writeHead(204).end();
      return;
    }
    if (req.url?.startsWith('/fail-500/')) {
      res
        .writeHead(500, { 'content-type': 'application/json' })
        .end(JSON.stringify({ error: { code: 'internal', message: 'something broke' } }));
      return;
    }
    // /hang/...: read the body, never answer.
    req.resume();
  });
  const port = await listen(http);
  const closed = createServer();
  const closedPort = await listen(closed);
  await closeServer(closed);
  return {
    url: `http://127.0.0.1:${port}`,
    closedUrl: `http://127.0.0.1:${closedPort}`,
    close: () => closeServer(http),
  };
}

async function listen(http: Server): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(0, '127.0.0.1', () => resolve());
  });
  return (http.address() as AddressInfo).port;
}

async function closeServer(http: Server): Promise<void> {
  http.closeAllConnections();
  await new Promise<void>((resolve) => http.close(() => resolve()));
}
