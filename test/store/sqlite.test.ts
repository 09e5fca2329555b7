import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { SQLITE_MIGRATIONS } from '../../plugin/store/migrations.ts';
import { SqliteStore } from '../../plugin/store/sqlite.ts';
import Database from 'better-sqlite3';
import { describeStoreConformance, logDecision, makeDecision, makeDelivery, makeRun, T0, WS, type StoreInspector } from './conformance.ts';

const dirs: string[] = [];

/** A path in a fresh temporary folder, removed after the file's tests. */
function tempDbPath(name = 'nextbest.db'): string {
  const dir = mkdtempSync(join(tmpdir(), 'nextbest-store-'));
  dirs.push(dir);
  return join(dir, name);
}

afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const sqliteInspector: StoreInspector<SqliteStore> = {
  async snapshotSeqs(store, workspace, agentId) {
    const rows = store.db.prepare('SELECT seq FROM model_snapshots WHERE workspace = ? AND agent_id = ?').all(workspace, agentId) as { seq: number }[];
    return rows.map((r) => r.seq);
  },
};

describeStoreConformance('SqliteStore (:memory:)', async () => new SqliteStore(':memory:'), sqliteInspector);
describeStoreConformance('SqliteStore (temporary file)', async () => new SqliteStore(tempDbPath()), sqliteInspector);

describe('SqliteStore on a file', () => {
  const open: SqliteStore[] = [];
  const openStore = (path: string) => {
    const store = new SqliteStore(path);
    open.push(store);
    return store;
  };

  afterEach(async () => {
    for (const store of open.splice(0)) await store.close();
  });

  it('opens the database in WAL mode', () => {
    expect(openStore(tempDbPath()).db.pragma('journal_mode', { simple: true })).toBe('wal');
  });

  it('sets synchronous to NORMAL (1)', () => {
    expect(openStore(tempDbPath()).db.pragma('synchronous', { simple: true })).toBe(1);
  });

  it('records every migration in schema_migrations', () => {
    const rows = openStore(tempDbPath()).db.prepare('SELECT version, name FROM schema_migrations ORDER BY version').all();
    expect(rows).toEqual(SQLITE_MIGRATIONS.map((m) => ({ version: m.version, name: m.name })));
  });

  it('applies no migration again when the file is reopened, and keeps the data', async () => {
    const path = tempDbPath();
    const first = openStore(path);
    const d = makeDecision();
    await logDecision(first, d);
    const recorded = first.db.prepare('SELECT version, name, applied_at FROM schema_migrations ORDER BY version').all();
    await first.close();

    const reopened = openStore(path);
    expect({
      migrations: reopened.db.prepare('SELECT version, name, applied_at FROM schema_migrations ORDER BY version').all(),
      decision: await reopened.getDecision(WS, d.decisionId),
    }).toEqual({ migrations: recorded, decision: d });
  });

  it('applies nothing when migrate() runs on a migrated store', async () => {
    const store = openStore(tempDbPath());
    const before = store.db.prepare('SELECT version, name, applied_at FROM schema_migrations ORDER BY version').all();
    await store.migrate();
    await store.migrate();
    expect(store.db.prepare('SELECT version, name, applied_at FROM schema_migrations ORDER BY version').all()).toEqual(before);
  });

  it('creates the missing parent folders of the file', () => {
    const path = join(tempDbPath('nested'), 'deeper', 'nextbest.db');
    openStore(path);
    expect(existsSync(path)).toBe(true);
  });

  it('closes idempotently', async () => {
    const store = openStore(tempDbPath());
    await store.close();
    await expect(store.close()).resolves.toBeUndefined();
  });
});

describe('SqliteStore in memory', () => {
  it('sets synchronous to NORMAL (1) there too', async () => {
    const store = new SqliteStore(':memory:');
    try {
      expect(store.db.pragma('synchronous', { simple: true })).toBe(1);
    } finally {
      await store.close();
    }
  });
});

