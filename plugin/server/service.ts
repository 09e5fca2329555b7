import { randomUUID } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { Logger } from 'pino';
import {
  agentModelFromJSON,
  attributePrefix,
  attributesOf,
  agentModelToJSON,
  createAgentModel,
  decide,
  defaultDecision,
  changeDetection,
  learn,
  profileNameClashes,
  validateAgentConfig,
  type AgentConfig,
  type AgentModel,
  type AgentModelJSON,
  type AttributeValue,
  type Decision,
  type DecisionSink,
  type Delivery,
  type Profile,
  type ProfileSource,
} from '../agent/index.ts';
import { Rng, unitHash } from '../bandit/index.ts';
import { attribute, combineRewards, liftReportFromCells, type LiftReport } from '../measure/index.ts';
import type { DecisionRow, EraseReport, EventRow, LearningCursor, OutcomeRow, ReportCell, Store } from '../store/index.ts';
import { HttpError, NotFoundError, ValidationError } from './errors.ts';
import { decisionIdFor, timeOrderedId, userKeyOf } from './keys.ts';
import type { SinkFactory } from './extensions.ts';
import type { Metrics } from './metrics.ts';
import type { DecideRequest, SegmentEvent } from './schemas.ts';

export interface ServiceOptions {
  store: Store;
  workspace: string;
  /** Workspace secret (keyed user hash); read from the store. */
  secret: string;
  /** Seed of every decision's randomness: a decision depends only on it, the decision id, the profile and the model. */
  seed: string;
  clock?: () => number;
  profileSource?: ProfileSource;
  profileCache?: { max: number; ttlMs: number };
  logger: Logger;
  metrics?: Metrics;
  /** Builds the sinks of the agents' `delivery` entries (batch runs). */
  sinks?: SinkFactory;
}

interface AgentRuntime {
  config: AgentConfig;
  input: unknown;
  version: number;
  model: AgentModel;
}

/** What the decide route answers. */
export interface DecisionResponse {
  decisionId: string;
  agentId: string;
  agentVersion: number;
  holdout: boolean;
  deliver: boolean;
  reason: Decision['reason'];
  choices: Decision['choices'];
  probability: number;
  sendAt: string | null;
  suppressed?: Decision['suppressed'];
  /** Flat attributes ready for delivery (Braze custom attributes, HubSpot properties, Liquid). */
  attributes: Record<string, AttributeValue>;
  explanation?: Decision['explanation'];
  error?: { code: string; message: string };
  /** True when this requestId was answered before and the stored decision is returned. */
  replayed?: boolean;
}

/** Closed decisions read from the store at a time. */
const LEARN_BATCH = 200;
/** Longest stretch of learning between two yields to the event loop. */
const LEARN_SLICE_MS = 5;
/** While a backlog lasts, the learner commits (and snapshots the model) at most this often. */
const COMMIT_EVERY_MS = 1000;
/** Rows deleted per retention transaction. */
const PRUNE_BATCH = 500;
/** How long Connected Content waits for a profile before answering the defaults (Braze gives up at 2 s). */
export const CONNECTED_CONTENT_PROFILE_BUDGET_MS = 1000;

/**
 * One workspace's decisioning service: agents with their live models, decisions logged through
 * the store, events attributed to decisions, and the learner that folds final rewards into the
 * models in order, exactly once, with a snapshot per commit.
 */
export class DecisionService {
  readonly workspace: string;
  private readonly store: Store;
  private readonly secret: string;
  private readonly root: Rng;
  private readonly clock: () => number;
  private readonly profileSource?: ProfileSource;
  private readonly cache: LRUCache<string, Profile>;
  private readonly log: Logger;
  private readonly metrics?: Metrics;
  private readonly agents = new Map<string, AgentRuntime>();
  private learning: Promise<number> | undefined;
  private readonly sinkFactory?: SinkFactory;
  /** Connected Content answers that failed open, by agent, user and request id (see connectedContent). */
  private readonly failedOpen = new LRUCache<string, Record<string, AttributeValue>>({ max: 100_000, ttl: 15 * 60_000 });
  private readonly targets = new Map<string, { delivery: Delivery; sink?: DecisionSink }[]>();

