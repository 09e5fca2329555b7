import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { SQLITE_MIGRATIONS } from '../../plugin/store/migrations.ts';
import { SqliteStore } from '../../plugin/store/sqlite.ts';
import { describeStoreConformance, logDecision, makeDecision, WS, type StoreInspector } from './conformance.ts';

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
