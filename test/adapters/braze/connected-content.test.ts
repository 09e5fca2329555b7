/**
 * The Braze Connected Content integration end to end: the Liquid that `manifest/braze/` ships,
 * read from its files, rendered by a fake Braze (test/fakes/braze-connected-content.ts) that calls
 * a real nextbest server the way Braze does (2 s timeout, `:retry`, GET cache by URL).
 */
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InMemoryProfileSource, loadConfigFile, type AttributeValue } from '../../../plugin/agent/index.ts';
import type { RunningServer } from '../../../plugin/server/index.ts';
import type { DecisionRow } from '../../../plugin/store/index.ts';
import {
  CONNECTED_CONTENT_MAX_ATTEMPTS,
  ConnectedContentDriver,
  renderLiquid,
  type RenderContext,
  type RenderResult,
} from '../../fakes/braze-connected-content.ts';
import {
  addApiKey,
  call,
  consentingTraits,
  EXAMPLE_AGENT,
  EXAMPLE_CONFIG,
  EXAMPLE_WORKSPACE,
  startTestServer,
} from '../../server/index.ts';

const MANIFEST = 'manifest/braze';
/** The nextbest origin written in the shipped snippets, replaced by the test server's. */
const SNIPPET_ORIGIN = 'https://nextbest.example.com';
const DECIDE_KEY = 'nb_braze_connected_content_key';
/** A scheduled campaign: every recipient of one send shares this dispatch id. */
const DISPATCH_ID = '6171a9c2e2f0f60e6d9f1a27';
/** The Content Blocks the example campaign includes, one per content_block arm. */
const ARM_BLOCKS: Record<string, string> = {
  cb_specs: '[block cb_specs]',
  cb_style: '[block cb_style]',
  cb_bundle: '[block cb_bundle]',
};

type Field = 'subject' | 'html body' | 'text body';

let snippet: string;
let retrySnippet: string;
let examples: Map<string, string>;
let defaults: { subjectText: string; contentBlock: string };

/** The sections of example-campaign.liquid, by "<mode> / <field>". */
function exampleSections(source: string): Map<string, string> {
  const sections = new Map<string, string>();
  const parts = source.split(/\{% comment %\}=== example: (.+?) ===\{% endcomment %\}/);
  for (let i = 1; i < parts.length; i += 2) sections.set(parts[i], parts[i + 1].trim());
  return sections;
}

function example(name: string): string {
  const section = examples.get(name);
  if (section === undefined) throw new Error(`example-campaign.liquid has no section "${name}"`);
  return section;
}

/** The snippets' Liquid without comments, to compare the two variants. */
function withoutComments(liquid: string): string {
  return liquid.replace(/\{% comment %\}[\s\S]*?\{% endcomment %\}/g, '');
}

beforeAll(async () => {
  snippet = await readFile(`${MANIFEST}/connected-content.liquid`, 'utf8');
  retrySnippet = await readFile(`${MANIFEST}/connected-content-retry.liquid`, 'utf8');
  examples = exampleSections(await readFile(`${MANIFEST}/example-campaign.liquid`, 'utf8'));
  const agent = (await loadConfigFile(EXAMPLE_CONFIG)).agents.find((a) => a.id === EXAMPLE_AGENT)!;
  const subjectLine = agent.dimensions.find((d) => d.id === 'subject_line')!;
  defaults = {
    subjectText: subjectLine.arms.find((a) => a.id === subjectLine.default)!.text!,
    contentBlock: agent.dimensions.find((d) => d.id === 'content_block')!.default,
  };
});