  constructor(options: ServiceOptions) {
    this.store = options.store;
    this.workspace = options.workspace;
    this.secret = options.secret;
    this.root = new Rng(options.seed);
    this.clock = options.clock ?? Date.now;
    this.profileSource = options.profileSource;
    this.cache = new LRUCache<string, Profile>({ max: options.profileCache?.max ?? 10_000, ttl: options.profileCache?.ttlMs ?? 5 * 60_000 });
    this.log = options.logger;
    this.metrics = options.metrics;
    this.sinkFactory = options.sinks;
  }

  /** Loads every agent of the workspace from the store, with its latest model snapshot. */
  async load(): Promise<void> {
    for (const row of await this.store.listAgentConfigs(this.workspace)) {
      const parsed = validateAgentConfig(row.config);
      if (!parsed.ok) {
        this.log.error({ agentId: row.agentId, version: row.version, errors: parsed.errors }, 'stored agent config no longer validates; agent not loaded');
        continue;
      }
      const snapshot = await this.store.latestSnapshot(this.workspace, row.agentId);
      const model = snapshot
        ? agentModelFromJSON(parsed.config, snapshot.state as AgentModelJSON, row.version)
        : createAgentModel(parsed.config, row.version);
      this.setAgent(row.agentId, { config: parsed.config, input: row.config, version: row.version, model });
    }
  }

  private setAgent(agentId: string, agent: AgentRuntime): void {
    this.agents.set(agentId, agent);
    // a series from the start, so that an alert on its increase sees the first restart
    if (changeDetection(agent.config.policy)) this.metrics?.learningRestarts.inc({ agent: agentId }, 0);
  }

  agentIds(): string[] {
    return [...this.agents.keys()];
  }

  /** The agent's parsed config (404 when unknown). */
  agentConfig(agentId: string): AgentConfig {
    const a = this.agents.get(agentId);
    if (!a) throw new NotFoundError(`agent "${agentId}"`);
    return a.config;
  }

  /** The service's clock. */
  now(): number {
    return this.clock();
  }

  /**
   * The sink of each of the agent's `delivery` entries, built once per agent version; `sink` is
   * undefined when this process is not connected to that destination.
   */
  deliveryTargets(agentId: string): { delivery: Delivery; sink?: DecisionSink }[] {
    const a = this.agents.get(agentId);
    if (!a) throw new NotFoundError(`agent "${agentId}"`);
    const key = `${agentId}@${a.version}`;
    let targets = this.targets.get(key);
    if (!targets) {
      targets = a.config.delivery.map((delivery) => ({ delivery, sink: this.sinkFactory?.(a.config, delivery) }));
      this.targets.set(key, targets);
    }
    return targets;
  }

  getAgent(agentId: string): { version: number; config: unknown } {
    const a = this.agents.get(agentId);
    if (!a) throw new NotFoundError(`agent "${agentId}"`);
    return { version: a.version, config: a.input };
  }

  /**
   * Creates or updates an agent. The config is validated first (400 naming every bad field);
   * an unchanged config keeps its version. The model carries its learning over to the new
   * arms and features (see agentModelFromJSON).
   */
  async putAgent(agentId: string, input: unknown, actor: string): Promise<{ version: number; changed: boolean }> {
    const parsed = validateAgentConfig(input);
    if (!parsed.ok) throw new ValidationError(parsed.errors.join('; '), parsed.errors.map(splitError));
    if (parsed.config.id !== agentId) throw new ValidationError(`id: "${parsed.config.id}" does not match the agent in the URL ("${agentId}")`, [{ path: 'id', message: `must be "${agentId}"` }]);
    // the workspace rule of the config file: no two agents write the same names onto the same profiles
    const others = [...this.agents.values()].map((a) => a.config).filter((c) => c.id !== agentId);
    const clash = profileNameClashes([...others, parsed.config]).find((c) => c.agent === others.length);
    if (clash) {
      const path = `delivery[${clash.delivery}].prefix`;
      throw new ValidationError(`${path}: ${clash.message}`, [{ path, message: clash.message }]);
    }
    const { row, changed } = await this.store.putAgentConfig(this.workspace, agentId, input, actor, this.clock());
    const current = this.agents.get(agentId);
    if (!current || changed) {
      const model = current ? agentModelFromJSON(parsed.config, agentModelToJSON(current.model), row.version) : createAgentModel(parsed.config, row.version);
      this.setAgent(agentId, { config: parsed.config, input, version: row.version, model });
      this.log.info({ agentId, version: row.version, actor }, changed ? 'agent config updated' : 'agent created');
    }
    return { version: row.version, changed };
  }

