/**
 * The query-plan test of test/store/query-plans.test.ts, on PostgreSQL: every statement of the
 * PostgreSQL store that a hot path runs reads a bounded number of rows through an index that
 * matches it. PostgreSQL's EXPLAIN says how it would run each one, as the generic plan (the one
 * a prepared statement keeps, whatever its parameters), over tables filled with tens of
 * thousands of rows and analysed (see `fill`), so that the planner weighs its indexes as it does in
 * production. Where a table is still small enough for a sequential scan to be the cheaper read
 * (the planner rightly prefers it then), the plans are taken with `enable_seqscan = off`: a
 * `Seq Scan` that remains has no index to use instead. A `Sort` node sorts what it read,
 * unbounded; both fail. A statement that is not on a hot path is listed in NOT_HOT with the reason.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PgStore } from '../../plugin/store/postgres.ts';
import { postgresBinForTests, startPostgres, type TestPostgres } from '../helpers/postgres.ts';

const NOT_HOT: Record<string, string> = {
  countKeys: 'at start only, to decide whether to generate the first key (through api_keys_workspace)',
  listConfigs: 'at start and on config reads; one row per agent version',
  countEvents: 'tests and diagnostics',
  list: 'listDecisions: tests and exports, bounded by its LIMIT on decisions_agent',
  listRuns: 'the runs page; one row per run',
  deliveryCounts: "a run's progress report: counts one run's outbox rows through deliveries_queue",
  cells: "the report: reads the agent's aggregate cells (days × arms), never the log",
};

interface PlanNode {
  'Node Type': string;
  'Index Name'?: string;
  /** On an INSERT … ON CONFLICT: the unique indexes it probes. */
  'Conflict Arbiter Indexes'?: string[];
  'Relation Name'?: string;
  Plans?: PlanNode[];
}

function nodes(plan: PlanNode): PlanNode[] {
  return [plan, ...(plan.Plans ?? []).flatMap(nodes)];
}

const bin = postgresBinForTests();
const ROWS = 20_000;

