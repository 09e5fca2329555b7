import { createHash } from 'node:crypto';
import pg from 'pg';
import { KeyedMutex } from './keyed-mutex.ts';
import {
  CellTally,
  cellFrom,
  decisionFrom,
  headFrom,
  inTimeOrder,
  insertDecision,
  LOG_SQL,
  markLearned,
  markLeftOut,
  outcomesBySeq,
  pruneDecisions,
} from './postgres-log.ts';
import { AUDIENCE_SQL, audienceMembers, audienceMembership, recordAudienceMembership } from './postgres-audiences.ts';
import { REPORT_SQL, reportExploration, reportGroups } from './postgres-report.ts';
import {
  expireProofs,
  leaveOut,
  leftOutCounts,
  PROOF_SQL,
  proofCounts,
  proofsOf,
  settleProof,
} from './postgres-send-proofs.ts';
import { pgFaultOf, redactedUrl } from './postgres-faults.ts';
import { PgLearnerRole } from './postgres-learner.ts';
import { migratePostgres } from './postgres-migrations.ts';
import { PgRuns } from './postgres-runs.ts';
import { STORE_SQL } from './postgres-sql.ts';
import { StorageFault } from './storage-fault.ts';
import { SNAPSHOTS_KEPT } from './types.ts';
import type {
  AgentConfigRow,
  ApiKeyRow,
  AuditRow,
  AudienceMemberRow,
  DecisionHead,
  DecisionRow,
  DeliveryRow,
  DeliveryStatus,
  DeliveryUpdate,
  EraseReport,
  EventRow,
  LearningCursor,
  LeftOut,
  LeftOutCount,
  OutcomeRow,
  ReportCell,
  ReportExplorationDay,
  ReportGroupDay,
  RunRow,
  SendEvidence,
  SendProofRow,
  SendProofState,
  SendRow,
  SnapshotRow,
  StorageHealth,
  Store,
  UserTransaction,
  WorkspaceRow,
} from './types.ts';
import { type Row, apiKeyFrom, configFrom, snapshotFrom } from './rows.ts';

export interface PgStoreOptions {
  /** Connections of the pool (default 10, or NEXTBEST_DB_POOL_MAX). */
  poolMax?: number;
  /** Longest wait for a connection before a request fails with storage_unavailable (default 5 s). */
  connectTimeoutMs?: number;
}

