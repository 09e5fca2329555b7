import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../plugin/server/index.ts';
import { largestAgent, largestTraits } from '../config/largest.ts';
import { MAX_AGENTS } from '../../plugin/config/index.ts';
import {
  API_KEY,
  call,
  makeAgentInput,
  makeDecideBody,
  makeEvent,
  NOW,
  startTestServer,
  storeCounts,
} from './helpers.ts';

/** POSTs `body` bytes as they are, with `headers`: what a client with its own idea of encodings sends. */
async function postBytes(
  server: RunningServer,
  path: string,
  body: Buffer,
  headers: Record<string, string>,
): Promise<{ status: number; body: any }> {
  const res = await fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json', ...headers },
    body: new Uint8Array(body),
    signal: AbortSignal.timeout(20_000),
  });
  return { status: res.status, body: await res.json() };
}

const event = () => Buffer.from(JSON.stringify(makeEvent()));

describe('bodies in a Content-Encoding or charset', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server?.close());

  it.each<[string, Buffer, string]>([
    ['gzip', gzipSync(event()), 'gzip'],
    ['deflate', deflateSync(event()), 'deflate'],
    ['br', brotliCompressSync(event()), 'br'],
  ])('reads a %s body', async (_name, body, encoding) => {
    const res = await postBytes(server, '/v1/events', body, { 'content-encoding': encoding });
    expect(res).toMatchObject({ status: 200, body: { accepted: 1 } });
  });

  it.each(['gzip', 'deflate', 'br'])(
    'answers 400 malformed_body to a body that is not %s though it says so, and stores nothing',
    async (encoding) => {
      const before = await storeCounts(server);
      const res = await postBytes(server, '/v1/events', event(), { 'content-encoding': encoding });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('malformed_body');
      expect(res.body.error.message).toMatch(/^the body is not what its Content-Encoding says: /);
      expect(await storeCounts(server)).toEqual(before);
    },
  );

  it('answers 400 malformed_body to a gzip body cut short', async () => {
    const res = await postBytes(server, '/v1/events', gzipSync(event()).subarray(0, 20), {
      'content-encoding': 'gzip',
    });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('malformed_body');
  });

  it('answers 415 to a Content-Encoding it does not know', async () => {
    const res = await postBytes(server, '/v1/events', event(), { 'content-encoding': 'compress' });
    expect(res.status).toBe(415);
    expect(res.body.error).toMatchObject({
      code: 'unsupported_encoding',
      message: expect.stringContaining('compress'),
    });
  });

  it('answers 413 to a gzip body that inflates past the limit (the limit counts inflated bytes)', async () => {
    const bomb = gzipSync(Buffer.from(JSON.stringify(makeEvent({ properties: { pad: 'x'.repeat(600_000) } }))));
    expect(bomb.length).toBeLessThan(10_000);
    const res = await postBytes(server, '/v1/events', bomb, { 'content-encoding': 'gzip' });
    expect(res).toMatchObject({ status: 413, body: { error: { code: 'body_too_large' } } });
  });

  it('answers 400 malformed_body to bytes that are not UTF-8', async () => {
    const body = Buffer.concat([Buffer.from('{"userId":"user-'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]);
    const res = await postBytes(server, '/v1/agents/winback/decide', body, {});
    expect(res.status).toBe(400);
    expect(res.body.error).toEqual({
      code: 'malformed_body',
      message: 'the body is not valid UTF-8 (JSON bodies are UTF-8)',
    });
  });

  it('answers 415 to a body that says it is in another charset', async () => {
    const res = await postBytes(server, '/v1/agents/winback/decide', Buffer.from(JSON.stringify(makeDecideBody())), {
      'content-type': 'application/json; charset=latin1',
    });
    expect(res.status).toBe(415);
    expect(res.body.error.code).toBe('unsupported_encoding');
  });

  it('reads a body of exactly 64 levels', async () => {
    const deep = `${'['.repeat(62)}1${']'.repeat(62)}`; // inside the body's object and traits: 64
    const raw = JSON.stringify(makeDecideBody()).replace('"traits":{', `"traits":{"deep":${deep},`);
    expect((await call(server, 'POST', '/v1/agents/winback/decide', { raw })).status).toBe(200);
  });

  it('counts brackets inside strings as text, not nesting, whatever the strings escape', async () => {
    const properties = { note: '['.repeat(5000), quoted: '"[[[['.repeat(100), slash: 'a\\', after: '{'.repeat(100) };
    const res = await call(server, 'POST', '/v1/events', { body: makeEvent({ properties }) });
    expect(res.status).toBe(200);
  });

  it('still counts the nesting after a string that ends in an escaped backslash', async () => {
    const raw = JSON.stringify(makeEvent({ properties: { slash: 'a\\' } })).replace(
      '"slash":"a\\\\"',
      `"slash":"a\\\\","deep":${'['.repeat(70)}${']'.repeat(70)}`,
    );
    expect(raw).toContain('\\","deep":[[[');
    expect((await call(server, 'POST', '/v1/events', { raw })).body.error.code).toBe('body_too_deep');
  });
});

