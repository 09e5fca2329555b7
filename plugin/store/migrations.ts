import type Database from 'better-sqlite3';
import { compactDecisionLog } from './compact-log.ts';
import { fillReportGroups } from './report-backfill.ts';

/**
 * Numbered schema migrations, applied in order at start and recorded in `schema_migrations`.
 * Never edit a released migration: add the next number.
 */
export interface Migration {
  version: number;
  name: string;
  sql: string;
  /** Work SQL alone cannot do (re-encoding rows), run after `sql` in the same transaction. */
  up?: (db: Database.Database) => void;
}

export const SQLITE_MIGRATIONS: Migration[] = [
  {
    version: 1,
    name: 'initial schema',
    sql: `
CREATE TABLE workspaces (id TEXT PRIMARY KEY, secret TEXT NOT NULL, created_at INTEGER NOT NULL);
CREATE TABLE api_keys (
  key_hash TEXT PRIMARY KEY, workspace TEXT NOT NULL REFERENCES workspaces(id), scope TEXT NOT NULL,
  label TEXT NOT NULL, created_at INTEGER NOT NULL);
CREATE TABLE agent_configs (
  workspace TEXT NOT NULL, agent_id TEXT NOT NULL, version INTEGER NOT NULL, config TEXT NOT NULL,
  created_at INTEGER NOT NULL, actor TEXT NOT NULL, PRIMARY KEY (workspace, agent_id, version));
CREATE TABLE audit_log (
  id INTEGER PRIMARY KEY AUTOINCREMENT, workspace TEXT NOT NULL, at INTEGER NOT NULL, actor TEXT NOT NULL,
  action TEXT NOT NULL, target TEXT NOT NULL, detail TEXT NOT NULL);
CREATE TABLE decisions (
  workspace TEXT NOT NULL, decision_id TEXT NOT NULL, agent_id TEXT NOT NULL, agent_version INTEGER NOT NULL,
  user_key TEXT NOT NULL, request_id TEXT, at INTEGER NOT NULL, window_end INTEGER NOT NULL,
  holdout INTEGER NOT NULL, deliver INTEGER NOT NULL, reason TEXT NOT NULL, probability REAL NOT NULL,
  body TEXT NOT NULL, reward REAL, learned INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (workspace, decision_id));
CREATE UNIQUE INDEX decisions_request ON decisions (workspace, agent_id, request_id) WHERE request_id IS NOT NULL;
CREATE INDEX decisions_user ON decisions (workspace, user_key, agent_id, at);
CREATE INDEX decisions_agent ON decisions (workspace, agent_id, at);
CREATE INDEX decisions_unlearned ON decisions (workspace, agent_id, window_end, decision_id) WHERE learned = 0;
CREATE TABLE events (
  workspace TEXT NOT NULL, message_id TEXT NOT NULL, user_key TEXT, type TEXT NOT NULL, event TEXT,
  timestamp INTEGER NOT NULL, received_at INTEGER NOT NULL, body TEXT NOT NULL,
  PRIMARY KEY (workspace, message_id));
CREATE INDEX events_user ON events (workspace, user_key);
CREATE TABLE outcomes (
  workspace TEXT NOT NULL, decision_id TEXT NOT NULL, message_id TEXT NOT NULL, event TEXT NOT NULL,
  value REAL NOT NULL, at INTEGER NOT NULL, PRIMARY KEY (workspace, decision_id, message_id));
CREATE TABLE sends (
  workspace TEXT NOT NULL, user_key TEXT NOT NULL, channel TEXT, at INTEGER NOT NULL, decision_id TEXT NOT NULL);
CREATE INDEX sends_user ON sends (workspace, user_key, at);
CREATE TABLE model_snapshots (
  workspace TEXT NOT NULL, agent_id TEXT NOT NULL, seq INTEGER NOT NULL, agent_version INTEGER NOT NULL,
  state TEXT NOT NULL, created_at INTEGER NOT NULL, PRIMARY KEY (workspace, agent_id, seq));
CREATE TABLE runs (
  run_id TEXT PRIMARY KEY, workspace TEXT NOT NULL, agent_id TEXT NOT NULL, status TEXT NOT NULL,
  audience TEXT NOT NULL, checkpoint TEXT, summary TEXT, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);
`,
  },
  {
    version: 2,
    name: 'delivery outbox',
    sql: `
CREATE TABLE deliveries (
  workspace TEXT NOT NULL, decision_id TEXT NOT NULL, sink TEXT NOT NULL, run_id TEXT, user_key TEXT NOT NULL,
  payload TEXT NOT NULL, status TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, error TEXT, updated_at INTEGER NOT NULL,
  PRIMARY KEY (workspace, decision_id, sink));
CREATE INDEX deliveries_run ON deliveries (workspace, run_id, sink, status);
CREATE INDEX deliveries_user ON deliveries (workspace, sink, user_key);
CREATE INDEX runs_workspace ON runs (workspace, status);
`,
  },
  {
    version: 3,
    name: 'deliveries in flight',
    sql: `
CREATE TABLE delivery_in_flight (
  workspace TEXT NOT NULL, run_id TEXT NOT NULL, sink TEXT NOT NULL, from_seq INTEGER NOT NULL, to_seq INTEGER NOT NULL,
  updated_at INTEGER NOT NULL, PRIMARY KEY (workspace, run_id, sink));
`,
  },
  {
    version: 4,
    name: 'one outbox payload per decision',
    // The decision a run delivers is the same for each of its sinks: its payload is stored once and
    // the outbox rows point at it. Existing rows keep their position (rowid) and get a payload each.
    sql: `
CREATE TABLE delivery_payloads (id INTEGER PRIMARY KEY, payload TEXT NOT NULL);
INSERT INTO delivery_payloads (id, payload) SELECT rowid, payload FROM deliveries;
CREATE TABLE deliveries_v4 (
  workspace TEXT NOT NULL, decision_id TEXT NOT NULL, sink TEXT NOT NULL, run_id TEXT, user_key TEXT NOT NULL,
  payload_id INTEGER NOT NULL, status TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, error TEXT, updated_at INTEGER NOT NULL,
  PRIMARY KEY (workspace, decision_id, sink));
INSERT INTO deliveries_v4 (rowid, workspace, decision_id, sink, run_id, user_key, payload_id, status, attempts, error, updated_at)
  SELECT rowid, workspace, decision_id, sink, run_id, user_key, rowid, status, attempts, error, updated_at FROM deliveries ORDER BY rowid;
DROP TABLE deliveries;
ALTER TABLE deliveries_v4 RENAME TO deliveries;
CREATE INDEX deliveries_run ON deliveries (workspace, run_id, sink, status);
CREATE INDEX deliveries_user ON deliveries (workspace, sink, user_key);
`,
  },
  {
    version: 5,
    name: 'compact decision log and report aggregates',
    // Names become small integers (labels); ids and user keys become bytes; the body gets the
    // compact encoding of decision-codec.ts; the request id keeps only a 12-byte hash in the row.
    // Sends and outcomes point at the decision's position. Report cells are filled from the log.
    sql: `
CREATE TABLE labels (id INTEGER PRIMARY KEY, text TEXT NOT NULL UNIQUE);
CREATE TABLE decision_log (
  seq INTEGER PRIMARY KEY, ws INTEGER NOT NULL, agent INTEGER NOT NULL, decision_id BLOB NOT NULL,
  user_key BLOB NOT NULL, request BLOB, version INTEGER NOT NULL, at INTEGER NOT NULL, window_end INTEGER NOT NULL,
  holdout INTEGER NOT NULL, deliver INTEGER NOT NULL, learned INTEGER NOT NULL, reason INTEGER NOT NULL,
  probability REAL NOT NULL, reward REAL, body BLOB NOT NULL);
CREATE UNIQUE INDEX decision_log_id ON decision_log (ws, decision_id);
CREATE UNIQUE INDEX decision_log_request ON decision_log (ws, agent, request) WHERE request IS NOT NULL;
CREATE INDEX decision_log_user ON decision_log (ws, user_key, agent, at);
CREATE INDEX decision_log_unlearned ON decision_log (ws, agent, window_end, decision_id) WHERE learned = 0;
CREATE TABLE send_log (
  ws INTEGER NOT NULL, user_key BLOB NOT NULL, at INTEGER NOT NULL, channel INTEGER, decision INTEGER NOT NULL,
  PRIMARY KEY (ws, user_key, at, decision)) WITHOUT ROWID;
CREATE TABLE outcome_log (
  decision INTEGER NOT NULL, message_id TEXT NOT NULL, event INTEGER NOT NULL, value REAL NOT NULL, at INTEGER NOT NULL,
  PRIMARY KEY (decision, message_id)) WITHOUT ROWID;
CREATE TABLE report_cells (
  ws INTEGER NOT NULL, agent INTEGER NOT NULL, day INTEGER NOT NULL, holdout INTEGER NOT NULL,
  dimension INTEGER NOT NULL, arm INTEGER NOT NULL, decided INTEGER NOT NULL, closed INTEGER NOT NULL,
  reward_sum REAL NOT NULL, reward_squares REAL NOT NULL,
  PRIMARY KEY (ws, agent, day, holdout, dimension, arm)) WITHOUT ROWID;
`,
    up: compactDecisionLog,
  },
  {
    version: 6,
    name: 'outbox read in queue order',
    // A run reads its outbox for one sink from a position on, in queue order (rowid), whatever the
    // states it asks for: this index walks exactly that, where the old one sorted every match.
    sql: `
CREATE INDEX deliveries_queue ON deliveries (workspace, run_id, sink);
DROP INDEX deliveries_run;
`,
  },
  {
    version: 7,
    name: 'audience membership',
    // Who is in which audience of a source that cannot list its members (Segment): one row per
    // (audience, user), the latest observation; a member = 0 row is a tombstone that keeps an older
    // observation delivered late from adding the user back. The raw user id is kept because a run
    // over the audience needs it (as the outbox does); eraseUser deletes the rows by user_key.
    // Members are read in the order first seen (rowid) through audience_members_order.
    sql: `
CREATE TABLE audience_members (
  workspace TEXT NOT NULL, audience TEXT NOT NULL, user_key TEXT NOT NULL, user_id TEXT NOT NULL,
  member INTEGER NOT NULL, at INTEGER NOT NULL);
CREATE UNIQUE INDEX audience_members_key ON audience_members (workspace, audience, user_key);
CREATE INDEX audience_members_order ON audience_members (workspace, audience) WHERE member = 1;
CREATE INDEX audience_members_user ON audience_members (workspace, user_key);
`,
  },
  {
    version: 8,
    name: 'send proofs and decisions left out',
    // A delivered decision awaits the destination's report of its send (Braze Currents); the
    // learner leaves out those never sent and counts them per agent, arm and reason for the report.
    sql: `
CREATE TABLE send_proofs (
  workspace TEXT NOT NULL, decision_id TEXT NOT NULL, target TEXT NOT NULL, user_key TEXT NOT NULL, run_id TEXT,
  agent_id TEXT NOT NULL, holdout INTEGER NOT NULL, delivered_at INTEGER NOT NULL, due_at INTEGER NOT NULL,
  state TEXT NOT NULL, reason TEXT, updated_at INTEGER NOT NULL,
  PRIMARY KEY (workspace, decision_id, target));
CREATE INDEX send_proofs_user ON send_proofs (workspace, user_key, target, delivered_at);
CREATE INDEX send_proofs_due ON send_proofs (workspace, due_at) WHERE state = 'awaited';
CREATE INDEX send_proofs_run ON send_proofs (workspace, run_id, target, state, reason);
CREATE INDEX send_proofs_age ON send_proofs (delivered_at);
CREATE TABLE left_out_counts (
  workspace TEXT NOT NULL, agent_id TEXT NOT NULL, holdout INTEGER NOT NULL, reason TEXT NOT NULL, count INTEGER NOT NULL,
  PRIMARY KEY (workspace, agent_id, holdout, reason)) WITHOUT ROWID;
`,
  },
  {
    version: 9,
    name: 'report aggregates by user: distinct users, suppressed decisions, bootstrap by user, exploration',
    // report_users: one row per (user, agent, group) ever decided, to count distinct users (erased
    // with the user). report_groups: per (agent, day, group) the users first seen, the decisions
    // guardrails suppressed, and the bootstrap-by-user sums (a blob of 200 float64). Filled from
    // the log; exploration only counts decisions logged from now on (older bodies lack it).
    sql: `
CREATE TABLE report_users (
  ws INTEGER NOT NULL, user_key BLOB NOT NULL, agent INTEGER NOT NULL, holdout INTEGER NOT NULL,
  PRIMARY KEY (ws, user_key, agent, holdout)) WITHOUT ROWID;
CREATE TABLE report_groups (
  ws INTEGER NOT NULL, agent INTEGER NOT NULL, day INTEGER NOT NULL, holdout INTEGER NOT NULL,
  users INTEGER NOT NULL, suppressed INTEGER NOT NULL, suppressed_closed INTEGER NOT NULL,
  suppressed_sum REAL NOT NULL, replicates BLOB,
  PRIMARY KEY (ws, agent, day, holdout)) WITHOUT ROWID;
CREATE TABLE report_exploration (
  ws INTEGER NOT NULL, agent INTEGER NOT NULL, day INTEGER NOT NULL, dimension INTEGER NOT NULL,
  decided INTEGER NOT NULL, explored INTEGER NOT NULL, off_best REAL NOT NULL,
  PRIMARY KEY (ws, agent, day, dimension)) WITHOUT ROWID;
`,
    up: fillReportGroups,
  },
];
