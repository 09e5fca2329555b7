import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { SqliteStore, StorageFault } from '../../plugin/store/index.ts';
import { makeDelivery, makeEvent, makeRun, T0, WS } from './conformance.ts';

const dirs: string[] = [];

/** A path in a fresh temporary folder, removed after the file's tests. */
function tempDbPath(name = 'nextbest.db'): string {
  const dir = mkdtempSync(join(tmpdir(), 'nextbest-faults-'));
  dirs.push(dir);
  return join(dir, name);
}

afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const open: SqliteStore[] = [];
function openStore(path = tempDbPath()): SqliteStore {
  const store = new SqliteStore(path);
  open.push(store);
  return store;
}

afterEach(async () => {
  for (const store of open.splice(0)) await store.close();
});

/** What a rejected promise was rejected with. */
async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => undefined,
    (err: unknown) => err,
  );
}

/** The code and message of a storage fault, or what else was thrown. */
function faultOf(err: unknown): { code: string; message: string } | unknown {
  return err instanceof StorageFault ? { code: err.code, message: err.message } : err;
}

/** Limits the database to the pages it has now (SQLite then answers SQLITE_FULL to a write that needs more). */
function fillUp(store: SqliteStore): void {
  const pages = store.db.pragma('page_count', { simple: true }) as number;
  store.db.pragma(`max_page_count = ${pages}`);
}

/** An event whose body is larger than many pages, so that storing it needs new ones. */
const bigEvent = () => makeEvent({ body: { properties: { blob: 'x'.repeat(200_000) } } });

describe('SqliteStore, when its file is deleted under it', () => {
  it('refuses the next write with storage_unavailable, naming the file', async () => {
    const path = tempDbPath();
    const store = openStore(path);
    unlinkSync(path);
    expect(faultOf(await rejection(store.recordEvents([makeEvent()], [])))).toEqual({
      code: 'storage_unavailable',
      message: expect.stringContaining(`the database file ${path} was deleted while the service had it open`),
    });
  });

  it('reports the fault as its health', async () => {
    const path = tempDbPath();
    const store = openStore(path);
    expect(await store.health()).toBeUndefined();
    unlinkSync(path);
    expect(await store.health()).toMatchObject({ code: 'storage_unavailable', message: expect.stringContaining(path) });
  });

  it('keeps answering reads from the file it has open', async () => {
    const path = tempDbPath();
    const store = openStore(path);
    await store.recordEvents([makeEvent()], []);
    unlinkSync(path);
    expect(await store.countEvents(WS)).toBe(1);
  });

  it('refuses writes when another file has taken its path, too', async () => {
    const path = tempDbPath();
    const store = openStore(path);
    writeFileSync(`${path}.other`, '');
    renameSync(`${path}.other`, path);
    expect(faultOf(await rejection(store.addApiKey(apiKey())))).toMatchObject({
      code: 'storage_unavailable',
      message: expect.stringContaining('was replaced by another file'),
    });
  });
});

function apiKey() {
  return { keyHash: 'hash-1', workspace: WS, scope: 'admin' as const, label: 'test', createdAt: T0 };
}

describe('SqliteStore, when its write-ahead log is deleted under it', () => {
  it('refuses the next write and reports the fault as its health, naming the log', async () => {
    const path = tempDbPath();
    const store = openStore(path);
    await store.recordEvents([makeEvent()], []); // a commit: the log exists
    unlinkSync(`${path}-wal`);
    const fault = {
      code: 'storage_unavailable',
      message: expect.stringContaining(`write-ahead log ${path}-wal was deleted`),
    };
    expect(faultOf(await rejection(store.recordEvents([makeEvent()], [])))).toEqual(fault);
    expect(await store.health()).toMatchObject(fault);
  });

  it('does not acknowledge a write that landed in a log deleted meanwhile', async () => {
    const path = tempDbPath();
    const store = openStore(path);
    await store.recordEvents([makeEvent()], []);
    expect(await store.health()).toBeUndefined();
    unlinkSync(`${path}-wal`);
    await expect(store.addApiKey(apiKey())).rejects.toThrow(/write-ahead log/);
  });
});

describe('SqliteStore, when the disk is full (SQLITE_FULL)', () => {
  it('rejects the write with storage_full and stores nothing of it', async () => {
    const store = openStore();
    fillUp(store);
    expect(faultOf(await rejection(store.recordEvents([bigEvent()], [])))).toEqual({
      code: 'storage_full',
      message: expect.stringContaining('is full (SQLite: database or disk is full)'),
    });
    expect(await store.countEvents(WS)).toBe(0);
  });

  it('stays unhealthy while there is no room, and recovers by a probe once there is', async () => {
    const store = openStore();
    fillUp(store);
    await rejection(store.recordEvents([bigEvent()], []));
    const whileFull = await store.health();
    store.db.pragma('max_page_count = 1000000');
    expect({ whileFull: whileFull?.code, after: await store.health() }).toEqual({
      whileFull: 'storage_full',
      after: undefined,
    });
  });

  it('ends the fault with the first write that succeeds', async () => {
    const store = openStore();
    fillUp(store);
    await rejection(store.recordEvents([bigEvent()], []));
    store.db.pragma('max_page_count = 1000000');
    await store.recordEvents([bigEvent()], []);
    expect(await store.health()).toBeUndefined();
  });

  it('fails a logged decision with storage_full as well (group commit)', async () => {
    const store = openStore(':memory:');
    fillUp(store);
    const heavy = { choices: {}, features: Array.from({ length: 30_000 }, (_, i) => i / 7) };
    const err = await rejection(
      store.withUser(WS, 'user-a', (tx) =>
        tx.insertDecision({
          workspace: WS,
          decisionId: 'dec-full',
          agentId: 'winback',
          agentVersion: 1,
          userKey: 'user-a',
          requestId: null,
          at: T0,
          windowEnd: T0 + 1,
          holdout: false,
          deliver: true,
          reason: 'explore',
          probability: 0.5,
          body: heavy,
          reward: null,
          learned: false,
        }),
      ),
    );
    expect((faultOf(err) as { code?: string }).code).toBe('storage_full');
  });
});

