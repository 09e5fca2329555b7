/**
 * The storage port. Everything nextbest must not lose lives behind this interface: workspaces
 * and keys, versioned agent configs with their audit log, the decision log, outcome events,
 * rewards, model snapshots, send counters and batch runs.
 *
 * Users are keyed by `userKey`, a keyed hash (HMAC-SHA256 with the workspace secret) of the user
 * id; the raw id is never stored here. Times are epoch milliseconds. Every method is async so
 * that a networked store (PostgreSQL) implements the same contract; the conformance suite in
 * test/store/ runs against every implementation.
 */

/**
 * Thrown by an insert whose decision id or request id is already stored, so that a caller can
 * answer with the stored row (a replay) without knowing the database's error codes.
 */
export class AlreadyStoredError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AlreadyStoredError';
  }
}

/** Model snapshots every store keeps per agent; older ones are pruned when a new one is written. */
export const SNAPSHOTS_KEPT = 3;

/**
 * `admin`: every route. `decide`: decisions, connected content and events (a server-side
 * integration such as Braze Connected Content). `public`: only `decide`, without traits, consent
 * or explanations, safe to embed in a web page (see adapters/braze/web).
 */
export type KeyScope = 'admin' | 'decide' | 'public';

export interface WorkspaceRow {
  id: string;
  /** Secret for the keyed user hash; generated at creation, never returned by the API. */
  secret: string;
  createdAt: number;
}

export interface ApiKeyRow {
  keyHash: string;
  workspace: string;
  scope: KeyScope;
  label: string;
  createdAt: number;
}

export interface AgentConfigRow {
  workspace: string;
  agentId: string;
  version: number;
  /** The config as written (input form), JSON. */
  config: unknown;
  createdAt: number;
  actor: string;
}

export interface AuditRow {
  id: number;
  workspace: string;
  at: number;
  actor: string;
  action: string;
  target: string;
  detail: unknown;
}

export interface DecisionRow {
  workspace: string;
  decisionId: string;
  agentId: string;
  agentVersion: number;
  userKey: string;
  requestId: string | null;
  at: number;
  /** End of the goal's attribution window: `at + window`. */
  windowEnd: number;
  holdout: boolean;
  deliver: boolean;
  reason: string;
  probability: number;
  /** The rest of the decision (choices, features, sendAt, suppressed, explanation), JSON. */
  body: unknown;
  /** Final reward, set when the window closes. */
  reward: number | null;
  /** True once the learner has taken this decision into account (applied, or skipped for holdout). */
  learned: boolean;
}

/** What attribution reads of a decision: which one, whose, and its window (no body to decode). */
export type DecisionHead = Pick<DecisionRow, 'decisionId' | 'agentId' | 'userKey' | 'at' | 'windowEnd'>;

export interface EventRow {
  workspace: string;
  messageId: string;
  userKey: string | null;
  type: string;
  event: string | null;
  timestamp: number;
  receivedAt: number;
  /** The event as received, minus raw user identifiers. */
  body: unknown;
}

export interface OutcomeRow {
  workspace: string;
  decisionId: string;
  messageId: string;
  event: string;
  value: number;
  at: number;
}

export interface SendRow {
  workspace: string;
  userKey: string;
  channel: string | null;
  at: number;
  decisionId: string;
}

/** A position in the learner's order of closed decisions: (window end, decision id). */
export interface LearningCursor {
  windowEnd: number;
  decisionId: string;
}

/** One cell of an agent's report aggregates (see `Store.reportCells`). */
export interface ReportCell {
  /** UTC day of the decisions, as days since 1970-01-01. */
  day: number;
  holdout: boolean;
  /** null: the cell counts whole decisions. */
  dimension: string | null;
  arm: string | null;
  /** Decisions logged. */
  decided: number;
  /** Of those, decisions whose reward was committed (window closed). */
  closed: number;
  rewardSum: number;
  /** Sum of squared rewards (for the standard deviation). */
  rewardSquares: number;
}

/** One (UTC day, group) of an agent's report aggregates beyond its cells (see `Store.reportGroups`). */
export interface ReportGroupDay {
  day: number;
  holdout: boolean;
  /** Distinct users whose first decision of the agent in this group was on this day. */
  users: number;
  /** Decisions suppressed by guardrails (reason `guardrail`): logged, closed, their reward sum. */
  suppressed: { decided: number; closed: number; rewardSum: number };
  /**
   * The bootstrap-by-user sums of the group's closed rewards (plugin/measure/bootstrap.ts):
   * REPLICATES sums of weight × reward, then REPLICATES sums of weight; null before any closed.
   */
  replicates: Float64Array | null;
}

