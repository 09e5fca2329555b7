import type { LRUCache } from 'lru-cache';
import type { Logger } from 'pino';
import type {
  AgentConfig,
  AgentModel,
  AttributeValue,
  DecisionSink,
  Delivery,
  Profile,
  ProfileSource,
} from '../agent/index.ts';
import type { Rng } from '../bandit/index.ts';
import type { Store } from '../store/index.ts';
import { NotFoundError } from './errors.ts';
import type { Metrics } from './metrics.ts';
import type { SinkFactory } from './ports.ts';

/** An agent as the service runs it: its parsed config, the config as written, its version and live model. */
export interface AgentRuntime {
  config: AgentConfig;
  input: unknown;
  version: number;
  model: AgentModel;
  /** The seq of the model snapshot this model was loaded from or last committed as (0: none yet); logged with each decision. */
  snapshotSeq: number;
}

/**
 * What every use case of one workspace shares: the store, the agents with their live models, the
 * profile cache, the seeded randomness and the clock. The use cases (decide.ts, ingest.ts,
 * learn.ts, …) are functions of it; DecisionService holds it.
 */
export interface ServiceState {
  readonly workspace: string;
  readonly store: Store;
  /** Workspace secret of the keyed user hash. */
  readonly secret: string;
  /** Root of every decision's randomness (forked per decision id). */
  readonly root: Rng;
  readonly clock: () => number;
  readonly profileSource?: ProfileSource;
  readonly profiles: LRUCache<string, Profile>;
  readonly log: Logger;
  readonly metrics?: Metrics;
  readonly agents: Map<string, AgentRuntime>;
  readonly sinkFactory?: SinkFactory;
  /** The sinks of each agent version's delivery entries, built once (see targets.ts). */
  readonly targets: Map<string, { delivery: Delivery; sink?: DecisionSink }[]>;
  /** Connected Content answers that failed open, by agent, user and request id (see connected-content.ts). */
  readonly failedOpen: LRUCache<string, Record<string, AttributeValue>>;
  /** Whether this instance held the learner's role at its last try (see learn.ts). */
  readonly role: { learner: boolean };
}

/** The agent, or a NotFoundError naming it. */
export function agentOf(state: ServiceState, agentId: string): AgentRuntime {
  const agent = state.agents.get(agentId);
  if (!agent) throw new NotFoundError(`agent "${agentId}"`);
  return agent;
}

/** Lets waiting requests run before going on (the learner and retention yield between slices). */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
