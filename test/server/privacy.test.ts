/**
 * Erasure that erases: after every route that takes a user id has seen `alice@example.com`
 * (decide, decide:batch, Connected Content, events, the Segment webhook), and `DELETE` of that
 * user and a clean stop, no byte sequence of the id remains in the database file, its WAL, or the
 * logs (at debug level, everything the service logs).
 */
import { existsSync, readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { segmentWebhook } from '../../adapters/segment/index.ts';
import { segmentSignature } from '../../adapters/segment/signature.ts';
import type { RunningServer } from '../../plugin/server/index.ts';
import { call, EXAMPLE_AGENT as AGENT, makeDecideBody, makeEvent, startTestServer, tempDir } from './helpers.ts';

const ALICE = 'alice@example.com';
const SECRET = 'privacy-shared-secret';

let dir: { path: string; remove: () => Promise<void> };
let logs = '';
beforeAll(async () => (dir = await tempDir()));
afterAll(() => dir.remove());

/** Every way the id could be written: UTF-8, UTF-16 (either order), and percent-encoded. */
function encodings(id: string): Buffer[] {
  return [
    Buffer.from(id, 'utf8'),
    Buffer.from(id, 'utf16le'),
    Buffer.from(id, 'utf16le').swap16(),
    Buffer.from(encodeURIComponent(id)),
  ];
}

async function touchEveryRoute(server: RunningServer): Promise<void> {
  const traits = { email: ALICE, ...(makeDecideBody().traits as object) };
  const decide = await call(server, 'POST', `/v1/agents/${AGENT}/decide`, {
    body: makeDecideBody({ userId: ALICE, requestId: `crm-run-42/${ALICE}`, traits }),
  });
  expect(decide.status).toBe(200);
  const batch = await call(server, 'POST', `/v1/agents/${AGENT}/decide:batch`, {
    body: { users: [makeDecideBody({ userId: ALICE, requestId: `batch/${ALICE}`, traits })] },
  });
  expect(batch.status).toBe(200);
  const cc = await call(
    server,
    'GET',
    `/v1/connected-content/${AGENT}?user_id=${encodeURIComponent(ALICE)}&request_id=${encodeURIComponent(`cc/${ALICE}`)}`,
  );
  expect(cc.status).toBe(200);
  const events = [
    makeEvent({
      userId: ALICE,
      context: { ip: '203.0.113.9', traits: { email: ALICE } },
      properties: { email: ALICE },
    }),
    makeEvent({ type: 'identify', event: undefined, userId: ALICE, traits: { email: ALICE } }),
  ];
  expect((await call(server, 'POST', '/v1/events', { body: { batch: events } })).status).toBe(200);
  const raw = JSON.stringify([makeEvent({ userId: ALICE, properties: { note: `for ${ALICE}` } })]);
  const hook = await fetch(`${server.url}/v1/webhooks/segment`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-signature': segmentSignature(SECRET, raw) },
    body: raw,
  });
  expect(hook.status).toBe(200);
}

describe('erasure', () => {
  it('leaves no byte of the user id in the database file, its WAL or the logs', async () => {
    const sink = new Writable({ write: (chunk, _enc, done) => ((logs += String(chunk)), done()) });
    const dbFile = `${dir.path}/privacy.db`;
    const server = await startTestServer({
      db: `sqlite:${dbFile}`,
      logger: pino({ level: 'debug' }, sink),
      extensions: [segmentWebhook({ settings: { sharedSecret: SECRET } })],
    });
    await touchEveryRoute(server);
    const erased = await call(server, 'DELETE', `/v1/users/${encodeURIComponent(ALICE)}`);
    expect(erased.status).toBe(200);
    expect(erased.body.erased).toMatchObject({ decisions: 2, events: 3 });
    await server.close();

    const files = [dbFile, `${dbFile}-wal`].filter((f) => existsSync(f));
    for (const file of files) {
      const bytes = readFileSync(file);
      for (const needle of encodings(ALICE))
        expect(bytes.includes(needle), `${file} holds ${needle.toString('hex')}`).toBe(false);
      expect(bytes.includes(Buffer.from('alice')), `${file} holds "alice"`).toBe(false);
    }
    expect(logs.length).toBeGreaterThan(0);
    expect(logs).not.toContain('alice');
  });
});
