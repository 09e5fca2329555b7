/**
 * A public key is in every web page's source, so anyone can use it. Its decisions are their own
 * kind: they never take the attribution of a message that was sent, never touch a request id a
 * campaign will use, and are rate limited per key and per user.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InMemoryProfileSource } from '../../plugin/agent/index.ts';
import type { RunningServer } from '../../plugin/server/index.ts';
import { makeProfile } from '../agent/factories.ts';
import {
  addApiKey,
  call,
  consentingTraits,
  EXAMPLE_AGENT as AGENT,
  EXAMPLE_WORKSPACE as WS,
  exampleUser,
  makeDecideBody,
  makeEvent,
  startTestServer,
  userRows,
} from './helpers.ts';

const DECIDE = `/v1/agents/${AGENT}/decide`;

let server: RunningServer;
let publicKey: string;

async function serverKnowing(userIds: string[]): Promise<RunningServer> {
  const profiles = userIds.map((userId) => ({
    ...makeProfile({ userId }),
    traits: consentingTraits(),
    timezone: 'UTC',
  }));
  return startTestServer({ profileSource: new InMemoryProfileSource(profiles) });
}

const outcomesOf = async (decisionId: string) => (await server.store.outcomesOf(WS, decisionId)).map((o) => o.event);

describe('decisions asked for with a public key', () => {
  let user: string;
  beforeEach(async () => {
    user = await exampleUser(false, 'shopper');
    server = await serverKnowing([user]);
    publicKey = await addApiKey(server, 'nb_pk_public_decisions', 'public');
  });
  afterEach(() => server.close());

  it("never take the credit of the message that was sent: the user's order counts for the email's decision", async () => {
    const email = await call(server, 'POST', DECIDE, { body: makeDecideBody({ userId: user }) });
    expect(email.status).toBe(200);
    const stranger = await call(server, 'POST', DECIDE, { body: { userId: user }, key: publicKey });
    expect(stranger.status).toBe(200);

    const order = makeEvent({ userId: user, event: 'Order Completed', properties: { revenue: 40 } });
    expect((await call(server, 'POST', '/v1/events', { body: { batch: [order] } })).status).toBe(200);

    expect(await outcomesOf(email.body.decisionId)).toEqual(['Order Completed']);
    // the onsite render learns from the same order, as a decision of its own kind
    expect(await outcomesOf(stranger.body.decisionId)).toEqual(['Order Completed']);
  });

  it("cannot pre-claim a campaign's requestId: Connected Content and decide answer a decision of their own", async () => {
    const requestId = `crm-run-42/${user}`;
    const claimed = await call(server, 'POST', DECIDE, { body: { userId: user, requestId }, key: publicKey });
    expect(claimed.status).toBe(200);

    const cc = await call(server, 'GET', `/v1/connected-content/${AGENT}?user_id=${user}&request_id=${requestId}`);
    expect(cc.status).toBe(200);
    expect(cc.body.nb_decision_id).not.toBe(claimed.body.decisionId);
    expect(cc.body.nb_reason).not.toBe('error');

    const decided = await call(server, 'POST', DECIDE, { body: { userId: user, requestId } });
    expect(decided.body).toMatchObject({ decisionId: cc.body.nb_decision_id, replayed: true });
    // the campaign's decision counted as a send (frequency caps), the public one did not
    expect(userRows(server, user).sends).toHaveLength(cc.body.nb_deliver ? 1 : 0);
  });

  it('replays its own requestId, and a requestId taken by another user is still a 409 for server keys', async () => {
    const first = await call(server, 'POST', DECIDE, { body: { userId: user, requestId: 'page-1' }, key: publicKey });
    const again = await call(server, 'POST', DECIDE, { body: { userId: user, requestId: 'page-1' }, key: publicKey });
    expect(again.body).toMatchObject({ decisionId: first.body.decisionId, replayed: true });

    await call(server, 'POST', DECIDE, { body: makeDecideBody({ userId: user, requestId: 'shared' }) });
    const other = await call(server, 'POST', DECIDE, {
      body: makeDecideBody({ userId: 'someone', requestId: 'shared' }),
    });
    expect(other.status).toBe(409);
  });

  it('are erased with the user', async () => {
    await call(server, 'POST', DECIDE, { body: { userId: user }, key: publicKey });
    await call(server, 'POST', DECIDE, { body: makeDecideBody({ userId: user }) });
    const erased = await call(server, 'DELETE', `/v1/users/${encodeURIComponent(user)}`);
    expect(erased.status).toBe(200);
    expect(erased.body.erased.decisions).toBe(2);
    expect(await server.store.listDecisions(WS, AGENT, 100)).toEqual([]);
  });
});

describe('the rate limits of a public key', () => {
  afterEach(() => server.close());

  it('answer 429 with Retry-After once a user has used the burst, and leave other users alone', async () => {
    server = await serverKnowing(['visitor-a', 'visitor-b']);
    publicKey = await addApiKey(server, 'nb_pk_rates', 'public');
    const statuses: number[] = [];
    for (let i = 0; i < 21; i++)
      statuses.push((await call(server, 'POST', DECIDE, { body: { userId: 'visitor-a' }, key: publicKey })).status);
    expect(statuses.slice(0, 20).every((s) => s === 200)).toBe(true);
    const limited = await call(server, 'POST', DECIDE, { body: { userId: 'visitor-a' }, key: publicKey });
    expect(limited.status).toBe(429);
    expect(limited.body.error.code).toBe('rate_limited');
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect((await call(server, 'POST', DECIDE, { body: { userId: 'visitor-b' }, key: publicKey })).status).toBe(200);
    // server keys are not limited this way
    expect((await call(server, 'POST', DECIDE, { body: makeDecideBody({ userId: 'visitor-a' }) })).status).toBe(200);
  });

  it('limit the key as a whole', async () => {
    server = await startTestServer({
      profileSource: new InMemoryProfileSource([]),
      publicRates: { perKey: { perSecond: 1, burst: 3 }, perUser: { perSecond: 1, burst: 100 } },
    });
    publicKey = await addApiKey(server, 'nb_pk_key_rate', 'public');
    const statuses = [];
    for (let i = 0; i < 4; i++)
      statuses.push((await call(server, 'POST', DECIDE, { body: { userId: `v-${i}` }, key: publicKey })).status);
    expect(statuses.slice(0, 3)).not.toContain(429);
    expect(statuses[3]).toBe(429);
  });
});