  /** Drops the cached profile of a user (a webhook said it changed); the next decide reads it again. */
  forgetProfile(userId: string): void {
    this.cache.delete(userId);
  }

  userKey(userId: string): string {
    return userKeyOf(this.secret, userId);
  }

  private async profileFor(req: DecideRequest, budgetMs?: number): Promise<Profile | undefined | typeof TIMED_OUT> {
    if (req.traits) return { userId: req.userId, traits: req.traits, timezone: req.timezone, consent: req.consent };
    const cached = this.cache.get(req.userId);
    const profile = cached ?? (this.profileSource ? await withBudget(this.profileSource.getProfile(req.userId), budgetMs) : undefined);
    if (profile === TIMED_OUT || !profile) return profile;
    if (!cached) this.cache.set(req.userId, profile);
    return { ...profile, timezone: req.timezone ?? profile.timezone, consent: req.consent ?? profile.consent };
  }

  /** One decision, logged before it is returned. Degrades to the default arms, never throws for runtime failures. */
  async decide(
    agentId: string,
    req: DecideRequest,
    options: {
      profileBudgetMs?: number;
      recordSend?: boolean;
      /** The caller's `userKey(req.userId)`, when it has it already. */
      userKey?: string;
      /**
       * The requestId is most likely new (a batch run's members): skip the lookup before deciding;
       * a requestId that was used after all is caught by the store's unique index and replayed.
       */
      likelyNew?: boolean;
    } = {},
  ): Promise<DecisionResponse> {
    const agent = this.agents.get(agentId);
    if (!agent) throw new NotFoundError(`agent "${agentId}"`);
    const started = process.hrtime.bigint();
    const userKey = options.userKey ?? this.userKey(req.userId);
    if (req.requestId && !options.likelyNew) {
      const existing = await this.store.findDecisionByRequest(this.workspace, agentId, req.requestId);
      if (existing) return this.replay(existing, userKey, agent.config);
    }
    const now = this.clock();
    const decisionId = req.requestId ? decisionIdFor(this.workspace, agentId, req.requestId) : timeOrderedId(now);
    let decision: Decision;
    let error: DecisionResponse['error'];
    try {
      const profile = await this.profileFor(req, options.profileBudgetMs);
      if (profile === TIMED_OUT || !profile) {
        error =
          profile === TIMED_OUT
            ? { code: 'profile_timeout', message: `the profile source did not answer within ${options.profileBudgetMs} ms` }
            : { code: 'profile_not_found', message: `no traits in the request and the profile source has no profile for this user` };
        // Not logged, so it must not take the id a later, logged decision of this requestId gets.
        decision = defaultDecision(agent.config, agent.version, { userId: req.userId, traits: {} }, now, randomUUID(), unitHash(agent.config.salt, req.userId) < agent.config.holdout);
      } else {
        const caps = agent.config.guardrails.frequency_caps;
        const horizon = caps.length > 0 ? Math.max(...caps.map((c) => c.perMs)) : 0;
        decision = await this.store.withUser(this.workspace, userKey, async (tx) => {
          const recentSends = horizon > 0 ? (await tx.sendsSince(now - horizon)).map((s) => ({ at: s.at, channel: s.channel ?? undefined })) : [];
          const d = decide(agent.config, agent.model, profile, now, this.root.fork(`${agentId}/${decisionId}`), {
            decisionId,
            recentSends,
            context: req.context,
            explain: req.explain ?? false,
          });
          const row = rowFromDecision(this.workspace, d, userKey, req.requestId ?? null, agent.config.goal.windowMs);
          const send = d.deliver && options.recordSend !== false ? { workspace: this.workspace, userKey, channel: d.choices.channel?.arm ?? null, at: Date.parse(d.sendAt!), decisionId } : undefined;
          await tx.insertDecision(row, send);
          return d;
        });
      }
    } catch (err) {
      if (req.requestId && isUniqueViolation(err)) {
        const existing = await this.store.findDecisionByRequest(this.workspace, agentId, req.requestId);
        if (existing) return this.replay(existing, userKey, agent.config);
      }
      this.log.error({ err, agentId, userKey }, 'decision failed; answering with the default arms');
      error = { code: 'decision_failed', message: 'the decision could not be made or logged; default arms returned' };
      decision = defaultDecision(agent.config, agent.version, { userId: req.userId, traits: {} }, now, randomUUID(), false);
    }
    this.metrics?.decisions.inc({ agent: agentId, reason: decision.reason });
    this.metrics?.decideSeconds.observe(Number(process.hrtime.bigint() - started) / 1e9);
    const response = toResponse(decision, agent.config);
    if (error) response.error = error;
    return response;
  }

