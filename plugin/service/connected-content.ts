import { randomUUID } from 'node:crypto';
import { attributePrefix, defaultDecision, type AgentConfig, type AttributeValue } from '../agent/index.ts';
import { decide } from './decide.ts';
import { toResponse } from './decision-record.ts';
import { RequestError, ValidationError } from './errors.ts';
import { requestKeyOf, userKeyOf } from './keys.ts';
import { agentOf, type ServiceState } from './state.ts';

/**
 * The fail-open cache's key: the user's keyed hash first, so that erasure finds the user's
 * entries, and the request's (request ids often hold the user id): never a raw id.
 */
export function failedOpenKey(userKey: string, agentId: string, requestKey: string): string {
  return `${userKey}\u0000${agentId}\u0000${requestKey}`;
}

/** How long Connected Content waits for a profile before answering the defaults (Braze gives up at 2 s). */
export const CONNECTED_CONTENT_PROFILE_BUDGET_MS = 1000;

/**
 * Answers for the Braze Connected Content route: the decision's flat attributes plus
 * `<prefix>reason`. It fails open, because a send must never break: when the profile cannot be
 * read within `profileBudgetMs` or the decision fails, the answer is the default arms with
 * `<prefix>deliver: true` and reason `error`. `<prefix>deliver` is false only for a real
 * decision not to send (frequency skip, or a guardrail), which the Liquid maps to abort_message.
 * The same `requestId` (Braze renders a message several times) gets the same decision. With
 * `channel` (the message's channel, from the template), the channel dimension is pinned to it:
 * chosen with probability 1 when the guardrails allow it (consent, caps), else the decision says
 * not to deliver; a fail-open answer carries that channel too.
 */
export async function connectedContent(
  state: ServiceState,
  agentId: string,
  userId: string,
  options: { requestId?: string; profileBudgetMs?: number; channel?: string } = {},
): Promise<Record<string, AttributeValue>> {
  const agent = agentOf(state, agentId);
  const prefix = attributePrefix(agent.config);
  const pin = channelPin(agent.config, options.channel);
  // A fail-open answer is not logged, so it is remembered here: the other renders of the same
  // message (HTML, text, retries) must show the same defaults rather than a fresh decision.
  const sticky = options.requestId
    ? failedOpenKey(userKeyOf(state.secret, userId), agentId, requestKeyOf(state.secret, options.requestId))
    : undefined;
  const remembered = sticky ? state.failedOpen.get(sticky) : undefined;
  if (remembered) return remembered;
  let answer: Record<string, AttributeValue>;
  try {
    const request = { userId, ...(options.requestId ? { requestId: options.requestId } : {}) };
    const r = await decide(state, agentId, request, {
      profileBudgetMs: options.profileBudgetMs ?? CONNECTED_CONTENT_PROFILE_BUDGET_MS,
      ...(pin && { pin }),
    });
    if (r.reason !== 'error') return { ...r.attributes, [`${prefix}reason`]: r.reason };
    answer = { ...r.attributes, [`${prefix}reason`]: 'error', [`${prefix}deliver`]: true };
  } catch (err) {
    // an unknown agent is the template's error; anything else (a requestId already used for
    // another user) must not break the send
    if (err instanceof RequestError && err.status === 404) throw err;
    state.log.error({ err, agentId }, 'connected content failed; answering with defaults');
    const d = defaultDecision(agent.config, agent.version, { userId, traits: {} }, state.clock(), randomUUID(), false);
    answer = { ...toResponse(d, agent.config).attributes, [`${prefix}reason`]: 'error', [`${prefix}deliver`]: true };
  }
  if (pin) answer = { ...answer, [`${prefix}channel`]: pin.channel! };
  if (sticky) state.failedOpen.set(sticky, answer);
  return answer;
}

/** `{channel: <arm>}` for a channel the agent's channel dimension has; a 400 naming `channel` otherwise. */
function channelPin(agent: AgentConfig, channel: string | undefined): Record<string, string> | undefined {
  if (channel === undefined) return undefined;
  const arms = agent.dimensions.find((d) => d.id === 'channel')?.arms.map((a) => a.id);
  if (!arms)
    throw new ValidationError(`query.channel: agent ${agent.id} has no channel dimension to pin`, [
      { path: 'query.channel', message: 'the agent has no channel dimension' },
    ]);
  if (!arms.includes(channel))
    throw new ValidationError(`query.channel: must be one of ${arms.join(', ')}, got ${JSON.stringify(channel)}`, [
      { path: 'query.channel', message: `must be one of ${arms.join(', ')}` },
    ]);
  return { channel };
}
