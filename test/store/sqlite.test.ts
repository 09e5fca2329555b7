import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { SQLITE_MIGRATIONS } from '../../plugin/store/migrations.ts';
import { SqliteStore } from '../../plugin/store/sqlite.ts';
import Database from 'better-sqlite3';
import {
  describeStoreConformance,
  logDecision,
  makeDecision,
  makeDelivery,
  makeRun,
  T0,
  WS,
  type StoreInspector,
} from './conformance.ts';

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
    const rows = store.db
      .prepare('SELECT seq FROM model_snapshots WHERE workspace = ? AND agent_id = ?')
      .all(workspace, agentId) as { seq: number }[];
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
    const rows = openStore(tempDbPath())
      .db.prepare('SELECT version, name FROM schema_migrations ORDER BY version')
      .all();
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
    expect(store.db.prepare('SELECT version, name, applied_at FROM schema_migrations ORDER BY version').all()).toEqual(
      before,
    );
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
      for (let i = 0; i < 300; i++)
        await logDecision(
          store,
          makeDecision({
            userKey: `user-${i}`,
            body: { choices: {}, features: Array.from({ length: 64 }, (_, k) => k / 7) },
          }),
        );
      expect(statSync(`${path}-wal`).size).toBeGreaterThan(200_000); // well under the writer's own threshold (10,000 pages)
      // the thread's next copy may be one made before the last writes: wait until the file has them all
      while (statSync(path).size <= before + 200_000) await store.checkpointed();
      expect(statSync(path).size).toBeGreaterThan(before + 200_000);
    } finally {
      await store.close();
    }
  });

  it("closes the checkpointer's connection with the store, so that the last close removes the WAL", async () => {
    const path = tempDbPath();
    const store = new SqliteStore(path);
    await logDecision(store, makeDecision());
    await store.close();
    await store.close();
    expect(existsSync(`${path}-wal`)).toBe(false);
  });
});

describe('SqliteStore group commit', () => {
  it('writes the units of work that finish in one turn of the event loop in one transaction', async () => {
    const store = new SqliteStore(':memory:');
    try {
      let transactions = 0;
      const transaction = store.db.transaction.bind(store.db);
      store.db.transaction = ((fn: (...args: unknown[]) => unknown) => {
        transactions += 1;
        return transaction(fn);
      }) as typeof store.db.transaction;
      const decisions = Array.from({ length: 3 }, (_, i) => makeDecision({ userKey: `user-${i}` }));
      await Promise.all(decisions.map((d) => logDecision(store, d)));
      expect({
        stored: (await Promise.all(decisions.map((d) => store.getDecision(WS, d.decisionId)))).length,
        transactions,
      }).toEqual({ stored: 3, transactions: 1 });
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
    expect(await store.advanceRun(WS, 'run-1', [...queue('d1'), ...queue('d2', 'user-b')], { position: 2 }, T0)).toBe(
      4,
    );
    expect(payloadRows()).toBe(2);
    expect(await store.advanceRun(WS, 'run-1', queue('d1'), { position: 2 }, T0)).toBe(0);
    expect(payloadRows()).toBe(2);
    await store.eraseUser(WS, 'user-a');
    expect(store.db.prepare('SELECT payload FROM delivery_payloads').all()).toEqual([
      { payload: JSON.stringify({ decisionId: 'd2', userId: 'raw-user-b' }) },
    ]);
  });

  it("migrates an outbox of schema version 3, keeping each row's position, state and payload", async () => {
    const path = tempDbPath();
    const old = new Database(path);
    old.pragma('journal_mode = WAL');
    old.exec(
      'CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)',
    );
    for (const m of SQLITE_MIGRATIONS.filter((m) => m.version <= 3)) {
      old.exec(m.sql);
      old
        .prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)')
        .run(m.version, m.name, T0);
    }
    old
      .prepare(
        'INSERT INTO runs (run_id, workspace, agent_id, status, audience, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
      )
      .run('run-1', WS, 'winback', 'running', '*', T0, T0);
    const insert = old.prepare(
      'INSERT INTO deliveries (workspace, decision_id, sink, run_id, user_key, payload, status, attempts, error, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
    );
    insert.run(WS, 'd1', SINKS[0], 'run-1', 'user-a', JSON.stringify({ userId: 'raw-a' }), 'delivered', 1, null, T0);
    insert.run(
      WS,
      'd1',
      SINKS[1],
      'run-1',
      'user-a',
      JSON.stringify({ userId: 'raw-a' }),
      'sending',
      1,
      'Braze answered 502',
      T0,
    );
    insert.run(WS, 'd2', SINKS[0], 'run-1', 'user-b', JSON.stringify({ userId: 'raw-b' }), 'pending', 0, null, T0);
    old.prepare('DELETE FROM deliveries WHERE decision_id = ? AND sink = ?').run('d1', SINKS[0]); // a gap in the positions
    old.close();

    store = new SqliteStore(path);
    const rows = [
      ...(await store.deliveriesOf(WS, 'run-1', SINKS[0], ['pending'], 10)),
      ...(await store.deliveriesOf(WS, 'run-1', SINKS[1], ['sending'], 10)),
    ];
    expect(rows.map((r) => [r.seq, r.decisionId, r.status, r.attempts, r.error, r.payload])).toEqual([
      [3, 'd2', 'pending', 0, null, { userId: 'raw-b' }],
      [2, 'd1', 'sending', 1, 'Braze answered 502', { userId: 'raw-a' }],
    ]);
    await store.advanceRun(
      WS,
      'run-1',
      [makeDelivery({ decisionId: 'd3', sink: SINKS[0], payload: { userId: 'raw-c' } })],
      { position: 3 },
      T0,
    );
    const next = await store.deliveriesOf(WS, 'run-1', SINKS[0], ['pending'], 10);
    expect(next.map((r) => [r.seq, r.payload])).toEqual([
      [3, { userId: 'raw-b' }],
      [4, { userId: 'raw-c' }],
    ]);
  });
});