  /** The stored answer to a repeated requestId; the same requestId for another user is a client bug (409). */
  private replay(existing: DecisionRow, userKey: string, agent: AgentConfig): DecisionResponse {
    if (existing.userKey !== userKey) throw new HttpError(409, 'request_id_conflict', 'this requestId was already used for another user; use a new requestId per decision');
    return { ...responseFromRow(existing, agent), replayed: true };
  }

  async getDecision(decisionId: string): Promise<(DecisionResponse & { userKey: string; at: string; reward: number | null; outcomes: OutcomeRow[] }) | undefined> {
    const row = await this.store.getDecision(this.workspace, decisionId);
    if (!row) return undefined;
    const agent = this.agents.get(row.agentId);
    const outcomes = await this.store.outcomesOf(this.workspace, decisionId);
    return {
      ...responseFromRow(row, agent?.config),
      userKey: row.userKey,
      at: new Date(row.at).toISOString(),
      reward: row.reward,
      outcomes,
    };
  }

  /**
   * Stores events (deduplicated by messageId) and the outcomes they earn, in one transaction.
   * Resolves only once they are durable.
   */
  async ingest(events: SegmentEvent[]): Promise<{ accepted: number; duplicates: number }> {
    const now = this.clock();
    const rows: EventRow[] = [];
    const outcomes: OutcomeRow[] = [];
    const seen = new Set<string>();
    for (const e of events) {
      if (seen.has(e.messageId)) continue; // a duplicate inside the same batch
      seen.add(e.messageId);
      const userKey = this.userKey(e.userId);
      const timestamp = e.timestamp ?? now;
      // Raw identifiers stay out of the store: the row is keyed by the user's keyed hash.
      const { userId: _userId, anonymousId: _anonymousId, previousId: _previousId, ...body } = e as SegmentEvent & { anonymousId?: unknown; previousId?: unknown };
      rows.push({ workspace: this.workspace, messageId: e.messageId, userKey, type: e.type, event: e.event ?? null, timestamp, receivedAt: now, body });
      if (e.type === 'identify') this.cache.delete(e.userId);
      if (e.type !== 'track' || !e.event) continue;
      const named = typeof e.properties.decision_id === 'string' ? await this.store.getDecision(this.workspace, e.properties.decision_id) : undefined;
      const candidates = named ? [named] : await this.store.latestDecisions(this.workspace, userKey, this.agentIds(), timestamp);
      for (const hit of attribute({ event: e.event, timestamp, userKey, properties: e.properties }, candidates, (id) => this.agents.get(id)?.config.goal)) {
        outcomes.push({ workspace: this.workspace, decisionId: hit.decisionId, messageId: e.messageId, event: e.event, value: hit.value, at: timestamp });
      }
    }
    const result = await this.store.recordEvents(rows, outcomes);
    const duplicates = events.length - result.inserted.length;
    this.metrics?.events.inc({ status: 'accepted' }, result.inserted.length);
    if (duplicates > 0) this.metrics?.events.inc({ status: 'duplicate' }, duplicates);
    return { accepted: result.inserted.length, duplicates };
  }

