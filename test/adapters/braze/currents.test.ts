/**
 * `POST /v1/webhooks/braze-currents`: Braze Currents' custom HTTP connector, as Braze sends it
 * (`{"events": [...]}`, `Authorization: Bearer <token>`), each event parsed on its own.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { brazeCurrents, CURRENTS_PATH } from '../../../adapters/braze/index.ts';
import type { RunningServer } from '../../../plugin/server/index.ts';
import { call, EXAMPLE_WORKSPACE as WS, NOW, sqlite, startTestServer } from '../../server/helpers.ts';

const TOKEN = 'currents-token-0123456789';
const CAMPAIGN = 'cmp-1';

let seq = 0;
/** A Currents message event of user-1 for CAMPAIGN at NOW, in the connector's shape. */
function currentsEvent(type = 'users.messages.email.Open', overrides: Record<string, unknown> = {}) {
  seq += 1;
  return {
    event_type: type,
    id: `evt-${seq}`,
    time: Math.floor(NOW / 1000),
    user: { user_id: 'braze-1', external_user_id: 'user-1', timezone: 'Europe/Paris' },
    properties: {
      campaign_id: CAMPAIGN,
      campaign_name: 'Spring',
      dispatch_id: 'dispatch-1',
      send_id: 'send-1',
      email_address: 'user-1@example.com',
      user_agent: 'Mozilla/5.0',
    },
    ...overrides,
  };
}

describe('the Braze Currents endpoint', () => {
  let server: RunningServer;
  beforeEach(async () => {
    server = await startTestServer({ extensions: [brazeCurrents({ token: TOKEN })] });
  });
  afterEach(() => server.close());

  const post = (body: unknown, authorization = `Bearer ${TOKEN}`) =>
    call(server, 'POST', CURRENTS_PATH, { body, authorization });

  it('refuses a batch without the bearer token, or with another one, with 401 and stores nothing', async () => {
    const body = { events: [currentsEvent()] };
    expect((await call(server, 'POST', CURRENTS_PATH, { body, key: null })).status).toBe(401);
    expect((await post(body, 'Bearer not-the-token')).body.error.code).toBe('invalid_token');
    expect(await server.store.countEvents(WS)).toBe(0);
  });

  it('answers an empty batch, once the token is checked, without storing anything', async () => {
    expect((await post({ events: [] })).status).toBe(200);
    expect((await call(server, 'POST', CURRENTS_PATH, { raw: '', authorization: `Bearer ${TOKEN}` })).status).toBe(200);
    expect(await server.store.countEvents(WS)).toBe(0);
  });

  it('answers 400 naming the field when the body is not a batch', async () => {
    const res = await post({ event: currentsEvent() });
    expect(res.status).toBe(400);
    expect(res.text).toContain('events');
  });

  it('stores the good events of a batch and reports each bad one with its field, answering 200', async () => {
    const good = [currentsEvent(), currentsEvent('users.messages.email.Click')];
    const bad = [
      currentsEvent('users.messages.email.Open', { time: 'yesterday' }),
      currentsEvent('users.messages.email.Open', { id: '' }),
    ];
    const res = await post({ events: [good[0], bad[0], good[1], bad[1]] });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ accepted: 2, duplicates: 0 });
    expect(res.body.refused).toEqual([
      { index: 1, id: bad[0]!.id, message: expect.stringContaining('time') },
      { index: 3, message: expect.stringContaining('id') },
    ]);
    expect(await server.store.countEvents(WS)).toBe(2);
  });

  it('stores each event once, however often Braze delivers it (at least once)', async () => {
    const e = currentsEvent();
    await post({ events: [e] });
    const again = await post({ events: [e] });
    expect(again.body).toMatchObject({ accepted: 0, duplicates: 1 });
    expect(await server.store.countEvents(WS)).toBe(1);
  });

  it('ignores events of anonymous users and keeps event types it does not know', async () => {
    const res = await post({
      events: [
        currentsEvent('users.messages.email.Open', { user: { user_id: 'braze-9' } }),
        currentsEvent('users.messages.banner.Dismiss'),
        currentsEvent('users.behaviors.CustomEvent', { properties: { name: 'Order Completed' } }),
      ],
    });
    expect(res.body).toMatchObject({ accepted: 2, ignored: 1, refused: [] });
    const names = (
      sqlite(server).db.prepare('SELECT event FROM events ORDER BY event').all() as { event: string }[]
    ).map((r) => r.event);
    expect(names).toEqual(['Order Completed', 'users.messages.banner.Dismiss']);
  });

  it('stores no raw user id, email address or user agent', async () => {
    await post({ events: [currentsEvent()] });
    const rows = sqlite(server).db.prepare('SELECT * FROM events').all();
    const stored = JSON.stringify(rows);
    for (const secret of ['user-1', 'braze-1', 'user-1@example.com', 'Mozilla']) expect(stored).not.toContain(secret);
    expect(stored).toContain('dispatch-1');
  });
});
