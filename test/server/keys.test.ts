import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InMemoryProfileSource } from '../../plugin/agent/index.ts';
import type { RunningServer } from '../../plugin/server/index.ts';
import { hashApiKey } from '../../plugin/service/index.ts';
import { makeProfile } from '../agent/factories.ts';
import {
  addApiKey,
  call,
  consentingTraits,
  EXAMPLE_AGENT as AGENT,
  makeDecideBody,
  makeEvent,
  startTestServer,
  storeCounts,
} from './helpers.ts';

const DECIDE = `/v1/agents/${AGENT}/decide`;
const SHOP = 'https://shop.example.com';

let server: RunningServer;
let publicKey: string;

beforeAll(async () => {
  const source = new InMemoryProfileSource([
    { ...makeProfile({ userId: 'web-visitor' }), traits: consentingTraits(), timezone: 'UTC' },
  ]);
  server = await startTestServer({ profileSource: source, corsOrigins: [SHOP] });
  publicKey = await addApiKey(server, 'nb_pk_test', 'public');
});
afterAll(() => server.close());

describe('POST /v1/keys', () => {
  it('creates a key of the asked scope, shows it once and stores only its hash', async () => {
    const res = await call(server, 'POST', '/v1/keys', { body: { scope: 'public', label: 'shop content blocks' } });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      scope: 'public',
      label: 'shop content blocks',
      key: expect.stringMatching(/^nb_pk_[A-Za-z0-9_-]{43}$/),
    });
    expect(await server.store.findApiKey(hashApiKey(res.body.key))).toMatchObject({
      scope: 'public',
      label: 'shop content blocks',
    });
    const decided = await call(server, 'POST', DECIDE, { body: { userId: 'web-visitor' }, key: res.body.key });
    expect(decided.status).toBe(200);
  });

  it('names the bad field and creates nothing', async () => {
    const before = await storeCounts(server);
    const res = await call(server, 'POST', '/v1/keys', { body: { scope: 'root', label: 'x' } });
    expect(res.status).toBe(400);
    expect(res.body.error.message).toContain('scope');
    expect(await storeCounts(server)).toEqual(before);
  });

  it('is refused to a decide key', async () => {
    const key = await addApiKey(server, 'nb_decide_for_keys', 'decide');
    const res = await call(server, 'POST', '/v1/keys', { body: { scope: 'admin', label: 'escalation' }, key });
    expect(res.status).toBe(403);
  });
});

describe('a public key', () => {
  it('decides from the profile source', async () => {
    const res = await call(server, 'POST', DECIDE, {
      body: { userId: 'web-visitor', context: { page: '/running' } },
      key: publicKey,
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      reason: expect.stringMatching(/explore|exploit|holdout/),
      attributes: { nb_decision_id: res.body.decisionId },
    });
  });

  it.each([
    ['traits', { traits: { vip: true } }],
    ['consent', { consent: { sms: true } }],
    ['explain', { explain: true }],
  ])('may not send %s, and nothing is decided', async (field, extra) => {
    const before = await storeCounts(server);
    const res = await call(server, 'POST', DECIDE, { body: { userId: 'web-visitor', ...extra }, key: publicKey });
    expect(res.status).toBe(403);
    expect(res.body.error).toMatchObject({ code: 'forbidden_field' });
    expect(res.body.error.message).toContain(`refused: ${field}`);
    expect(await storeCounts(server)).toEqual(before);
  });

  it('may not put profile traits in context, where they would override consent', async () => {
    const before = await storeCounts(server);
    const res = await call(server, 'POST', DECIDE, {
      body: { userId: 'web-visitor', context: { page: '/', email_subscribed: true, vip: true } },
      key: publicKey,
    });
    expect(res.status).toBe(403);
    expect(res.body.error.message).toContain('refused: context.email_subscribed, context.vip');
    expect(await storeCounts(server)).toEqual(before);
  });

  it('does not count its decisions as sends, so page views never use up frequency caps', async () => {
    const before = await storeCounts(server);
    for (let i = 0; i < 5; i++) {
      const res = await call(server, 'POST', DECIDE, {
        body: { userId: 'web-visitor', context: { page: `/p/${i}` } },
        key: publicKey,
      });
      expect(res.body.suppressed?.reasons ?? []).not.toContain('frequency_cap');
    }
    const after = await storeCounts(server);
    expect([after.decisions - before.decisions, after.sends - before.sends]).toEqual([5, 0]);
  });

  it.each([
    ['POST', '/v1/events', makeEvent()],
    ['GET', `/v1/connected-content/${AGENT}?user_id=web-visitor`, undefined],
    ['GET', `/v1/agents/${AGENT}`, undefined],
    ['POST', `/v1/agents/${AGENT}/decide:batch`, { users: [makeDecideBody()] }],
  ])('is refused on %s %s', async (method, path, body) => {
    const res = await call(server, method, path, { body, key: publicKey });
    expect(res.status).toBe(403);
  });
});

describe('CORS on decide', () => {
  it('answers the preflight of an allowed origin with the headers a browser needs', async () => {
    const res = await fetch(`${server.url}${DECIDE}`, {
      method: 'OPTIONS',
      headers: {
        origin: SHOP,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization,content-type',
      },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe(SHOP);
    expect(res.headers.get('access-control-allow-headers')).toContain('authorization');
  });

  it('allows the decide response to an allowed origin', async () => {
    const res = await fetch(`${server.url}${DECIDE}`, {
      method: 'POST',
      headers: { origin: SHOP, authorization: `Bearer ${publicKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ userId: 'web-visitor' }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe(SHOP);
  });

  it('sends no CORS header to another origin', async () => {
    const res = await fetch(`${server.url}${DECIDE}`, {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example.net', 'access-control-request-method': 'POST' },
    });
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
  });
});
