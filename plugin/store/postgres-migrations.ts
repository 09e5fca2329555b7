import type pg from 'pg';
import { fillPgReportGroups } from './postgres-report.ts';

/**
 * The PostgreSQL store's numbered migrations, applied in order at start (see `migratePostgres`)
 * and recorded in `schema_migrations`. Never edit a released migration: add the next number.
 *
 * The numbers are the PostgreSQL schema's own: migration 1 is the schema the SQLite store reached
 * at its migration 6 (docs/architecture.md, "The store", maps one onto the other). A SQLite
 * migration that changes what the store keeps gets its PostgreSQL counterpart here.
 *
 * Ids and names are `text COLLATE "C"`, so that they sort by byte as in SQLite, whatever the
 * database's collation (the learner's order is (window end, decision id)). Times are epoch ms in
 * `bigint`; JSON is kept as text, exactly as it was written.
 */
export interface PgMigration {
  version: number;
  name: string;
  sql: string;
  /** Run after `sql`, in the same transaction (a migration that fills what it created). */
  up?: (client: pg.ClientBase) => Promise<void>;
}

export const POSTGRES_MIGRATIONS: PgMigration[] = [
  {
    version: 1,
    name: 'initial schema',
    sql: `
CREATE TABLE workspaces (id text COLLATE "C" PRIMARY KEY, secret text NOT NULL, created_at bigint NOT NULL);
CREATE TABLE api_keys (
  key_hash text COLLATE "C" PRIMARY KEY, workspace text COLLATE "C" NOT NULL REFERENCES workspaces(id),
  scope text NOT NULL, label text NOT NULL, created_at bigint NOT NULL);
CREATE INDEX api_keys_workspace ON api_keys (workspace);
CREATE TABLE agent_configs (
  workspace text COLLATE "C" NOT NULL, agent_id text COLLATE "C" NOT NULL, version integer NOT NULL,
  config text NOT NULL, created_at bigint NOT NULL, actor text NOT NULL, PRIMARY KEY (workspace, agent_id, version));
CREATE TABLE audit_log (
  id bigserial PRIMARY KEY, workspace text COLLATE "C" NOT NULL, at bigint NOT NULL, actor text NOT NULL,
  action text NOT NULL, target text NOT NULL, detail text NOT NULL);
CREATE INDEX audit_log_workspace ON audit_log (workspace, id);
CREATE TABLE decisions (
  seq bigserial PRIMARY KEY, workspace text COLLATE "C" NOT NULL, decision_id text COLLATE "C" NOT NULL,
  agent_id text COLLATE "C" NOT NULL, agent_version integer NOT NULL, user_key text COLLATE "C" NOT NULL,
  request_id text COLLATE "C", at bigint NOT NULL, window_end bigint NOT NULL, holdout boolean NOT NULL,
  deliver boolean NOT NULL, reason text NOT NULL, probability double precision NOT NULL, body text NOT NULL,
  reward double precision, learned boolean NOT NULL);
CREATE UNIQUE INDEX decisions_id ON decisions (workspace, decision_id);
CREATE UNIQUE INDEX decisions_request ON decisions (workspace, agent_id, request_id) WHERE request_id IS NOT NULL;
CREATE INDEX decisions_user ON decisions (workspace, user_key, agent_id, at, seq);
CREATE INDEX decisions_agent ON decisions (workspace, agent_id, seq);
CREATE INDEX decisions_unlearned ON decisions (workspace, agent_id, window_end, decision_id) WHERE NOT learned;
CREATE TABLE sends (
  workspace text COLLATE "C" NOT NULL, user_key text COLLATE "C" NOT NULL, at bigint NOT NULL, channel text,
  decision bigint NOT NULL, PRIMARY KEY (workspace, user_key, at, decision));
CREATE TABLE outcomes (
  decision bigint NOT NULL, message_id text COLLATE "C" NOT NULL, event text NOT NULL,
  value double precision NOT NULL, at bigint NOT NULL, PRIMARY KEY (decision, message_id));
CREATE TABLE events (
  seq bigserial UNIQUE, workspace text COLLATE "C" NOT NULL, message_id text COLLATE "C" NOT NULL,
  user_key text COLLATE "C", type text NOT NULL, event text, timestamp bigint NOT NULL, received_at bigint NOT NULL,
  body text NOT NULL, PRIMARY KEY (workspace, message_id));
CREATE INDEX events_user ON events (workspace, user_key);
CREATE TABLE report_cells (
  workspace text COLLATE "C" NOT NULL, agent_id text COLLATE "C" NOT NULL, day integer NOT NULL, holdout boolean NOT NULL,
  dimension text COLLATE "C" NOT NULL, arm text COLLATE "C" NOT NULL, decided bigint NOT NULL, closed bigint NOT NULL,
  reward_sum double precision NOT NULL, reward_squares double precision NOT NULL,
  PRIMARY KEY (workspace, agent_id, day, holdout, dimension, arm));
CREATE TABLE model_snapshots (
  workspace text COLLATE "C" NOT NULL, agent_id text COLLATE "C" NOT NULL, seq integer NOT NULL,
  agent_version integer NOT NULL, state text NOT NULL, created_at bigint NOT NULL, PRIMARY KEY (workspace, agent_id, seq));
CREATE TABLE runs (
  run_id text COLLATE "C" PRIMARY KEY, seq bigserial NOT NULL, workspace text COLLATE "C" NOT NULL,
  agent_id text COLLATE "C" NOT NULL, status text NOT NULL, audience text NOT NULL, checkpoint text, summary text,
  created_at bigint NOT NULL, updated_at bigint NOT NULL);
CREATE INDEX runs_workspace ON runs (workspace, created_at, seq);
CREATE TABLE delivery_payloads (id bigserial PRIMARY KEY, payload text NOT NULL);
CREATE TABLE deliveries (
  seq bigserial NOT NULL, workspace text COLLATE "C" NOT NULL, decision_id text COLLATE "C" NOT NULL,
  sink text COLLATE "C" NOT NULL, run_id text COLLATE "C", user_key text COLLATE "C" NOT NULL, payload_id bigint NOT NULL,
  status text NOT NULL, attempts integer NOT NULL DEFAULT 0, error text, updated_at bigint NOT NULL,
  PRIMARY KEY (workspace, decision_id, sink));
CREATE INDEX deliveries_queue ON deliveries (workspace, run_id, sink, seq);
CREATE INDEX deliveries_user ON deliveries (workspace, sink, user_key, seq);
CREATE INDEX deliveries_payload ON deliveries (payload_id);
CREATE INDEX deliveries_erase ON deliveries (workspace, user_key);
CREATE TABLE delivery_in_flight (
  workspace text COLLATE "C" NOT NULL, run_id text COLLATE "C" NOT NULL, sink text COLLATE "C" NOT NULL,
  from_seq bigint NOT NULL, to_seq bigint NOT NULL, updated_at bigint NOT NULL, PRIMARY KEY (workspace, run_id, sink));
`,
  },
  {
    version: 2,
    name: 'audience membership',
    // SQLite migration 7: one row per (audience, user), the latest observation (member = false is a
    // tombstone); seq is the order first seen (SQLite's rowid), kept when the row is updated.
    sql: `
CREATE TABLE audience_members (
  seq bigserial NOT NULL, workspace text COLLATE "C" NOT NULL, audience text COLLATE "C" NOT NULL,
  user_key text COLLATE "C" NOT NULL, user_id text NOT NULL, member boolean NOT NULL, at bigint NOT NULL,
  PRIMARY KEY (workspace, audience, user_key));
CREATE INDEX audience_members_order ON audience_members (workspace, audience, seq) WHERE member;
CREATE INDEX audience_members_user ON audience_members (workspace, user_key);
`,
  },
  {
    version: 3,
    name: 'send proofs and decisions left out',
    // SQLite migration 8; seq orders two proofs delivered in the same millisecond (SQLite's rowid).
    sql: `
CREATE TABLE send_proofs (
  seq bigserial NOT NULL UNIQUE, workspace text COLLATE "C" NOT NULL, decision_id text COLLATE "C" NOT NULL,
  target text COLLATE "C" NOT NULL, user_key text COLLATE "C" NOT NULL, run_id text COLLATE "C",
  agent_id text COLLATE "C" NOT NULL, holdout boolean NOT NULL, delivered_at bigint NOT NULL, due_at bigint NOT NULL,
  state text NOT NULL, reason text, updated_at bigint NOT NULL,
  PRIMARY KEY (workspace, decision_id, target));
CREATE INDEX send_proofs_user ON send_proofs (workspace, user_key, target, delivered_at, seq);
CREATE INDEX send_proofs_due ON send_proofs (workspace, due_at) WHERE state = 'awaited';
CREATE INDEX send_proofs_run ON send_proofs (workspace, run_id, target, state, reason);
CREATE INDEX send_proofs_age ON send_proofs (delivered_at);
CREATE TABLE left_out_counts (
  workspace text COLLATE "C" NOT NULL, agent_id text COLLATE "C" NOT NULL, holdout boolean NOT NULL,
  reason text COLLATE "C" NOT NULL, count bigint NOT NULL, PRIMARY KEY (workspace, agent_id, holdout, reason));
`,
  },
  {
    version: 4,
    name: 'report aggregates by user: distinct users, suppressed decisions, bootstrap by user, exploration',
    // SQLite migration 9. report_users: one row per (user, agent, group) ever decided (erased with
    // the user). report_groups: per (agent, day, group) the users first seen, the decisions
    // suppressed by guardrails, and the bootstrap-by-user sums (float8[] of 2 x 200), added
    // element by element in the upsert. Filled from the log; exploration only from now on.
    sql: `
CREATE TABLE report_users (
  workspace text COLLATE "C" NOT NULL, user_key text COLLATE "C" NOT NULL, agent_id text COLLATE "C" NOT NULL,
  holdout boolean NOT NULL, PRIMARY KEY (workspace, user_key, agent_id, holdout));
CREATE TABLE report_groups (
  workspace text COLLATE "C" NOT NULL, agent_id text COLLATE "C" NOT NULL, day integer NOT NULL, holdout boolean NOT NULL,
  users bigint NOT NULL, suppressed bigint NOT NULL, suppressed_closed bigint NOT NULL,
  suppressed_sum double precision NOT NULL, replicates double precision[],
  PRIMARY KEY (workspace, agent_id, day, holdout));
CREATE TABLE report_exploration (
  workspace text COLLATE "C" NOT NULL, agent_id text COLLATE "C" NOT NULL, day integer NOT NULL,
  dimension text COLLATE "C" NOT NULL, decided bigint NOT NULL, explored bigint NOT NULL, off_best double precision NOT NULL,
  PRIMARY KEY (workspace, agent_id, day, dimension));
`,
    up: fillPgReportGroups,
  },
];