/** One (UTC day, dimension) of an agent's exploration (see `Store.reportExploration`). */
export interface ReportExplorationDay {
  day: number;
  dimension: string;
  /** Treatment decisions whose arm on this dimension the policy drew (and logged its best arm's probability). */
  decided: number;
  /** Of those, the ones that chose an arm other than the estimated best. */
  explored: number;
  /** Σ (1 − probability of the estimated best arm). */
  offBest: number;
}

/** A send as frequency caps count it. */
export interface RecentSend {
  at: number;
  channel: string | null;
}

export interface SnapshotRow {
  workspace: string;
  agentId: string;
  seq: number;
  agentVersion: number;
  state: unknown;
  createdAt: number;
}

export interface EraseReport {
  decisions: number;
  outcomes: number;
  events: number;
  sends: number;
  /** Outbox rows, and the send proofs awaited for them (see SendProofStore). */
  deliveries: number;
  audienceMemberships: number;
}

/**
 * One observation of a user's membership of an audience (an audience the source cannot list, such
 * as Segment's: membership is learned from identify calls and profile reads). `userId` is kept
 * because a run over the audience needs it; the row is erased with the user.
 */
export interface AudienceMemberRow {
  workspace: string;
  audience: string;
  userKey: string;
  userId: string;
  member: boolean;
  /** Time of the observation (ms). */
  at: number;
}

export type RunStatus = 'running' | 'completed' | 'failed' | 'interrupted';

/** A batch run over an audience (see plugin/run). */
export interface RunRow {
  runId: string;
  workspace: string;
  agentId: string;
  audience: string;
  status: RunStatus;
  /** Where a resumed run starts again, with the counters so far (JSON). */
  checkpoint: unknown;
  /** The final summary (JSON), once the run has ended. */
  summary: unknown;
  createdAt: number;
  updatedAt: number;
}

/**
 * pending: queued, not sent yet (or sent in a batch that was in flight when the process stopped:
 * see `setInFlight`). sending: the sink answered in doubt (the destination may have it; the next
 * attempt first asks). delivered / failed: final.
 */
export type DeliveryStatus = 'pending' | 'sending' | 'delivered' | 'failed';

/**
 * One decision queued for one sink: the transactional outbox that makes delivery exactly once.
 * The payload holds what the sink needs, including the raw user id (delivery needs it); it is
 * erased with the user.
 */
export interface DeliveryRow {
  /** Position in the outbox (assigned by the store when queued; ignored on insert). */
  seq?: number;
  workspace: string;
  decisionId: string;
  /** The sink's key, e.g. `braze:attributes:nb_`. */
  sink: string;
  runId: string | null;
  userKey: string;
  payload: unknown;
  status: DeliveryStatus;
  attempts: number;
  error: string | null;
  updatedAt: number;
}

export interface DeliveryUpdate {
  decisionId: string;
  status: DeliveryStatus;
  error?: string | null;
  /** Count this as an attempt (when moving to sending). */
  attempt?: boolean;
  /**
   * With status `delivered`, for a sink whose destination reports later what it really sent
   * (Braze Currents): the send proof now awaited, recorded in the same transaction.
   */
  awaitSend?: AwaitedSend;
}

/** A delivered decision whose send the destination has yet to confirm (see SendProofStore). */
export interface AwaitedSend {
  /** What the destination names in its reports, e.g. `braze:campaign:<campaign_id>`. */
  target: string;
  runId: string | null;
  agentId: string;
  userKey: string;
  holdout: boolean;
  /** Without proof by then (epoch ms), the decision is counted not sent. */
  dueAt: number;
}

/**
 * awaited: delivered, no word from the destination yet. sent: the destination reported a send
 * (or a later event of the message). not_sent: it reported an abort (`reason` aborted), or
 * reported nothing by the due time (`reason` no_send_event).
 */
export type SendProofState = 'awaited' | 'sent' | 'not_sent';

export interface SendProofRow extends AwaitedSend {
  workspace: string;
  decisionId: string;
  deliveredAt: number;
  state: SendProofState;
  reason: string | null;
  updatedAt: number;
}

/** What the destination reported about one message to one user (a Currents event). */
export interface SendEvidence {
  userKey: string;
  target: string;
  /** When the destination says it happened (epoch ms). */
  at: number;
  /** true: it was sent (send, delivery, open, click, bounce…); false: it was aborted. */
  sent: boolean;
}

