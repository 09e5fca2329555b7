import { z } from 'zod';
import { brazeFromEnv } from '../adapters/braze/index.ts';
import { hubspotFromEnv } from '../adapters/hubspot/index.ts';
import { segmentFromEnv } from '../adapters/segment/index.ts';
import type { AgentConfig, ProfileSource } from './agent/index.ts';
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
  close(): Promise<void>;
}

const choiceSchema = z.object({ NEXTBEST_PROFILE_SOURCE: z.enum(['segment', 'hubspot']).optional() });

const HUBSPOT_VARS = ['HUBSPOT_PRIVATE_APP_TOKEN', 'HUBSPOT_CLIENT_ID', 'HUBSPOT_CLIENT_SECRET'];

/**
 * Connects to every vendor whose variables are set. Audience references route by their form:
 * `file:PATH` → an NDJSON file; `list:ID` and `search:…` → HubSpot; anything else → the Segment
 * audience of that key. Throws, naming the variable, on an incomplete or invalid set.
 */
export function connectFromEnv(env: Record<string, string | undefined>, agents: readonly AgentConfig[]): Connections {
  const braze = brazeFromEnv(env);
  const segment = segmentFromEnv(env);
  const hubspot = HUBSPOT_VARS.some((v) => env[v]) ? hubspotFromEnv(env, { agents }) : undefined;
  const choice = choiceSchema.safeParse(env);
  if (!choice.success) throw new Error(`NEXTBEST_PROFILE_SOURCE: must be segment or hubspot, got ${JSON.stringify(env.NEXTBEST_PROFILE_SOURCE)}`);
  const sources = { segment: segment.profiles, hubspot: hubspot?.profileSource };
  const chosen = choice.data.NEXTBEST_PROFILE_SOURCE;
  if (chosen && !sources[chosen]) throw new Error(`NEXTBEST_PROFILE_SOURCE: ${chosen} is chosen but not connected (see docs/${chosen}.md)`);
  if (!chosen && sources.segment && sources.hubspot) throw new Error('NEXTBEST_PROFILE_SOURCE: both Segment and HubSpot are connected; choose the one decide reads profiles from (segment or hubspot)');
  const profileSource = chosen ? sources[chosen] : (sources.segment ?? sources.hubspot);
  const files = new FileAudience();
  const factories = [braze?.sinkFor, segment.sinks, hubspot?.sinks].filter((f): f is SinkFactory => f !== undefined);
  return {
    connected: [braze && 'braze', (segment.profiles || segment.webhook || segment.sinks) && 'segment', hubspot && 'hubspot'].filter((n): n is string => typeof n === 'string'),
    profileSource,
    audienceSource(ref) {
      if (FileAudience.isRef(ref)) return files;
      if (ref.startsWith('list:') || ref.startsWith('search:')) return hubspot?.profileSource;
      return segment.profiles;
    },
    sinks: (agent, delivery) => {
      for (const f of factories) {
        const sink = f(agent, delivery);
        if (sink) return sink;
      }
      return undefined;
    },
    extensions: [segment.webhook, hubspot?.extension].filter((e): e is ServerExtension => e !== undefined),
    async close() {
      await hubspot?.close();
    },
  };
}