  /**
   * Folds every decision whose window has closed into its agent's model, oldest window first,
   * exactly once: the rewards are marked and the model snapshot written in one transaction.
   * Holdout and suppressed decisions get their reward recorded but teach nothing.
   * Returns the number of decisions closed. Concurrent calls share one run.
   *
   * It never holds the event loop for long: it folds in slices of LEARN_SLICE_MS and yields between
   * them, reading ahead of its last commit, and commits (a snapshot of the model, whose
   * serialisation is the one longer step) at most every COMMIT_EVERY_MS while a backlog lasts, and
   * once at the end.
   */
  learnClosed(): Promise<number> {
    this.learning ??= this.learnClosedNow().finally(() => (this.learning = undefined));
    return this.learning;
  }

  private async learnClosedNow(): Promise<number> {
    const now = this.clock();
    await this.measureLearnerLag(now);
    let total = 0;
    for (const [agentId, agent] of this.agents) total += await this.learnAgent(agentId, agent, now);
    await this.measureLearnerLag(now);
    return total;
  }

  /** Folds the agent's closed decisions up to `now`, committing as it goes (see learnClosed). */
  private async learnAgent(agentId: string, agent: AgentRuntime, now: number): Promise<number> {
    let total = 0;
    let pending: { decisionId: string; reward: number }[] = [];
    let restarts = agent.model.change.restarts;
    let lastCommit = performance.now();
    let after: LearningCursor | undefined;
    let slice = performance.now();
    for (;;) {
      const closed = await this.store.closedUnlearned(this.workspace, agentId, now, LEARN_BATCH, after);
      for (const row of closed) {
        const reward = combineRewards(agent.config.goal.combine, row.outcomes.map((o) => o.value));
        learn(agent.config, agent.model, decisionFromRow(row), reward);
        pending.push({ decisionId: row.decisionId, reward });
        if (performance.now() - slice > LEARN_SLICE_MS) {
          await yieldToEventLoop();
          slice = performance.now();
        }
      }
      const last = closed.at(-1);
      if (last) after = { windowEnd: last.windowEnd, decisionId: last.decisionId };
      const drained = closed.length < LEARN_BATCH;
      if (pending.length > 0 && (drained || performance.now() - lastCommit > COMMIT_EVERY_MS)) {
        await this.commitLearned(agentId, agent, pending, now, restarts);
        total += pending.length;
        pending = [];
        restarts = agent.model.change.restarts;
        lastCommit = performance.now();
        await this.measureLearnerLag(this.clock());
      }
      if (drained) return total;
      await yieldToEventLoop();
      slice = performance.now();
    }
  }

  private async commitLearned(agentId: string, agent: AgentRuntime, rewards: { decisionId: string; reward: number }[], now: number, restartsBefore: number): Promise<void> {
    await this.store.commitLearning(this.workspace, agentId, rewards, {
      workspace: this.workspace,
      agentId,
      agentVersion: agent.version,
      state: agentModelToJSON(agent.model),
      createdAt: now,
    });
    // counted once the restart is saved with the rewards that caused it
    if (agent.model.change.restarts > restartsBefore) {
      this.metrics?.learningRestarts.inc({ agent: agentId }, agent.model.change.restarts - restartsBefore);
      const retain = changeDetection(agent.config.policy)?.retain;
      this.log.warn({ agentId, restarts: agent.model.change.restarts, retain }, "outcomes fell far below the estimates (policy.detect): learning restarted, each dimension keeping at most retain outcomes' worth");
    }
  }

  /** Sets the learner-lag gauge: how long the oldest closed decision not yet learned has been waiting. */
  private async measureLearnerLag(now: number): Promise<void> {
    let oldest = Infinity;
    for (const agentId of this.agents.keys()) oldest = Math.min(oldest, (await this.store.oldestUnlearnedWindowEnd(this.workspace, agentId)) ?? Infinity);
    this.metrics?.learnerLag.set(oldest < now ? (now - oldest) / 1000 : 0);
  }

