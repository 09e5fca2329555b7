import { LRUCache } from 'lru-cache';
import type { Logger } from 'pino';
import type { AgentConfig, AttributeValue, DecisionSink, Delivery, Profile, ProfileSource } from '../agent/index.ts';
import { Rng } from '../bandit/index.ts';
import type { AuditRow, EraseReport, OutcomeRow, Store } from '../store/index.ts';
import {
  agentAudit,
  agentSummaries,
  agentVersions,
  checkAgentText,
  type AgentSummary,
  type AgentVersion,
  type ConfigCheck,
} from './agent-views.ts';
import { deliveryTargets, loadAgents, putAgent } from './agents.ts';
import { connectedContent } from './connected-content.ts';
import { decide, type DecideOptions } from './decide.ts';
import { responseFromRow, type DecisionResponse } from './decision-record.ts';
import { eraseUser } from './erase.ts';
import { followStore } from './follow.ts';
import { ingest, type IngestResult } from './ingest.ts';
import type { DecideRequest, SegmentEvent } from './inputs.ts';
import { userKeyOf } from './keys.ts';
import { learnClosed, learnerLagSeconds } from './learn.ts';
import type { Metrics } from './metrics.ts';
import type { SinkFactory } from './ports.ts';
import { report, type AgentReport, type ReportQuery } from './report.ts';
import { prune } from './retention.ts';
import { recordSendReports, type SendReport } from './send-proof.ts';
import { agentOf, type ServiceState } from './state.ts';

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

/**
 * One workspace's decisioning service: the use cases (decide.ts, ingest.ts, learn.ts, report.ts,
 * erase.ts, connected-content.ts, retention.ts, agents.ts) over the state they share. It has no
 * HTTP in it: plugin/server answers requests with it, plugin/run decides audiences with it.
 */
export class DecisionService {
  readonly workspace: string;
  private readonly state: ServiceState;
  private learning: Promise<number> | undefined;

  constructor(options: ServiceOptions) {
    this.workspace = options.workspace;
    this.state = {
      workspace: options.workspace,
      store: options.store,
      secret: options.secret,
      root: new Rng(options.seed),
      clock: options.clock ?? Date.now,
      profileSource: options.profileSource,
      profiles: new LRUCache<string, Profile>({
        max: options.profileCache?.max ?? 10_000,
        ttl: options.profileCache?.ttlMs ?? 5 * 60_000,
      }),
      log: options.logger,
      metrics: options.metrics,
      agents: new Map(),
      sinkFactory: options.sinks,
      targets: new Map(),
      failedOpen: new LRUCache<string, Record<string, AttributeValue>>({ max: 100_000, ttl: 15 * 60_000 }),
      role: { learner: false },
    };
    options.metrics?.measureLagWith(() => learnerLagSeconds(this.state, this.state.clock()));
  }

  /** Loads every agent of the workspace from the store, with its latest model snapshot. */
  load(): Promise<void> {
    return loadAgents(this.state);
  }

  agentIds(): string[] {
    return [...this.state.agents.keys()];
  }

  /** The agent's parsed config (NotFoundError when unknown). */
  agentConfig(agentId: string): AgentConfig {
    return agentOf(this.state, agentId).config;
  }

  /** The agent's version and config as written. */
  getAgent(agentId: string): { version: number; config: unknown } {
    const agent = agentOf(this.state, agentId);
    return { version: agent.version, config: agent.input };
  }

  putAgent(agentId: string, input: unknown, actor: string): Promise<{ version: number; changed: boolean }> {
    return putAgent(this.state, agentId, input, actor);
  }

  /** Every agent with its version, policy, decisions today and learner lag (the console's list). */
  agentSummaries(): Promise<AgentSummary[]> {
    return agentSummaries(this.state);
  }

  /** The agent's stored versions, newest first. */
  agentVersions(agentId: string, limit = 50): Promise<AgentVersion[]> {
    return agentVersions(this.state, agentId, limit);
  }

  /** The audit entries about this agent among the workspace's last `scan`. */
  agentAudit(agentId: string, scan = 500): Promise<AuditRow[]> {
    return agentAudit(this.state, agentId, scan);
  }

  /** Checks a YAML config for this agent as a PUT would, saving nothing. */
  checkAgentText(agentId: string, text: string): ConfigCheck {
    return checkAgentText(this.state, agentId, text);
  }

  deliveryTargets(agentId: string): { delivery: Delivery; sink?: DecisionSink }[] {
    return deliveryTargets(this.state, agentId);
  }

  /** The service's clock. */
  now(): number {
    return this.state.clock();
  }

  /** The keyed hash that stands for the user in every stored row and log line. */
  userKey(userId: string): string {
    return userKeyOf(this.state.secret, userId);
  }

  /** Drops the cached profile of a user (a webhook said it changed); the next decide reads it again. */
  forgetProfile(userId: string): void {
    this.state.profiles.delete(userId);
  }

  decide(agentId: string, req: DecideRequest, options: DecideOptions = {}): Promise<DecisionResponse> {
    return decide(this.state, agentId, req, options);
  }

  /** The logged decision with its reward and outcomes, or undefined. */
  async getDecision(
    decisionId: string,
  ): Promise<(DecisionResponse & { userKey: string; reward: number | null; outcomes: OutcomeRow[] }) | undefined> {
    const row = await this.state.store.getDecision(this.workspace, decisionId);
    if (!row) return undefined;
    const outcomes = await this.state.store.outcomesOf(this.workspace, decisionId);
    const agent = this.state.agents.get(row.agentId);
    return { ...responseFromRow(row, agent?.config), userKey: row.userKey, reward: row.reward, outcomes };
  }

  ingest(events: SegmentEvent[]): Promise<IngestResult> {
    return ingest(this.state, events);
  }

  /** Applies what a destination reported it sent or aborted (Braze Currents) to the awaited send proofs. */
  recordSendReports(reports: readonly SendReport[]): Promise<{ settled: number; unmatched: number }> {
    return recordSendReports(this.state, reports);
  }

  /**
   * Folds every closed decision into its agent's model (see learn.ts), when this instance holds
   * the learner's role (it tries to take it). Concurrent calls share one run.
   */
  learnClosed(): Promise<number> {
    this.learning ??= learnClosed(this.state).finally(() => (this.learning = undefined));
    return this.learning;
  }

  /**
   * One beat of the background work (every second in `serve`): follow what other instances
   * stored (configs; the learner's models when this instance is not the learner), then learn
   * when this instance holds the learner's role or can take it.
   */
  async tick(): Promise<number> {
    if (!this.state.role.learner) await followStore(this.state, { models: true });
    const learned = await this.learnClosed();
    if (this.state.role.learner) await followStore(this.state, { models: false });
    return learned;
  }

  /** Whether this instance held the learner's role at its last try. */
  isLearner(): boolean {
    return this.state.role.learner;
  }

  report(agentId: string, query: ReportQuery = {}): Promise<AgentReport> {
    return report(this.state, agentId, query);
  }

  eraseUser(userId: string): Promise<EraseReport & { cachedProfile: number }> {
    return eraseUser(this.state, userId);
  }

  connectedContent(
    agentId: string,
    userId: string,
    options: { requestId?: string; profileBudgetMs?: number; channel?: string } = {},
  ): Promise<Record<string, AttributeValue>> {
    return connectedContent(this.state, agentId, userId, options);
  }

  /** Deletes decisions and events older than `retentionMs` (see retention.ts). */
  prune(retentionMs: number): Promise<{ decisions: number; events: number }> {
    return prune(this.state, retentionMs);
  }
}
