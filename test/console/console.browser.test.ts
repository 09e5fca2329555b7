/**
 * The console in a real browser: headless Chromium over the built `nextbest serve` on a SQLite
 * file, seeded through the HTTP API as an integration would (decisions, then outcome events).
 * Signing in (a wrong key and a decide key refused, the key kept nowhere in the page), the agents
 * list, the config editor (an error shown at its path and nothing saved, fixed, the diff, saved,
 * rolled back, the audit log), Try it, and signing out. Every request the page makes goes to the
 * server's own origin, and the browser reports no CSP violation.
 *
 * Screenshots of each page are saved into NEXTBEST_SCREENSHOTS when it is set (docs/console to
 * refresh those docs/console.md embeds), else into a temporary folder.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumForTests } from '../helpers/chromium.ts';
import { pollUntil } from '../helpers/poll.ts';
import { consentingTraits, EXAMPLE_AGENT, tempDir } from '../server/helpers.ts';
import { serveBin, type ServedBin } from './serve.ts';

const CHROMIUM = chromiumForTests();
const describeInBrowser = describe.skipIf(CHROMIUM === undefined);
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
];
const ADMIN_KEY = 'nb_console_browser_admin_key_0001';
const SEEDED_USERS = 40;
/** A second agent with a 5 s attribution window, so that its decisions get final rewards during the test. */
const REPORT_AGENT = 'report_demo';
const REPORT_USERS = 150;
/** The audience of the batch run, in the server's audience folder. */
const AUDIENCE_FILE = 'members.ndjson';
const AUDIENCE_MEMBERS = 2_000;

type Json = any;

let dir: { path: string; remove: () => Promise<void> };
let shots: string;
let served: ServedBin;
let decideKey: string;
let browser: Browser;
let context: BrowserContext;
let page: Page;
const requested: string[] = [];
const problems: string[] = [];