  /**
   * Retention: deletes decisions (with their outcomes and sends) and events older than
   * `retentionMs`, a short transaction of PRUNE_BATCH rows at a time with a yield between them.
   * The report's aggregates are kept. Returns what was deleted.
   */
  async prune(retentionMs: number): Promise<{ decisions: number; events: number }> {
    const before = this.clock() - retentionMs;
    const deleted = { decisions: 0, events: 0 };
    for (;;) {
      const step = await this.store.prune(before, PRUNE_BATCH);
      deleted.decisions += step.decisions;
      deleted.events += step.events;
      if (step.decisions < PRUNE_BATCH && step.events < PRUNE_BATCH) break;
      await yieldToEventLoop();
    }
    if (deleted.decisions + deleted.events > 0) this.log.info({ ...deleted, before: new Date(before).toISOString() }, 'retention: old decisions and events deleted');
    return deleted;
  }

  /** Rewards, arm shares and lift vs holdout with its confidence interval, and the SRM check. */
  async report(
    agentId: string,
  ): Promise<LiftReport & { agentId: string; agentVersion: number; holdoutShare: number; changeDetector?: { restarts: number; shortfall: number; threshold: number; seen: number; warmup: number; retain: number } }> {
    const agent = this.agents.get(agentId);
    if (!agent) throw new NotFoundError(`agent "${agentId}"`);
    const cells = inConfigOrder(await this.store.reportCells(this.workspace, agentId), agent.config);
    const report = liftReportFromCells(cells, { holdoutShare: agent.config.holdout });
    const detect = changeDetection(agent.config.policy);
    // how close the agent is to restarting its learning, and how often it has
    const { restarts, shortfall, seen } = agent.model.change;
    const changeDetector = detect && { restarts, shortfall, threshold: detect.threshold, seen, warmup: detect.warmup, retain: detect.retain };
    return { agentId, agentVersion: agent.version, holdoutShare: agent.config.holdout, ...report, ...(changeDetector && { changeDetector }) };
  }

  /** Erases the user's decisions, outcomes, events, send counters and cached profile. */
  async eraseUser(userId: string): Promise<EraseReport & { cachedProfile: number }> {
    const report = await this.store.eraseUser(this.workspace, this.userKey(userId));
    const cachedProfile = this.cache.delete(userId) ? 1 : 0;
    await this.profileSource?.forget?.(userId);
    this.log.info({ userKey: this.userKey(userId), ...report, cachedProfile }, 'user erased');
    return { ...report, cachedProfile };
  }

  /**
   * Answers for the Braze Connected Content route: the decision's flat attributes plus
   * `<prefix>reason`. It fails open, because a send must never break: when the profile cannot be
   * read within `profileBudgetMs` or the decision fails, the answer is the default arms with
   * `<prefix>deliver: true` and reason `error`. `<prefix>deliver` is false only for a real
   * decision not to send (frequency skip, or a guardrail), which the Liquid maps to abort_message.
   * The same `requestId` (Braze renders a message several times) gets the same decision.
   */
  async connectedContent(agentId: string, userId: string, options: { requestId?: string; profileBudgetMs?: number } = {}): Promise<Record<string, AttributeValue>> {
    const agent = this.agents.get(agentId);
    if (!agent) throw new NotFoundError(`agent "${agentId}"`);
    const prefix = attributePrefix(agent.config);
    // A fail-open answer is not logged, so it is remembered here: the other renders of the same
    // message (HTML, text, retries) must show the same defaults rather than a fresh decision.
    const sticky = options.requestId ? `${agentId}\u0000${userId}\u0000${options.requestId}` : undefined;
    const remembered = sticky ? this.failedOpen.get(sticky) : undefined;
    if (remembered) return remembered;
    let answer: Record<string, AttributeValue>;
    try {
      const r = await this.decide(agentId, { userId, ...(options.requestId ? { requestId: options.requestId } : {}) }, { profileBudgetMs: options.profileBudgetMs ?? CONNECTED_CONTENT_PROFILE_BUDGET_MS });
      if (r.reason !== 'error') return { ...r.attributes, [`${prefix}reason`]: r.reason };
      answer = { ...r.attributes, [`${prefix}reason`]: 'error', [`${prefix}deliver`]: true };
    } catch (err) {
      if (err instanceof HttpError) throw err;
      this.log.error({ err, agentId }, 'connected content failed; answering with defaults');
      const d = defaultDecision(agent.config, agent.version, { userId, traits: {} }, this.clock(), randomUUID(), false);
      answer = { ...toResponse(d, agent.config).attributes, [`${prefix}reason`]: 'error', [`${prefix}deliver`]: true };
    }
    if (sticky) this.failedOpen.set(sticky, answer);
    return answer;
  }
}

