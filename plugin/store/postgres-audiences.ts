import type pg from 'pg';
import type { AudienceMemberRow } from './types.ts';

/**
 * Audience membership on PostgreSQL (migration 2; SQLite's migration 7): the latest observation
 * per (audience, user), a non-member kept as a tombstone; `seq` orders members as first seen.
 */

type Row = Record<string, unknown>;

export const AUDIENCE_SQL = {
  // positions for a batch, taken in the batch's order before its rows are written in key order
  audiencePositions:
    "SELECT nextval(pg_get_serial_sequence('audience_members', 'seq')) AS seq FROM generate_series(1, $1)",
  recordAudience: `INSERT INTO audience_members AS m (seq, workspace, audience, user_key, user_id, member, at)
    VALUES ($7, $1, $2, $3, $4, $5, $6)
    ON CONFLICT (workspace, audience, user_key) DO UPDATE
    SET user_id = excluded.user_id, member = excluded.member, at = excluded.at WHERE excluded.at >= m.at`,
  audienceMembership:
    'SELECT member, at FROM audience_members WHERE workspace = $1 AND audience = $2 AND user_key = $3',
  audienceMembers: `SELECT seq, user_id FROM audience_members
    WHERE workspace = $1 AND audience = $2 AND member AND seq > $3 ORDER BY seq LIMIT $4`,
  eraseAudiences: 'DELETE FROM audience_members WHERE workspace = $1 AND user_key = $2',
};

/**
 * Records observations inside the caller's transaction. Positions (the order first recorded) are
 * taken in the batch's order; the rows are then written in key order, so that two instances
 * recording overlapping batches lock the same rows in the same order (observations of one key
 * keep their order). A row already kept keeps its position.
 */
export async function recordAudienceMembership(client: pg.ClientBase, rows: readonly AudienceMemberRow[]) {
  const { rows: taken } = await client.query<{ seq: number }>(AUDIENCE_SQL.audiencePositions, [rows.length]);
  const positions = taken.map((r) => r.seq).sort((a, b) => a - b);
  const key = (r: AudienceMemberRow) => `${r.workspace}\u0000${r.audience}\u0000${r.userKey}`;
  const ordered = rows
    .map((r, i) => ({ r, i }))
    .sort((a, b) => (key(a.r) < key(b.r) ? -1 : key(a.r) > key(b.r) ? 1 : a.i - b.i));
  for (const { r, i } of ordered)
    await client.query(AUDIENCE_SQL.recordAudience, [
      r.workspace,
      r.audience,
      r.userKey,
      r.userId,
      r.member,
      r.at,
      positions[i],
    ]);
}

export async function audienceMembership(
  pool: pg.Pool,
  workspace: string,
  audience: string,
  userKey: string,
): Promise<{ member: boolean; at: number } | undefined> {
  const r = (await pool.query<Row>(AUDIENCE_SQL.audienceMembership, [workspace, audience, userKey])).rows[0];
  return r && { member: r.member as boolean, at: r.at as number };
}

export async function audienceMembers(
  pool: pg.Pool,
  workspace: string,
  audience: string,
  after: number,
  limit: number,
): Promise<{ userId: string; position: number }[]> {
  const { rows } = await pool.query<Row>(AUDIENCE_SQL.audienceMembers, [workspace, audience, after, limit]);
  return rows.map((r) => ({ userId: r.user_id as string, position: r.seq as number }));
}
