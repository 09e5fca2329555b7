import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { addToReplicates, emptyReplicates, userReplicateWeights } from '../../plugin/measure/bootstrap.ts';
import { PgStore } from '../../plugin/store/postgres.ts';
import { POSTGRES_MIGRATIONS } from '../../plugin/store/postgres-migrations.ts';
import { postgresBinForTests, startPostgres, type TestPostgres } from '../helpers/postgres.ts';
import {
  describeStoreConformance,
  logDecision,
  makeDecision,
  makeEvent,
  makeSend,
  T0,
  WS,
  type StoreInspector,
} from './conformance.ts';

const bin = postgresBinForTests();
let server: TestPostgres | undefined;
let conformanceUrl = '';

beforeAll(async () => {
  if (!bin) return;
  server = await startPostgres(bin);
  conformanceUrl = await server.createDatabase('conformance');
});

afterAll(() => server?.destroy());

/** Empties every table but the migration record, through the store's own pool (much faster than a database, or TRUNCATE, per test). */
async function emptyTables(store: PgStore): Promise<void> {
  const { rows } = await store.pool.query<{ tablename: string }>(
    "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'schema_migrations'",
  );
  // api_keys refer to workspaces: deleted first
  const tables = rows.map((r) => r.tablename).sort((a, b) => Number(b === 'api_keys') - Number(a === 'api_keys'));
  await store.pool.query(tables.map((t) => `DELETE FROM "${t}";`).join(' '));
}

const pgInspector: StoreInspector<PgStore> = {
  async snapshotSeqs(store, workspace, agentId) {
    const { rows } = await store.pool.query<{ seq: number }>(
      'SELECT seq FROM model_snapshots WHERE workspace = $1 AND agent_id = $2',
      [workspace, agentId],
    );
    return rows.map((r) => r.seq);
  },
};