describe('the largest allowed agent config', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server?.close());

  it('is saved, changed, and decides for a customer', async () => {
    const created = await call(server, 'PUT', '/v1/agents/largest', { body: largestAgent() });
    expect(created.status).toBe(201);
    const changed = await call(server, 'PUT', '/v1/agents/largest', { body: { ...largestAgent(), holdout: 0 } });
    expect(changed.body).toMatchObject({ version: 2, changed: true });
    const decided = await call(server, 'POST', '/v1/agents/largest/decide', {
      body: { userId: 'user-1', timezone: 'Europe/Paris', traits: largestTraits() },
    });
    expect(decided.status).toBe(200);
    expect(Object.keys(decided.body.choices)).toHaveLength(10);
  });
});

describe('agents of a workspace', () => {
  let server: RunningServer;
  beforeAll(async () => (server = await startTestServer()));
  afterAll(() => server.close());

  it(`are at most ${MAX_AGENTS}, through PUT as in the config file`, async () => {
    // the example workspace has one agent already
    for (let i = 1; i < MAX_AGENTS; i++) {
      const res = await call(server, 'PUT', `/v1/agents/a${i}`, { body: makeAgentInput({ id: `a${i}` }) });
      expect(res.status, `agent ${i}`).toBeLessThan(300);
    }
    const before = await storeCounts(server);
    const refused = await call(server, 'PUT', '/v1/agents/one-too-many', {
      body: makeAgentInput({ id: 'one-too-many' }),
    });
    expect(refused.status).toBe(400);
    expect(refused.body.error.message).toContain(`already has ${MAX_AGENTS} agents`);
    expect(await storeCounts(server)).toEqual(before);
    // an existing agent can still change
    expect(
      (await call(server, 'PUT', '/v1/agents/a1', { body: makeAgentInput({ id: 'a1', holdout: 0.2 }) })).status,
    ).toBe(200);
  });
});

describe('POST /v1/events with an event outside the workspace window', () => {
  let server: RunningServer;
  beforeAll(async () => (server = await startTestServer()));
  afterAll(() => server.close());

  it('stores the rest of the batch and names the event left out', async () => {
    const before = await storeCounts(server);
    const fresh = makeEvent({ timestamp: new Date(NOW).toISOString() });
    const stale = makeEvent({ timestamp: new Date(NOW - 30 * 86_400_000).toISOString() });
    const res = await call(server, 'POST', '/v1/events', { body: { batch: [fresh, stale] } });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      success: true,
      accepted: 1,
      duplicates: 0,
      outOfWindow: [{ messageId: stale.messageId, message: expect.stringContaining('timestamp is older than 10d') }],
    });
    expect((await storeCounts(server)).events).toBe(before.events + 1);
  });
});