/** Rows in every table of the schema (two workspaces, two agents, 4,000 users: tens of thousands of rows in the log's tables), then ANALYZE. */
async function fill(store: PgStore): Promise<void> {
  await store.pool.query(`
    INSERT INTO workspaces VALUES ('acme', 's', 0), ('globex', 's', 0);
    INSERT INTO api_keys SELECT md5(i::text), CASE WHEN i % 2 = 0 THEN 'acme' ELSE 'globex' END, 'admin', 'k', 0 FROM generate_series(1, 2000) i;
    INSERT INTO agent_configs SELECT 'acme', 'agent-' || (i % 20), i, '{}', 0, 'a' FROM generate_series(1, 400) i;
    INSERT INTO audit_log (workspace, at, actor, action, target, detail) SELECT 'acme', i, 'a', 'agent.update', 'x', '{}' FROM generate_series(1, 2000) i;
    INSERT INTO decisions (workspace, decision_id, agent_id, agent_version, user_key, request_id, at, window_end, holdout, deliver, reason, probability, body, reward, learned)
      SELECT CASE WHEN i % 2 = 0 THEN 'acme' ELSE 'globex' END, md5(i::text), CASE WHEN i % 3 = 0 THEN 'winback' ELSE 'welcome' END, 1,
        'user-' || (i % 4000), CASE WHEN i % 2 = 0 THEN 'req-' || i END, i * 1000, i * 1000 + 3600000, i % 10 = 0, true, 'explore', 0.5,
        '{"choices":{},"features":[]}', CASE WHEN i < ${ROWS - 2000} THEN 1 END, i < ${ROWS - 2000}
      FROM generate_series(1, ${ROWS}) i;
    INSERT INTO sends SELECT workspace, user_key, at, 'email', seq FROM decisions;
    INSERT INTO outcomes SELECT seq, 'msg-' || seq, 'Order Completed', 1, at + 1 FROM decisions WHERE seq % 4 = 0;
    INSERT INTO events (workspace, message_id, user_key, type, event, timestamp, received_at, body)
      SELECT workspace, 'msg-' || seq, user_key, 'track', 'Order Completed', at, at, '{}' FROM decisions;
    INSERT INTO report_cells SELECT 'acme', 'winback', d, false, 'channel', 'arm-' || a, 1, 1, 1, 1 FROM generate_series(1, 200) d, generate_series(1, 5) a;
    INSERT INTO model_snapshots SELECT 'acme', 'agent-' || i, 1, 1, '{}', 0 FROM generate_series(1, 200) i;
    INSERT INTO runs (run_id, workspace, agent_id, status, audience, created_at, updated_at)
      SELECT 'run-' || i, 'acme', 'winback', 'completed', 'file:a', i, i FROM generate_series(1, 500) i;
    INSERT INTO delivery_payloads (payload) SELECT '{}' FROM generate_series(1, ${ROWS});
    INSERT INTO deliveries (workspace, decision_id, sink, run_id, user_key, payload_id, status, attempts, updated_at)
      SELECT 'acme', md5(i::text), CASE WHEN i % 2 = 0 THEN 'braze' ELSE 'hubspot' END, 'run-' || (i % 500), 'user-' || (i % 4000), i, 'delivered', 1, 0
      FROM generate_series(1, ${ROWS}) i;
    INSERT INTO delivery_in_flight SELECT 'acme', 'run-' || i, 'braze', 1, 2, 0 FROM generate_series(1, 500) i;
    INSERT INTO audience_members (workspace, audience, user_key, user_id, member, at)
      SELECT 'acme', 'aud-' || (i % 20), 'user-' || i, 'id-' || i, i % 7 <> 0, i FROM generate_series(1, ${ROWS}) i;
    INSERT INTO send_proofs (workspace, decision_id, target, user_key, run_id, agent_id, holdout, delivered_at, due_at, state, reason, updated_at)
      SELECT 'acme', md5(i::text), 'braze:campaign:c' || (i % 5), 'user-' || (i % 4000), 'run-' || (i % 500), 'winback', i % 10 = 0,
        i * 1000, i * 1000 + 3600000, CASE WHEN i > ${ROWS - 500} THEN 'awaited' ELSE 'sent' END, NULL, i * 1000
      FROM generate_series(1, ${ROWS}) i;
    INSERT INTO left_out_counts SELECT 'acme', 'agent-' || i, false, 'no_send_event', 1 FROM generate_series(1, 200) i;
    INSERT INTO report_users SELECT workspace, user_key, agent_id, holdout FROM decisions ON CONFLICT DO NOTHING;
    INSERT INTO report_groups SELECT 'acme', 'agent-' || a, d, h, 1, 0, 0, 0, NULL
      FROM generate_series(1, 200) d, generate_series(1, 20) a, (VALUES (false), (true)) v(h);
    INSERT INTO report_exploration SELECT 'acme', 'agent-' || a, d, 'channel', 1, 0, 0
      FROM generate_series(1, 200) d, generate_series(1, 20) a;
    ANALYZE;
  `);
}

