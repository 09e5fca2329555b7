/**
 * What the log keeps of a request: request ids and event bodies often hold the user's id (the
 * docs' own `crm-run-42/u-123`, `traits.email`, `context.ip`); none of it is stored raw.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../plugin/server/index.ts';
import { IDENTIFYING_PROPERTIES } from '../../plugin/service/event-body.ts';
import {
  call,
  EXAMPLE_AGENT as AGENT,
  EXAMPLE_WORKSPACE as WS,
  makeDecideBody,
  makeEvent,
  sqlite,
  startTestServer,
} from './helpers.ts';

const ALICE = 'alice@example.com';
let server: RunningServer;
beforeAll(async () => (server = await startTestServer()));
afterAll(() => server.close());

describe('what is stored of a request', () => {
  it('keeps a keyed hash of the requestId, and replays it', async () => {
    const body = makeDecideBody({ userId: ALICE, requestId: `crm-run-42/${ALICE}` });
    const first = await call(server, 'POST', `/v1/agents/${AGENT}/decide`, { body });
    const row = await server.store.getDecision(WS, first.body.decisionId);
    expect(row?.requestId).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(JSON.stringify(row)).not.toContain('alice');
    const again = await call(server, 'POST', `/v1/agents/${AGENT}/decide`, { body });
    expect(again.body).toMatchObject({ decisionId: first.body.decisionId, replayed: true });
  });

  it('keeps of an event its properties, without identifying fields or the user id', async () => {
    const event = makeEvent({
      userId: ALICE,
      anonymousId: 'anon-1',
      properties: { revenue: 12, email: ALICE, First_Name: 'Alice', note: `gift from ${ALICE}`, items: [{ sku: 'a' }] },
      traits: { email: ALICE },
      context: { ip: '203.0.113.9', traits: { email: ALICE }, page: { url: `https://shop/?u=${ALICE}` } },
    });
    expect((await call(server, 'POST', '/v1/events', { body: { batch: [event] } })).status).toBe(200);
    const stored = sqlite(server)
      .db.prepare('SELECT body FROM events WHERE message_id = ?')
      .pluck()
      .get(event.messageId);
    expect(JSON.parse(stored as string)).toEqual({
      properties: { revenue: 12, note: 'gift from [user]', items: [{ sku: 'a' }] },
    });
    expect(IDENTIFYING_PROPERTIES).toContain('email');
  });
});
