import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { SQLITE_MIGRATIONS } from './migrations.ts';
import { SNAPSHOTS_KEPT } from './types.ts';
import { KeyedMutex } from './keyed-mutex.ts';
import { WalCheckpointer } from './checkpointer.ts';
import { SqliteDecisionLog, Tally, type PreparedDecision } from './decision-log.ts';
import { SqliteReportAggregates } from './report-aggregates.ts';
import { SqliteLabels } from './labels.ts';
import { SqliteSendProofs } from './send-proofs.ts';
import { holdWriterLock, WriterLockHeldError } from './writer-lock.ts';
import { openFailure } from './open-failure.ts';
import { StorageFault } from './storage-fault.ts';
import { StorageWatch } from './storage-watch.ts';
import type {
  AgentConfigRow,
  ApiKeyRow,
  AuditRow,
  DecisionHead,
  DecisionRow,
  DeliveryRow,
  DeliveryStatus,
  DeliveryUpdate,
  AudienceMemberRow,
  EraseReport,
  EventRow,
  LearnerRole,
  LearningCursor,
  LeftOut,
  LeftOutCount,
  SendEvidence,
  SendProofRow,
  SendProofState,
  OutcomeRow,
  ReportCell,
  ReportExplorationDay,
  ReportGroupDay,
  RunRow,
  SendRow,
  SnapshotRow,
  StorageHealth,
  Store,
  UserTransaction,
  WorkspaceRow,
} from './types.ts';
import { type Row, apiKeyFrom, configFrom, deliveryChanges, deliveryFrom, runFrom, snapshotFrom } from './rows.ts';

/** How often the checkpointer thread copies the WAL into the database file. */
const CHECKPOINT_INTERVAL_MS = 100;
/** WAL pages after which the writer checkpoints itself (when the checkpointer thread falls behind). */
const WRITER_CHECKPOINT_PAGES = 10_000;
/**
 * Page cache of the connection, in KiB (SQLite's default is 2 MiB). Index inserts keyed by user
 * (a keyed hash, so random) touch a random leaf each; with the interior pages of a 10-million-row
 * log in memory, an insert reads at most the leaf from the OS cache.
 */
const PAGE_CACHE_KIB = 64 * 1024;

/** TRUNCATE checkpoints an erasure asks for before it gives up (each waits up to the thread's busy timeout). */
const ERASURE_TRUNCATE_ATTEMPTS = 3;

/**
 * Opens the file (creating it and its folder when absent) under its writer lock, with the
 * store's settings and schema. A failure says the path and the cause (see openFailure).
 */
function openDatabase(path: string): { db: Database.Database; releaseWriterLock?: () => void } {
  let releaseWriterLock: (() => void) | undefined;
  let db: Database.Database | undefined;
  try {
    if (path !== ':memory:') {
      mkdirSync(dirname(path), { recursive: true });
      releaseWriterLock = holdWriterLock(path);
    }
    db = new Database(path);
    configure(db);
    applyMigrations(db);
    return { db, releaseWriterLock };
  } catch (err) {
    if (db?.open) db.close();
    releaseWriterLock?.();
    throw err instanceof WriterLockHeldError ? err : openFailure(path, err);
  }
}

/**
 * WAL with synchronous=NORMAL (see SqliteStore). secure_delete: a deleted row's bytes are
 * overwritten with zeros in its page, and freed pages are zeroed, so that an erased user's data
 * is not left in the file's free space (it costs the writes of the freed pages).
 */
function configure(db: Database.Database): void {
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('secure_delete = ON');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  db.pragma(`cache_size = -${PAGE_CACHE_KIB}`);
}

function applyMigrations(db: Database.Database): void {
  db.exec(
    'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)',
  );
  const applied = new Set(
    (db.prepare('SELECT version FROM schema_migrations').all() as { version: number }[]).map((r) => r.version),
  );
  for (const m of SQLITE_MIGRATIONS) {
    if (applied.has(m.version)) continue;
    db.transaction(() => {
      db.exec(m.sql);
      m.up?.(db);
      db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(
        m.version,
        m.name,
        Date.now(),
      );
    })();
  }
}

/** Reports a fault of the store (and its end) where the operator sees it. */
function warn(message: string): void {
  process.emitWarning(message, 'NextbestStoreWarning');
}

/**
 * The embedded default store: one SQLite file through better-sqlite3, in WAL mode with
 * synchronous=NORMAL (a committed transaction survives a process crash; only an OS crash or power
 * loss can drop the last ones). One process owns the file; a worker thread checkpoints the WAL
 * (see WalCheckpointer). Statements are synchronous, so each method's work is atomic with respect
 * to other requests of the same process.
 *
 * Every write goes through `write`: it is refused with a StorageFault while the file is gone or
 * unwritable, and a failure for want of space or of a working disk becomes one (see
 * StorageWatch). Reads keep working from the file the process has open.
 */
