/**
 * The PostgreSQL store's statements outside the decision log (postgres-log.ts) and the outbox
 * (postgres-runs.ts), by name: the query-plan test reads them all through `statementSql()`.
 */
export const STORE_SQL = {
  getWorkspace: 'SELECT id, secret, created_at FROM workspaces WHERE id = $1',
  insertWorkspace: 'INSERT INTO workspaces (id, secret, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING',
  // instances starting together with the same NEXTBEST_API_KEY: the first stores it, the others find it stored
  insertKey:
    'INSERT INTO api_keys (key_hash, workspace, scope, label, created_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (key_hash) DO NOTHING',
  findKey: 'SELECT key_hash, workspace, scope, label, created_at FROM api_keys WHERE key_hash = $1',
  countKeys: 'SELECT count(*) AS n FROM api_keys WHERE workspace = $1',
  latestConfig: 'SELECT * FROM agent_configs WHERE workspace = $1 AND agent_id = $2 ORDER BY version DESC LIMIT 1',
  configVersion: 'SELECT * FROM agent_configs WHERE workspace = $1 AND agent_id = $2 AND version = $3',
  insertConfig:
    'INSERT INTO agent_configs (workspace, agent_id, version, config, created_at, actor) VALUES ($1, $2, $3, $4, $5, $6)',
  listConfigs:
    'SELECT DISTINCT ON (agent_id) * FROM agent_configs WHERE workspace = $1 ORDER BY agent_id, version DESC',
  insertAudit: 'INSERT INTO audit_log (workspace, at, actor, action, target, detail) VALUES ($1, $2, $3, $4, $5, $6)',
  audit: 'SELECT * FROM audit_log WHERE workspace = $1 ORDER BY id DESC LIMIT $2',
  insertEvent: `INSERT INTO events (workspace, message_id, user_key, type, event, timestamp, received_at, body)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING`,
  countEvents: 'SELECT count(*) AS n FROM events WHERE workspace = $1',
  nextSeq: 'SELECT coalesce(max(seq), 0) + 1 AS seq FROM model_snapshots WHERE workspace = $1 AND agent_id = $2',
  insertSnapshot:
    'INSERT INTO model_snapshots (workspace, agent_id, seq, agent_version, state, created_at) VALUES ($1, $2, $3, $4, $5, $6)',
  pruneSnapshots: 'DELETE FROM model_snapshots WHERE workspace = $1 AND agent_id = $2 AND seq <= $3',
  latestSnapshot: 'SELECT * FROM model_snapshots WHERE workspace = $1 AND agent_id = $2 ORDER BY seq DESC LIMIT 1',
  latestSnapshotSeq: 'SELECT max(seq) AS seq FROM model_snapshots WHERE workspace = $1 AND agent_id = $2',
  eraseEvents: 'DELETE FROM events WHERE workspace = $1 AND user_key = $2',
  oldestEvents: 'SELECT seq, received_at FROM events ORDER BY seq LIMIT $1',
  pruneEvent: 'DELETE FROM events WHERE seq = $1',
  erasePayloads:
    'DELETE FROM delivery_payloads WHERE id IN (SELECT payload_id FROM deliveries WHERE workspace = $1 AND user_key = $2)',
  eraseDeliveries: 'DELETE FROM deliveries WHERE workspace = $1 AND user_key = $2',
};
