import type pg from 'pg';
import { EVIDENCE_SLACK_MS } from './send-proofs.ts';
import type { AwaitedSend, LeftOutCount, SendEvidence, SendProofRow, SendProofState } from './types.ts';

/**
 * The send proofs and the left-out counts on PostgreSQL (migration 3; SQLite's migration 8, see
 * send-proofs.ts for what they mean), as statements run on a client the caller holds (inside its
 * transaction) or on the pool for reads.
 */

type Row = Record<string, unknown>;
type Client = pg.ClientBase | pg.Pool;

export const PROOF_SQL = {
  awaitSend: `INSERT INTO send_proofs (workspace, decision_id, target, user_key, run_id, agent_id, holdout, delivered_at, due_at, state, reason, updated_at)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'awaited', NULL, $8) ON CONFLICT (workspace, decision_id, target) DO NOTHING`,
  // locked until the transaction ends: two instances settling the same proof apply one after the other
  latestProof: `SELECT seq, state FROM send_proofs WHERE workspace = $1 AND user_key = $2 AND target = $3 AND delivered_at <= $4
    ORDER BY delivered_at DESC, seq DESC LIMIT 1 FOR UPDATE`,
  settleProof: 'UPDATE send_proofs SET state = $2, reason = $3, updated_at = $4 WHERE seq = $1',
  expireProofs: `UPDATE send_proofs SET state = 'not_sent', reason = 'no_send_event', updated_at = $1
    WHERE seq IN (SELECT seq FROM send_proofs WHERE workspace = $2 AND state = 'awaited' AND due_at <= $3 LIMIT $4 FOR UPDATE SKIP LOCKED)`,
  proofsOf: 'SELECT * FROM send_proofs WHERE workspace = $1 AND decision_id = ANY($2::text[])',
  leaveAwaited: `UPDATE send_proofs SET state = 'not_sent', reason = $1, updated_at = $2
    WHERE workspace = $3 AND decision_id = $4 AND state = 'awaited'`,
  proofCounts:
    'SELECT target, state, reason, count(*) AS n FROM send_proofs WHERE workspace = $1 AND run_id = $2 GROUP BY target, state, reason',
  countLeftOut: `INSERT INTO left_out_counts AS l (workspace, agent_id, holdout, reason, count) VALUES ($1, $2, $3, $4, 1)
    ON CONFLICT (workspace, agent_id, holdout, reason) DO UPDATE SET count = l.count + 1`,
  leftOutCounts: 'SELECT holdout, reason, count FROM left_out_counts WHERE workspace = $1 AND agent_id = $2',
  eraseProofs: 'DELETE FROM send_proofs WHERE workspace = $1 AND user_key = $2',
  pruneProofs:
    'DELETE FROM send_proofs WHERE seq IN (SELECT seq FROM send_proofs WHERE delivered_at < $1 ORDER BY delivered_at LIMIT $2)',
};

/** Awaits the proof of a delivered decision (inside the transaction that marks it delivered). */
export async function awaitSend(
  client: pg.ClientBase,
  workspace: string,
  decisionId: string,
  send: AwaitedSend,
  now: number,
): Promise<void> {
  await client.query(PROOF_SQL.awaitSend, [
    workspace,
    decisionId,
    send.target,
    send.userKey,
    send.runId,
    send.agentId,
    send.holdout,
    now,
    send.dueAt,
  ]);
}

/** Settles one evidence; true when a proof changed, false when it matched none, undefined when it matched one already settled. */
export async function settleProof(
  client: pg.ClientBase,
  workspace: string,
  e: SendEvidence,
  now: number,
): Promise<boolean | undefined> {
  const proof = (
    await client.query<Row>(PROOF_SQL.latestProof, [workspace, e.userKey, e.target, e.at + EVIDENCE_SLACK_MS])
  ).rows[0];
  if (!proof) return false;
  const state = proof.state as SendProofState;
  // a send outweighs an abort or a silence (a late report); an abort settles only what is awaited
  const changes = e.sent ? state !== 'sent' : state === 'awaited';
  if (!changes) return undefined;
  if (e.sent) await client.query(PROOF_SQL.settleProof, [proof.seq, 'sent', null, now]);
  else await client.query(PROOF_SQL.settleProof, [proof.seq, 'not_sent', 'aborted', now]);
  return true;
}

export async function expireProofs(client: Client, workspace: string, now: number, limit: number): Promise<number> {
  return (await client.query(PROOF_SQL.expireProofs, [now, workspace, now, limit])).rowCount ?? 0;
}

/** The proofs of these decisions, in the order of `decisionIds`, each decision's by target. */
export async function proofsOf(client: Client, workspace: string, decisionIds: readonly string[]) {
  const { rows } = await client.query<Row>(PROOF_SQL.proofsOf, [workspace, [...decisionIds]]);
  const order = new Map(decisionIds.map((id, i) => [id, i]));
  const target = (r: Row) => r.target as string;
  return rows
    .sort(
      (a, b) =>
        order.get(a.decision_id as string)! - order.get(b.decision_id as string)! ||
        (target(a) < target(b) ? -1 : target(a) > target(b) ? 1 : 0),
    )
    .map(proofFrom);
}

/** Counts a decision left out of its agent's arm, and marks its awaited proofs not sent for that reason. */
export async function leaveOut(
  client: pg.ClientBase,
  d: { workspace: string; agentId: string; decisionId: string; holdout: boolean; reason: string },
  now: number,
): Promise<void> {
  await client.query(PROOF_SQL.countLeftOut, [d.workspace, d.agentId, d.holdout, d.reason]);
  await client.query(PROOF_SQL.leaveAwaited, [d.reason, now, d.workspace, d.decisionId]);
}

export async function proofCounts(
  client: Client,
  workspace: string,
  runId: string,
): Promise<{ target: string; state: SendProofState; reason: string | null; count: number }[]> {
  return (await client.query<Row>(PROOF_SQL.proofCounts, [workspace, runId])).rows.map((r) => ({
    target: r.target as string,
    state: r.state as SendProofState,
    reason: (r.reason as string | null) ?? null,
    count: r.n as number,
  }));
}

export async function leftOutCounts(client: Client, workspace: string, agentId: string): Promise<LeftOutCount[]> {
  return (await client.query<Row>(PROOF_SQL.leftOutCounts, [workspace, agentId])).rows.map((r) => ({
    holdout: r.holdout as boolean,
    reason: r.reason as string,
    count: r.count as number,
  }));
}

function proofFrom(r: Row): SendProofRow {
  return {
    workspace: r.workspace as string,
    decisionId: r.decision_id as string,
    target: r.target as string,
    userKey: r.user_key as string,
    runId: (r.run_id as string | null) ?? null,
    agentId: r.agent_id as string,
    holdout: r.holdout as boolean,
    deliveredAt: r.delivered_at as number,
    dueAt: r.due_at as number,
    state: r.state as SendProofState,
    reason: (r.reason as string | null) ?? null,
    updatedAt: r.updated_at as number,
  };
}
