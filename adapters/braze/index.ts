import { brazeDestination } from './destination.ts';
import { z } from 'zod';
import type { AgentConfig, DecisionSink, Delivery } from '../../plugin/agent/index.ts';
import type { Adapter } from '../kit/index.ts';
import { BrazeClient, type BrazeClientOptions } from './client.ts';
import { CURRENTS_WAIT_MINUTES_DEFAULT, TRACK_BATCH_DEFAULT, TRACK_BATCH_MAX } from './constants.ts';
import { brazeCurrents } from './currents.ts';
import { BrazeAttributesSink, BrazeTriggerSink } from './sinks.ts';

export * from './client.ts';
export * from './constants.ts';
export * from './currents.ts';
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
  BRAZE_UPDATE_EXISTING_ONLY: z
    .enum(['true', 'false'], { error: 'must be true or false' })
    .default('true')
    .describe(
      'Attributes sink: write only onto profiles Braze already has (_update_existing_only). false lets a decided id unknown to Braze become a new, billable profile.',
    ),
  BRAZE_CONFIRM_DELAYS_MS: z
    .string()
    .regex(/^\d{1,7}(,\d{1,7}){0,9}$/, 'must be up to 10 waits in milliseconds, comma-separated (e.g. 5000,15000)')
    .optional()
    .describe(
      'The waits before each read that confirms a send left in doubt (Braze reads lag behind writes); default 5000,15000,45000,135000.',
    ),
  BRAZE_CURRENTS_TOKEN: z
    .string()
    .min(16, 'must be at least 16 characters (the bearer token set on the Currents connector)')
    .optional()
    .describe(
      'The bearer token of the Braze Currents custom HTTP connector; set, it enables the Currents endpoint and proof of send.',
    ),
  BRAZE_CURRENTS_WAIT_MINUTES: z.coerce
    .number()
    .int()
    .min(1, 'must be at least 1')
    .max(7 * 24 * 60, 'must be at most a week (10080)')
    .default(CURRENTS_WAIT_MINUTES_DEFAULT)
    .describe('How long Currents may take to report a triggered send before its decision counts as not sent.'),
});

/** How the sinks of a connection write: the options the environment sets. */
export interface BrazeDeliverySettings {
  trackBatchSize?: number;
  /** Attributes sink: `_update_existing_only` (default true). */
  updateExistingOnly?: boolean;
  /** Trigger sinks: the wait for a Currents report of each send; undefined when Currents is not connected. */
  sendProofWithinMs?: number;
  /** The waits before each read confirming a send left in doubt (default CONFIRM_DELAYS_MS). */
  confirmDelaysMs?: readonly number[];
  sleep?: (ms: number) => Promise<void>;
  clock?: () => number;
}

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
  return brazeConnection(new BrazeClient({ baseUrl: e.BRAZE_REST_ENDPOINT, apiKey: e.BRAZE_API_KEY, ...client }), {
    trackBatchSize: e.BRAZE_TRACK_BATCH_SIZE,
    updateExistingOnly: e.BRAZE_UPDATE_EXISTING_ONLY === 'true',
    ...(e.BRAZE_CONFIRM_DELAYS_MS && { confirmDelaysMs: e.BRAZE_CONFIRM_DELAYS_MS.split(',').map(Number) }),
    ...(e.BRAZE_CURRENTS_TOKEN && { sendProofWithinMs: e.BRAZE_CURRENTS_WAIT_MINUTES * 60_000 }),
  });
}

export function brazeConnection(client: BrazeClient, settings: BrazeDeliverySettings = {}): BrazeConnection {
  const trackBatchSize = settings.trackBatchSize ?? TRACK_BATCH_DEFAULT;
  const { clock, updateExistingOnly, sendProofWithinMs, confirmDelaysMs, sleep } = settings;
  const common = { client, clock, confirmDelaysMs, sleep };
  return {
    client,
    trackBatchSize,
    sinkFor(agent, delivery) {
      if (delivery.to !== 'braze') return undefined;
      return delivery.mode === 'attributes'
        ? new BrazeAttributesSink({ ...common, agent, delivery, batchSize: trackBatchSize, updateExistingOnly })
        : new BrazeTriggerSink({ ...common, agent, delivery, sendProofWithinMs });
    },
  };
}

/**
 * The Braze adapter: delivery through the REST API, and Braze Currents (outcomes and proof of
 * send) when BRAZE_CURRENTS_TOKEN is set (docs/braze.md). Connected Content needs no connection.
 */
export const brazeAdapter: Adapter = {
  name: 'braze',
  envSchema: brazeEnvSchema,
  destination: brazeDestination,
  connect(env) {
    const braze = brazeFromEnv(env);
    const token = brazeEnvSchema.parse(env).BRAZE_CURRENTS_TOKEN;
    if (!braze && !token) return undefined;
    return { ...(braze && { sinks: braze.sinkFor }), ...(token && { extensions: [brazeCurrents({ token })] }) };
  },
};
