import type { z } from 'zod';
import type { AgentConfig, Destination, ProfileSource } from '../../plugin/agent/index.ts';
import type { ServerExtension, SinkFactory } from '../../plugin/service/ports.ts';
import type { Store } from '../../plugin/store/index.ts';

/** The environment an adapter reads its variables from (`process.env`). */
export type Env = Readonly<Record<string, string | undefined>>;

/** What `connect` may use besides the environment. */
export interface ConnectContext {
  /** The workspace's agents (e.g. the traits they read are the properties fetched). */
  agents: readonly AgentConfig[];
}

/** The ports one adapter serves in this process; each part only when its variables are set. */
export interface Connection {
  /** Where decide reads profiles, and the members of the audiences this adapter serves. */
  profileSource?: ProfileSource;
  /** The sinks of the delivery entries this adapter serves (undefined for other entries). */
  sinks?: SinkFactory;
  /** Routes the adapter adds to the server: webhooks, OAuth install, workflow actions. */
  extensions?: ServerExtension[];
  /**
   * The audience references its profile source serves, by prefix (HubSpot: `list:`, `search:`).
   * The longest matching prefix wins, so `''` serves every reference no other adapter claims.
   */
  audiencePrefixes?: readonly string[];
  /**
   * Keeps what the adapter learns (Segment: audience membership) in the workspace's store from
   * now on. Called by every command that opens the store (`serve`, `run`), so what `serve` learned
   * is what `run` reads.
   */
  useStore?(workspace: WorkspaceStore): void;
  close?(): Promise<void>;
}

/** The workspace's store, and the keyed hash it files a user id under. */
export interface WorkspaceStore {
  store: Store;
  workspace: string;
  userKey(userId: string): string;
}

/** One adapter, as the composition root (plugin/connections.ts) sees it. */
export interface Adapter {
  /** The vendor's name: `connected: <name>` at start-up, `to: <name>` in delivery entries, `NEXTBEST_PROFILE_SOURCE`. */
  readonly name: string;
  /** The environment variables the adapter reads, with their rules and descriptions. */
  readonly envSchema: z.ZodType;
  /** The delivery entries it serves: `to` in an agent's `delivery`, and the modes it writes in. */
  readonly destination: Destination;
  /**
   * The ports the environment configures, or undefined when none of the adapter's variables is
   * set. Throws, naming the variable, on an incomplete or invalid set.
   */
  connect(env: Env, ctx: ConnectContext): Connection | undefined;
}