/** int8 (counts, sequences, epoch ms) as a JS number: every value the store keeps is below 2^53. */
const TYPES = {
  getTypeParser: ((oid: number, format?: string) =>
    oid === pg.types.builtins.INT8
      ? (v: string) => Number(v)
      : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
};

/** Namespace of the two-key advisory locks of one user's unit of work (the one-key space holds the migration and learner locks). */
const USER_LOCK_SPACE = 0x6e62;

/** The advisory lock key of one user of one workspace: 32 bits of a hash (a collision only serialises two users). */
function userLockKey(workspace: string, userKey: string): number {
  return createHash('sha256').update(`${workspace}\u0000${userKey}`).digest().readInt32BE(0);
}

/** The positions of `events` in (workspace, messageId) order; equal keys keep their order (the first one is stored). */
function keyOrder(events: EventRow[]): number[] {
  const key = (e: EventRow) => `${e.workspace}\u0000${e.messageId}`;
  return events
    .map((_, i) => i)
    .sort((a, b) => {
      const [x, y] = [key(events[a]!), key(events[b]!)];
      return x < y ? -1 : x > y ? 1 : a - b;
    });
}

/**
 * The store for several instances on one database: PostgreSQL through a `pg` pool. Every unit of
 * work is one transaction on one pooled connection. A user's unit of work (`withUser`) holds a
 * transaction-scoped advisory lock of that user, so that frequency caps hold across instances
 * (and a process-local mutex first, so that one instance queues its own requests without
 * holding a connection each). Any failure to reach the server becomes a StorageFault
 * (`storage_unavailable`: HTTP 503), never a crash: the pool reconnects when the server is back.
 *
 * Open it with `PgStore.open(url)`, which applies the migrations (see postgres-migrations.ts).
 */
export class PgStore implements Store {
  readonly pool: pg.Pool;
  readonly where: string;
  readonly learner: PgLearnerRole;
  private readonly users = new KeyedMutex();
  private readonly runs: PgRuns;
  private fault: StorageFault | undefined;

  private constructor(url: string, options: PgStoreOptions = {}) {
    this.where = redactedUrl(url);
    const connection = {
      connectionString: url,
      connectionTimeoutMillis: options.connectTimeoutMs ?? 5_000,
      types: TYPES,
    };
    this.pool = new pg.Pool({
      ...connection,
      max: options.poolMax ?? (Number(process.env.NEXTBEST_DB_POOL_MAX) || 10),
    });
    this.learner = new PgLearnerRole(connection);
    // an idle connection the server closed (a restart): dropped from the pool, the next query reconnects
    this.pool.on('error', (err) => this.noteFault(err));
    this.runs = new PgRuns(
      (fn) => this.transaction(fn),
      (text, values) => this.query(text, values),
    );
  }

  /** Connects, applies the pending migrations (once across instances starting together) and returns the store. */
  static async open(url: string, options?: PgStoreOptions): Promise<PgStore> {
    const store = new PgStore(url, options);
    try {
      await store.migrate();
      return store;
    } catch (err) {
      await store.pool.end().catch(() => undefined);
      throw new Error(`cannot open the database ${store.where}: ${(err as Error).message}`, { cause: err });
    }
  }

  /** The SQL of every statement, by name: the query-plan test checks each one's plan. */
  statementSql(): Record<string, string> {
    return { ...STORE_SQL, ...LOG_SQL, ...PgRuns.SQL, ...PROOF_SQL, ...REPORT_SQL, ...AUDIENCE_SQL };
  }

  async migrate(): Promise<void> {
    const client = await this.connect();
    try {
      await migratePostgres(client);
    } finally {
      client.release();
    }
  }

  async close(): Promise<void> {
    if (this.pool.ended) return;
    await this.learner.release();
    await this.pool.end();
  }

  async health(): ReturnType<StorageHealth['health']> {
    try {
      await this.query('SELECT 1', []);
      return undefined;
    } catch (err) {
      const fault = this.fault ?? pgFaultOf(err, this.where);
      return { code: fault?.code ?? 'storage_unavailable', message: fault?.message ?? (err as Error).message };
    }
  }

  private noteFault(err: unknown): StorageFault | undefined {
    const fault = pgFaultOf(err, this.where);
    if (fault) this.fault = fault;
    return fault;
  }

  private async connect(): Promise<pg.PoolClient> {
    try {
      return await this.pool.connect();
    } catch (err) {
      throw this.noteFault(err) ?? err;
    }
  }

  /** One statement on any pooled connection; a connection failure becomes a StorageFault. */
  private async query<R extends pg.QueryResultRow = Row>(text: string, values: unknown[]): Promise<pg.QueryResult<R>> {
    try {
      const result = await this.pool.query<R>(text, values);
      this.fault = undefined;
      return result;
    } catch (err) {
      throw this.noteFault(err) ?? err;
    }
  }

  /** Runs `fn` in one transaction on one connection: committed when it resolves, rolled back when it throws. */
  private async transaction<T>(fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await this.connect();
    let broken: unknown;
    try {
      await client.query('BEGIN');
      const result = await fn(client);
      await client.query('COMMIT');
      this.fault = undefined;
      return result;
    } catch (err) {
      const fault = this.noteFault(err);
      if (fault) broken = err;
      else await client.query('ROLLBACK').catch((e: unknown) => (broken = e));
      throw fault ?? err;
    } finally {
      // a connection that failed is destroyed rather than handed to the next request
      client.release(broken instanceof Error ? broken : undefined);
    }
  }

  async ensureWorkspace(id: string, secret: string, now: number): Promise<WorkspaceRow> {
    await this.query(STORE_SQL.insertWorkspace, [id, secret, now]);
    return (await this.getWorkspace(id))!;
  }

  async getWorkspace(id: string): Promise<WorkspaceRow | undefined> {
    const r = (await this.query(STORE_SQL.getWorkspace, [id])).rows[0];
    return r && { id: r.id as string, secret: r.secret as string, createdAt: r.created_at as number };
  }

  async addApiKey(key: ApiKeyRow): Promise<void> {
    await this.query(STORE_SQL.insertKey, [key.keyHash, key.workspace, key.scope, key.label, key.createdAt]);
  }

  async findApiKey(keyHash: string): Promise<ApiKeyRow | undefined> {
    const r = (await this.query(STORE_SQL.findKey, [keyHash])).rows[0];
    return r && apiKeyFrom(r);
  }

  async countApiKeys(workspace: string): Promise<number> {
    return (await this.query<{ n: number }>(STORE_SQL.countKeys, [workspace])).rows[0]!.n;
  }

  async putAgentConfig(
    workspace: string,
    agentId: string,
    config: unknown,
    actor: string,
    now: number,
  ): Promise<{ row: AgentConfigRow; changed: boolean }> {
    const text = JSON.stringify(config);
    return this.transaction(async (c) => {
      // two instances putting the same config file at start: one writes, the other finds it
      await c.query('SELECT pg_advisory_xact_lock($1, $2)', [USER_LOCK_SPACE + 1, userLockKey(workspace, agentId)]);
      const latest = (await c.query<Row>(STORE_SQL.latestConfig, [workspace, agentId])).rows[0];
      if (latest && latest.config === text) return { row: configFrom(latest), changed: false };
      const version = latest ? (latest.version as number) + 1 : 1;
      await c.query(STORE_SQL.insertConfig, [workspace, agentId, version, text, now, actor]);
      const action = latest ? 'agent.update' : 'agent.create';
      await c.query(STORE_SQL.insertAudit, [workspace, now, actor, action, agentId, JSON.stringify({ version })]);
      return { row: { workspace, agentId, version, config: JSON.parse(text), createdAt: now, actor }, changed: true };
    });
  }

  async getAgentConfig(workspace: string, agentId: string, version?: number): Promise<AgentConfigRow | undefined> {
    const r = (
      version === undefined
        ? await this.query(STORE_SQL.latestConfig, [workspace, agentId])
        : await this.query(STORE_SQL.configVersion, [workspace, agentId, version])
    ).rows[0];
    return r && configFrom(r);
  }

  async listAgentConfigs(workspace: string): Promise<AgentConfigRow[]> {
    return (await this.query(STORE_SQL.listConfigs, [workspace])).rows.map(configFrom);
  }

  async auditLog(workspace: string, limit: number): Promise<AuditRow[]> {
    return (await this.query(STORE_SQL.audit, [workspace, limit])).rows.map((r) => ({
      id: r.id as number,
      workspace: r.workspace as string,
      at: r.at as number,
      actor: r.actor as string,
      action: r.action as string,
      target: r.target as string,
      detail: JSON.parse(r.detail as string),
    }));
  }

  async withUser<T>(workspace: string, userKey: string, fn: (tx: UserTransaction) => Promise<T>): Promise<T> {
    return this.users.run(`${workspace}\u0000${userKey}`, () =>
      this.transaction(async (c) => {
        // held until the transaction ends: no other instance's unit of work for this user runs in between
        await c.query('SELECT pg_advisory_xact_lock($1, $2)', [USER_LOCK_SPACE, userLockKey(workspace, userKey)]);
        const writes: { decision: DecisionRow; send?: SendRow }[] = [];
        const tx: UserTransaction = {
          sendsSince: async (since) =>
            (await c.query<Row>(LOG_SQL.sendsSince, [workspace, userKey, since])).rows.map((r) => ({
              at: r.at as number,
              channel: (r.channel as string | null) ?? null,
            })),
          insertDecision: async (decision, send) => {
            writes.push({ decision, send });
          },
        };
        const result = await fn(tx);
        await this.insertAll(c, writes);
        return result;
      }),
    );
  }

  private async insertAll(c: pg.ClientBase, rows: { decision: DecisionRow; send?: SendRow }[]): Promise<void> {
    const tally = new CellTally();
    for (const { decision, send } of rows) await insertDecision(c, decision, send, tally);
    await tally.apply(c);
  }

  async insertDecisions(rows: { decision: DecisionRow; send?: SendRow }[]): Promise<void> {
    await this.transaction((c) => this.insertAll(c, rows));
  }

  async getDecision(workspace: string, decisionId: string): Promise<DecisionRow | undefined> {
    const r = (await this.query(LOG_SQL.get, [workspace, decisionId])).rows[0];
    return r && decisionFrom(r);
  }

  async findDecisionByRequest(workspace: string, agentId: string, requestId: string): Promise<DecisionRow | undefined> {
    const r = (await this.query(LOG_SQL.byRequest, [workspace, agentId, requestId])).rows[0];
    return r && decisionFrom(r);
  }

  async latestDecisions(
    workspace: string,
    userKey: string,
    agentIds: readonly string[],
    at: number,
  ): Promise<DecisionHead[]> {
    const out: DecisionHead[] = [];
    for (const agentId of agentIds) {
      const r = (await this.query(LOG_SQL.latest, [workspace, userKey, agentId, at])).rows[0];
      if (r && (r.window_end as number) > at) out.push(headFrom(r, agentId, userKey));
    }
    return out;
  }

  async listDecisions(workspace: string, agentId: string, limit: number): Promise<DecisionRow[]> {
    return (await this.query(LOG_SQL.list, [workspace, agentId, limit])).rows.map(decisionFrom);
  }

  async reportCells(workspace: string, agentId: string): Promise<ReportCell[]> {
    return (await this.query(LOG_SQL.cells, [workspace, agentId])).rows.map(cellFrom);
  }

  async reportGroups(workspace: string, agentId: string, fromDay: number, toDay: number): Promise<ReportGroupDay[]> {
    return this.read(() => reportGroups(this.pool, workspace, agentId, fromDay, toDay));
  }

  async reportExploration(
    workspace: string,
    agentId: string,
    fromDay: number,
    toDay: number,
  ): Promise<ReportExplorationDay[]> {
    return this.read(() => reportExploration(this.pool, workspace, agentId, fromDay, toDay));
  }

  /** A read on the pool; a connection failure becomes a StorageFault. */
  private async read<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw this.noteFault(err) ?? err;
    }
  }

  async recordEvents(
    events: EventRow[],
    outcomes: OutcomeRow[],
  ): Promise<{ inserted: string[]; duplicates: string[] }> {
    return this.transaction(async (c) => {
      const stored = new Set<number>();
      const fresh = new Set<string>();
      // In key order: two instances recording overlapping batches lock the same rows in the same
      // order, so one waits for the other instead of deadlocking. ON CONFLICT waits for another
      // instance inserting the same messageId, then skips it.
      for (const i of keyOrder(events)) {
        const e = events[i]!;
        const { rowCount } = await c.query(STORE_SQL.insertEvent, [
          e.workspace,
          e.messageId,
          e.userKey,
          e.type,
          e.event,
          e.timestamp,
          e.receivedAt,
          JSON.stringify(e.body),
        ]);
        if (rowCount === 1) {
          stored.add(i);
          fresh.add(`${e.workspace}\u0000${e.messageId}`);
        }
      }
      for (const o of outcomes)
        if (fresh.has(`${o.workspace}\u0000${o.messageId}`))
          await c.query(LOG_SQL.insertOutcome, [o.workspace, o.decisionId, o.messageId, o.event, o.value, o.at]);
      return {
        inserted: events.filter((_, i) => stored.has(i)).map((e) => e.messageId),
        duplicates: events.filter((_, i) => !stored.has(i)).map((e) => e.messageId),
      };
    });
  }

  async countEvents(workspace: string): Promise<number> {
    return (await this.query<{ n: number }>(STORE_SQL.countEvents, [workspace])).rows[0]!.n;
  }

  async outcomesOf(workspace: string, decisionId: string): Promise<OutcomeRow[]> {
    const { rows } = await this.query(LOG_SQL.outcomes, [workspace, decisionId]);
    return inTimeOrder(
      rows.map((r) => ({
        workspace,
        decisionId,
        messageId: r.message_id as string,
        event: r.event as string,
        value: r.value as number,
        at: r.at as number,
      })),
    );
  }

  async closedUnlearned(
    workspace: string,
    agentId: string,
    now: number,
    limit: number,
    after?: LearningCursor,
  ): Promise<(DecisionRow & { outcomes: OutcomeRow[] })[]> {
    const { rows } = after
      ? await this.query(LOG_SQL.closedUnlearned, [workspace, agentId, after.windowEnd, after.decisionId, now, limit])
      : await this.query(LOG_SQL.closedUnlearnedFirst, [workspace, agentId, now, limit]);
    const outcomes = await outcomesBySeq(
      this.pool,
      workspace,
      rows.map((r) => ({ seq: r.seq as number, decisionId: r.decision_id as string })),
    ).catch((err: unknown) => {
      throw this.noteFault(err) ?? err;
    });
    return rows.map((r) => ({ ...decisionFrom(r), outcomes: outcomes.get(r.seq as number)! }));
  }

  async commitLearning(
    workspace: string,
    agentId: string,
    rewards: { decisionId: string; reward: number }[],
    snapshot: Omit<SnapshotRow, 'seq'>,
    leftOut: LeftOut[] = [],
  ): Promise<number> {
    const state = JSON.stringify(snapshot.state);
    const reasons = new Map(leftOut.map((l) => [l.decisionId, l.reason]));
    return this.transaction(async (c) => {
      const tally = new CellTally();
      await markLearned(c, workspace, rewards, tally);
      for (const left of await markLeftOut(c, workspace, [...reasons.keys()], tally))
        await leaveOut(c, { workspace, agentId, ...left, reason: reasons.get(left.decisionId)! }, snapshot.createdAt);
      await tally.apply(c);
      const seq = (await c.query<{ seq: number }>(STORE_SQL.nextSeq, [workspace, agentId])).rows[0]!.seq;
      await c.query(STORE_SQL.insertSnapshot, [
        workspace,
        agentId,
        seq,
        snapshot.agentVersion,
        state,
        snapshot.createdAt,
      ]);
      await c.query(STORE_SQL.pruneSnapshots, [workspace, agentId, seq - SNAPSHOTS_KEPT]);
      return seq;
    });
  }

  async leftOutCounts(workspace: string, agentId: string): Promise<LeftOutCount[]> {
    return this.read(() => leftOutCounts(this.pool, workspace, agentId));
  }

  async settleSendProofs(
    workspace: string,
    evidence: SendEvidence[],
    now: number,
  ): Promise<{ settled: number; unmatched: number }> {
    return this.transaction(async (c) => {
      let [settled, unmatched] = [0, 0];
      for (const e of evidence) {
        const changed = await settleProof(c, workspace, e, now);
        if (changed) settled += 1;
        else if (changed === false) unmatched += 1;
      }
      return { settled, unmatched };
    });
  }

  async expireSendProofs(workspace: string, now: number, limit: number): Promise<number> {
    return this.read(() => expireProofs(this.pool, workspace, now, limit));
  }

  async sendProofsOf(workspace: string, decisionIds: readonly string[]): Promise<SendProofRow[]> {
    return this.read(() => proofsOf(this.pool, workspace, decisionIds));
  }

  async sendProofCounts(
    workspace: string,
    runId: string,
  ): Promise<{ target: string; state: SendProofState; reason: string | null; count: number }[]> {
    return this.read(() => proofCounts(this.pool, workspace, runId));
  }

  async latestSnapshot(workspace: string, agentId: string): Promise<SnapshotRow | undefined> {
    const r = (await this.query(STORE_SQL.latestSnapshot, [workspace, agentId])).rows[0];
    return r && snapshotFrom(r);
  }

  async latestSnapshotSeq(workspace: string, agentId: string): Promise<number | undefined> {
    return (
      (await this.query<{ seq: number | null }>(STORE_SQL.latestSnapshotSeq, [workspace, agentId])).rows[0]?.seq ??
      undefined
    );
  }

  async oldestUnlearnedWindowEnd(workspace: string, agentId: string): Promise<number | undefined> {
    return (await this.query<{ window_end: number }>(LOG_SQL.oldestUnlearned, [workspace, agentId])).rows[0]
      ?.window_end;
  }

  async prune(before: number, limit: number): Promise<{ decisions: number; events: number }> {
    return this.transaction(async (c) => {
      // send proofs of that age are settled and learned from long since: they go too, uncounted
      await c.query(PROOF_SQL.pruneProofs, [before, limit]);
      return { decisions: await pruneDecisions(c, before, limit), events: await this.pruneEvents(c, before, limit) };
    });
  }

  private async pruneEvents(c: pg.ClientBase, before: number, limit: number): Promise<number> {
    let deleted = 0;
    for (const r of (await c.query<Row>(STORE_SQL.oldestEvents, [limit])).rows) {
      if ((r.received_at as number) >= before) break;
      deleted += (await c.query(STORE_SQL.pruneEvent, [r.seq])).rowCount ?? 0;
    }
    return deleted;
  }

  /**
   * Deletes the user's rows in one transaction under the user's lock. PostgreSQL keeps a deleted
   * row's bytes in its page until VACUUM reuses the space, and in the WAL until it is recycled:
   * docs/scale.md says what that means for erasure.
   */
  async eraseUser(workspace: string, userKey: string): Promise<EraseReport> {
    return this.users.run(`${workspace}\u0000${userKey}`, () =>
      this.transaction(async (c) => {
        await c.query('SELECT pg_advisory_xact_lock($1, $2)', [USER_LOCK_SPACE, userLockKey(workspace, userKey)]);
        const count = async (text: string) => (await c.query(text, [workspace, userKey])).rowCount ?? 0;
        const outcomes = await count(LOG_SQL.eraseOutcomes);
        const sends = await count(LOG_SQL.eraseSends);
        const decisions = await count(LOG_SQL.eraseDecisions);
        const events = await count(STORE_SQL.eraseEvents);
        await count(STORE_SQL.erasePayloads);
        const deliveries = (await count(STORE_SQL.eraseDeliveries)) + (await count(PROOF_SQL.eraseProofs));
        const audienceMemberships = await count(AUDIENCE_SQL.eraseAudiences);
        await count(REPORT_SQL.eraseReportUsers);
        return { decisions, outcomes, events, sends, deliveries, audienceMemberships };
      }),
    );
  }

  async recordAudienceMembership(rows: readonly AudienceMemberRow[]): Promise<void> {
    if (rows.length === 0) return;
    await this.transaction((c) => recordAudienceMembership(c, rows));
  }

  audienceMembership(
    workspace: string,
    audience: string,
    userKey: string,
  ): Promise<{ member: boolean; at: number } | undefined> {
    return this.read(() => audienceMembership(this.pool, workspace, audience, userKey));
  }

  audienceMembers(
    workspace: string,
    audience: string,
    after: number,
    limit: number,
  ): Promise<{ userId: string; position: number }[]> {
    return this.read(() => audienceMembers(this.pool, workspace, audience, after, limit));
  }

  createRun(run: RunRow): Promise<void> {
    return this.runs.createRun(run);
  }

  getRun(workspace: string, runId: string): Promise<RunRow | undefined> {
    return this.runs.getRun(workspace, runId);
  }

  listRuns(workspace: string, limit: number): Promise<RunRow[]> {
    return this.runs.listRuns(workspace, limit);
  }

  updateRun(
    workspace: string,
    runId: string,
    patch: Partial<Pick<RunRow, 'status' | 'checkpoint' | 'summary'>>,
    now: number,
  ): Promise<void> {
    return this.runs.updateRun(workspace, runId, patch, now);
  }

  advanceRun(workspace: string, runId: string, deliveries: DeliveryRow[], checkpoint: unknown, now: number) {
    return this.runs.advanceRun(workspace, runId, deliveries, checkpoint, now);
  }

  deliveriesOf(
    workspace: string,
    runId: string,
    sink: string,
    statuses: DeliveryStatus[],
    limit: number,
    fromSeq = 0,
  ): Promise<DeliveryRow[]> {
    return this.runs.deliveriesOf(workspace, runId, sink, statuses, limit, fromSeq);
  }

  setInFlight(
    workspace: string,
    runId: string,
    sink: string,
    range: { from: number; to: number } | null,
    now: number,
  ): Promise<void> {
    return this.runs.setInFlight(workspace, runId, sink, range, now);
  }

  getInFlight(workspace: string, runId: string, sink: string): Promise<{ from: number; to: number } | undefined> {
    return this.runs.getInFlight(workspace, runId, sink);
  }

  setDeliveryStatus(workspace: string, sink: string, updates: DeliveryUpdate[], now: number): Promise<void> {
    return this.runs.setDeliveryStatus(workspace, sink, updates, now);
  }

  deliveryCounts(workspace: string, runId: string) {
    return this.runs.deliveryCounts(workspace, runId);
  }

  lastDelivered(workspace: string, sink: string, userKeys: string[]): Promise<Map<string, DeliveryRow>> {
    return this.runs.lastDelivered(workspace, sink, userKeys);
  }
}