describe('SqliteStore decision log', () => {
  let store: SqliteStore | undefined;
  afterEach(async () => {
    await store?.close();
    store = undefined;
  });

  const UUID_ID = '0f8fad5b-d9cb-469f-a165-70867728950e';
  const USER_KEY = 'mZ3m8Zl0rq6s0t1R3cXyq9dGm7kGQ0y6i7e0z3cQWsE';

  it('keeps a UUID decision id in 16 bytes and a user key in 32, and reads them back as text', async () => {
    store = new SqliteStore(':memory:');
    const d = makeDecision({ decisionId: UUID_ID, userKey: USER_KEY, requestId: 'run:1:' + USER_KEY });
    await logDecision(store, d);
    const stored = store.db
      .prepare(
        'SELECT length(decision_id) AS id, length(user_key) AS key, length(request) AS request FROM decision_log',
      )
      .get();
    expect({
      stored,
      back: await store.getDecision(WS, UUID_ID),
      byRequest: await store.findDecisionByRequest(WS, 'winback', d.requestId!),
    }).toEqual({
      stored: { id: 16, key: 32, request: 12 },
      back: d,
      byRequest: d,
    });
  });

  it('keeps the body of a real decision in under 100 bytes', async () => {
    store = new SqliteStore(':memory:');
    const features = Array.from({ length: 75 }, (_, i) =>
      [0, 3, 7].includes(i) ? 1 : i === 1 ? 0.06 : i === 71 ? 0.16335616438356165 : i === 73 ? -0.8660254037844385 : 0,
    );
    const body = {
      choices: {
        frequency: { arm: 'send', probability: 0.5 },
        channel: { arm: 'sms', probability: 0.33649999999999997 },
        send_time: { arm: '18', probability: 0.29433333333333334 },
        content_block: { arm: 'cb_specs', probability: 0.5 },
      },
      features,
      sendAt: '2026-03-01T17:00:00.000Z',
    };
    const d = makeDecision({ decisionId: UUID_ID, userKey: USER_KEY, body });
    await logDecision(store, d);
    const { bytes } = store.db.prepare('SELECT length(body) AS bytes FROM decision_log').get() as { bytes: number };
    expect({ small: bytes < 100, back: (await store.getDecision(WS, UUID_ID))?.body }).toEqual({
      small: true,
      back: body,
    });
  });

  it('migrates the decisions, sends and outcomes of schema version 4, with their report cells', async () => {
    const path = tempDbPath();
    const old = new Database(path);
    old.exec(
      'CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)',
    );
    for (const m of SQLITE_MIGRATIONS.filter((m) => m.version <= 4)) {
      old.exec(m.sql);
      old
        .prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)')
        .run(m.version, m.name, T0);
    }
    const learned = makeDecision({
      decisionId: UUID_ID,
      userKey: USER_KEY,
      requestId: 'req-1',
      learned: true,
      reward: 1,
    });
    const open = makeDecision({
      userKey: 'user-b',
      holdout: true,
      body: { choices: {}, features: [0.5], sendAt: '2026-01-01T12:00:00Z' },
    });
    const insert = old.prepare(
      'INSERT INTO decisions (workspace, decision_id, agent_id, agent_version, user_key, request_id, at, window_end, holdout, deliver, reason, probability, body, reward, learned) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
    );
    for (const d of [learned, open]) {
      insert.run(
        d.workspace,
        d.decisionId,
        d.agentId,
        d.agentVersion,
        d.userKey,
        d.requestId,
        d.at,
        d.windowEnd,
        d.holdout ? 1 : 0,
        d.deliver ? 1 : 0,
        d.reason,
        d.probability,
        JSON.stringify(d.body),
        d.reward,
        d.learned ? 1 : 0,
      );
    }
    old
      .prepare('INSERT INTO sends (workspace, user_key, channel, at, decision_id) VALUES (?, ?, ?, ?, ?)')
      .run(WS, USER_KEY, 'email', T0, UUID_ID);
    old
      .prepare('INSERT INTO outcomes (workspace, decision_id, message_id, event, value, at) VALUES (?, ?, ?, ?, ?, ?)')
      .run(WS, UUID_ID, 'm-1', 'Order Completed', 1, T0 + 5);
    old.close();

    store = new SqliteStore(path);
    const tables = (
      store.db
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('decisions', 'sends', 'outcomes')")
        .all() as { name: string }[]
    ).map((t) => t.name);
    expect({
      tables,
      decisions: [await store.getDecision(WS, learned.decisionId), await store.getDecision(WS, open.decisionId)],
      byRequest: await store.findDecisionByRequest(WS, 'winback', 'req-1'),
      sends: await store.withUser(WS, USER_KEY, (tx) => tx.sendsSince(0)),
      outcomes: (await store.outcomesOf(WS, UUID_ID)).map((o) => [o.messageId, o.event, o.value]),
      cells: (await store.reportCells(WS, 'winback'))
        .map((c) => [c.holdout, c.dimension, c.arm, c.decided, c.closed, c.rewardSum])
        .sort(),
    }).toEqual({
      tables: [],
      decisions: [learned, open],
      byRequest: learned,
      sends: [{ channel: 'email', at: T0 }],
      outcomes: [['m-1', 'Order Completed', 1]],
      cells: [
        [false, 'channel', 'email', 1, 1, 1],
        [false, 'subject_line', 'sl_plain', 1, 1, 1],
        [false, null, null, 1, 1, 1],
        [true, null, null, 1, 0, 0],
      ].sort(),
    });
  });
});

