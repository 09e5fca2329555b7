import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../plugin/server/index.ts';
import { call, EXAMPLE_AGENT, makeDecideBody, makeEvent, sqlite, startTestServer, tempDir } from './helpers.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Whether the file at `path` holds `text` anywhere in its bytes (false when there is no file). */
function fileHolds(path: string, text: string): boolean {
  return existsSync(path) && readFileSync(path).includes(Buffer.from(text));
}

/** Status and error code of an answer. */
function answer(r: { status: number; body: { error?: { code?: string } } | undefined }) {
  return { status: r.status, code: r.body?.error?.code };
}

describe('storage faults over HTTP (a real SQLite file)', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let path: string;
  let server: RunningServer | undefined;

  beforeEach(async () => {
    dir = await tempDir();
    path = join(dir.path, 'nextbest.db');
    server = await startTestServer({ db: `sqlite:${path}` });
  });

  afterEach(async () => {
    await server?.close();
    server = undefined;
    await dir.remove();
  });

  it('answers writes and /healthz with 503 storage_unavailable once the database file is deleted', async () => {
    const before = await call(server!, 'GET', '/healthz', { key: null });
    await rm(path);
    const event = await call(server!, 'POST', '/v1/events', { body: makeEvent() });
    const erase = await call(server!, 'DELETE', '/v1/users/alice@example.com');
    const health = await call(server!, 'GET', '/healthz', { key: null });
    expect({
      before: before.status,
      event: answer(event),
      erase: answer(erase),
      health: { status: health.status, body: health.body },
    }).toEqual({
      before: 200,
      event: { status: 503, code: 'storage_unavailable' },
      erase: { status: 503, code: 'storage_unavailable' },
      health: {
        status: 503,
        body: {
          status: 'unavailable',
          error: {
            code: 'storage_unavailable',
            message: expect.stringContaining(`the database file ${path} was deleted`),
          },
        },
      },
    });
  });

  it('keeps answering reads from the file it has open after the file is deleted', async () => {
    await rm(path);
    expect((await call(server!, 'GET', `/v1/agents/${EXAMPLE_AGENT}`)).status).toBe(200);
  });

  it('answers decide with the default arms, unlogged, naming the fault, after the file is deleted', async () => {
    await rm(path);
    const decided = await call(server!, 'POST', `/v1/agents/${EXAMPLE_AGENT}/decide`, { body: makeDecideBody() });
    expect([decided.status, decided.body.reason, decided.body.error?.code]).toEqual([
      200,
      'error',
      'storage_unavailable',
    ]);
  });

  it('answers 503 storage_full when the disk is full, fails /healthz until there is room, then accepts writes again', async () => {
    const db = sqlite(server!).db;
    db.pragma(`max_page_count = ${db.pragma('page_count', { simple: true }) as number}`);
    const big = () => makeEvent({ properties: { blob: 'x'.repeat(200_000) } });
    const full = await call(server!, 'POST', '/v1/events', { body: big() });
    const healthWhileFull = await call(server!, 'GET', '/healthz', { key: null });
    db.pragma('max_page_count = 1000000');
    const healthAfter = await call(server!, 'GET', '/healthz', { key: null });
    const accepted = await call(server!, 'POST', '/v1/events', { body: big() });
    expect({
      full: answer(full),
      message: full.body?.error?.message,
      healthWhileFull: answer(healthWhileFull),
      healthAfter: healthAfter.status,
      accepted: accepted.status,
    }).toEqual({
      full: { status: 503, code: 'storage_full' },
      message: expect.stringContaining(`the database ${path} is full`),
      healthWhileFull: { status: 503, code: 'storage_full' },
      healthAfter: 200,
      accepted: 200,
    });
  });

  it("leaves none of an erased user's event bytes in the database file or its WAL after a clean stop", async () => {
    const MARKER = 'zq-http-erasure-marker-91b4';
    const KEPT = 'bob-http-keeps-this-3c0d';
    await call(server!, 'POST', '/v1/agents/' + EXAMPLE_AGENT + '/decide', {
      body: makeDecideBody({ userId: 'alice@example.com' }),
    });
    const stored = await call(server!, 'POST', '/v1/events', {
      body: {
        batch: [
          makeEvent({ userId: 'alice@example.com', properties: { note: MARKER } }),
          makeEvent({ userId: 'bob@example.com', properties: { note: KEPT } }),
        ],
      },
    });
    const storedOnDisk = fileHolds(path, MARKER) || fileHolds(`${path}-wal`, MARKER);
    const erased = await call(server!, 'DELETE', '/v1/users/alice@example.com');
    await server!.close();
    server = undefined;
    expect({
      stored: stored.status,
      storedOnDisk,
      erased: erased.status,
      file: fileHolds(path, MARKER),
      wal: fileHolds(`${path}-wal`, MARKER),
      kept: fileHolds(path, KEPT),
    }).toEqual({ stored: 200, storedOnDisk: true, erased: 200, file: false, wal: false, kept: true });
  });
});

/** Runs `nextbest serve` from the sources; resolves with its exit code and what it printed on stderr. */
function serve(...args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'plugin/cli.ts', 'serve', ...args], {
      cwd: ROOT,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => void (stderr += chunk.toString()));
    child.once('exit', (code) => resolve({ code, stderr }));
  });
}

describe('nextbest serve on a database it cannot open', () => {
  it('exits 1 with the path and the cause, and no stack trace', async () => {
    const dir = await tempDir();
    try {
      const file = join(dir.path, 'plain-file');
      writeFileSync(file, 'not a folder');
      const path = join(file, 'data', 'nextbest.db');
      const r = await serve('--db', `sqlite:${path}`, '--port', '18799');
      expect({ code: r.code, stderr: r.stderr, stack: /^\s+at /m.test(r.stderr) }).toEqual({
        code: 1,
        stderr: expect.stringContaining(
          `cannot open the database ${path}: a part of its path is a file, not a directory (ENOTDIR`,
        ),
        stack: false,
      });
    } finally {
      await dir.remove();
    }
  });
});