export class SqliteStore implements Store {
  readonly db: Database.Database;
  /** One process has the file (see writer-lock.ts): it is the learner. */
  readonly learner: LearnerRole = {
    acquire: async () => true,
    confirm: async () => true,
    release: async () => undefined,
  };
  private readonly users = new KeyedMutex();
  private readonly pendingUnits: {
    unit: (tally: Tally) => void;
    resolve: () => void;
    reject: (err: unknown) => void;
  }[] = [];
  private flushScheduled = false;
  private readonly s: ReturnType<SqliteStore['prepare']>;
  private readonly checkpointer?: WalCheckpointer;
  private readonly labels: SqliteLabels;
  private readonly log: SqliteDecisionLog;
  private readonly proofs: SqliteSendProofs;
  private readonly aggregates: SqliteReportAggregates;
  private readonly releaseWriterLock?: () => void;
  private readonly watch: StorageWatch;

  /**
   * `path` is a file path or `:memory:`. A file has one writer process: opening one that another
   * process has open throws (see writer-lock.ts). Any other failure to open throws
   * `cannot open the database <path>: <cause>`.
   */
  constructor(private readonly path: string) {
    ({ db: this.db, releaseWriterLock: this.releaseWriterLock } = openDatabase(path));
    this.watch = new StorageWatch(this.db, path === ':memory:' ? undefined : path, warn);
    this.s = this.prepare();
    this.labels = new SqliteLabels(this.db);
    this.aggregates = new SqliteReportAggregates(this.db, this.labels);
    this.log = new SqliteDecisionLog(this.db, this.labels, this.aggregates);
    this.proofs = new SqliteSendProofs(this.db);
    if (path !== ':memory:') {
      this.db.pragma(`wal_autocheckpoint = ${WRITER_CHECKPOINT_PAGES}`);
      this.checkpointer = new WalCheckpointer(path, CHECKPOINT_INTERVAL_MS, (message) =>
        warn(`${path}: the WAL checkpoint failed: ${message}`),
      );
    }
  }

  /**
   * Runs a write: refused while the file is gone or not writable, checked again after the commit
   * (before its caller hears of it), and a failure for want of space or of a working disk thrown
   * as a StorageFault.
   */
  private write<T>(fn: () => T): T {
    this.watch.beforeWrite();
    let result: T;
    try {
      result = fn();
    } catch (err) {
      throw this.watch.failedWrite(err);
    }
    this.watch.afterWrite();
    return result;
  }

