/**
 * The fake Braze behaves like Braze where nextbest is most easily fooled: triggered sends skip
 * recipients silently and still answer success, reads lag behind writes, and Currents reports
 * only what was really sent, in batches, with the connector's token.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startFakeBraze, type FakeBraze } from '../../fakes/braze.ts';

const KEY = 'braze-test-key';
const NOW = Date.parse('2026-03-02T09:00:00Z');

async function post(fake: FakeBraze, path: string, body: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${fake.url}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

const trigger = (fake: FakeBraze, ids: string[], campaign = 'cmp-1') =>
  post(fake, '/campaigns/trigger/send', {
    campaign_id: campaign,
    recipients: ids.map((id) => ({ external_user_id: id, attributes: { seen: true } })),
  });

/** A Currents connector: records each request's headers and events, answering `status`. */
async function startConnector(status = 200) {
  const batches: { authorization?: string; version?: string; events: any[] }[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      batches.push({
        authorization: req.headers.authorization,
        version: req.headers['braze-currents-version'] as string,
        events: JSON.parse(body).events,
      });
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/currents`;
  return { url, batches, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

describe('the fake Braze', () => {
  let fake: FakeBraze;
  let connector: Awaited<ReturnType<typeof startConnector>> | undefined;
  let now = NOW;
  afterEach(async () => {
    await fake.close();
    await connector?.close();
    connector = undefined;
    now = NOW;
  });

  it('skips a recipient who is not re-eligible, silently, answering success with a dispatch_id', async () => {
    fake = await startFakeBraze({
      apiKey: KEY,
      clock: () => now,
      targets: { 'cmp-1': { reEligibleAfterMs: 3_600_000 } },
    });
    await trigger(fake, ['a']);
    now += 60_000;
    const again = await trigger(fake, ['a', 'b']);
    expect(again).toMatchObject({ status: 201, body: { message: 'success', dispatch_id: expect.any(String) } });
    expect(fake.sends.map((s) => s.externalUserId)).toEqual(['a', 'b']);
    expect(fake.skipped).toEqual([expect.objectContaining({ externalUserId: 'a', reason: 'not_re_eligible' })]);
    now += 3_600_000;
    await trigger(fake, ['a']);
    expect(fake.sends.map((s) => s.externalUserId)).toEqual(['a', 'b', 'a']);
  });

  it("skips a recipient outside the campaign's segment, and unknown users unless told to create them", async () => {
    fake = await startFakeBraze({
      apiKey: KEY,
      existingUsers: ['in', 'out'],
      targets: { 'cmp-1': { segment: (id) => id === 'in' } },
    });
    const res = await trigger(fake, ['in', 'out', 'stranger']);
    expect(res.status).toBe(201);
    expect(fake.sends.map((s) => s.externalUserId)).toEqual(['in']);
    expect(fake.skipped.map((s) => [s.externalUserId, s.reason])).toEqual([
      ['out', 'not_in_segment'],
      ['stranger', 'unknown_user'],
    ]);
  });

  it('lets /users/export/ids see a write only after its read delay', async () => {
    fake = await startFakeBraze({ apiKey: KEY, clock: () => now, readDelayMs: 10_000 });
    await post(fake, '/users/track', { attributes: [{ external_id: 'a', nb_decision_id: 'd1' }] });
    const read = () =>
      post(fake, '/users/export/ids', { external_ids: ['a'], fields_to_export: ['custom_attributes'] });
    expect((await read()).body).toMatchObject({ users: [], invalid_user_ids: ['a'] });
    now += 10_000;
    expect((await read()).body.users).toEqual([{ external_id: 'a', custom_attributes: { nb_decision_id: 'd1' } }]);
  });

  it('reports what it sent to Currents in batches, with the bearer token, and nothing for the skipped', async () => {
    connector = await startConnector();
    fake = await startFakeBraze({
      apiKey: KEY,
      targets: { 'cmp-1': {} },
      currents: { url: connector.url, token: 'tok', batchSize: 3 },
    });
    await trigger(fake, ['a', 'b']);
    await trigger(fake, ['a']); // not re-eligible
    fake.engage('b', 'cmp-1', 'Open');
    expect(await fake.flushCurrents()).toEqual([200, 200]);
    expect(connector.batches.map((b) => b.events.length)).toEqual([3, 2]);
    expect(connector.batches.every((b) => b.authorization === 'Bearer tok' && b.version === '1')).toBe(true);
    const events = connector.batches.flatMap((b) => b.events);
    expect(events.map((e) => `${e.user.external_user_id} ${e.event_type}`)).toEqual([
      'a users.messages.email.Send',
      'a users.messages.email.Delivery',
      'b users.messages.email.Send',
      'b users.messages.email.Delivery',
      'b users.messages.email.Open',
    ]);
    expect(events[0]).toMatchObject({ properties: { campaign_id: 'cmp-1', dispatch_id: expect.any(String) } });
    expect(fake.pendingCurrents()).toBe(0);
  });

  it('keeps a batch the connector refused, to send it again', async () => {
    connector = await startConnector(503);
    fake = await startFakeBraze({ apiKey: KEY, currents: { url: connector.url, token: 'tok' } });
    await trigger(fake, ['a']);
    expect(await fake.flushCurrents()).toEqual([503]);
    expect(fake.pendingCurrents()).toBe(2);
  });
});
