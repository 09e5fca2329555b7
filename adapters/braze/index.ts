import { brazeDestination } from './destination.ts';
import { z } from 'zod';
import type { AgentConfig, DecisionSink, Delivery } from '../../plugin/agent/index.ts';
import type { Adapter } from '../kit/index.ts';
import { BrazeClient, type BrazeClientOptions } from './client.ts';
import { TRACK_BATCH_DEFAULT, TRACK_BATCH_MAX } from './constants.ts';
import { BrazeAttributesSink, BrazeTriggerSink } from './sinks.ts';

export * from './client.ts';
export * from './constants.ts';
export * from './sinks.ts';

export const brazeEnvSchema = z.object({
  BRAZE_REST_ENDPOINT: z
    .url({ error: "must be your cluster's REST endpoint, e.g. https://rest.iad-01.braze.com" })
    .optional(),
  BRAZE_API_KEY: z.string().min(1, 'must not be empty').optional(),
  BRAZE_TRACK_BATCH_SIZE: z.coerce
    .number()
    .int()
    .min(1)
    .max(TRACK_BATCH_MAX, `must be at most ${TRACK_BATCH_MAX} (Braze's limit)`)
    .default(TRACK_BATCH_DEFAULT),
});

export interface BrazeConnection {
  client: BrazeClient;
  trackBatchSize: number;
  /** The sink of a `to: braze` delivery entry (undefined for other destinations). */
  sinkFor(agent: AgentConfig, delivery: Delivery): DecisionSink | undefined;
}

/**
 * The Braze connection described by the environment, or undefined when BRAZE_REST_ENDPOINT and
 * BRAZE_API_KEY are both unset. Throws naming the variable when one is set without the other or
 * a value is invalid.
 */
export function brazeFromEnv(
  env: Record<string, string | undefined>,
  client: Partial<BrazeClientOptions> = {},
): BrazeConnection | undefined {
  const parsed = brazeEnvSchema.safeParse(env);
  if (!parsed.success) throw new Error(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
  const e = parsed.data;
  if (!e.BRAZE_REST_ENDPOINT && !e.BRAZE_API_KEY) return undefined;
  if (!e.BRAZE_REST_ENDPOINT) throw new Error('BRAZE_REST_ENDPOINT: is required when BRAZE_API_KEY is set');
  if (!e.BRAZE_API_KEY) throw new Error('BRAZE_API_KEY: is required when BRAZE_REST_ENDPOINT is set');
  return brazeConnection(
    new BrazeClient({ baseUrl: e.BRAZE_REST_ENDPOINT, apiKey: e.BRAZE_API_KEY, ...client }),
    e.BRAZE_TRACK_BATCH_SIZE,
  );
}

export function brazeConnection(
  client: BrazeClient,
  trackBatchSize = TRACK_BATCH_DEFAULT,
  clock?: () => number,
): BrazeConnection {
  return {
    client,
    trackBatchSize,
    sinkFor(agent, delivery) {
      if (delivery.to !== 'braze') return undefined;
      return delivery.mode === 'attributes'
        ? new BrazeAttributesSink({ client, agent, delivery, batchSize: trackBatchSize, clock })
        : new BrazeTriggerSink({ client, agent, delivery, clock });
    },
  };
}

/** The Braze adapter: delivery through the REST API (docs/braze.md). Connected Content needs no connection. */
export const brazeAdapter: Adapter = {
  name: 'braze',
  envSchema: brazeEnvSchema,
  destination: brazeDestination,
  connect(env) {
    const braze = brazeFromEnv(env);
    return braze && { sinks: braze.sinkFor };
  },
};
