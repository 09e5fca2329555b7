/**
 * decide:batch streams one NDJSON line per user. A user who cannot be decided gets an error line
 * naming it, and the trailer tells the client whether every user got a decision.
 */
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { BATCH_STATUS_TRAILER } from '../../plugin/server/routes/decisions.ts';
import type { RunningServer } from '../../plugin/server/index.ts';
import { API_KEY, call, EXAMPLE_AGENT as AGENT, makeDecideBody, startTestServer } from './helpers.ts';

let server: RunningServer;
beforeAll(async () => (server = await startTestServer()));
afterAll(() => server.close());

/** POSTs a batch over node:http (fetch does not expose trailers): its lines and its trailers. */
function postBatch(users: unknown[]): Promise<{ status: number; lines: any[]; trailers: NodeJS.Dict<string> }> {
  const url = new URL(`${server.url}/v1/agents/${AGENT}/decide:batch`);
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: 'POST', headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' } },
      (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
        res.on('end', () =>
          resolve({
            status: res.statusCode!,
            lines: text
              .split('\n')
              .filter((l) => l !== '')
              .map((l) => JSON.parse(l)),
            trailers: res.trailers,
          }),
        );
      },
    );
    req.on('error', reject);
    req.end(JSON.stringify({ users }));
  });
}

describe('POST /v1/agents/{id}/decide:batch', () => {
  it('says in its trailer that every user was decided', async () => {
    const { status, lines, trailers } = await postBatch([
      makeDecideBody({ userId: 'batch-a' }),
      makeDecideBody({ userId: 'batch-b' }),
    ]);
    expect(status).toBe(200);
    expect(lines.map((l) => l.decisionId)).toEqual([expect.any(String), expect.any(String)]);
    expect(trailers[BATCH_STATUS_TRAILER.toLowerCase()]).toBe('complete');
  });

  it('names a user it could not decide in an error line, decides the others, and says so in the trailer', async () => {
    const taken = await call(server, 'POST', `/v1/agents/${AGENT}/decide`, {
      body: makeDecideBody({ userId: 'owner', requestId: 'mailing-7' }),
    });
    expect(taken.status).toBe(200);
    const { status, lines, trailers } = await postBatch([
      makeDecideBody({ userId: 'batch-c' }),
      makeDecideBody({ userId: 'batch-d', requestId: 'mailing-7' }), // already another user's
      makeDecideBody({ userId: 'batch-e' }),
    ]);
    expect(status).toBe(200);
    expect(lines).toHaveLength(3);
    expect(lines[0].decisionId).toEqual(expect.any(String));
    expect(lines[1]).toEqual({
      userId: 'batch-d',
      error: { code: 'request_id_conflict', message: expect.stringContaining('another user') },
    });
    expect(lines[2].decisionId).toEqual(expect.any(String));
    expect(trailers[BATCH_STATUS_TRAILER.toLowerCase()]).toBe('incomplete; undecided=1');
  });

  it('ends with an error line naming every user not decided when the batch cannot go on', async () => {
    const decide = server.service.decide.bind(server.service);
    let calls = 0;
    const spy = vi.spyOn(server.service, 'decide').mockImplementation(async (...args) => {
      calls += 1;
      if (calls === 2) throw new Error('the disk went away');
      return decide(...args);
    });
    try {
      const { lines, trailers } = await postBatch(['f', 'g', 'h'].map((u) => makeDecideBody({ userId: `batch-${u}` })));
      expect(lines).toHaveLength(2);
      expect(lines[0].decisionId).toEqual(expect.any(String));
      expect(lines[1]).toEqual({
        error: { code: 'batch_failed', message: expect.any(String), undecided: ['batch-g', 'batch-h'] },
      });
      expect(trailers[BATCH_STATUS_TRAILER.toLowerCase()]).toBe('incomplete; undecided=2');
    } finally {
      spy.mockRestore();
    }
  });
});
