import type { ActionDefinition, JSONLikeObject, ModifiedResponse, RequestClient } from '@segment/actions-core';
import { EVENTS_BATCH_MAX } from '../../../plugin/service/inputs.ts';
import { allFailed, multiStatus, sendLeavingOutNamed, type ItemResult } from './responses.ts';
import { nextbestUrl, type Settings } from './settings.ts';

/** The outcome action's fields, as the mapping produces them. */
export interface OutcomePayload {
  type: string;
  message_id: string;
  user_id: string;
  event?: string;
  properties?: Record<string, unknown>;
  traits?: Record<string, unknown>;
  timestamp?: string;
  enable_batching?: boolean;
  batch_size?: number;
}

/** The Segment-spec event `POST /v1/events` takes for one payload. */
export function outcomeEvent(p: OutcomePayload): JSONLikeObject {
  return {
    type: p.type,
    messageId: p.message_id,
    userId: p.user_id,
    ...(p.event ? { event: p.event } : {}),
    ...(p.properties ? { properties: p.properties as JSONLikeObject } : {}),
    ...(p.traits ? { traits: p.traits as JSONLikeObject } : {}),
    ...(p.timestamp ? { timestamp: p.timestamp } : {}),
  };
}

/**
 * Sends outcome events (purchases, email engagement) and profile updates to nextbest, which
 * stores them once per messageId and credits them to the decisions they follow.
 */
export const sendOutcomeAction: ActionDefinition<Settings, OutcomePayload> = {
  title: 'Send outcome event',
  description:
    'Send track events (outcomes such as Order Completed or Email Opened) and identify calls to nextbest, which learns from them.',
  defaultSubscription: 'type = "track" or type = "identify"',
  fields: {
    type: {
      label: 'Type',
      description: 'The Segment event type.',
      type: 'string',
      required: true,
      choices: ['track', 'identify', 'page', 'screen', 'group', 'alias'],
      default: { '@path': '$.type' },
    },
    message_id: {
      label: 'Message ID',
      description: 'Unique id of the event; nextbest stores each messageId once, so retries are harmless.',
      type: 'string',
      required: true,
      default: { '@path': '$.messageId' },
    },
    user_id: {
      label: 'User ID',
      description: 'The user the outcome belongs to (anonymous events cannot be credited to a decision).',
      type: 'string',
      required: true,
      default: { '@path': '$.userId' },
    },
    event: {
      label: 'Event name',
      description: 'The track event name, matched against the agents\' goal.rewards (e.g. "Order Completed").',
      type: 'string',
      required: false,
      default: { '@path': '$.event' },
    },
    properties: {
      label: 'Properties',
      description: 'Event properties; `decision_id` credits that decision, `revenue` can be a reward value.',
      type: 'object',
      required: false,
      default: { '@path': '$.properties' },
    },
    traits: {
      label: 'Traits',
      description: 'Traits of an identify call (nextbest drops its cached profile so the next decision sees them).',
      type: 'object',
      required: false,
      default: { '@path': '$.traits' },
    },
    timestamp: {
      label: 'Timestamp',
      description: 'When the event happened; attribution windows are measured from it.',
      type: 'datetime',
      required: false,
      default: { '@path': '$.timestamp' },
    },
    enable_batching: {
      label: 'Batch requests',
      description: 'Send events to nextbest in batches ({"batch": [...]}, as Segment\'s HTTP API).',
      type: 'boolean',
      required: false,
      default: true,
    },
    batch_size: {
      label: 'Batch size',
      description: `Events per request (at most ${EVENTS_BATCH_MAX}, and 512 KB: 250 fits full events).`,
      type: 'number',
      required: false,
      default: 250,
      minimum: 1,
      maximum: EVENTS_BATCH_MAX,
    },
  },
  perform: (request, { settings, payload }) =>
    request(nextbestUrl(settings, '/v1/events'), { method: 'POST', json: outcomeEvent(payload) }),
  performBatch: async (request, { settings, payload }) => {
    const events = payload.map(outcomeEvent);
    return multiStatus(await sendBatch(request, settings, events), events);
  },
};

/**
 * `POST /v1/events {batch}`, which nextbest accepts whole or refuses whole: the events a 400 names
 * are refused and the rest sent again (sendLeavingOutNamed). Events nextbest left out as outside
 * its time window are refused as well, naming why.
 */
function sendBatch(request: RequestClient, settings: Settings, events: JSONLikeObject[]): Promise<ItemResult[]> {
  return sendLeavingOutNamed(events, 'batch', async (some) => {
    const response = await request(nextbestUrl(settings, '/v1/events'), {
      method: 'POST',
      json: { batch: [...some] },
      throwHttpErrors: false,
    });
    return { status: response.status, data: response.data, results: () => resultsOf(response, some) };
  });
}

function resultsOf(response: ModifiedResponse, events: readonly JSONLikeObject[]): ItemResult[] {
  if (response.status >= 300) return allFailed(events.length, response.status, response.data);
  const body = response.data as JSONLikeObject;
  const outOfWindow = new Map(
    ((body.outOfWindow ?? []) as { messageId: string; message: string }[]).map((o) => [o.messageId, o.message]),
  );
  return events.map((e) => {
    const why = outOfWindow.get(String(e.messageId));
    return why === undefined
      ? { ok: true as const, status: 200, body }
      : { ok: false as const, status: 400, message: `left out: ${why}` };
  });
}