/** A decision the learner left out: committed as learned, without reward, out of its arm's report cells. */
export interface LeftOut {
  decisionId: string;
  /** Why, e.g. `aborted` or `no_send_event`. */
  reason: string;
}

/** How many of an agent's decisions were left out of learning and of the report's arms, by arm and reason. */
export interface LeftOutCount {
  holdout: boolean;
  reason: string;
  count: number;
}

/** A unit of work that sees and changes one user's rows atomically (see `Store.withUser`). */
export interface UserTransaction {
  /**
   * This user's sends at or after `since`, across agents, oldest first: when and on which channel
   * (what frequency caps count). Read from the send log alone, without the decisions they came
   * from, so that a heavy user's week of sends costs one range of one index.
   */
  sendsSince(since: number): Promise<RecentSend[]>;
  /** Inserts the decision (and its send, when given: at the decision's send time, or its time when it has none). */
  insertDecision(decision: DecisionRow, send?: SendRow): Promise<void>;
}

/** Workspaces (with the secret of their keyed user hash) and their API keys. */
export interface KeyStore {
  /** Returns the workspace, creating it (with a fresh secret) when absent. */
  ensureWorkspace(id: string, secret: string, now: number): Promise<WorkspaceRow>;
  getWorkspace(id: string): Promise<WorkspaceRow | undefined>;
  addApiKey(key: ApiKeyRow): Promise<void>;
  findApiKey(keyHash: string): Promise<ApiKeyRow | undefined>;
  countApiKeys(workspace: string): Promise<number>;
}

/** Agent configs, versioned, with an audit entry per change. */
export interface ConfigStore {
  /** Stores a new version unless the config equals the latest; returns the row in force. */
  putAgentConfig(
    workspace: string,
    agentId: string,
    config: unknown,
    actor: string,
    now: number,
  ): Promise<{ row: AgentConfigRow; changed: boolean }>;
  getAgentConfig(workspace: string, agentId: string, version?: number): Promise<AgentConfigRow | undefined>;
  listAgentConfigs(workspace: string): Promise<AgentConfigRow[]>;
  auditLog(workspace: string, limit: number): Promise<AuditRow[]>;
}

/** The decision log: decisions with their sends, read by id, request, user and agent, and the report's aggregates. */
export interface DecisionLog {
  /**
   * Runs `fn` with exclusive access to one user's rows: no other `withUser` for the same
   * (workspace, userKey) interleaves, and what `fn` writes commits together. This is what keeps
   * frequency caps exact under concurrent decisions.
   */
  withUser<T>(workspace: string, userKey: string, fn: (tx: UserTransaction) => Promise<T>): Promise<T>;
  getDecision(workspace: string, decisionId: string): Promise<DecisionRow | undefined>;
  findDecisionByRequest(workspace: string, agentId: string, requestId: string): Promise<DecisionRow | undefined>;
  /**
   * Inserts decisions (each with its send, when given) in one transaction, for imports and bulk
   * loads. A decision whose id (or requestId) is already stored fails the whole batch.
   */
  insertDecisions(rows: { decision: DecisionRow; send?: SendRow }[]): Promise<void>;
  /**
   * For each of `agentIds`, the user's latest decision made at or before `at`, when its window is
   * still open at `at`: its head only, what attribution reads. One indexed look-up per agent,
   * whatever the length of the user's history.
   */
  latestDecisions(workspace: string, userKey: string, agentIds: readonly string[], at: number): Promise<DecisionHead[]>;
  /** Decisions of an agent, the last logged first; `limit` caps the scan (tests and exports, never a hot path). */
  listDecisions(workspace: string, agentId: string, limit: number): Promise<DecisionRow[]>;
  /**
   * The agent's report aggregates: one cell per (UTC day of the decision, holdout flag, dimension,
   * arm), kept as decisions are logged and as rewards are committed, so a report never reads the
   * decision log. The cell with `dimension` and `arm` null counts whole decisions.
   */
  reportCells(workspace: string, agentId: string): Promise<ReportCell[]>;
  /**
   * Per (UTC day, holdout flag) from `fromDay` to `toDay` inclusive: the distinct users first seen,
   * the decisions suppressed by guardrails, and the bootstrap-by-user sums of the closed rewards.
   * Kept as decisions are logged and rewards committed; a user counts once per (agent, group),
   * and an erased user's presence is forgotten (the counts stay: they hold no user data).
   */
  reportGroups(workspace: string, agentId: string, fromDay: number, toDay: number): Promise<ReportGroupDay[]>;
  /** Per (UTC day, dimension) from `fromDay` to `toDay` inclusive: how much the policy explored. */
  reportExploration(
    workspace: string,
    agentId: string,
    fromDay: number,
    toDay: number,
  ): Promise<ReportExplorationDay[]>;
}