/** A local HTTP server; `close` ends it and its connections. */
async function startHttp(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<{ url: string; close: () => Promise<void> }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * A proxy in front of nextbest that answers 503 to the first `failures` requests, then forwards;
 * it records the headers of every request it receives.
 */
async function startFlakyProxy(
  target: string,
  failures: number,
): Promise<{ url: string; seen: IncomingHttpHeaders[]; close: () => Promise<void> }> {
  const seen: IncomingHttpHeaders[] = [];
  let left = failures;
  const http = await startHttp((req, res) => {
    seen.push(req.headers);
    if (left > 0) {
      left--;
      res.writeHead(503, { 'Content-Type': 'text/plain' }).end('upstream unavailable');
      return;
    }
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string' && k !== 'host') headers[k] = v;
    fetch(`${target}${req.url}`, { headers })
      .then(async (upstream) =>
        res
          .writeHead(upstream.status, { 'Content-Type': upstream.headers.get('content-type') ?? 'text/plain' })
          .end(await upstream.text()),
      )
      .catch(() => res.writeHead(502).end());
  });
  return { ...http, seen };
}

describe('Braze Connected Content against a real nextbest server', () => {
  let server: RunningServer;
  const profiles = new InMemoryProfileSource();

  beforeAll(async () => {
    server = await startTestServer({ profileSource: profiles });
    await addApiKey(server, DECIDE_KEY, 'decide');
  });
  afterAll(async () => {
    await server?.close();
  });

  function consenting(userId: string): string {
    profiles.set({ userId, traits: consentingTraits(), timezone: 'UTC' });
    return userId;
  }

  function context(userId: string, overrides: Partial<RenderContext> = {}): RenderContext {
    return {
      attributes: { user_id: userId },
      campaign: { dispatch_id: DISPATCH_ID },
      contentBlocks: { nextbest_decide_key: `${DECIDE_KEY}\n`, ...ARM_BLOCKS },
      ...overrides,
    };
  }

  /** One field of the Connected Content example: the shipped snippet, then the field's Liquid. */
  function render(
    driver: ConnectedContentDriver,
    userId: string,
    field: Field,
    options: { origin?: string; liquid?: string } = {},
  ): Promise<RenderResult> {
    const template =
      (options.liquid ?? snippet).replaceAll(SNIPPET_ORIGIN, options.origin ?? server.url) +
      example(`connected-content / ${field}`);
    return renderLiquid(template, context(userId), driver);
  }

  async function decisionsOf(userId: string): Promise<DecisionRow[]> {
    const userKey = server.service.userKey(userId);
    return (await server.store.listDecisions(EXAMPLE_WORKSPACE, EXAMPLE_AGENT, 1_000_000)).filter(
      (r) => r.userKey === userKey,
    );
  }

  function choicesOf(row: DecisionRow): Record<string, { arm: string }> {
    return (row.body as { choices: Record<string, { arm: string }> }).choices;
  }

  /** What the example email must show for a logged decision that delivers. */
  async function expectedContent(row: DecisionRow): Promise<{ subject: string; block: string }> {
    const choices = choicesOf(row);
    const agent = (await loadConfigFile(EXAMPLE_CONFIG)).agents.find((a) => a.id === EXAMPLE_AGENT)!;
    const subjectArm = choices.subject_line?.arm;
    const subject = subjectArm
      ? agent.dimensions.find((d) => d.id === 'subject_line')!.arms.find((a) => a.id === subjectArm)!.text!
      : defaults.subjectText;
    return { subject, block: ARM_BLOCKS[choices.content_block?.arm ?? defaults.contentBlock] };
  }

  it('ships a snippet that prints nothing, so it can head a subject line', async () => {
    const result = await renderLiquid(
      snippet.replaceAll(SNIPPET_ORIGIN, server.url),
      context('unknown-for-blank-check'),
      new ConnectedContentDriver(),
    );
    expect(result).toEqual({ status: 'rendered', output: '' });
  });

  it('renders, for each consenting customer, the subject line and content block nextbest logged, or aborts when it decided not to send', async () => {
    const driver = new ConnectedContentDriver();
    const users = Array.from({ length: 40 }, (_, i) => consenting(`consenting-${i}`));
    let personalised = 0;
    let skipped = 0;
    for (const userId of users) {
      const subject = await render(driver, userId, 'subject');
      const html = await render(driver, userId, 'html body');
      const text = await render(driver, userId, 'text body');
      const rows = await decisionsOf(userId);
      expect(rows, userId).toHaveLength(1);
      const [row] = rows;
      if (!row.deliver) {
        skipped++;
        for (const r of [subject, html, text])
          expect(r, userId).toEqual({
            status: 'aborted',
            reason: expect.stringContaining(row.reason === 'guardrail' ? 'guardrail' : 'skip'),
          });
        continue;
      }
      const expected = await expectedContent(row);
      expect(subject, userId).toEqual({ status: 'rendered', output: expected.subject });
      for (const body of [html, text]) {
        expect(body.status, userId).toBe('rendered');
        const output = body.status === 'rendered' ? body.output : '';
        expect(output).toContain(expected.subject);
        expect(output).toContain(expected.block);
        expect(output).toContain(`nb_decision_id=${row.decisionId}`);
      }
      if (choicesOf(row).subject_line) personalised++;
    }
    // The seeded agent both sends chosen subject lines and skips some customers among these 40.
    expect(personalised).toBeGreaterThan(0);
    expect(skipped).toBeGreaterThan(0);
  });

  it("sends the dispatch id and the user id as request_id, so a send's HTML and text renders share one decision even when Braze's cache drops the reply", async () => {
    const driver = new ConnectedContentDriver();
    const userId = consenting('html-and-text');
    const html = await render(driver, userId, 'html body');
    driver.evictCache(); // Braze's cache is volatile: the text part may call again
    const text = await render(driver, userId, 'text body');
    const subject = await render(driver, userId, 'subject'); // same URL, cache still warm

    const calls = driver.attempts.map((a) => ({ url: a.url, fromCache: a.fromCache, status: a.status }));
    const url = `${server.url}/v1/connected-content/${EXAMPLE_AGENT}?user_id=${userId}&request_id=${DISPATCH_ID}.${userId}`;
    expect(calls).toEqual([
      { url, fromCache: false, status: 200 },
      { url, fromCache: false, status: 200 },
      { url, fromCache: true, status: undefined },
    ]);
    expect(await decisionsOf(userId)).toHaveLength(1);
    const [row] = await decisionsOf(userId);
    if (row.deliver) {
      for (const r of [html, text])
        expect(r.status === 'rendered' && r.output).toContain(`nb_decision_id=${row.decisionId}`);
      expect(subject).toEqual({ status: 'rendered', output: (await expectedContent(row)).subject });
    } else {
      for (const r of [html, text, subject]) expect(r.status).toBe('aborted');
    }
  });

  it('aborts the message for customers without consent on any channel, with the reason nextbest logged', async () => {
    const driver = new ConnectedContentDriver();
    const reasons: string[] = [];
    for (let i = 0; i < 10; i++) {
      const userId = `no-consent-${i}`;
      profiles.set({
        userId,
        traits: consentingTraits({ email_subscribed: false, sms_opt_in: false, push_enabled: false }),
        timezone: 'UTC',
      });
      const result = await render(driver, userId, 'html body');
      const rows = await decisionsOf(userId);
      expect(
        rows.map((r) => r.deliver),
        userId,
      ).toEqual([false]);
      // The frequency dimension is decided before the channel, so a "skip" can come first (see docs/braze.md).
      expect(result, userId).toEqual({
        status: 'aborted',
        reason: expect.stringContaining(rows[0].reason === 'guardrail' ? 'guardrail' : 'skip'),
      });
      reasons.push(rows[0].reason);
    }
    expect(reasons).toContain('guardrail');
  });

  it("renders the agent's default subject line and content block for a customer nextbest does not know (the send goes out)", async () => {
    const driver = new ConnectedContentDriver();
    const subject = await render(driver, 'not-in-any-profile-source', 'subject');
    const html = await render(driver, 'not-in-any-profile-source', 'html body');
    expect(subject).toEqual({ status: 'rendered', output: defaults.subjectText });
    expect(html.status === 'rendered' && html.output).toContain(ARM_BLOCKS[defaults.contentBlock]);
  });

  it('renders the defaults when nextbest answers 500: the shipped snippet does not retry, so the send goes out on time', async () => {
    const failing = await startHttp((_req, res) =>
      res.writeHead(500, { 'Content-Type': 'application/json' }).end('{"error":{"code":"internal","message":"boom"}}'),
    );
    try {
      const driver = new ConnectedContentDriver();
      const userId = consenting('server-500');
      const subject = await render(driver, userId, 'subject', { origin: failing.url });
      const html = await render(driver, userId, 'html body', { origin: failing.url });
      expect(subject).toEqual({ status: 'rendered', output: defaults.subjectText });
      expect(html.status === 'rendered' && html.output).toContain(ARM_BLOCKS[defaults.contentBlock]);
      expect(driver.attempts.map((a) => a.status)).toEqual([500, 500]); // one attempt each, nothing cached
    } finally {
      await failing.close();
    }
  });

  it('renders the defaults when nothing listens on the nextbest port', async () => {
    const closed = await startHttp(() => undefined);
    await closed.close();
    const driver = new ConnectedContentDriver();
    const html = await render(driver, consenting('closed-port'), 'html body', { origin: closed.url });
    expect(html.status === 'rendered' && html.output).toContain(`<h1>${defaults.subjectText}</h1>`);
    expect(html.status === 'rendered' && html.output).toContain(ARM_BLOCKS[defaults.contentBlock]);
    expect(driver.attempts).toHaveLength(1);
    expect(driver.attempts[0].error).toMatch(/connection failed/);
  });

  describe('the :retry variant', () => {
    it('differs from the shipped snippet only by :retry', () => {
      expect(withoutComments(retrySnippet).replace(/\n\s*:retry/, '')).toBe(withoutComments(snippet));
    });

    it("retries a failing nextbest with Braze's headers and renders the decision once it answers", async () => {
      const proxy = await startFlakyProxy(server.url, 2);
      try {
        const driver = new ConnectedContentDriver({ backoffMs: () => 5 });
        const userId = consenting('retry-recovers');
        const subject = await render(driver, userId, 'subject', { origin: proxy.url, liquid: retrySnippet });
        expect(driver.attempts.map((a) => a.status)).toEqual([503, 503, 200]);
        for (const headers of proxy.seen) {
          expect(headers['user-agent']).toMatch(/^Braze Sender [0-9a-f]{40}$/);
          expect(headers.accept).toBe('*/*');
          expect(headers.authorization).toBe(`Bearer ${DECIDE_KEY}`);
        }
        const [row] = await decisionsOf(userId);
        if (row.deliver) expect(subject).toEqual({ status: 'rendered', output: (await expectedContent(row)).subject });
        else expect(subject.status).toBe('aborted');
      } finally {
        await proxy.close();
      }
    });

    it('aborts the message after 5 failed attempts, as Braze documents', async () => {
      const proxy = await startFlakyProxy(server.url, Number.POSITIVE_INFINITY);
      try {
        const driver = new ConnectedContentDriver({ backoffMs: () => 5 });
        const result = await render(driver, consenting('retry-exhausted'), 'subject', {
          origin: proxy.url,
          liquid: retrySnippet,
        });
        expect(result).toEqual({ status: 'aborted', reason: expect.stringContaining('failed 5 times') });
        expect(driver.attempts).toHaveLength(CONNECTED_CONTENT_MAX_ATTEMPTS);
      } finally {
        await proxy.close();
      }
    });
  });

  it('answers 200 concurrent renders of one scheduled send, one decision per customer', async () => {
    // Whether they come within Braze's 2 s is a matter of speed (decide's p99 over HTTP is in
    // `npm run bench -- http`), not asserted here: a busy test machine must not fail this test.
    const driver = new ConnectedContentDriver({ timeoutMs: 60_000 });
    const users = Array.from({ length: 200 }, (_, i) => consenting(`burst-${i}`));
    const results = await Promise.all(users.map((userId) => render(driver, userId, 'html body')));

    expect(driver.attempts).toHaveLength(200);
    expect(driver.attempts.filter((a) => a.status !== 200)).toEqual([]);
    expect(results.filter((r) => r.status === 'aborted' && !/guardrail|skip/.test(r.reason))).toEqual([]);
    const rows = await server.store.listDecisions(EXAMPLE_WORKSPACE, EXAMPLE_AGENT, 1_000_000);
    const burstKeys = new Set(users.map((userId) => server.service.userKey(userId)));
    const decided = rows.filter((r) => burstKeys.has(r.userKey)).map((r) => r.userKey);
    expect(decided).toHaveLength(200);
    expect(new Set(decided).size).toBe(200);
  });

  describe('the attributes and trigger examples', () => {
    /** A delivering decision's flat attributes, as the attributes and trigger modes carry them. */
    async function deliveringAttributes(): Promise<{ attributes: Record<string, AttributeValue>; row: DecisionRow }> {
      for (let i = 0; i < 100; i++) {
        const userId = consenting(`attributes-${i}`);
        const res = await call(
          server,
          'GET',
          `/v1/connected-content/${EXAMPLE_AGENT}?user_id=${userId}&request_id=attributes-${i}`,
          { key: DECIDE_KEY },
        );
        if (res.body.nb_deliver === true && res.body.nb_subject_line_text)
          return { attributes: res.body, row: (await decisionsOf(userId))[0] };
      }
      throw new Error('no delivering email decision among 100 customers');
    }

    const modes: [string, keyof RenderContext][] = [
      ['attributes', 'customAttributes'],
      ['trigger', 'apiTriggerProperties'],
      ['canvas-trigger', 'canvasEntryProperties'],
    ];

    it.each(modes)('%s: renders the decision it is given, and the defaults without one', async (mode, source) => {
      const { attributes, row } = await deliveringAttributes();
      const expected = await expectedContent(row);
      const driver = new ConnectedContentDriver();
      const withDecision = (field: Field) =>
        renderLiquid(example(`${mode} / ${field}`), context('someone', { [source]: attributes }), driver);
      const withoutDecision = (field: Field) =>
        renderLiquid(example(`${mode} / ${field}`), context('someone', { [source]: {} }), driver);

      expect(await withDecision('subject')).toEqual({ status: 'rendered', output: expected.subject });
      const html = await withDecision('html body');
      expect(html.status === 'rendered' && html.output).toContain(expected.block);
      expect(html.status === 'rendered' && html.output).toContain(`nb_decision_id=${row.decisionId}`);
      expect(await withoutDecision('subject')).toEqual({ status: 'rendered', output: defaults.subjectText });
      const plain = await withoutDecision('html body');
      expect(plain.status === 'rendered' && plain.output).toContain(ARM_BLOCKS[defaults.contentBlock]);
      expect(driver.attempts).toEqual([]); // these modes never call nextbest at send time
    });

    it('attributes: aborts when the stored decision says not to send', async () => {
      const result = await renderLiquid(
        example('attributes / subject'),
        context('someone', { customAttributes: { nb_deliver: false, nb_reason: 'guardrail' } }),
        new ConnectedContentDriver(),
      );
      expect(result).toEqual({ status: 'aborted', reason: expect.stringContaining('not to send') });
    });
  });
});
