import type pg from 'pg';
import { awaitSend } from './postgres-send-proofs.ts';
import type { DeliveryRow, DeliveryStatus, DeliveryUpdate, RunRow } from './types.ts';
import { type Row, deliveryChanges, deliveryFrom, runFrom } from './rows.ts';

type Transaction = <T>(fn: (client: pg.PoolClient) => Promise<T>) => Promise<T>;
type Query = (text: string, values: unknown[]) => Promise<pg.QueryResult<Row>>;

const json = (value: unknown) => (value === null || value === undefined ? null : JSON.stringify(value));

const DELIVERY_COLUMNS =
  'd.seq, d.workspace, d.decision_id, d.sink, d.run_id, d.user_key, d.status, d.attempts, d.error, d.updated_at, p.payload';

/** Batch runs and their delivery outbox on PostgreSQL (the RunStore role of PgStore). */
export class PgRuns {
  static readonly SQL = {
    insertRun: `INSERT INTO runs (run_id, workspace, agent_id, status, audience, checkpoint, summary, created_at, updated_at)
      VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
    getRun: 'SELECT * FROM runs WHERE workspace = $1 AND run_id = $2',
    listRuns: 'SELECT * FROM runs WHERE workspace = $1 ORDER BY created_at DESC, seq DESC LIMIT $2',
    updateRun: `UPDATE runs SET status = coalesce($3, status), checkpoint = coalesce($4, checkpoint),
      summary = coalesce($5, summary), updated_at = $6 WHERE workspace = $1 AND run_id = $2`,
    insertPayload: 'INSERT INTO delivery_payloads (payload) VALUES ($1) RETURNING id',
    deletePayload: 'DELETE FROM delivery_payloads WHERE id = $1',
    insertDelivery: `INSERT INTO deliveries (workspace, decision_id, sink, run_id, user_key, payload_id, status, attempts, error, updated_at)
      VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT DO NOTHING`,
    deliveriesOf: `SELECT ${DELIVERY_COLUMNS} FROM deliveries d LEFT JOIN delivery_payloads p ON p.id = d.payload_id
      WHERE d.workspace = $1 AND d.run_id = $2 AND d.sink = $3 AND d.status = ANY($4::text[]) AND d.seq >= $5 ORDER BY d.seq LIMIT $6`,
    setInFlight: `INSERT INTO delivery_in_flight (workspace, run_id, sink, from_seq, to_seq, updated_at) VALUES ($1, $2, $3, $4, $5, $6)
      ON CONFLICT (workspace, run_id, sink) DO UPDATE SET from_seq = excluded.from_seq, to_seq = excluded.to_seq, updated_at = excluded.updated_at`,
    clearInFlight: 'DELETE FROM delivery_in_flight WHERE workspace = $1 AND run_id = $2 AND sink = $3',
    getInFlight: 'SELECT from_seq, to_seq FROM delivery_in_flight WHERE workspace = $1 AND run_id = $2 AND sink = $3',
    setDeliveries: `UPDATE deliveries SET status = $3, error = $4, attempts = attempts + $5, updated_at = $6
      WHERE workspace = $1 AND sink = $2 AND decision_id = ANY($7::text[])`,
    deliveryCounts:
      'SELECT sink, status, error, count(*) AS n FROM deliveries WHERE workspace = $1 AND run_id = $2 GROUP BY sink, status, error ORDER BY sink, status, error NULLS FIRST',
    lastDelivered: `SELECT ${DELIVERY_COLUMNS} FROM deliveries d LEFT JOIN delivery_payloads p ON p.id = d.payload_id
      WHERE d.workspace = $1 AND d.sink = $2 AND d.user_key = $3 AND d.status = 'delivered' ORDER BY d.seq DESC LIMIT 1`,
  };

  constructor(
    private readonly transaction: Transaction,
    private readonly query: Query,
  ) {}

  async createRun(run: RunRow): Promise<void> {
    await this.query(PgRuns.SQL.insertRun, [
      run.runId,
      run.workspace,
      run.agentId,
      run.status,
      run.audience,
      json(run.checkpoint),
      json(run.summary),
      run.createdAt,
      run.updatedAt,
    ]);
  }

  async getRun(workspace: string, runId: string): Promise<RunRow | undefined> {
    const r = (await this.query(PgRuns.SQL.getRun, [workspace, runId])).rows[0];
    return r && runFrom(r);
  }

  async listRuns(workspace: string, limit: number): Promise<RunRow[]> {
    return (await this.query(PgRuns.SQL.listRuns, [workspace, limit])).rows.map(runFrom);
  }

  async updateRun(
    workspace: string,
    runId: string,
    patch: Partial<Pick<RunRow, 'status' | 'checkpoint' | 'summary'>>,
    now: number,
  ): Promise<void> {
    await this.query(PgRuns.SQL.updateRun, [
      workspace,
      runId,
      patch.status ?? null,
      patch.checkpoint === undefined ? null : JSON.stringify(patch.checkpoint),
      patch.summary === undefined ? null : JSON.stringify(patch.summary),
      now,
    ]);
  }

  /** Queues the deliveries and saves the checkpoint in one transaction; the rows of one decision share one payload copy. */
  advanceRun(
    workspace: string,
    runId: string,
    deliveries: DeliveryRow[],
    checkpoint: unknown,
    now: number,
  ): Promise<number> {
    return this.transaction(async (c) => {
      let queued = 0;
      const stored = new Map<string, { payload: unknown; id: number; taken: boolean }>();
      const copies: { id: number; taken: boolean }[] = [];
      for (const d of deliveries) {
        let copy = stored.get(d.decisionId);
        if (!copy || copy.payload !== d.payload) {
          const { rows } = await c.query<{ id: number }>(PgRuns.SQL.insertPayload, [JSON.stringify(d.payload)]);
          copy = { payload: d.payload, id: rows[0]!.id, taken: false };
          stored.set(d.decisionId, copy);
          copies.push(copy);
        }
        const { rowCount } = await c.query(PgRuns.SQL.insertDelivery, [
          d.workspace,
          d.decisionId,
          d.sink,
          d.runId,
          d.userKey,
          copy.id,
          d.status,
          d.attempts,
          d.error,
          d.updatedAt,
        ]);
        if (rowCount) copy.taken = true;
        queued += rowCount ?? 0;
      }
      for (const copy of copies) if (!copy.taken) await c.query(PgRuns.SQL.deletePayload, [copy.id]);
      await c.query(PgRuns.SQL.updateRun, [workspace, runId, null, JSON.stringify(checkpoint), null, now]);
      return queued;
    });
  }

  async deliveriesOf(
    workspace: string,
    runId: string,
    sink: string,
    statuses: DeliveryStatus[],
    limit: number,
    fromSeq: number,
  ): Promise<DeliveryRow[]> {
    const { rows } = await this.query(PgRuns.SQL.deliveriesOf, [workspace, runId, sink, statuses, fromSeq, limit]);
    return rows.map(deliveryFrom);
  }

  async setInFlight(
    workspace: string,
    runId: string,
    sink: string,
    range: { from: number; to: number } | null,
    now: number,
  ): Promise<void> {
    if (range) await this.query(PgRuns.SQL.setInFlight, [workspace, runId, sink, range.from, range.to, now]);
    else await this.query(PgRuns.SQL.clearInFlight, [workspace, runId, sink]);
  }

  async getInFlight(workspace: string, runId: string, sink: string): Promise<{ from: number; to: number } | undefined> {
    const r = (await this.query(PgRuns.SQL.getInFlight, [workspace, runId, sink])).rows[0];
    return r && { from: r.from_seq as number, to: r.to_seq as number };
  }

  /** One statement per distinct change (a batch is mostly one: all delivered), in one transaction. */
  async setDeliveryStatus(workspace: string, sink: string, updates: DeliveryUpdate[], now: number): Promise<void> {
    const groups = deliveryChanges(updates);
    await this.transaction(async (c) => {
      // the proofs awaited in the same transaction as the delivery they prove
      for (const u of updates)
        if (u.awaitSend && u.status === 'delivered') await awaitSend(c, workspace, u.decisionId, u.awaitSend, now);
      for (const g of groups)
        await c.query(PgRuns.SQL.setDeliveries, [workspace, sink, g.status, g.error, g.attempt, now, g.ids]);
    });
  }

  async deliveryCounts(
    workspace: string,
    runId: string,
  ): Promise<{ sink: string; status: DeliveryStatus; error: string | null; count: number }[]> {
    return (await this.query(PgRuns.SQL.deliveryCounts, [workspace, runId])).rows.map((r) => ({
      sink: r.sink as string,
      status: r.status as DeliveryStatus,
      error: (r.error as string | null) ?? null,
      count: r.n as number,
    }));
  }

  async lastDelivered(workspace: string, sink: string, userKeys: string[]): Promise<Map<string, DeliveryRow>> {
    const out = new Map<string, DeliveryRow>();
    for (const userKey of new Set(userKeys)) {
      const r = (await this.query(PgRuns.SQL.lastDelivered, [workspace, sink, userKey])).rows[0];
      if (r) out.set(userKey, deliveryFrom(r));
    }
    return out;
  }
}