/**
 * The key of the session advisory lock under which migrations run: any constant shared by every
 * instance ("nextbest" in ASCII). An instance that finds it held waits, then finds the schema migrated.
 */
export const MIGRATION_LOCK = 0x6e657874_62657374n;

/**
 * Applies the pending migrations, each in its own transaction, while holding the migration lock
 * on `client`: two instances starting together migrate once, the second finding the work done.
 */
export async function migratePostgres(client: pg.ClientBase, migrations = POSTGRES_MIGRATIONS): Promise<number[]> {
  await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK.toString()]);
  try {
    await client.query(
      'CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at bigint NOT NULL)',
    );
    const applied = new Set(
      (await client.query<{ version: number }>('SELECT version FROM schema_migrations')).rows.map((r) => r.version),
    );
    const done: number[] = [];
    for (const m of migrations) {
      if (applied.has(m.version)) continue;
      await client.query('BEGIN');
      try {
        await client.query(m.sql);
        await m.up?.(client);
        await client.query('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [
          m.version,
          m.name,
          Date.now(),
        ]);
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK');
        throw new Error(`PostgreSQL migration ${m.version} (${m.name}) failed: ${(err as Error).message}`, {
          cause: err,
        });
      }
      done.push(m.version);
    }
    return done;
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK.toString()]);
  }
}