if (bin) {
  describeStoreConformance(
    'PgStore (a real PostgreSQL server)',
    async () => {
      const store = await PgStore.open(conformanceUrl);
      await emptyTables(store);
      return store;
    },
    pgInspector,
  );

  describe('several PgStores on one database (instances)', () => {
    let url: string;
    const open: PgStore[] = [];
    const instance = async () => {
      const store = await PgStore.open(url);
      open.push(store);
      return store;
    };

    beforeAll(async () => {
      url = await server!.createDatabase('instances');
    });

    afterEach(async () => {
      for (const store of open.splice(0)) await store.close();
      const cleanup = await PgStore.open(url);
      await emptyTables(cleanup);
      await cleanup.close();
    });

    it('gives the learner role to one instance at a time, and to another once the holder closes', async () => {
      const [a, b] = [await instance(), await instance()];
      const first = [await a.learner.acquire(), await b.learner.acquire()];
      await a.close();
      expect({ first, after: await b.learner.acquire() }).toEqual({ first: [true, false], after: true });
    });

    it("frees the role when the holder's connection is cut, and the holder no longer confirms it", async () => {
      const [a, b] = [await instance(), await instance()];
      await a.learner.acquire();
      await b.pool.query(
        "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND granted AND pid <> pg_backend_pid()",
      );
      const taken = await b.learner.acquire();
      expect({ confirmed: await a.learner.confirm(), taken }).toEqual({ confirmed: false, taken: true });
    });

    it('never interleaves units of work of the same user across instances', async () => {
      const stores = [await instance(), await instance(), await instance()];
      let active = 0;
      let maxActive = 0;
      const counted: number[] = [];
      const unit = (i: number) =>
        stores[i % 3]!.withUser(WS, 'user-a', async (tx) => {
          active++;
          maxActive = Math.max(maxActive, active);
          const before = (await tx.sendsSince(0)).length;
          await new Promise((resolve) => setTimeout(resolve, 5));
          const d = makeDecision({ at: T0 + i });
          await tx.insertDecision(d, makeSend(d));
          counted.push(before);
          active--;
        });
      await Promise.all(Array.from({ length: 12 }, (_, i) => unit(i)));
      expect({ maxActive, counted }).toEqual({ maxActive: 1, counted: Array.from({ length: 12 }, (_, i) => i) });
    });

    it('adds the report aggregates of decisions logged by three instances at once without losing any', async () => {
      const stores = [await instance(), await instance(), await instance()];
      const body = {
        choices: { channel: { arm: 'email', probability: 0.25, reason: 'explore', best: 0.5 } },
        features: [],
      };
      // imports (logged learned): each also adds its reward to the group's bootstrap sums
      const decisions = Array.from({ length: 45 }, (_, i) =>
        makeDecision({ userKey: `user-${i}`, body, learned: true, reward: (i % 4) / 4 }),
      );
      await Promise.all(decisions.map((d, i) => logDecision(stores[i % 3]!, d)));
      const expected = emptyReplicates();
      for (const d of decisions) addToReplicates(expected, userReplicateWeights(d.userKey), d.reward!);
      const [group] = await stores[0]!.reportGroups(WS, 'winback', 0, 100_000);
      const [explored] = await stores[1]!.reportExploration(WS, 'winback', 0, 100_000);
      expect({ users: group!.users, explored: explored!.explored }).toEqual({ users: 45, explored: 45 });
      // the same rewards in another order: equal to rounding
      const stored = Array.from(group!.replicates!);
      expect(stored.map((x, i) => Math.abs(x - expected[i]!) < 1e-9)).toEqual(stored.map(() => true));
    });

    it('stores an event sent to two instances at once exactly once', async () => {
      const [a, b] = [await instance(), await instance()];
      const events = Array.from({ length: 20 }, () => makeEvent());
      const [fromA, fromB] = await Promise.all([a.recordEvents(events, []), b.recordEvents([...events].reverse(), [])]);
      expect({
        inserted: [...fromA.inserted, ...fromB.inserted].sort(),
        stored: await a.countEvents(WS),
      }).toEqual({ inserted: events.map((e) => e.messageId).sort(), stored: 20 });
    });
  });

  describe('PgStore migrations', () => {
    it('records every migration once in schema_migrations', async () => {
      const url = await server!.createDatabase('migrations_once');
      const store = await PgStore.open(url);
      await store.migrate();
      const { rows } = await store.pool.query('SELECT version, name FROM schema_migrations ORDER BY version');
      await store.close();
      expect(rows).toEqual(POSTGRES_MIGRATIONS.map((m) => ({ version: m.version, name: m.name })));
    });

    it('migrates once when several instances start together on an empty database', async () => {
      const url = await server!.createDatabase('migrations_together');
      const stores = await Promise.all([1, 2, 3, 4].map(() => PgStore.open(url)));
      const { rows } = await stores[0]!.pool.query('SELECT version FROM schema_migrations ORDER BY version');
      // each instance can use the schema at once
      const d = makeDecision();
      await logDecision(stores[1]!, d);
      const seen = await stores[3]!.getDecision(d.workspace, d.decisionId);
      await Promise.all(stores.map((s) => s.close()));
      expect({ versions: rows.map((r) => r.version), seen }).toEqual({
        versions: POSTGRES_MIGRATIONS.map((m) => m.version),
        seen: d,
      });
    });

    it('fills migration 4 from the log: the same users, suppressed counts and bootstrap sums it keeps as decisions are logged', async () => {
      const url = await server!.createDatabase('migration_4_fill');
      let store = await PgStore.open(url);
      const decisions = [
        makeDecision({ userKey: 'user-a' }),
        makeDecision({ userKey: 'user-a', at: T0 + 86_400_000 }),
        makeDecision({ userKey: 'user-b', reason: 'guardrail', deliver: false }),
        makeDecision({ userKey: 'user-c', holdout: true }),
      ];
      for (const d of decisions) await logDecision(store, d);
      const rewards = decisions.slice(0, 3).map((d, i) => ({ decisionId: d.decisionId, reward: i / 2 }));
      const snapshot = { workspace: WS, agentId: 'winback', agentVersion: 1, state: {}, createdAt: T0 };
      await store.commitLearning(WS, 'winback', rewards, snapshot);
      const kept = await store.reportGroups(WS, 'winback', 0, 100_000);
      await store.pool.query(
        'DROP TABLE report_users, report_groups, report_exploration; DELETE FROM schema_migrations WHERE version = 4',
      );
      await store.close();
      store = await PgStore.open(url);
      try {
        expect(await store.reportGroups(WS, 'winback', 0, 100_000)).toEqual(kept);
        expect(kept.map((g) => g.users)).toEqual([2, 1, 0]);
        expect(kept.map((g) => g.replicates === null)).toEqual([false, true, false]);
      } finally {
        await store.close();
      }
    });

    it('fails to open with the URL (password hidden) and the cause when the server is not there', async () => {
      const url = `postgres://nextbest:s3cret@127.0.0.1:${server!.port + 1}/none`;
      const error = await PgStore.open(url, { connectTimeoutMs: 2000 }).catch((err: Error) => err);
      expect(String(error)).toMatch(/cannot open the database postgres:\/\/nextbest:\*\*\*@127\.0\.0\.1:\d+\/none/);
      expect(String(error)).not.toContain('s3cret');
    });
  });
} else {
  describe.skip('PgStore (no PostgreSQL server binaries: see the warning above)', () => {
    it('conforms to the Store contract', () => undefined);
  });
}
