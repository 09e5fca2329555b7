/**
 * The Braze client's own transport (node:http with keep-alive), against a bare HTTP server. Kept
 * apart from the nock tests: nock replaces node:http's requests, connection reuse included, so
 * it is switched off here (test files share a worker, and another file may have loaded it).
 */
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import nock from 'nock';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { BrazeClient, type BrazeClientOptions } from '../../../adapters/braze/index.ts';
import { RetryableError } from '../../../adapters/kit/index.ts';

function clientFor(url: string, overrides: Partial<BrazeClientOptions> = {}): BrazeClient {
  return new BrazeClient({ baseUrl: url, apiKey: 'braze-test-key', backoffBaseMs: 2, ...overrides });
}

beforeAll(() => nock.restore());
afterAll(() => nock.activate());

describe('the Braze client on node:http', () => {
  let server: Server;
  let url: string;
  let connections: number;
  /** How the test server answers each request. */
  let answer: (res: ServerResponse) => void;
  beforeEach(async () => {
    connections = 0;
    server = createServer((req, res) => {
      req.resume();
      req.on('end', () => answer(res));
    });
    server.on('connection', () => (connections += 1));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterEach(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  const success = (res: ServerResponse) =>
    res
      .writeHead(201, {
        'content-type': 'application/json',
        'x-ratelimit-remaining': '10',
        'x-ratelimit-reset': '9999999999',
      })
      .end('{"message":"success"}');

  it('keeps the connection alive from one request to the next', async () => {
    answer = success;
    const client = clientFor(url);
    for (let i = 0; i < 3; i++)
      expect(await client.post('/users/track', { attributes: [] })).toMatchObject({
        status: 201,
        body: { message: 'success' },
      });
    expect(connections).toBe(1);
  });

  it('reports a request without an answer within timeoutMs as in doubt', async () => {
    answer = () => undefined;
    const r = await clientFor(url, { timeoutMs: 100 })
      .post('/campaigns/trigger/send', {}, { retryInDoubt: false })
      .catch((e: unknown) => e);
    expect(r).toBeInstanceOf(RetryableError);
    expect(r).toMatchObject({ inDoubt: true, message: expect.stringContaining('no answer within 100 ms') });
  });

  it('reports an answer cut off after its headers as in doubt', async () => {
    answer = (res) => {
      res.writeHead(201, { 'content-type': 'application/json', 'content-length': '100' }).write('{"message":');
      setTimeout(() => res.socket?.destroy(), 20);
    };
    const r = await clientFor(url)
      .post('/campaigns/trigger/send', {}, { retryInDoubt: false })
      .catch((e: unknown) => e);
    expect(r).toBeInstanceOf(RetryableError);
    expect(r).toMatchObject({
      status: 201,
      inDoubt: true,
      message: expect.stringContaining('network error reading the answer'),
    });
  });

  it('sends through the fetch it is given instead', async () => {
    answer = success;
    const seen: string[] = [];
    const client = clientFor(url, { fetch: (input, init) => (seen.push(String(input)), fetch(input, init)) });
    expect(await client.post('/users/track', { attributes: [] })).toMatchObject({ status: 201 });
    expect(seen).toEqual([`${url}/users/track`]);
  });
});