describe.skipIf(!bin)('query plans of the hot paths (PostgreSQL, enable_seqscan off)', () => {
  let server: TestPostgres;
  let store: PgStore;
  const sql = Object.entries(new Map<string, string>()); // filled in beforeAll

  beforeAll(async () => {
    server = await startPostgres(bin!);
    store = await PgStore.open(await server.createDatabase('plans'), { poolMax: 1 });
    await fill(store);
    sql.push(...Object.entries(store.statementSql()));
  });

  afterAll(async () => {
    await store?.close();
    server?.destroy();
  });

  /** The generic plan of `text`, as the tree of EXPLAIN (FORMAT JSON). */
  async function plan(text: string): Promise<PlanNode> {
    const client = await store.pool.connect();
    try {
      await client.query('SET enable_seqscan = off');
      await client.query('SET plan_cache_mode = force_generic_plan');
      await client.query(`PREPARE hot AS ${text}`);
      const { rows } = await client.query<{ n: number }>(
        "SELECT cardinality(parameter_types) AS n FROM pg_prepared_statements WHERE name = 'hot'",
      );
      const args = Array.from({ length: rows[0]!.n }, () => 'NULL').join(', ');
      const explained = await client.query(`EXPLAIN (FORMAT JSON) EXECUTE hot${args ? `(${args})` : ''}`);
      return (explained.rows[0] as { 'QUERY PLAN': { Plan: PlanNode }[] })['QUERY PLAN'][0]!.Plan;
    } finally {
      await client.query('DEALLOCATE ALL').catch(() => undefined);
      client.release();
    }
  }

  /** Steps that read more than a bounded number of rows: a sequential scan of a table, or a sort. */
  const unbounded = (root: PlanNode) =>
    nodes(root)
      .filter((n) => n['Node Type'] === 'Seq Scan' || n['Node Type'] === 'Sort')
      .map((n) => `${n['Node Type']}${n['Relation Name'] ? ` on ${n['Relation Name']}` : ''}`);

  it('checks every statement of the store', () => {
    expect(sql.length).toBeGreaterThan(40);
  });

  it('reads through an index every statement a hot path runs, never a scan or a sort', async () => {
    const found: Record<string, string[]> = {};
    for (const [name, text] of sql) {
      if (name in NOT_HOT) continue;
      const steps = unbounded(await plan(text));
      if (steps.length > 0) found[name] = steps;
    }
    expect(found).toEqual({});
  });

  it.each([
    ['get', 'decisions_id'],
    ['byRequest', 'decisions_request'],
    ['latest', 'decisions_user'],
    ['closedUnlearned', 'decisions_unlearned'],
    ['closedUnlearnedFirst', 'decisions_unlearned'],
    ['oldestUnlearned', 'decisions_unlearned'],
    ['markLearned', 'decisions_id'],
    ['sendsSince', 'sends_pkey'],
    ['findKey', 'api_keys_pkey'],
    ['deliveriesOf', 'deliveries_queue'],
    ['lastDelivered', 'deliveries_user'],
    // the per-decision insert of report_users, and the report's reads of one agent's days
    ['insertReportUser', 'report_users_pkey'],
    ['recordAudience', 'audience_members_pkey'],
    ['awaitSend', 'send_proofs_pkey'],
    ['eraseReportUsers', 'report_users_pkey'],
    ['addGroup', 'report_groups_pkey'],
    ['addExploration', 'report_exploration_pkey'],
    ['countLeftOut', 'left_out_counts_pkey'],
    ['groups', 'report_groups_pkey'],
    ['explorationDays', 'report_exploration_pkey'],
    // send proofs: a Currents event finds the user's latest proof; the learner reads a page of decisions' proofs
    ['latestProof', 'send_proofs_user'],
    ['proofsOf', 'send_proofs_pkey'],
    ['expireProofs', 'send_proofs_due'],
    ['eraseProofs', 'send_proofs_user'],
    ['pruneProofs', 'send_proofs_age'],
    ['leaveAwaited', 'send_proofs_pkey'],
    ['proofCounts', 'send_proofs_run'],
    // audience membership: one user's row, a page of members in the order first seen
    // the planner may read the user's few memberships instead of the primary key: both are bounded
    ['audienceMembership', 'audience_members_pkey|audience_members_user'],
    ['audienceMembers', 'audience_members_order'],
    ['eraseAudiences', 'audience_members_user'],
  ])('%s uses the index %s', async (name, index) => {
    const used = nodes(await plan(store.statementSql()[name]!)).flatMap((n) => [
      n['Index Name'],
      ...(n['Conflict Arbiter Indexes'] ?? []),
    ]);
    expect(index.split('|').filter((i) => used.includes(i))).not.toEqual([]);
  });

  it('lists only statements that exist in NOT_HOT', () => {
    expect(Object.keys(NOT_HOT).filter((name) => !(name in store.statementSql()))).toEqual([]);
  });
});
