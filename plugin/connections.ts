import { brazeAdapter } from '../adapters/braze/index.ts';
import { hubspotAdapter } from '../adapters/hubspot/index.ts';
import type { Adapter, Connection, Env, WorkspaceStore } from '../adapters/kit/index.ts';
import { segmentAdapter } from '../adapters/segment/index.ts';
import { declareDestinations, type AgentConfig, type ProfileSource } from './agent/index.ts';
import { FileAudience } from './run/index.ts';
import type { ServerExtension, SinkFactory } from './service/index.ts';

/**
 * The composition root of the adapters: which vendors this process is connected to, read from
 * the environment (docs/braze.md, docs/segment.md, docs/hubspot.md). Only the CLI imports this
 * file, so that the service and the adapters never import each other.
 */
export interface Connections {
  /** Names of the connected vendors, for the start-up line. */
  connected: string[];
  /** Where decide reads profiles when a request carries no traits. */
  profileSource?: ProfileSource;
  /** The profile source that serves an audience reference of a run. */
  audienceSource(ref: string): ProfileSource | undefined;
  sinks: SinkFactory;
  extensions: ServerExtension[];
  /** Hands the workspace's store to each connected adapter that keeps what it learns there. */
  useStore(workspace: WorkspaceStore): void;
  close(): Promise<void>;
}

/** Every adapter this build knows, each defined by its folder's index.ts. */
export const ADAPTERS: readonly Adapter[] = [brazeAdapter, segmentAdapter, hubspotAdapter];

// Delivery entries may name what these adapters declare, in every process that connects them.
declareDestinations(ADAPTERS.map((a) => a.destination));

interface Connected extends Connection {
  name: string;
}

/**
 * Connects to every vendor whose variables are set. Audience references route by their form:
 * `file:PATH` → an NDJSON file; otherwise the adapter claiming the longest prefix of the
 * reference (HubSpot: `list:ID`, `search:…`; Segment: any other, an audience key). Throws, naming
 * the variable, on an incomplete or invalid set.
 */
export function connectFromEnv(env: Env, agents: readonly AgentConfig[]): Connections {
  const connected: Connected[] = [];
  for (const adapter of ADAPTERS) {
    const connection = adapter.connect(env, { agents });
    if (connection) connected.push({ ...connection, name: adapter.name });
  }
  const files = new FileAudience();
  return {
    connected: connected.map((c) => c.name),
    profileSource: chooseProfileSource(env.NEXTBEST_PROFILE_SOURCE, connected),
    audienceSource: (ref) => (FileAudience.isRef(ref) ? files : audienceOwner(ref, connected)?.profileSource),
    sinks: (agent, delivery) => {
      for (const c of connected) {
        const sink = c.sinks?.(agent, delivery);
        if (sink) return sink;
      }
      return undefined;
    },
    extensions: connected.flatMap((c) => c.extensions ?? []),
    useStore(workspace) {
      for (const c of connected) c.useStore?.(workspace);
    },
    async close() {
      for (const c of connected) await c.close?.();
    },
  };
}

/**
 * Where decide reads profiles: the connected profile source `NEXTBEST_PROFILE_SOURCE` names, or
 * the only one connected. Throws when the choice names no connected source, or when several are
 * connected and none is chosen.
 */
function chooseProfileSource(chosen: string | undefined, connected: readonly Connected[]): ProfileSource | undefined {
  const sources = connected.filter((c) => c.profileSource);
  const names = sources.map((c) => c.name);
  if (chosen) {
    const source = sources.find((c) => c.name === chosen)?.profileSource;
    if (source) return source;
    if (!ADAPTERS.some((a) => a.name === chosen))
      throw new Error(
        `NEXTBEST_PROFILE_SOURCE: must be the name of a connected profile source (${names.join(' or ') || 'none is connected'}), got ${JSON.stringify(chosen)}`,
      );
    throw new Error(
      `NEXTBEST_PROFILE_SOURCE: ${chosen} is chosen but not connected as a profile source (see docs/${chosen}.md)`,
    );
  }
  if (sources.length > 1)
    throw new Error(
      `NEXTBEST_PROFILE_SOURCE: ${names.join(' and ')} are connected; choose the one decide reads profiles from (${names.join(' or ')})`,
    );
  return sources[0]?.profileSource;
}

/** The connected adapter that serves `ref`: the one whose audience prefix is the longest that matches. */
function audienceOwner(ref: string, connected: readonly Connected[]): Connected | undefined {
  let best: { c: Connected; length: number } | undefined;
  for (const c of connected) {
    for (const prefix of c.audiencePrefixes ?? []) {
      if (ref.startsWith(prefix) && (!best || prefix.length > best.length)) best = { c, length: prefix.length };
    }
  }
  return best?.c;
}
