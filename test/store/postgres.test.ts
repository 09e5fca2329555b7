import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PgStore } from '../../plugin/store/postgres.ts';
import { POSTGRES_MIGRATIONS } from '../../plugin/store/postgres-migrations.ts';
import { postgresBinForTests, startPostgres, type TestPostgres } from '../helpers/postgres.ts';
import { describeStoreConformance, logDecision, makeDecision, type StoreInspector } from './conformance.ts';

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