  /** Runs `fn` (which may write a new label), throwing a failure for want of space or of a working disk as a StorageFault. */
  private faultsOf<T>(fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      throw this.watch.failedWrite(err);
    }
  }

  async health(): ReturnType<StorageHealth['health']> {
    return this.watch.health();
  }

  /** Resolves after the checkpointer thread next copies committed pages into the file (never for `:memory:`). */
  checkpointed(): Promise<void> {
    return this.checkpointer ? this.checkpointer.nextCopy() : new Promise(() => undefined);
  }

  /** The SQL of every prepared statement, by name: the query-plan test checks each one's plan. */
  statementSql(): Record<string, string> {
    return Object.fromEntries(
      [
        ...Object.entries(this.s),
        ...Object.entries(this.log.s),
        ...Object.entries(this.proofs.s),
        ...Object.entries(this.aggregates.s),
      ].map(([name, statement]) => [name, statement.source]),
    );
  }

  private prepare() {
    const db = this.db;
    return {
      getWorkspace: db.prepare('SELECT id, secret, created_at FROM workspaces WHERE id = ?'),
      insertWorkspace: db.prepare('INSERT OR IGNORE INTO workspaces (id, secret, created_at) VALUES (?, ?, ?)'),
      insertKey: db.prepare(
        'INSERT INTO api_keys (key_hash, workspace, scope, label, created_at) VALUES (?, ?, ?, ?, ?)',
      ),
      findKey: db.prepare('SELECT key_hash, workspace, scope, label, created_at FROM api_keys WHERE key_hash = ?'),
      countKeys: db.prepare('SELECT count(*) AS n FROM api_keys WHERE workspace = ?'),
      latestConfig: db.prepare(
        'SELECT * FROM agent_configs WHERE workspace = ? AND agent_id = ? ORDER BY version DESC LIMIT 1',
      ),
      configVersion: db.prepare('SELECT * FROM agent_configs WHERE workspace = ? AND agent_id = ? AND version = ?'),
      insertConfig: db.prepare(
        'INSERT INTO agent_configs (workspace, agent_id, version, config, created_at, actor) VALUES (?, ?, ?, ?, ?, ?)',
      ),
      listConfigs: db.prepare(
        'SELECT c.* FROM agent_configs c JOIN (SELECT agent_id, max(version) AS v FROM agent_configs WHERE workspace = ? GROUP BY agent_id) m ON c.agent_id = m.agent_id AND c.version = m.v WHERE c.workspace = ? ORDER BY c.agent_id',
      ),
      insertAudit: db.prepare(
        'INSERT INTO audit_log (workspace, at, actor, action, target, detail) VALUES (?, ?, ?, ?, ?, ?)',
      ),
      audit: db.prepare('SELECT * FROM audit_log WHERE workspace = ? ORDER BY id DESC LIMIT ?'),
      insertEvent: db.prepare(
        'INSERT OR IGNORE INTO events (workspace, message_id, user_key, type, event, timestamp, received_at, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      ),
      countEvents: db.prepare('SELECT count(*) AS n FROM events WHERE workspace = ?'),
      nextSeq: db.prepare(
        'SELECT coalesce(max(seq), 0) + 1 AS seq FROM model_snapshots WHERE workspace = ? AND agent_id = ?',
      ),
      insertSnapshot: db.prepare(
        'INSERT INTO model_snapshots (workspace, agent_id, seq, agent_version, state, created_at) VALUES (?, ?, ?, ?, ?, ?)',
      ),
      pruneSnapshots: db.prepare('DELETE FROM model_snapshots WHERE workspace = ? AND agent_id = ? AND seq <= ?'),
      latestSnapshot: db.prepare(
        'SELECT * FROM model_snapshots WHERE workspace = ? AND agent_id = ? ORDER BY seq DESC LIMIT 1',
      ),
      latestSnapshotSeq: db
        .prepare('SELECT max(seq) FROM model_snapshots WHERE workspace = ? AND agent_id = ?')
        .pluck(),
      eraseEvents: db.prepare('DELETE FROM events WHERE workspace = ? AND user_key = ?'),
      oldestEvents: db.prepare('SELECT rowid, received_at FROM events ORDER BY rowid LIMIT ?'),
      pruneEvent: db.prepare('DELETE FROM events WHERE rowid = ?'),
      erasePayloads: db.prepare(
        'DELETE FROM delivery_payloads WHERE id IN (SELECT payload_id FROM deliveries WHERE workspace = ? AND user_key = ?)',
      ),
      eraseDeliveries: db.prepare('DELETE FROM deliveries WHERE workspace = ? AND user_key = ?'),
      insertRun: db.prepare(
        'INSERT INTO runs (run_id, workspace, agent_id, status, audience, checkpoint, summary, created_at, updated_at) VALUES (@runId, @workspace, @agentId, @status, @audience, @checkpoint, @summary, @createdAt, @updatedAt)',
      ),
      getRun: db.prepare('SELECT * FROM runs WHERE workspace = ? AND run_id = ?'),
      listRuns: db.prepare('SELECT * FROM runs WHERE workspace = ? ORDER BY created_at DESC, rowid DESC LIMIT ?'),
      updateRun: db.prepare(
        'UPDATE runs SET status = coalesce(@status, status), checkpoint = coalesce(@checkpoint, checkpoint), summary = coalesce(@summary, summary), updated_at = @now WHERE workspace = @workspace AND run_id = @runId',
      ),
      insertPayload: db.prepare('INSERT INTO delivery_payloads (payload) VALUES (?)'),
      deletePayload: db.prepare('DELETE FROM delivery_payloads WHERE id = ?'),
      insertDelivery: db.prepare(
        'INSERT OR IGNORE INTO deliveries (workspace, decision_id, sink, run_id, user_key, payload_id, status, attempts, error, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      ),
      deliveriesOf: db.prepare(
        `SELECT d.rowid AS seq, d.*, p.payload FROM deliveries d LEFT JOIN delivery_payloads p ON p.id = d.payload_id
         WHERE d.workspace = ? AND d.run_id = ? AND d.sink = ? AND d.status IN (SELECT value FROM json_each(?)) AND d.rowid >= ? ORDER BY d.rowid LIMIT ?`,
      ),
      setInFlight: db.prepare(
        'INSERT INTO delivery_in_flight (workspace, run_id, sink, from_seq, to_seq, updated_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (workspace, run_id, sink) DO UPDATE SET from_seq = excluded.from_seq, to_seq = excluded.to_seq, updated_at = excluded.updated_at',
      ),
      clearInFlight: db.prepare('DELETE FROM delivery_in_flight WHERE workspace = ? AND run_id = ? AND sink = ?'),
      getInFlight: db.prepare(
        'SELECT from_seq, to_seq FROM delivery_in_flight WHERE workspace = ? AND run_id = ? AND sink = ?',
      ),
      setDeliveries: db.prepare(
        'UPDATE deliveries SET status = @status, error = @error, attempts = attempts + @attempt, updated_at = @now WHERE workspace = @workspace AND sink = @sink AND decision_id IN (SELECT value FROM json_each(@ids))',
      ),
      deliveryCounts: db.prepare(
        'SELECT sink, status, error, count(*) AS n FROM deliveries WHERE workspace = ? AND run_id = ? GROUP BY sink, status, error ORDER BY sink, status, error',
      ),
      recordAudience: db.prepare(
        `INSERT INTO audience_members (workspace, audience, user_key, user_id, member, at)
         VALUES (@workspace, @audience, @userKey, @userId, @member, @at)
         ON CONFLICT (workspace, audience, user_key) DO UPDATE
         SET user_id = excluded.user_id, member = excluded.member, at = excluded.at WHERE excluded.at >= audience_members.at`,
      ),
      audienceMembership: db.prepare(
        'SELECT member, at FROM audience_members WHERE workspace = ? AND audience = ? AND user_key = ?',
      ),
      audienceMembers: db.prepare(
        `SELECT rowid AS position, user_id FROM audience_members
         WHERE workspace = ? AND audience = ? AND member = 1 AND rowid > ? ORDER BY rowid LIMIT ?`,
      ),
      eraseAudiences: db.prepare('DELETE FROM audience_members WHERE workspace = ? AND user_key = ?'),
      lastDelivered: db.prepare(
        `SELECT d.rowid AS seq, d.*, p.payload FROM deliveries d LEFT JOIN delivery_payloads p ON p.id = d.payload_id
         WHERE d.workspace = ? AND d.sink = ? AND d.user_key = ? AND d.status = 'delivered' ORDER BY d.rowid DESC LIMIT 1`,
      ),
    };
  }

  async migrate(): Promise<void> {
    this.write(() => applyMigrations(this.db));
  }

  async close(): Promise<void> {
    this.watch.stop();
    await this.checkpointer?.close();
    if (this.db.open) this.db.close();
    this.releaseWriterLock?.();
  }

  async ensureWorkspace(id: string, secret: string, now: number): Promise<WorkspaceRow> {
    this.write(() => this.s.insertWorkspace.run(id, secret, now));
    return (await this.getWorkspace(id))!;
  }

  async getWorkspace(id: string): Promise<WorkspaceRow | undefined> {
    const r = this.s.getWorkspace.get(id) as Row | undefined;
    return r && { id: r.id as string, secret: r.secret as string, createdAt: r.created_at as number };
  }

  async addApiKey(key: ApiKeyRow): Promise<void> {
    this.write(() => this.s.insertKey.run(key.keyHash, key.workspace, key.scope, key.label, key.createdAt));
  }

  async findApiKey(keyHash: string): Promise<ApiKeyRow | undefined> {
    const r = this.s.findKey.get(keyHash) as Row | undefined;
    return r && apiKeyFrom(r);
  }

  async countApiKeys(workspace: string): Promise<number> {
    return (this.s.countKeys.get(workspace) as { n: number }).n;
  }

  async putAgentConfig(
    workspace: string,
    agentId: string,
    config: unknown,
    actor: string,
    now: number,
  ): Promise<{ row: AgentConfigRow; changed: boolean }> {
    const text = JSON.stringify(config);
    return this.write(() => this.putAgentConfigSync(workspace, agentId, text, actor, now));
  }

  private putAgentConfigSync(
    workspace: string,
    agentId: string,
    text: string,
    actor: string,
    now: number,
  ): { row: AgentConfigRow; changed: boolean } {
    return this.db.transaction(() => {
      const latest = this.s.latestConfig.get(workspace, agentId) as Row | undefined;
      if (latest && latest.config === text) return { row: configFrom(latest), changed: false };
      const version = latest ? (latest.version as number) + 1 : 1;
      this.s.insertConfig.run(workspace, agentId, version, text, now, actor);
      this.s.insertAudit.run(
        workspace,
        now,
        actor,
        latest ? 'agent.update' : 'agent.create',
        agentId,
        JSON.stringify({ version }),
      );
      return { row: { workspace, agentId, version, config: JSON.parse(text), createdAt: now, actor }, changed: true };
    })();
  }

  async getAgentConfig(workspace: string, agentId: string, version?: number): Promise<AgentConfigRow | undefined> {
    const r = (
      version === undefined
        ? this.s.latestConfig.get(workspace, agentId)
        : this.s.configVersion.get(workspace, agentId, version)
    ) as Row | undefined;
    return r && configFrom(r);
  }

  async listAgentConfigs(workspace: string): Promise<AgentConfigRow[]> {
    return (this.s.listConfigs.all(workspace, workspace) as Row[]).map(configFrom);
  }

  async auditLog(workspace: string, limit: number): Promise<AuditRow[]> {
    return (this.s.audit.all(workspace, limit) as Row[]).map((r) => ({
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
    return this.users.run(`${workspace}\u0000${userKey}`, async () => {
      // Reads see committed rows; writes are buffered and committed together at the end. The
      // keyed mutex guarantees no other unit of work for this user runs in between.
      const writes: PreparedDecision[] = [];
      const tx: UserTransaction = {
        sendsSince: async (since) => this.log.sendsSince(workspace, userKey, since),
        insertDecision: async (d, send) => {
          writes.push(this.faultsOf(() => this.log.prepare(d, send)));
        },
      };
      const result = await fn(tx);
      if (writes.length > 0) await this.groupCommit((tally) => writes.forEach((w) => this.log.insert(w, tally)));
      return result;
    });
  }

  /**
   * Group commit: units of work that finish in the same tick are
   * written in one transaction; when one of them fails, they are written again each inside its own
   * savepoint, so that the failing unit rolls back alone and only its caller sees the error. Every
   * caller resumes only after the transaction has committed.
   */
  private groupCommit(unit: (tally: Tally) => void): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pendingUnits.push({ unit, resolve, reject });
      this.scheduleFlush();
    });
  }

  private scheduleFlush(): void {
    if (this.flushScheduled || this.pendingUnits.length === 0) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      this.flushUnits();
    });
  }

  private flushUnits(): void {
    const batch = this.pendingUnits.splice(0);
    // Optimistic: the whole batch in one transaction. Only if a unit fails is the batch written
    // again with a savepoint per unit, so that the failing unit rolls back alone (units are plain
    // writes, safe to run again after the rollback). A storage fault fails every unit alike.
    try {
      this.write(() =>
        this.db.transaction(() => {
          const tally = new Tally();
          for (const p of batch) p.unit(tally);
          this.log.applyTally(tally);
        })(),
      );
      for (const p of batch) p.resolve();
      return;
    } catch (err) {
      if (err instanceof StorageFault) {
        for (const p of batch) p.reject(err);
        return;
      }
    }
    this.flushUnitByUnit(batch);
  }

  private flushUnitByUnit(batch: SqliteStore['pendingUnits']): void {
    const outcomes: (unknown | undefined)[] = [];
    const savepoint = this.db.transaction((u: (tally: Tally) => void) => {
      const tally = new Tally();
      u(tally);
      this.log.applyTally(tally);
    });
    try {
      this.write(() =>
        this.db.transaction(() => {
          for (const p of batch) {
            try {
              savepoint(p.unit);
              outcomes.push(undefined);
            } catch (err) {
              outcomes.push(this.watch.failedWrite(err ?? new Error('write failed')));
            }
          }
        })(),
      );
    } catch (err) {
      for (const p of batch) p.reject(err);
      return;
    }
    batch.forEach((p, i) => (outcomes[i] === undefined ? p.resolve() : p.reject(outcomes[i])));
  }

  async insertDecisions(rows: { decision: DecisionRow; send?: SendRow }[]): Promise<void> {
    const prepared = this.faultsOf(() => rows.map((r) => this.log.prepare(r.decision, r.send)));
    this.write(() =>
      this.db.transaction(() => {
        const tally = new Tally();
        for (const p of prepared) this.log.insert(p, tally);
        this.log.applyTally(tally);
      })(),
    );
  }

  async getDecision(workspace: string, decisionId: string): Promise<DecisionRow | undefined> {
    return this.log.get(workspace, decisionId);
  }

  async findDecisionByRequest(workspace: string, agentId: string, requestId: string): Promise<DecisionRow | undefined> {
    return this.log.byRequest(workspace, agentId, requestId);
  }

  async latestDecisions(
    workspace: string,
    userKey: string,
    agentIds: readonly string[],
    at: number,
  ): Promise<DecisionHead[]> {
    return this.log.latest(workspace, userKey, agentIds, at);
  }

  async listDecisions(workspace: string, agentId: string, limit: number): Promise<DecisionRow[]> {
    return this.log.list(workspace, agentId, limit);
  }

  async reportCells(workspace: string, agentId: string): Promise<ReportCell[]> {
    return this.log.reportCells(workspace, agentId);
  }

  async reportGroups(workspace: string, agentId: string, fromDay: number, toDay: number): Promise<ReportGroupDay[]> {
    return this.aggregates.groups(workspace, agentId, fromDay, toDay);
  }

  async reportExploration(
    workspace: string,
    agentId: string,
    fromDay: number,
    toDay: number,
  ): Promise<ReportExplorationDay[]> {
    return this.aggregates.exploration(workspace, agentId, fromDay, toDay);
  }

  async recordEvents(
    events: EventRow[],
    outcomes: OutcomeRow[],
  ): Promise<{ inserted: string[]; duplicates: string[] }> {
    const eventLabels = this.faultsOf(() => this.log.prepareOutcomes(outcomes));
    return this.write(() => this.recordEventsSync(events, outcomes, eventLabels));
  }

  private recordEventsSync(
    events: EventRow[],
    outcomes: OutcomeRow[],
    eventLabels: ReturnType<SqliteDecisionLog['prepareOutcomes']>,
  ): { inserted: string[]; duplicates: string[] } {
    return this.db.transaction(() => {
      const inserted: string[] = [];
      const duplicates: string[] = [];
      const fresh = new Set<string>();
      for (const e of events) {
        const info = this.s.insertEvent.run(
          e.workspace,
          e.messageId,
          e.userKey,
          e.type,
          e.event,
          e.timestamp,
          e.receivedAt,
          JSON.stringify(e.body),
        );
        if (info.changes === 1) {
          inserted.push(e.messageId);
          fresh.add(`${e.workspace}\u0000${e.messageId}`);
        } else duplicates.push(e.messageId);
      }
      outcomes.forEach((o, i) => {
        if (fresh.has(`${o.workspace}\u0000${o.messageId}`)) this.log.insertOutcome(o, eventLabels[i]!);
      });
      return { inserted, duplicates };
    })();
  }

  async countEvents(workspace: string): Promise<number> {
    return (this.s.countEvents.get(workspace) as { n: number }).n;
  }

  async outcomesOf(workspace: string, decisionId: string): Promise<OutcomeRow[]> {
    return this.log.outcomesOf(workspace, decisionId);
  }

  async closedUnlearned(
    workspace: string,
    agentId: string,
    now: number,
    limit: number,
    after?: LearningCursor,
  ): Promise<(DecisionRow & { outcomes: OutcomeRow[] })[]> {
    return this.log.closedUnlearned(workspace, agentId, now, limit, after);
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
    return this.write(() =>
      this.db.transaction(() => {
        const tally = new Tally();
        this.log.markLearned(workspace, rewards, tally);
        for (const left of this.log.markLeftOut(workspace, [...reasons.keys()], tally))
          this.proofs.leaveOut(
            workspace,
            agentId,
            left.decisionId,
            left.holdout,
            reasons.get(left.decisionId)!,
            snapshot.createdAt,
          );
        this.log.applyTally(tally);
        const seq = (this.s.nextSeq.get(workspace, agentId) as { seq: number }).seq;
        this.s.insertSnapshot.run(workspace, agentId, seq, snapshot.agentVersion, state, snapshot.createdAt);
        this.s.pruneSnapshots.run(workspace, agentId, seq - SNAPSHOTS_KEPT);
        return seq;
      })(),
    );
  }

  async leftOutCounts(workspace: string, agentId: string): Promise<LeftOutCount[]> {
    return this.proofs.leftOutCounts(workspace, agentId);
  }

  async settleSendProofs(
    workspace: string,
    evidence: SendEvidence[],
    now: number,
  ): Promise<{ settled: number; unmatched: number }> {
    return this.write(() =>
      this.db.transaction(() => {
        let [settled, unmatched] = [0, 0];
        for (const e of evidence) {
          const changed = this.proofs.settle(workspace, e, now);
          if (changed) settled += 1;
          else if (changed === false) unmatched += 1;
        }
        return { settled, unmatched };
      })(),
    );
  }

  async expireSendProofs(workspace: string, now: number, limit: number): Promise<number> {
    return this.write(() => this.proofs.expire(workspace, now, limit));
  }

  async sendProofsOf(workspace: string, decisionIds: readonly string[]): Promise<SendProofRow[]> {
    return this.proofs.of(workspace, decisionIds);
  }

  async sendProofCounts(
    workspace: string,
    runId: string,
  ): Promise<{ target: string; state: SendProofState; reason: string | null; count: number }[]> {
    return this.proofs.counts(workspace, runId);
  }

  async latestSnapshot(workspace: string, agentId: string): Promise<SnapshotRow | undefined> {
    const r = this.s.latestSnapshot.get(workspace, agentId) as Row | undefined;
    return r && snapshotFrom(r);
  }

  async latestSnapshotSeq(workspace: string, agentId: string): Promise<number | undefined> {
    return (this.s.latestSnapshotSeq.get(workspace, agentId) as number | undefined) ?? undefined;
  }

  async oldestUnlearnedWindowEnd(workspace: string, agentId: string): Promise<number | undefined> {
    return this.log.oldestUnlearnedWindowEnd(workspace, agentId);
  }

  async prune(before: number, limit: number): Promise<{ decisions: number; events: number }> {
    return this.write(() =>
      this.db.transaction(() => {
        // send proofs of that age are settled and learned from long since: they go too, uncounted
        this.proofs.prune(before, limit);
        return { decisions: this.log.prune(before, limit), events: this.pruneEventsSync(before, limit) };
      })(),
    );
  }

  private pruneEventsSync(before: number, limit: number): number {
    let deleted = 0;
    for (const r of this.s.oldestEvents.all(limit) as Row[]) {
      if ((r.received_at as number) >= before) break;
      deleted += this.s.pruneEvent.run(r.rowid).changes;
    }
    return deleted;
  }

  /**
   * Deletes the user's rows (secure_delete zeroes their bytes in the pages), then has the WAL
   * checkpointed and truncated, so that no older copy of those pages stays in it: the erasure is
   * answered once it has reached the database file.
   */
  async eraseUser(workspace: string, userKey: string): Promise<EraseReport> {
    const report = await this.users.run(`${workspace}\u0000${userKey}`, async () =>
      this.write(() =>
        this.db.transaction(() => ({
          ...this.log.erase(workspace, userKey),
          events: this.s.eraseEvents.run(workspace, userKey).changes,
          deliveries: this.eraseDeliveriesSync(workspace, userKey) + this.proofs.erase(workspace, userKey),
          audienceMemberships: this.s.eraseAudiences.run(workspace, userKey).changes,
        }))(),
      ),
    );
    await this.truncateWal();
    return report;
  }

  async recordAudienceMembership(rows: readonly AudienceMemberRow[]): Promise<void> {
    if (rows.length === 0) return;
    this.write(() =>
      this.db.transaction(() => {
        for (const r of rows) this.s.recordAudience.run({ ...r, member: r.member ? 1 : 0 });
      })(),
    );
  }

  async audienceMembership(
    workspace: string,
    audience: string,
    userKey: string,
  ): Promise<{ member: boolean; at: number } | undefined> {
    const r = this.s.audienceMembership.get(workspace, audience, userKey) as Row | undefined;
    return r && { member: r.member === 1, at: r.at as number };
  }

  async audienceMembers(
    workspace: string,
    audience: string,
    after: number,
    limit: number,
  ): Promise<{ userId: string; position: number }[]> {
    return (this.s.audienceMembers.all(workspace, audience, after, limit) as Row[]).map((r) => ({
      userId: r.user_id as string,
      position: r.position as number,
    }));
  }

  /** A TRUNCATE checkpoint (see WalCheckpointer.truncate), tried a few times; a StorageFault when it never succeeds. */
  private async truncateWal(): Promise<void> {
    if (!this.checkpointer) return;
    let outcome = '';
    for (let attempt = 0; attempt < ERASURE_TRUNCATE_ATTEMPTS; attempt++) {
      outcome = await this.checkpointer.truncate();
      if (outcome === 'done') return;
    }
    throw new StorageFault(
      'storage_unavailable',
      `the erasure is committed, but the WAL of ${this.path} could not be checkpointed and truncated (${outcome}): older copies of the erased rows may remain in it; erase again`,
    );
  }

  /** The user's outbox rows and their payloads (which hold the raw user id). */
  private eraseDeliveriesSync(workspace: string, userKey: string): number {
    this.s.erasePayloads.run(workspace, userKey);
    return this.s.eraseDeliveries.run(workspace, userKey).changes;
  }

  async createRun(run: RunRow): Promise<void> {
    const row = {
      ...run,
      checkpoint: run.checkpoint === null ? null : JSON.stringify(run.checkpoint),
      summary: run.summary === null ? null : JSON.stringify(run.summary),
    };
    this.write(() => this.s.insertRun.run(row));
  }

  async getRun(workspace: string, runId: string): Promise<RunRow | undefined> {
    const r = this.s.getRun.get(workspace, runId) as Row | undefined;
    return r && runFrom(r);
  }

  async listRuns(workspace: string, limit: number): Promise<RunRow[]> {
    return (this.s.listRuns.all(workspace, limit) as Row[]).map(runFrom);
  }

  async updateRun(
    workspace: string,
    runId: string,
    patch: Partial<Pick<RunRow, 'status' | 'checkpoint' | 'summary'>>,
    now: number,
  ): Promise<void> {
    const change = {
      workspace,
      runId,
      now,
      status: patch.status ?? null,
      checkpoint: patch.checkpoint === undefined ? null : JSON.stringify(patch.checkpoint),
      summary: patch.summary === undefined ? null : JSON.stringify(patch.summary),
    };
    this.write(() => this.s.updateRun.run(change));
  }

  async advanceRun(
    workspace: string,
    runId: string,
    deliveries: DeliveryRow[],
    checkpoint: unknown,
    now: number,
  ): Promise<number> {
    return this.write(() => this.advanceRunSync(workspace, runId, deliveries, checkpoint, now));
  }

  private advanceRunSync(
    workspace: string,
    runId: string,
    deliveries: DeliveryRow[],
    checkpoint: unknown,
    now: number,
  ): number {
    return this.db.transaction(() => {
      let queued = 0;
      // The rows of one decision carrying the same payload (one row per sink) share one stored
      // copy; a copy no row took (all already queued) is removed again.
      const stored = new Map<string, { payload: unknown; id: number; taken: boolean }>();
      const copies: { id: number; taken: boolean }[] = [];
      for (const d of deliveries) {
        let copy = stored.get(d.decisionId);
        if (!copy || copy.payload !== d.payload) {
          copy = {
            payload: d.payload,
            id: Number(this.s.insertPayload.run(JSON.stringify(d.payload)).lastInsertRowid),
            taken: false,
          };
          stored.set(d.decisionId, copy);
          copies.push(copy);
        }
        const changes = this.s.insertDelivery.run(
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
        ).changes;
        if (changes > 0) copy.taken = true;
        queued += changes;
      }
      for (const copy of copies) if (!copy.taken) this.s.deletePayload.run(copy.id);
      this.s.updateRun.run({
        workspace,
        runId,
        now,
        status: null,
        checkpoint: JSON.stringify(checkpoint),
        summary: null,
      });
      return queued;
    })();
  }

  async deliveriesOf(
    workspace: string,
    runId: string,
    sink: string,
    statuses: DeliveryStatus[],
    limit: number,
    fromSeq = 0,
  ): Promise<DeliveryRow[]> {
    return (this.s.deliveriesOf.all(workspace, runId, sink, JSON.stringify(statuses), fromSeq, limit) as Row[]).map(
      deliveryFrom,
    );
  }

  async setInFlight(
    workspace: string,
    runId: string,
    sink: string,
    range: { from: number; to: number } | null,
    now: number,
  ): Promise<void> {
    this.write(() =>
      range
        ? this.s.setInFlight.run(workspace, runId, sink, range.from, range.to, now)
        : this.s.clearInFlight.run(workspace, runId, sink),
    );
  }

  async getInFlight(workspace: string, runId: string, sink: string): Promise<{ from: number; to: number } | undefined> {
    const r = this.s.getInFlight.get(workspace, runId, sink) as Row | undefined;
    return r && { from: r.from_seq as number, to: r.to_seq as number };
  }

  async setDeliveryStatus(workspace: string, sink: string, updates: DeliveryUpdate[], now: number): Promise<void> {
    const groups = deliveryChanges(updates);
    this.write(() =>
      this.db.transaction(() => {
        for (const u of updates)
          if (u.awaitSend && u.status === 'delivered') this.proofs.await(workspace, u.decisionId, u.awaitSend, now);
        for (const g of groups)
          this.s.setDeliveries.run({
            workspace,
            sink,
            now,
            status: g.status,
            error: g.error,
            attempt: g.attempt,
            ids: JSON.stringify(g.ids),
          });
      })(),
    );
  }

  async deliveryCounts(
    workspace: string,
    runId: string,
  ): Promise<{ sink: string; status: DeliveryStatus; error: string | null; count: number }[]> {
    return (this.s.deliveryCounts.all(workspace, runId) as Row[]).map((r) => ({
      sink: r.sink as string,
      status: r.status as DeliveryStatus,
      error: (r.error as string | null) ?? null,
      count: r.n as number,
    }));
  }

  async lastDelivered(workspace: string, sink: string, userKeys: string[]): Promise<Map<string, DeliveryRow>> {
    const out = new Map<string, DeliveryRow>();
    for (const userKey of new Set(userKeys)) {
      const r = this.s.lastDelivered.get(workspace, sink, userKey) as Row | undefined;
      if (r) out.set(userKey, deliveryFrom(r));
    }
    return out;
  }
}