const TIMED_OUT = Symbol('timed out');

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Report cells with dimensions and arms in the agent's config order (others after, as they come). */
function inConfigOrder(cells: ReportCell[], agent: AgentConfig): ReportCell[] {
  const rank = (cell: ReportCell): [number, number] => {
    const d = agent.dimensions.findIndex((dim) => dim.id === cell.dimension);
    if (d < 0) return [cell.dimension === null ? -1 : agent.dimensions.length, 0];
    const a = agent.dimensions[d]!.arms.findIndex((arm) => arm.id === cell.arm);
    return [d, a < 0 ? Infinity : a];
  };
  return cells
    .map((cell, i) => ({ cell, i, r: rank(cell) }))
    .sort((x, y) => x.r[0] - y.r[0] || x.r[1] - y.r[1] || x.i - y.i)
    .map((x) => x.cell);
}

/** The promise's value, or TIMED_OUT when it takes longer than `ms` (no budget: waits). */
async function withBudget<T>(promise: Promise<T>, ms: number | undefined): Promise<T | typeof TIMED_OUT> {
  if (ms === undefined) return promise;
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<typeof TIMED_OUT>((resolve) => (timer = setTimeout(() => resolve(TIMED_OUT), ms)));
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

function splitError(e: string): { path: string; message: string } {
  const i = e.indexOf(': ');
  return i < 0 ? { path: '', message: e } : { path: e.slice(0, i), message: e.slice(i + 2) };
}

function isUniqueViolation(err: unknown): boolean {
  const code = (err as { code?: string } | undefined)?.code;
  return code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === '23505';
}

function toResponse(d: Decision, agent: AgentConfig | undefined): DecisionResponse {
  return {
    decisionId: d.decisionId,
    agentId: d.agentId,
    agentVersion: d.agentVersion,
    holdout: d.holdout,
    deliver: d.deliver,
    reason: d.reason,
    choices: d.choices,
    probability: d.probability,
    sendAt: d.sendAt ?? null,
    ...(d.suppressed ? { suppressed: d.suppressed } : {}),
    attributes: attributesOf(d, agent),
    ...(d.explanation ? { explanation: d.explanation } : {}),
  };
}

interface DecisionBody {
  choices: Decision['choices'];
  features: number[];
  sendAt?: string;
  suppressed?: Decision['suppressed'];
  explanation?: Decision['explanation'];
}

function rowFromDecision(workspace: string, d: Decision, userKey: string, requestId: string | null, windowMs: number): DecisionRow {
  const at = Date.parse(d.at);
  const body: DecisionBody = { choices: d.choices, features: d.features, sendAt: d.sendAt, suppressed: d.suppressed, explanation: d.explanation };
  return {
    workspace,
    decisionId: d.decisionId,
    agentId: d.agentId,
    agentVersion: d.agentVersion,
    userKey,
    requestId,
    at,
    windowEnd: at + windowMs,
    holdout: d.holdout,
    deliver: d.deliver,
    reason: d.reason,
    probability: d.probability,
    body,
    reward: null,
    learned: false,
  };
}

/** The Decision as `learn` needs it, from its stored row (the raw user id is not stored). */
function decisionFromRow(row: DecisionRow): Decision {
  const body = row.body as DecisionBody;
  return {
    decisionId: row.decisionId,
    agentId: row.agentId,
    agentVersion: row.agentVersion,
    userId: '',
    at: new Date(row.at).toISOString(),
    holdout: row.holdout,
    choices: body.choices,
    probability: row.probability,
    sendAt: body.sendAt,
    deliver: row.deliver,
    reason: row.reason as Decision['reason'],
    suppressed: body.suppressed,
    features: body.features,
    explanation: body.explanation,
  };
}

function responseFromRow(row: DecisionRow, agent: AgentConfig | undefined): DecisionResponse {
  return toResponse(decisionFromRow(row), agent);
}
