import type { ActionDefinition, JSONLikeObject, RequestClient } from '@segment/actions-core';
import { DECIDE_BATCH_MAX } from '../../../plugin/service/inputs.ts';
import { allFailed, multiStatus, nextbestError, sendLeavingOutNamed, type ItemResult } from './responses.ts';
import { nextbestUrl, type Settings } from './settings.ts';

/** The decision action's fields, as the mapping produces them. */
export interface DecidePayload {
  agent_id: string;
  user_id: string;
  traits?: Record<string, unknown>;
  timezone?: string;
  context?: Record<string, unknown>;
  request_id?: string;
  enable_batching?: boolean;
  batch_size?: number;
}

/** `POST /v1/agents/{agentId}/decide`'s body for one payload (only what is set: nextbest refuses unknown fields). */
export function decideBody(p: DecidePayload): JSONLikeObject {
  return {
    userId: p.user_id,
    ...(p.traits ? { traits: p.traits as JSONLikeObject } : {}),
    ...(p.timezone ? { timezone: p.timezone } : {}),
    ...(p.context ? { context: p.context as JSONLikeObject } : {}),
    ...(p.request_id ? { requestId: p.request_id } : {}),
  };
}

const agentPath = (agentId: string, suffix: string) => `/v1/agents/${encodeURIComponent(agentId)}/${suffix}`;

/**
 * Asks nextbest for a decision when the subscribed event arrives (a cart abandoned, an audience
 * entered). nextbest decides under the agent's guardrails, logs the decision with its propensity,
 * and answers it; the `requestId` is the event's messageId, so a retry by Segment gets the same
 * decision rather than a second one, and a later render that passes the same id (Braze Connected
 * Content's `request_id`) reads it back.
 */
export const decideAction: ActionDefinition<Settings, DecidePayload> = {
  title: 'Request a decision',
  description:
    'Ask a nextbest agent to decide for this user (subject line, content block, channel, send time); nextbest logs the decision so that outcomes can be attributed to it.',
  fields: {
    agent_id: {
      label: 'Agent',
      description: 'Id of the nextbest agent that decides (the `id` of an agent in your nextbest config).',
      type: 'string',
      required: true,
    },
    user_id: {
      label: 'User ID',
      description:
        'The user the decision is for; nextbest reads their traits from the Profile API unless Traits are mapped.',
      type: 'string',
      required: true,
      default: { '@path': '$.userId' },
    },
    traits: {
      label: 'Traits',
      description:
        'Traits to decide with instead of reading the profile (leave empty to let nextbest read the Segment Profile API).',
      type: 'object',
      required: false,
    },
    timezone: {
      label: 'Time zone',
      description: "The user's IANA time zone (quiet hours, send times).",
      type: 'string',
      required: false,
      default: { '@path': '$.context.timezone' },
    },
    context: {
      label: 'Request context',
      description: 'Request-time context merged over the traits (e.g. the page or cart of this event).',
      type: 'object',
      required: false,
    },
    request_id: {
      label: 'Request ID',
      description:
        'Idempotency key: the same id gets the same decision. The default, the event messageId, makes Segment retries safe.',
      type: 'string',
      required: false,
      default: { '@path': '$.messageId' },
    },
    enable_batching: {
      label: 'Batch requests',
      description: 'Send decisions to nextbest in batches (decide:batch, one line per user).',
      type: 'boolean',
      required: false,
      default: false,
    },
    batch_size: {
      label: 'Batch size',
      description: `Users per decide:batch request (at most ${DECIDE_BATCH_MAX}).`,
      type: 'number',
      required: false,
      default: 100,
      minimum: 1,
      maximum: DECIDE_BATCH_MAX,
    },
  },
  perform: (request, { settings, payload }) =>
    request(nextbestUrl(settings, agentPath(payload.agent_id, 'decide')), {
      method: 'POST',
      json: decideBody(payload),
    }),
  performBatch: async (request, { settings, payload }) => {
    const results: ItemResult[] = new Array(payload.length);
    for (const [agentId, indexes] of byAgent(payload)) {
      const users = indexes.map((i) => payload[i]);
      const answered = await decideBatch(request, settings, agentId, users);
      indexes.forEach((i, k) => (results[i] = answered[k]));
    }
    return multiStatus(results, payload.map(decideBody));
  },
};

function byAgent(payload: readonly DecidePayload[]): Map<string, number[]> {
  const groups = new Map<string, number[]>();
  payload.forEach((p, i) => groups.set(p.agent_id, [...(groups.get(p.agent_id) ?? []), i]));
  return groups;
}

/**
 * One decide:batch call. nextbest refuses the whole body when a user in it is invalid (a 400
 * naming `users[i]`): those users are refused and the others sent again (sendLeavingOutNamed).
 * Otherwise it streams one NDJSON line per user in input order (a decision, or `{userId, error}`
 * for a user it could not decide for), and a last `{error: {code: "batch_failed"}}` line when it
 * stopped early: the users without a line then get a 500, which Segment retries.
 */
function decideBatch(
  request: RequestClient,
  settings: Settings,
  agentId: string,
  users: readonly DecidePayload[],
): Promise<ItemResult[]> {
  return sendLeavingOutNamed(users, 'users', async (some) => {
    const response = await request(nextbestUrl(settings, agentPath(agentId, 'decide:batch')), {
      method: 'POST',
      json: { users: some.map(decideBody) },
      throwHttpErrors: false,
    });
    const results = (): ItemResult[] => {
      if (response.status !== 200) return allFailed(some.length, response.status, response.data);
      const lines = String(response.content)
        .split('\n')
        .filter((line) => line.trim() !== '')
        .map((line) => JSON.parse(line) as JSONLikeObject);
      return some.map((_, k) => lineResult(lines[k]));
    };
    return { status: response.status, data: response.data, results };
  });
}

function lineResult(line: JSONLikeObject | undefined): ItemResult {
  if (line === undefined || typeof line.decisionId !== 'string') {
    const error = nextbestError(line);
    if (error && error.code !== 'batch_failed') return { ok: false, status: 400, message: error.message, body: line };
    return { ok: false, status: 500, message: 'nextbest stopped the batch before this user: send again' };
  }
  return { ok: true, status: 200, body: line };
}
