import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../plugin/server/index.ts';
import { postgresBinForTests, startPostgres, type TestPostgres } from '../helpers/postgres.ts';
import { call, EXAMPLE_AGENT, makeDecideBody, makeEvent, startTestServer } from './helpers.ts';

const bin = postgresBinForTests();

/** Status and error code of an answer. */
function answer(r: { status: number; body: { error?: { code?: string } } | undefined }) {
  return { status: r.status, code: r.body?.error?.code };
}

describe.skipIf(!bin)('the database down over HTTP (a real PostgreSQL server)', () => {
  let pg: TestPostgres;
  let server: RunningServer;

  beforeAll(async () => {
    pg = await startPostgres(bin!);
    server = await startTestServer({ db: await pg.createDatabase('faults') });
  });

  afterAll(async () => {
    await server?.close().catch(() => undefined);
    pg?.destroy();
  });

  it('answers 503 storage_unavailable while the server is stopped, and serves again once it is back', async () => {
    const before = answer(await call(server, 'POST', '/v1/events', { body: makeEvent() }));
    pg.stop('immediate');
    const event = answer(await call(server, 'POST', '/v1/events', { body: makeEvent() }));
    const erase = answer(await call(server, 'DELETE', '/v1/users/alice@example.com'));
    const health = await call(server, 'GET', '/healthz', { key: null });
    const decided = await call(server, 'POST', `/v1/agents/${EXAMPLE_AGENT}/decide`, { body: makeDecideBody() });
    pg.start();
    const after = answer(await call(server, 'POST', '/v1/events', { body: makeEvent() }));
    const healthAfter = await call(server, 'GET', '/healthz', { key: null });
    expect({
      before,
      event,
      erase,
      health: [health.status, health.body?.error?.code],
      decided: [decided.status, decided.body.reason, decided.body.error?.code],
      after,
      healthAfter: healthAfter.status,
    }).toEqual({
      before: { status: 200, code: undefined },
      event: { status: 503, code: 'storage_unavailable' },
      erase: { status: 503, code: 'storage_unavailable' },
      health: [503, 'storage_unavailable'],
      decided: [200, 'error', 'storage_unavailable'],
      after: { status: 200, code: undefined },
      healthAfter: 200,
    });
  });
});