/** Outcome events, deduplicated by messageId, and the outcomes they earn. */
export interface EventStore {
  /**
   * Stores events and their outcomes in one transaction. Events whose messageId is already
   * stored are ignored, and so are the outcomes derived from them. Returns the messageIds
   * that were new.
   */
  recordEvents(events: EventRow[], outcomes: OutcomeRow[]): Promise<{ inserted: string[]; duplicates: string[] }>;
  countEvents(workspace: string): Promise<number>;
  outcomesOf(workspace: string, decisionId: string): Promise<OutcomeRow[]>;
}

/** What the learner reads and commits: closed decisions, rewards with model snapshots, retention. */
export interface LearningStore {
  /**
   * Decisions whose window ended at or before `now` and that were not learned yet, oldest window
   * first (ties by decision id), each with its outcomes in time order; with `after`, only those
   * that come after that position in this order (a learner folding ahead of its last commit).
   */
  closedUnlearned(
    workspace: string,
    agentId: string,
    now: number,
    limit: number,
    after?: LearningCursor,
  ): Promise<(DecisionRow & { outcomes: OutcomeRow[] })[]>;
  /**
   * Marks decisions learned with their final reward and saves the model snapshot, atomically.
   * Decisions in `leftOut` (sent by no one) are marked learned without a reward: they leave
   * their arm's report cells (no longer counted decided) and are counted in `leftOutCounts`, and
   * their awaited send proofs become not sent with the same reason.
   */
  commitLearning(
    workspace: string,
    agentId: string,
    rewards: { decisionId: string; reward: number }[],
    snapshot: Omit<SnapshotRow, 'seq'>,
    leftOut?: LeftOut[],
  ): Promise<number>;
  /** The agent's decisions left out so far (see commitLearning), by arm and reason. */
  leftOutCounts(workspace: string, agentId: string): Promise<LeftOutCount[]>;
  latestSnapshot(workspace: string, agentId: string): Promise<SnapshotRow | undefined>;
  /** The seq of the agent's latest snapshot, without its state (what instances poll to see a new model). */
  latestSnapshotSeq(workspace: string, agentId: string): Promise<number | undefined>;
  /** Oldest window end among the agent's unlearned decisions (for the learner-lag metric). */
  oldestUnlearnedWindowEnd(workspace: string, agentId: string): Promise<number | undefined>;
  /**
   * Retention: deletes at most `limit` decisions made before `before` that were learned (with
   * their outcomes and sends), and at most `limit` events received before it, oldest first. Call
   * it repeatedly; each call is one short transaction. Report aggregates are kept.
   */
  prune(before: number, limit: number): Promise<{ decisions: number; events: number }>;
}

/** Batch runs and the delivery outbox that makes their deliveries exactly once. */
export interface RunStore {
  createRun(run: RunRow): Promise<void>;
  getRun(workspace: string, runId: string): Promise<RunRow | undefined>;
  /** Runs of the workspace, newest first. */
  listRuns(workspace: string, limit: number): Promise<RunRow[]>;
  updateRun(
    workspace: string,
    runId: string,
    patch: Partial<Pick<RunRow, 'status' | 'checkpoint' | 'summary'>>,
    now: number,
  ): Promise<void>;
  /**
   * Atomically queues deliveries (one already queued for the same decision and sink is left as
   * it is) and saves the run's checkpoint. Returns how many were newly queued.
   */
  advanceRun(
    workspace: string,
    runId: string,
    deliveries: DeliveryRow[],
    checkpoint: unknown,
    now: number,
  ): Promise<number>;
  /** A run's deliveries to one sink in the given states, in the order they were queued (from `fromSeq` on, when given). */
  deliveriesOf(
    workspace: string,
    runId: string,
    sink: string,
    statuses: DeliveryStatus[],
    limit: number,
    fromSeq?: number,
  ): Promise<DeliveryRow[]>;
  /**
   * Records which queued deliveries (a range of `seq`) are being handed to the sink right now, or
   * that none are (null). After a crash, the pending ones in that range are in doubt.
   */
  setInFlight(
    workspace: string,
    runId: string,
    sink: string,
    range: { from: number; to: number } | null,
    now: number,
  ): Promise<void>;
  getInFlight(workspace: string, runId: string, sink: string): Promise<{ from: number; to: number } | undefined>;
  /** Sets the status of deliveries to one sink, atomically. */
  setDeliveryStatus(workspace: string, sink: string, updates: DeliveryUpdate[], now: number): Promise<void>;
  /** A run's deliveries counted by sink, status and error. */
  deliveryCounts(
    workspace: string,
    runId: string,
  ): Promise<{ sink: string; status: DeliveryStatus; error: string | null; count: number }[]>;
  /** For each user, the latest delivery to `sink` that was delivered (what the destination holds now). */
  lastDelivered(workspace: string, sink: string, userKeys: string[]): Promise<Map<string, DeliveryRow>>;
}