describe('SqliteStore start-up errors', () => {
  it('names the path and the cause when the path runs through a regular file', () => {
    const file = tempDbPath('plain-file');
    writeFileSync(file, 'not a folder');
    const path = join(file, 'data', 'nextbest.db');
    expect(() => new SqliteStore(path)).toThrow(
      `cannot open the database ${path}: a part of its path is a file, not a directory (ENOTDIR`,
    );
  });

  // root may write into a read-only directory, so this one runs only for other users
  it.skipIf(process.getuid?.() === 0)('names the directory when it is read-only', () => {
    const dir = tempDbPath('read-only');
    mkdirSync(dir);
    chmodSync(dir, 0o555);
    try {
      const path = join(dir, 'nextbest.db');
      expect(() => new SqliteStore(path)).toThrow(
        `cannot open the database ${path}: its directory ${dir} is not writable (EACCES)`,
      );
    } finally {
      chmodSync(dir, 0o755);
    }
  });

  it('says when the file is not a SQLite database', () => {
    const path = tempDbPath();
    writeFileSync(path, 'this is a text file, long enough to have a header page of its own. '.repeat(20));
    expect(() => new SqliteStore(path)).toThrow(
      `cannot open the database ${path}: the file is not a SQLite database (file is not a database)`,
    );
  });

  it('releases the writer lock when the open fails, so that a fixed file opens', () => {
    const path = tempDbPath();
    writeFileSync(path, 'x'.repeat(2000));
    expect(() => new SqliteStore(path)).toThrow('cannot open the database');
    rmSync(path);
    expect(() => openStore(path)).not.toThrow();
  });
});

/** Whether the file at `path` holds `text` anywhere in its bytes (false when there is no file). */
function fileHolds(path: string, text: string): boolean {
  return existsSync(path) && readFileSync(path).includes(Buffer.from(text));
}

describe('SqliteStore erasure on disk', () => {
  const MARKER = 'zq-erasure-marker-5d1c';
  const RAW_ID = 'alice-erasure@example.com';
  const KEPT = 'bob-keeps-this-7e2a';

  /** Alice's event (a small body and one spanning pages) and outbox row, and Bob's event. */
  async function storeBothUsers(store: SqliteStore): Promise<void> {
    await store.recordEvents(
      [
        makeEvent({ userKey: 'user-alice', body: { properties: { note: MARKER } } }),
        makeEvent({ userKey: 'user-alice', body: { properties: { long: `${MARKER} `.repeat(2_000) } } }),
        makeEvent({ userKey: 'user-bob', body: { properties: { note: KEPT } } }),
      ],
      [],
    );
    await store.createRun(makeRun());
    await store.advanceRun(
      WS,
      'run-1',
      [makeDelivery({ userKey: 'user-alice', payload: { userId: RAW_ID, note: MARKER } })],
      { position: 1 },
      T0,
    );
  }

  /** Waits until the checkpointer thread has copied `text` into the database file. */
  async function untilInFile(store: SqliteStore, path: string, text: string): Promise<void> {
    while (!fileHolds(path, text)) await store.checkpointed();
  }

  it('turns secure_delete on', () => {
    expect(openStore().db.pragma('secure_delete', { simple: true })).toBe(1);
  });

  it("leaves none of the user's bytes in the database file or its WAL once the erasure is answered", async () => {
    const path = tempDbPath();
    const store = openStore(path);
    await storeBothUsers(store);
    await untilInFile(store, path, RAW_ID);
    await store.eraseUser(WS, 'user-alice');
    expect({
      file: [MARKER, RAW_ID].filter((text) => fileHolds(path, text)),
      wal: [MARKER, RAW_ID].filter((text) => fileHolds(`${path}-wal`, text)),
      kept: fileHolds(path, KEPT),
    }).toEqual({ file: [], wal: [], kept: true });
  });

  it("leaves none of the user's bytes on disk after the erasure and a clean close", async () => {
    const path = tempDbPath();
    const store = new SqliteStore(path);
    await storeBothUsers(store);
    await store.eraseUser(WS, 'user-alice');
    await store.close();
    expect({
      file: [MARKER, RAW_ID].filter((text) => fileHolds(path, text)),
      wal: [MARKER, RAW_ID].filter((text) => fileHolds(`${path}-wal`, text)),
      kept: fileHolds(path, KEPT),
    }).toEqual({ file: [], wal: [], kept: true });
  });

  it('truncates the WAL to zero bytes after an erasure', async () => {
    const path = tempDbPath();
    const store = openStore(path);
    await storeBothUsers(store);
    await store.eraseUser(WS, 'user-alice');
    expect(readFileSync(`${path}-wal`).length).toBe(0);
  });
});
