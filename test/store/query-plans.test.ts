/**
 * Scale is correctness: every statement a hot path runs (decide, event ingest and attribution, the
 * learner, Connected Content, runs, auth) must read a bounded number of rows through an index that
 * matches it, whatever the size of the tables. SQLite's EXPLAIN QUERY PLAN says how it will read:
 * `SCAN t` walks a whole table or index, `USE TEMP B-TREE` sorts what it read; both fail here. A
 * statement that is not on a hot path is listed in NOT_HOT with the reason, so a new statement is
 * checked unless someone says why it need not be.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { SqliteStore } from '../../plugin/store/sqlite.ts';

const NOT_HOT: Record<string, string> = {
  countKeys: 'at start only, to decide whether to generate the first key',
  listConfigs: 'at start and on config reads; one row per agent version',
  audit: 'the admin audit log, newest first through its primary key; LIMIT bounds it',
  countEvents: 'tests and diagnostics',
  list: 'listDecisions: tests and exports, bounded by its LIMIT on the rowid order',
  listRuns: 'the runs page; one row per run',
  deliveryCounts: "a run's progress report: counts one run's outbox rows through deliveries_queue",
  eraseOutcomes: "erasure of one user: bounded by that user's decisions through decision_log_user",
  oldest: 'retention: reads the first rows in rowid order, LIMIT bounds it',
  oldestEvents: 'retention: reads the first rows in rowid order, LIMIT bounds it',
  cells: "the report: reads the agent's aggregate cells (days × arms), never the log",
};

/** How SQLite would run `sql`: the detail column of EXPLAIN QUERY PLAN, one line per step. */
function plan(store: SqliteStore, sql: string): string[] {
  const named = [...new Set([...sql.matchAll(/@(\w+)/g)].map((m) => m[1]!))];
  const positional = (sql.match(/\?/g) ?? []).length;
  const statement = store.db.prepare(`EXPLAIN QUERY PLAN ${sql}`);
  const rows = (
    named.length > 0
      ? statement.all(Object.fromEntries(named.map((n) => [n, null])))
      : statement.all(...Array(positional).fill(null))
  ) as { detail: string }[];
  return rows.map((r) => r.detail);
}

/** Steps that read more than a bounded number of rows: a full scan of a table or index, or a sort. */
function unbounded(steps: string[]): string[] {
  return steps.filter(
    (step) => (/^SCAN /.test(step) && !/^SCAN json_each VIRTUAL TABLE/.test(step)) || /USE TEMP B-TREE/.test(step),
  );
}

describe('query plans of the hot paths (SQLite)', () => {
  const store = new SqliteStore(':memory:');
  afterAll(() => store.close());
  const statements = Object.entries(store.statementSql()).filter(([name]) => !(name in NOT_HOT));

  it.each(statements)('%s reads through an index, never a scan or a sort', (_name, sql) => {
    const steps = plan(store, sql);
    expect({ sql, unbounded: unbounded(steps) }).toEqual({ sql, unbounded: [] });
  });

  it.each([
    ['get', 'decision_log_id'],
    ['byRequest', 'decision_log_request'],
    ['latest', 'decision_log_user'],
    ['closedUnlearned', 'decision_log_unlearned'],
    ['oldestUnlearned', 'decision_log_unlearned'],
    ['markLearned', 'decision_log_id'],
  ])('%s uses the index %s', (name, index) => {
    expect(plan(store, store.statementSql()[name]!).join('\n')).toContain(`INDEX ${index}`);
  });

  // The report reads one agent's days (a range of the primary key), whatever the size of the log;
  // the writers behind it are primary-key look-ups and upserts.
  it.each([
    ['groups', 'report_groups', 'day>? AND day<?'],
    ['explorationDays', 'report_exploration', 'day>? AND day<?'],
    ['groupReplicates', 'report_groups', 'holdout=?'],
    ['eraseUsers', 'report_users', 'user_key=?'],
  ])('%s reads %s through its primary key (%s)', (name, table, keyPart) => {
    const steps = plan(store, store.statementSql()[name]!).join('\n');
    expect(steps).toContain(`SEARCH ${table} USING PRIMARY KEY`);
    expect(steps).toContain(keyPart);
  });

  it('lists only statements that exist in NOT_HOT', () => {
    expect(Object.keys(NOT_HOT).filter((name) => !(name in store.statementSql()))).toEqual([]);
  });
});