/**
 * Proof of send: a sink whose destination may accept a send and then not make it (Braze skips
 * recipients who are not re-eligible or not in the campaign's segment, and says so only in
 * Currents) has each delivered decision await the destination's own report of the send.
 */
export interface SendProofStore {
  /**
   * Applies what the destination reported: each evidence settles the user's latest proof for
   * that target delivered at or before `at` (plus a few minutes for the clocks' difference) that
   * is awaited, or not sent for want of a report (a late report still counts). Returns how many
   * proofs changed and how many evidences matched no proof.
   */
  settleSendProofs(
    workspace: string,
    evidence: SendEvidence[],
    now: number,
  ): Promise<{ settled: number; unmatched: number }>;
  /** Marks at most `limit` awaited proofs due at or before `now` not sent (`no_send_event`); returns how many. */
  expireSendProofs(workspace: string, now: number, limit: number): Promise<number>;
  /** The proofs of these decisions (any number per decision: one per target). */
  sendProofsOf(workspace: string, decisionIds: readonly string[]): Promise<SendProofRow[]>;
  /** A run's proofs counted by target, state and reason. */
  sendProofCounts(
    workspace: string,
    runId: string,
  ): Promise<{ target: string; state: SendProofState; reason: string | null; count: number }[]>;
}

/** Audience membership learned from observations (AudienceMemberRow). */
export interface AudienceStore {
  /**
   * Records observations in one transaction. Each replaces what is kept for its (workspace,
   * audience, userKey) only when its `at` is not older; a non-member is kept as a tombstone, so
   * that an older "member" delivered late cannot add the user back.
   */
  recordAudienceMembership(rows: readonly AudienceMemberRow[]): Promise<void>;
  /** What is kept for one user and audience, or undefined. */
  audienceMembership(
    workspace: string,
    audience: string,
    userKey: string,
  ): Promise<{ member: boolean; at: number } | undefined>;
  /**
   * Current members, in the order first recorded, at most `limit` after position `after` (0 to
   * start); each with its position, the `after` of the next page.
   */
  audienceMembers(
    workspace: string,
    audience: string,
    after: number,
    limit: number,
  ): Promise<{ userId: string; position: number }[]>;
}

/** Erasure of one user. */
export interface Erasure {
  /** Erases every row keyed by this user (audience memberships included). */
  eraseUser(workspace: string, userKey: string): Promise<EraseReport>;
}

/** Whether the store can keep what it acknowledges (what `/healthz` answers). */
export interface StorageHealth {
  /**
   * Undefined while writes are kept. Otherwise why they are not: `storage_unavailable` (the
   * database is gone, unwritable or failing; writes are refused) or `storage_full` (no room; a
   * probe write is tried on each call, and the first write or probe that succeeds ends it).
   */
  health(): Promise<{ code: 'storage_unavailable' | 'storage_full'; message: string } | undefined>;
}

/**
 * The learner's role: of the processes sharing one store, exactly one learns at a time (SQLite:
 * the one process that has the file; PostgreSQL: the holder of an advisory lock on a connection
 * of its own, released by the server when that process dies).
 */
export interface LearnerRole {
  /** Takes the role when it is free; true while this process holds it. Cheap enough to call every second. */
  acquire(): Promise<boolean>;
  /** Whether the role is still held, asked just before a commit: false once it was lost (the connection dropped). */
  confirm(): Promise<boolean>;
  /** Gives the role up (a graceful shutdown), so that another process takes it at its next try. */
  release(): Promise<void>;
}

/**
 * The storage port: every role above, plus the store's lifecycle. The conformance suite
 * (test/store/conformance.ts) is the contract every implementation passes.
 */
export interface Store
  extends
    KeyStore,
    ConfigStore,
    DecisionLog,
    EventStore,
    LearningStore,
    RunStore,
    SendProofStore,
    AudienceStore,
    Erasure,
    StorageHealth {
  /** Applies pending numbered migrations. Idempotent. */
  migrate(): Promise<void>;
  /** This process's claim to the learner's role (one object per store). */
  readonly learner: LearnerRole;
  close(): Promise<void>;
}
