import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqliteStore } from '../../plugin/store/index.ts';
import { SERVE_CHILD } from './fixtures/index.ts';
import { API_KEY, call, startTestServer, tempDir } from './helpers.ts';

/**
 * A server in a child process takes concurrent event batches and is SIGKILLed mid-run. What is
 * checked does not depend on timing: whatever the kill interrupted, every event of a request that
 * got a 2xx is in the file, no messageId is there twice, and every batch is there whole or not at all.
 */

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BATCHES = 120;
const EVENTS_PER_BATCH = 20;
const CONCURRENCY = 8;
/** The child is killed when this many requests have been acknowledged: well before the last. */
const KILL_AFTER = 40;
const READY_TIMEOUT_MS = 20_000;
const REQUEST_TIMEOUT_MS = 10_000;

const messageIds = (batch: number) => Array.from({ length: EVENTS_PER_BATCH }, (_, k) => `crash-${batch}-${k}`);
const batchBody = (batch: number) => ({
  batch: messageIds(batch).map((messageId, k) => ({
    type: 'track',
    messageId,
    userId: `crash-user-${(batch + k) % 7}`,
    event: 'Email Opened',
    properties: { k },
  })),
});

/** Each batch once, in order, and every fourth one sent again two batches later (a client retry). */
const PLAN: number[] = Array.from({ length: BATCHES }, (_, i) => (i % 4 === 3 ? [i, i - 2] : [i])).flat();

interface Attempt {
  batch: number;
  /** The server answered 2xx. */
  acknowledged: boolean;
}

/** Resolves with the child's URL once it prints its ready line; rejects on exit or timeout. */
function ready(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const fail = (why: string) => {
      clearTimeout(timer);
      reject(new Error(`${why}\nstdout: ${out}\nstderr: ${err}`));
    };
    const timer = setTimeout(
      () => fail(`the child server did not start within ${READY_TIMEOUT_MS} ms`),
      READY_TIMEOUT_MS,
    );
    child.stderr!.on('data', (chunk: Buffer) => void (err += chunk.toString()));
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (!line) return;
      clearTimeout(timer);
      resolve((JSON.parse(line) as { url: string }).url);
    });
    child.once('exit', (code, signal) =>
      fail(`the child server exited (code ${code}, signal ${signal}) before it was ready`),
    );
  });
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

describe('crash safety', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let dbFile: string;
  let child: ChildProcess | undefined;
  const attempts: Attempt[] = [];
  let stored: string[] = [];

  beforeAll(async () => {
    dir = await tempDir();
    dbFile = join(dir.path, 'crash.db');
    child = spawn(process.execPath, ['--import', 'tsx', SERVE_CHILD, dbFile], {
      cwd: ROOT,
      env: { ...process.env, NEXTBEST_API_KEY: API_KEY },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const url = await ready(child);

    let next = 0;
    let acknowledged = 0;
    let killed = false;
    const worker = async () => {
      while (next < PLAN.length) {
        const batch = PLAN[next++];
        if (killed) {
          attempts.push({ batch, acknowledged: false });
          continue;
        }
        let ok: boolean;
        try {
          const res = await call({ url }, 'POST', '/v1/events', { body: batchBody(batch) });
          ok = res.status >= 200 && res.status < 300;
        } catch {
          ok = false; // the connection died with the server: not acknowledged
        }
        attempts.push({ batch, acknowledged: ok });
        if (ok && ++acknowledged === KILL_AFTER) {
          killed = true;
          child!.kill('SIGKILL');
        }
      }
    };
    await Promise.race([
      Promise.all(Array.from({ length: CONCURRENCY }, worker)),
      new Promise((_, reject) =>
        setTimeout(() => reject(new Error('the requests did not finish in time')), REQUEST_TIMEOUT_MS * 2),
      ),
    ]);
    await exited(child);

    const store = new SqliteStore(dbFile);
    try {
      stored = (store.db.prepare('SELECT message_id FROM events').all() as { message_id: string }[]).map(
        (r) => r.message_id,
      );
    } finally {
      await store.close();
    }
  });

  afterAll(async () => {
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited(child);
    }
    await dir?.remove();
  });

  it('killed the server mid-run: some requests were acknowledged and some were not', () => {
    expect(child!.signalCode).toBe('SIGKILL');
    expect(attempts.filter((a) => a.acknowledged).length).toBeGreaterThanOrEqual(KILL_AFTER);
    expect(attempts.filter((a) => !a.acknowledged).length).toBeGreaterThan(0);
  });

  it('stores every event of every acknowledged request', () => {
    const have = new Set(stored);
    const missing = attempts
      .filter((a) => a.acknowledged)
      .flatMap((a) => messageIds(a.batch).filter((id) => !have.has(id)));
    expect(missing).toEqual([]);
  });

  it('stores no messageId twice', () => {
    expect(stored.length).toBe(new Set(stored).size);
  });

  it('stores each batch whole or not at all', () => {
    const have = new Set(stored);
    const partial = [...new Set(PLAN)].filter((b) => {
      const n = messageIds(b).filter((id) => have.has(id)).length;
      return n !== 0 && n !== EVENTS_PER_BATCH;
    });
    expect(partial).toEqual([]);
  });

  it('stores only events that were sent', () => {
    const sent = new Set(PLAN.flatMap(messageIds));
    expect(stored.filter((id) => !sent.has(id))).toEqual([]);
  });

  it("leaves a database that passes SQLite's integrity check", async () => {
    const store = new SqliteStore(dbFile);
    try {
      expect(store.db.pragma('integrity_check', { simple: true })).toBe('ok');
    } finally {
      await store.close();
    }
  });

  it('stores every event exactly once when the client re-sends every batch after a restart', async () => {
    const server = await startTestServer({ db: `sqlite:${dbFile}` });
    try {
      for (const batch of new Set(PLAN)) {
        const res = await call(server, 'POST', '/v1/events', { body: batchBody(batch) });
        expect(res.status).toBe(200);
      }
      const store = server.store as SqliteStore;
      const rows = store.db.prepare('SELECT count(*) AS n, count(DISTINCT message_id) AS d FROM events').get() as {
        n: number;
        d: number;
      };
      expect(rows).toEqual({ n: BATCHES * EVENTS_PER_BATCH, d: BATCHES * EVENTS_PER_BATCH });
    } finally {
      await server.close();
    }
  });
});