describe('SqliteStore WAL checkpoints', () => {
  it('copies committed writes into the database file from its own thread, long before the writer would', async () => {
    const path = tempDbPath();
    const store = new SqliteStore(path);
    try {
      const before = statSync(path).size;
      for (let i = 0; i < 300; i++) await logDecision(store, makeDecision({ userKey: `user-${i}`, body: { choices: {}, features: Array.from({ length: 64 }, (_, k) => k / 7) } }));
      expect(statSync(`${path}-wal`).size).toBeGreaterThan(200_000); // well under the writer's own threshold (10,000 pages)
      const deadline = Date.now() + 3000;
      while (statSync(path).size <= before + 200_000 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      expect(statSync(path).size).toBeGreaterThan(before + 200_000);
    } finally {
      await store.close();
    }
  });

  it('closes the checkpointer\'s connection with the store, so that the last close removes the WAL', async () => {
    const path = tempDbPath();
    const store = new SqliteStore(path);
    await logDecision(store, makeDecision());
    await store.close();
    await store.close();
    expect(existsSync(`${path}-wal`)).toBe(false);
  });
});

describe('SqliteStore group commit', () => {
  it('holds units of work until the release and then writes them in one transaction', async () => {
    const store = new SqliteStore(':memory:');
    try {
      let transactions = 0;
      const transaction = store.db.transaction.bind(store.db);
      store.db.transaction = ((fn: (...args: unknown[]) => unknown) => {
        transactions += 1;
        return transaction(fn);
      }) as typeof store.db.transaction;
      const release = store.holdCommits();
      const decisions = Array.from({ length: 3 }, (_, i) => makeDecision({ userKey: `user-${i}` }));
      let committed = 0;
      const units = decisions.map((d) => logDecision(store, d).then(() => (committed += 1)));
      for (let turn = 0; turn < 5; turn++) await new Promise((resolve) => setImmediate(resolve));
      expect({ committed, stored: await store.getDecision(WS, decisions[0].decisionId), transactions }).toEqual({ committed: 0, stored: undefined, transactions: 0 });
      release();
      await Promise.all(units);
      expect({ committed, transactions }).toEqual({ committed: 3, transactions: 1 });
    } finally {
      await store.close();
    }
  });
});

describe('SqliteStore outbox payloads', () => {
  const SINKS = ['braze:attributes:nb_', 'braze:campaign_trigger:c1'];
  let store: SqliteStore;
  const payloadRows = () => (store.db.prepare('SELECT count(*) AS n FROM delivery_payloads').get() as { n: number }).n;

  afterEach(async () => {
    await store.close();
  });

  it('stores the payload of a decision once for all its sinks, and no copy when every row was queued before', async () => {
    store = new SqliteStore(':memory:');
    await store.createRun(makeRun());
    const queue = (decisionId: string, userKey = 'user-a') => {
      const payload = { decisionId, userId: `raw-${userKey}` };
      return SINKS.map((sink) => makeDelivery({ decisionId, sink, userKey, payload }));
    };
    expect(await store.advanceRun(WS, 'run-1', [...queue('d1'), ...queue('d2', 'user-b')], { position: 2 }, T0)).toBe(4);
    expect(payloadRows()).toBe(2);
    expect(await store.advanceRun(WS, 'run-1', queue('d1'), { position: 2 }, T0)).toBe(0);
    expect(payloadRows()).toBe(2);
    await store.eraseUser(WS, 'user-a');
    expect(store.db.prepare('SELECT payload FROM delivery_payloads').all()).toEqual([{ payload: JSON.stringify({ decisionId: 'd2', userId: 'raw-user-b' }) }]);
  });

  it('migrates an outbox of schema version 3, keeping each row\'s position, state and payload', async () => {
    const path = tempDbPath();
    const old = new Database(path);
    old.pragma('journal_mode = WAL');
    old.exec('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)');
    for (const m of SQLITE_MIGRATIONS.filter((m) => m.version <= 3)) {
      old.exec(m.sql);
      old.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(m.version, m.name, T0);
    }
    old.prepare('INSERT INTO runs (run_id, workspace, agent_id, status, audience, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)').run('run-1', WS, 'winback', 'running', '*', T0, T0);
    const insert = old.prepare('INSERT INTO deliveries (workspace, decision_id, sink, run_id, user_key, payload, status, attempts, error, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)');
    insert.run(WS, 'd1', SINKS[0], 'run-1', 'user-a', JSON.stringify({ userId: 'raw-a' }), 'delivered', 1, null, T0);
    insert.run(WS, 'd1', SINKS[1], 'run-1', 'user-a', JSON.stringify({ userId: 'raw-a' }), 'sending', 1, 'Braze answered 502', T0);
    insert.run(WS, 'd2', SINKS[0], 'run-1', 'user-b', JSON.stringify({ userId: 'raw-b' }), 'pending', 0, null, T0);
    old.prepare('DELETE FROM deliveries WHERE decision_id = ? AND sink = ?').run('d1', SINKS[0]); // a gap in the positions
    old.close();

    store = new SqliteStore(path);
    const rows = [...(await store.deliveriesOf(WS, 'run-1', SINKS[0], ['pending'], 10)), ...(await store.deliveriesOf(WS, 'run-1', SINKS[1], ['sending'], 10))];
    expect(rows.map((r) => [r.seq, r.decisionId, r.status, r.attempts, r.error, r.payload])).toEqual([
      [3, 'd2', 'pending', 0, null, { userId: 'raw-b' }],
      [2, 'd1', 'sending', 1, 'Braze answered 502', { userId: 'raw-a' }],
    ]);
    await store.advanceRun(WS, 'run-1', [makeDelivery({ decisionId: 'd3', sink: SINKS[0], payload: { userId: 'raw-c' } })], { position: 3 }, T0);
    const next = await store.deliveriesOf(WS, 'run-1', SINKS[0], ['pending'], 10);
    expect(next.map((r) => [r.seq, r.payload])).toEqual([[3, { userId: 'raw-b' }], [4, { userId: 'raw-c' }]]);
  });
});