async function api(method: string, path: string, body?: unknown, key = ADMIN_KEY): Promise<Json> {
  const res = await fetch(`${served.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return JSON.parse(text);
}

/** Decisions for SEEDED_USERS customers, and an order from every third one, through the API. */
async function seed(): Promise<void> {
  for (let i = 0; i < SEEDED_USERS; i++)
    await api('POST', `/v1/agents/${EXAMPLE_AGENT}/decide`, {
      userId: `seed-${i}`,
      timezone: 'UTC',
      traits: consentingTraits({ lifetime_orders: i % 7 }),
    });
  const batch = [];
  for (let i = 0; i < SEEDED_USERS; i += 3)
    batch.push({
      type: 'track',
      messageId: `seed-order-${i}`,
      userId: `seed-${i}`,
      event: 'Order Completed',
      properties: {},
    });
  await api('POST', '/v1/events', { batch });
}

/**
 * The report agent: winback's config with a 5 s window and no delivery. Each customer is decided,
 * and (like an integration forwarding orders) half of those who got nextbest's choices and a fifth
 * of the holdout order right away; then the test waits for the learner to close every window.
 */
async function seedReportAgent(): Promise<void> {
  const winback = (await api('GET', `/v1/agents/${EXAMPLE_AGENT}`)).config;
  const config = { ...winback, id: REPORT_AGENT, goal: { ...winback.goal, window: '5s' }, delivery: [] };
  await api('PUT', `/v1/agents/${REPORT_AGENT}`, config);
  for (let i = 0; i < REPORT_USERS; i++) {
    const userId = `report-${i}`;
    const d = await api('POST', `/v1/agents/${REPORT_AGENT}/decide`, {
      userId,
      timezone: 'UTC',
      traits: consentingTraits({ lifetime_orders: i % 7 }),
    });
    if (i % (d.holdout ? 5 : 2) === 0)
      await api('POST', '/v1/events', {
        type: 'track',
        messageId: `report-order-${i}`,
        userId,
        event: 'Order Completed',
        properties: {},
      });
  }
  await pollUntil(
    () => api('GET', `/v1/agents/${REPORT_AGENT}/report`),
    (r) => r.decisions.closed === REPORT_USERS,
    'every window of the report agent closed and learned',
    { everyMs: 250, attempts: 400 },
  );
}

/** An NDJSON audience of AUDIENCE_MEMBERS consenting customers in the server's `data/audiences`. */
async function writeAudience(): Promise<void> {
  const folder = join(dir.path, 'data', 'audiences');
  await mkdir(folder, { recursive: true });
  const lines = Array.from({ length: AUDIENCE_MEMBERS }, (_, i) =>
    JSON.stringify({ userId: `member-${i}`, timezone: 'UTC', traits: consentingTraits({ lifetime_orders: i % 9 }) }),
  );
  await writeFile(join(folder, AUDIENCE_FILE), `${lines.join('\n')}\n`);
}

async function shot(name: string): Promise<void> {
  await page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
}

async function signIn(key: string): Promise<void> {
  await page.getByLabel('Admin API key').fill(key);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

async function versions(): Promise<Json[]> {
  return (await api('GET', `/v1/agents/${EXAMPLE_AGENT}/versions`)).versions;
}

beforeAll(async () => {
  if (CHROMIUM === undefined) return;
  dir = await tempDir();
  shots = process.env.NEXTBEST_SCREENSHOTS ? resolve(process.env.NEXTBEST_SCREENSHOTS) : join(dir.path, 'shots');
  await mkdir(shots, { recursive: true });
  served = await serveBin(join(dir.path, 'console.db'), { NEXTBEST_API_KEY: ADMIN_KEY });
  decideKey = (await api('POST', '/v1/keys', { scope: 'decide', label: 'braze connected content' })).key;
  await seed();
  await seedReportAgent();
  await writeAudience();
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  context.on('request', (req) => requested.push(req.url()));
  page = await context.newPage();
  page.on('console', (m) => {
    if (m.type() === 'error' && !/status of 40[13]/.test(m.text())) problems.push(m.text());
  });
  page.on('pageerror', (e) => problems.push(String(e)));
});

afterAll(async () => {
  await browser?.close();
  if (served) expect(await served.stop()).toBe(0);
  await dir?.remove();
});

describeInBrowser('the console in Chromium', () => {
  it('shows the sign-in page at / with the key field focused', async () => {
    await page.goto(`${served.url}/`);
    await expect.poll(() => page.getByRole('heading', { name: 'nextbest console' }).count()).toBe(1);
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('key');
    await shot('sign-in');
  });

  it('refuses a wrong key and a decide key, saying why', async () => {
    await signIn('nb_wrong_key');
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('not valid');
    await signIn(decideKey);
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('only an admin key');
    expect(await page.getByRole('heading', { name: 'Agents' }).count()).toBe(0);
  });

  it('signs in with the keyboard, and keeps the key nowhere the page can read', async () => {
    await page.getByLabel('Admin API key').focus();
    await page.keyboard.type(ADMIN_KEY);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Agents' }).waitFor();
    const stored = await page.evaluate(() => ({
      cookie: document.cookie,
      local: JSON.stringify(localStorage),
      session: JSON.stringify(sessionStorage),
      field: document.body.innerHTML.includes('nb_console_browser'),
    }));
    expect(stored).toEqual({ cookie: '', local: '{}', session: '{}', field: false });
    const [cookie] = await context.cookies();
    expect(cookie).toMatchObject({ name: 'nextbest_session', httpOnly: true, sameSite: 'Strict' });
    expect(cookie!.expires).toBeGreaterThan(Date.now() / 1000);
  });

  it('lists the agents with their version, policy and the decisions logged today', async () => {
    const row = page.getByRole('row', { name: new RegExp(EXAMPLE_AGENT) });
    await expect.poll(() => row.textContent()).toContain('v1');
    const text = (await row.textContent())!;
    expect(text).toContain('logistic-ts');
    expect(text).toContain(String(SEEDED_USERS));
    await shot('agents');
  });

  it('shows a config error at its path and line as you type, and saves nothing', async () => {
    await page.getByRole('link', { name: EXAMPLE_AGENT, exact: true }).click();
    const editor = page.getByLabel('Agent config (YAML)');
    await expect.poll(() => editor.inputValue()).toContain('holdout: 0.1');
    const before = (await versions()).length;
    const text = await editor.inputValue();
    const line = text.split('\n').findIndex((l) => l.startsWith('holdout:')) + 1;
    await editor.fill(text.replace('holdout: 0.1', 'holdout: 0.9'));
    const issues = page.locator('.issues li');
    await expect.poll(() => issues.first().textContent()).toContain('must be in [0, 0.5]');
    expect(await issues.first().textContent()).toContain(`line ${line}`);
    expect(await issues.first().locator('code').textContent()).toBe('holdout');
    expect(await page.getByRole('button', { name: 'Save as a new version' }).isDisabled()).toBe(true);
    await shot('agent-error');
    expect((await versions()).length).toBe(before);
  });

  it('shows the diff once fixed, saves a new version and shows it in force', async () => {
    const editor = page.getByLabel('Agent config (YAML)');
    await editor.fill((await editor.inputValue()).replace('holdout: 0.9', 'holdout: 0.2'));
    await expect.poll(() => page.locator('.valid').count()).toBe(1);
    expect(await page.locator('.diff .removed').allTextContents()).toEqual(['- holdout: 0.1']);
    expect(await page.locator('.diff .added').allTextContents()).toEqual(['+ holdout: 0.2']);
    await shot('agent-diff');
    await page.getByRole('button', { name: 'Save as a new version' }).click();
    await expect.poll(() => page.getByRole('status').textContent()).toContain('version 2 is in force');
    expect((await api('GET', `/v1/agents/${EXAMPLE_AGENT}`)).config.holdout).toBe(0.2);
    expect(await page.getByRole('row', { name: /v2/ }).textContent()).toContain('in force');
    expect(await page.locator('.diff').count()).toBe(0);
  });

  it('rolls back to version 1 in one click, as a new version, with the audit log saying who did what', async () => {
    await page.getByRole('button', { name: 'Roll back to v1' }).click();
    await expect.poll(() => page.getByRole('status').textContent()).toContain('version 3 is in force');
    const agent = await api('GET', `/v1/agents/${EXAMPLE_AGENT}`);
    expect(agent.version).toBe(3);
    expect(agent.config).toEqual((await versions()).find((v) => v.version === 1).config);
    const audit = page.locator('table.audit tbody tr');
    await expect.poll(() => audit.count()).toBe(3);
    expect(await audit.first().textContent()).toContain('console:NEXTBEST_API_KEY');
    await shot('agent-versions');
  });

  it('tries a decision for a made-up customer and shows each dimension with its explanation', async () => {
    await page.getByRole('link', { name: 'Try it' }).click();
    await page.getByLabel('Agent').selectOption(EXAMPLE_AGENT);
    await page.getByLabel('User id').fill('console-try-1');
    await page.getByLabel('Time zone').fill('Europe/Paris');
    await page.getByRole('button', { name: 'Decide' }).click();
    const rows = page.locator('table.choices tbody tr');
    await expect.poll(() => rows.count()).toBeGreaterThan(0);
    const decision = await api('GET', `/v1/decisions/${await page.locator('.decision code').first().textContent()}`);
    expect(decision.agentId).toBe(EXAMPLE_AGENT);
    for (const [dimension, choice] of Object.entries(decision.choices as Record<string, { arm: string }>))
      expect(await page.getByRole('row', { name: new RegExp(`^${dimension}`) }).textContent()).toContain(choice.arm);
    await shot('try-it');
  });

  it('reports an agent without final rewards as "not enough data yet", with the counts of the JSON route', async () => {
    await page.goto(`${served.url}/#/agents/${EXAMPLE_AGENT}/report`);
    const summary = page.locator('#summary');
    await expect.poll(() => summary.textContent()).toContain('Not enough data yet');
    const r = await api('GET', `/v1/agents/${EXAMPLE_AGENT}/report`);
    expect(r.lift).toBeNull();
    expect(await summary.textContent()).toContain(`${r.decisions.closed} decisions have a final reward`);
    expect(await page.locator('.lift-band').count()).toBe(0);
    expect(await page.getByRole('row', { name: /nextbest's choices/ }).textContent()).toContain(
      String(r.decisions.treatment),
    );
  });

  it('draws the lift band and says the lift in words with the numbers of the JSON route', async () => {
    await page.getByRole('link', { name: 'Agents' }).click();
    await page.getByRole('link', { name: `Report of ${REPORT_AGENT}` }).click();
    const summary = page.locator('#summary');
    await expect.poll(() => summary.textContent()).toContain('95 % interval');
    const r = await api('GET', `/v1/agents/${REPORT_AGENT}/report`);
    const text = (await summary.textContent())!;
    expect(text).toContain(`Over all ${REPORT_USERS} decisions with a final reward`);
    expect(text).toContain(`95 % interval ${r.lift.lower.toFixed(3)} to ${r.lift.upper.toFixed(3)}`);
    expect(text).toContain(r.lift.significant ? 'higher than the holdout' : 'no difference can be claimed');
    expect(await page.locator('.lift-band').getAttribute('aria-label')).toBe(
      `Lift ${r.lift.difference.toFixed(3)}, 95 % interval ${r.lift.lower.toFixed(3)} to ${r.lift.upper.toFixed(3)}`,
    );
    const treatment = await page.getByRole('row', { name: /nextbest's choices/ }).textContent();
    expect(treatment).toContain(r.treatment.mean.toFixed(3));
    expect(await page.getByRole('row', { name: /holdout/ }).textContent()).toContain(r.holdout.mean.toFixed(3));
    expect(await page.locator('table.arms').count()).toBe(Object.keys(r.dimensions).length);
    // over time: each day of the route's buckets, drawn (a uPlot canvas) and in the table
    const daily = await api('GET', `/v1/agents/${REPORT_AGENT}/report?bucket=day`);
    expect(daily.buckets.length).toBeGreaterThan(0);
    const rows = page.locator('table.buckets tbody tr');
    await expect.poll(() => rows.count()).toBe(daily.buckets.length);
    expect(await page.locator('.lift-over-time canvas').count()).toBeGreaterThan(0);
    const last = daily.buckets.at(-1);
    const lastRow = (await rows.last().textContent())!;
    expect(lastRow).toContain(last.from);
    if (last.bucket.lift) expect(lastRow).toContain(last.bucket.lift.difference.toFixed(3));
    if (last.cumulative.lift) expect(lastRow).toContain(last.cumulative.lift.difference.toFixed(3));
    await shot('report');
  });

  it('shows that there is no run yet, starts a dry run and follows it live to its end', async () => {
    await page.getByRole('link', { name: 'Runs' }).click();
    await expect.poll(() => page.locator('.empty').textContent()).toContain('No run yet');
    await page.getByLabel('Audience').fill(`file:${AUDIENCE_FILE}`);
    await page.getByRole('button', { name: 'Start the run' }).click();
    const row = page.locator('table.runs tbody tr').first();
    await expect.poll(() => row.textContent(), { timeout: 60_000 }).toContain('completed');
    const [run] = (await api('GET', '/v1/runs')).runs;
    expect(run).toMatchObject({ status: 'completed', audience: `file:${AUDIENCE_FILE}` });
    const text = (await row.textContent())!;
    expect(text).toContain(run.runId);
    expect(text).toContain('(dry run)');
    expect(text).toContain(AUDIENCE_MEMBERS.toLocaleString('en-US'));
    expect(text).toContain(run.progress.decided.toLocaleString('en-US'));
    await shot('runs');
  });

  it('signs out: back to the sign-in page, and the old cookie opens nothing', async () => {
    const [cookie] = await context.cookies();
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('Admin API key').waitFor();
    expect(await context.cookies()).toEqual([]);
    const res = await fetch(`${served.url}/v1/agents`, { headers: { cookie: `${cookie!.name}=${cookie!.value}` } });
    expect(res.status).toBe(401);
  });

  it('asked nothing of any other origin, and the browser reported no error or CSP violation', () => {
    expect(requested.length).toBeGreaterThan(10);
    expect(requested.filter((url) => !url.startsWith(`${served.url}/`))).toEqual([]);
    expect(problems).toEqual([]);
  });
});
