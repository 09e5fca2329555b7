import type Database from 'better-sqlite3';
import type { AwaitedSend, LeftOutCount, SendEvidence, SendProofRow, SendProofState } from './types.ts';

type Row = Record<string, unknown>;

/**
 * A report may come before the decision is marked delivered (Braze sends as it answers, and the
 * outbox row is updated after the answer arrives) and the clocks differ: evidence matches the
 * proofs delivered up to this long after it.
 */
export const EVIDENCE_SLACK_MS = 5 * 60_000;

/** The send proofs and the left-out counts of the SQLite store (migration 8); every method runs inside the caller's write. */
export class SqliteSendProofs {
  /** @internal Every statement, by name (the query-plan test reads their SQL). */
  readonly s;

  constructor(db: Database.Database) {
    this.s = {
      awaitSend: db.prepare(
        `INSERT OR IGNORE INTO send_proofs (workspace, decision_id, target, user_key, run_id, agent_id, holdout, delivered_at, due_at, state, reason, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'awaited', NULL, ?)`,
      ),
      latestProof: db.prepare(
        'SELECT rowid, state FROM send_proofs WHERE workspace = ? AND user_key = ? AND target = ? AND delivered_at <= ? ORDER BY delivered_at DESC LIMIT 1',
      ),
      settleProof: db.prepare('UPDATE send_proofs SET state = ?, reason = ?, updated_at = ? WHERE rowid = ?'),
      expireProofs: db.prepare(
        `UPDATE send_proofs SET state = 'not_sent', reason = 'no_send_event', updated_at = ?
         WHERE rowid IN (SELECT rowid FROM send_proofs WHERE workspace = ? AND state = 'awaited' AND due_at <= ? LIMIT ?)`,
      ),
      proofsOf: db.prepare('SELECT * FROM send_proofs WHERE workspace = ? AND decision_id = ?'),
      leaveAwaited: db.prepare(
        `UPDATE send_proofs SET state = 'not_sent', reason = ?, updated_at = ? WHERE workspace = ? AND decision_id = ? AND state = 'awaited'`,
      ),
      proofCounts: db.prepare(
        'SELECT target, state, reason, count(*) AS n FROM send_proofs WHERE workspace = ? AND run_id = ? GROUP BY target, state, reason',
      ),
      countLeftOut: db.prepare(
        `INSERT INTO left_out_counts (workspace, agent_id, holdout, reason, count) VALUES (?, ?, ?, ?, 1)
         ON CONFLICT DO UPDATE SET count = count + 1`,
      ),
      leftOutCounts: db.prepare(
        'SELECT holdout, reason, count FROM left_out_counts WHERE workspace = ? AND agent_id = ?',
      ),
      eraseProofs: db.prepare('DELETE FROM send_proofs WHERE workspace = ? AND user_key = ?'),
      pruneProofs: db.prepare(
        'DELETE FROM send_proofs WHERE rowid IN (SELECT rowid FROM send_proofs WHERE delivered_at < ? ORDER BY delivered_at LIMIT ?)',
      ),
    };
  }

  await(workspace: string, decisionId: string, send: AwaitedSend, now: number): void {
    this.s.awaitSend.run(
      workspace,
      decisionId,
      send.target,
      send.userKey,
      send.runId,
      send.agentId,
      send.holdout ? 1 : 0,
      now,
      send.dueAt,
      now,
    );
  }

  /** Settles one evidence; true when a proof changed, false when it matched none, undefined when it matched one already settled. */
  settle(workspace: string, e: SendEvidence, now: number): boolean | undefined {
    const proof = this.s.latestProof.get(workspace, e.userKey, e.target, e.at + EVIDENCE_SLACK_MS) as Row | undefined;
    if (!proof) return false;
    const state = proof.state as SendProofState;
    // a send outweighs an abort or a silence (a late report); an abort settles only what is awaited
    const changes = e.sent ? state !== 'sent' : state === 'awaited';
    if (!changes) return undefined;
    if (e.sent) this.s.settleProof.run('sent', null, now, proof.rowid);
    else this.s.settleProof.run('not_sent', 'aborted', now, proof.rowid);
    return true;
  }

  expire(workspace: string, now: number, limit: number): number {
    return this.s.expireProofs.run(now, workspace, now, limit).changes;
  }

  of(workspace: string, decisionIds: readonly string[]): SendProofRow[] {
    return decisionIds.flatMap((id) => (this.s.proofsOf.all(workspace, id) as Row[]).map(proofFrom));
  }

  /** Counts a decision left out of its agent's arm, and marks its awaited proofs not sent for that reason. */
  leaveOut(
    workspace: string,
    agentId: string,
    decisionId: string,
    holdout: boolean,
    reason: string,
    now: number,
  ): void {
    this.s.countLeftOut.run(workspace, agentId, holdout ? 1 : 0, reason);
    this.s.leaveAwaited.run(reason, now, workspace, decisionId);
  }

  counts(
    workspace: string,
    runId: string,
  ): { target: string; state: SendProofState; reason: string | null; count: number }[] {
    return (this.s.proofCounts.all(workspace, runId) as Row[]).map((r) => ({
      target: r.target as string,
      state: r.state as SendProofState,
      reason: (r.reason as string | null) ?? null,
      count: r.n as number,
    }));
  }

  leftOutCounts(workspace: string, agentId: string): LeftOutCount[] {
    return (this.s.leftOutCounts.all(workspace, agentId) as Row[]).map((r) => ({
      holdout: r.holdout === 1,
      reason: r.reason as string,
      count: r.count as number,
    }));
  }

  erase(workspace: string, userKey: string): number {
    return this.s.eraseProofs.run(workspace, userKey).changes;
  }

  prune(before: number, limit: number): number {
    return this.s.pruneProofs.run(before, limit).changes;
  }
}

function proofFrom(r: Row): SendProofRow {
  return {
    workspace: r.workspace as string,
    decisionId: r.decision_id as string,
    target: r.target as string,
    userKey: r.user_key as string,
    runId: (r.run_id as string | null) ?? null,
    agentId: r.agent_id as string,
    holdout: r.holdout === 1,
    deliveredAt: r.delivered_at as number,
    dueAt: r.due_at as number,
    state: r.state as SendProofState,
    reason: (r.reason as string | null) ?? null,
    updatedAt: r.updated_at as number,
  };
}