describe('SqliteStore report aggregates (migration 9)', () => {
  it('fills from the log the same users, suppressed counts and bootstrap sums it keeps as decisions are logged', async () => {
    const path = tempDbPath();
    let store = new SqliteStore(path);
    const decisions = [
      makeDecision({ userKey: 'user-a' }),
      makeDecision({ userKey: 'user-a', at: T0 + 86_400_000 }),
      makeDecision({ userKey: 'user-b', reason: 'guardrail', deliver: false }),
      makeDecision({ userKey: 'user-c', holdout: true }),
    ];
    for (const d of decisions) await logDecision(store, d);
    const rewards = decisions.slice(0, 3).map((d, i) => ({ decisionId: d.decisionId, reward: i / 2 }));
    await store.commitLearning(WS, 'winback', rewards, {
      workspace: WS,
      agentId: 'winback',
      agentVersion: 1,
      state: {},
      createdAt: T0,
    });
    const kept = await store.reportGroups(WS, 'winback', 0, 100_000);
    store.db.exec('DROP TABLE report_users; DROP TABLE report_groups; DROP TABLE report_exploration');
    store.db.prepare('DELETE FROM schema_migrations WHERE version = 9').run();
    await store.close();
    store = new SqliteStore(path);
    try {
      expect(await store.reportGroups(WS, 'winback', 0, 100_000)).toEqual(kept);
      expect(kept.map((g) => g.users)).toEqual([2, 1, 0]);
    } finally {
      await store.close();
    }
  });
});

describe('one writer process per SQLite file', () => {
  /** Opens the store at `path` in a child process; resolves with its exit code and what it printed. */
  function openInAnotherProcess(path: string): { status: number | null; stderr: string } {
    const script = `import('./plugin/store/index.ts').then((m) => m.openStore('sqlite:' + process.argv[1])).then((s) => s.close()).catch((err) => { console.error(err.message); process.exit(1); });`;
    const result = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script, path], {
      encoding: 'utf8',
    });
    return { status: result.status, stderr: result.stderr };
  }

  it('refuses to open a file another process has open, saying what to do', async () => {
    const path = tempDbPath();
    const store = new SqliteStore(path);
    try {
      const second = openInAnotherProcess(path);
      expect(second.status).toBe(1);
      expect(second.stderr).toContain(`${path} is already open in another nextbest process`);
    } finally {
      await store.close();
    }
  });

  it('opens the file once the first process has closed it', async () => {
    const path = tempDbPath();
    await new SqliteStore(path).close();
    expect(openInAnotherProcess(path).status).toBe(0);
  });

  it('refuses a second store on the same file in the same process too', async () => {
    const path = tempDbPath();
    const store = new SqliteStore(path);
    try {
      expect(() => new SqliteStore(path)).toThrow('is already open in another nextbest process');
    } finally {
      await store.close();
    }
  });
});
