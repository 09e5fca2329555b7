import {
  attributesOf,
  type AgentConfig,
  type AttributeValue,
  type Decision,
  type Delivery,
  type Profile,
} from '../../plugin/agent/index.ts';
import { DECISION_EVENT } from './constants.ts';

/** How Segment data becomes nextbest data and back. Pure functions. */

/** True when `zone` is an IANA time zone this runtime knows. */
export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** A Profile from Segment traits; the time zone comes from `timezoneTrait` when it names a real zone. */
export function profileFromTraits(userId: string, traits: Record<string, unknown>, timezoneTrait: string): Profile {
  const tz = traits[timezoneTrait];
  return typeof tz === 'string' && isTimeZone(tz) ? { userId, traits, timezone: tz } : { userId, traits };
}

/** Deterministic messageIds: a retried delivery of the same decision is the same message, which Segment dedupes. */
export function decisionMessageIds(decisionId: string): { identify: string; track: string } {
  return { identify: `nb-identify-${decisionId}`, track: `nb-decision-${decisionId}` };
}

export interface IdentifyMessage {
  userId: string;
  messageId: string;
  timestamp: Date;
  traits: Record<string, AttributeValue>;
}

export interface TrackMessage {
  userId: string;
  messageId: string;
  timestamp: Date;
  event: string;
  properties: Record<string, AttributeValue>;
}

/** The `identify` carrying the decision as prefixed traits (`nb_subject_line`, …), as attributesOf builds them. */
export function identifyOf(d: Decision, agent: AgentConfig, delivery: Pick<Delivery, 'prefix'>): IdentifyMessage {
  return {
    userId: d.userId,
    messageId: decisionMessageIds(d.decisionId).identify,
    timestamp: new Date(d.at),
    traits: attributesOf(d, agent, delivery.prefix),
  };
}

/**
 * The `Decision Made` track: each dimension's arm (`channel: "email"`) and its probability
 * (`channel_probability`), then the decision's own fields, which win over a dimension of the same name.
 */
export function decisionTrackOf(d: Decision): TrackMessage {
  const properties: Record<string, AttributeValue> = {};
  for (const [dim, choice] of Object.entries(d.choices)) {
    properties[dim] = choice.arm;
    properties[`${dim}_probability`] = choice.probability;
  }
  Object.assign(properties, {
    decision_id: d.decisionId,
    agent_id: d.agentId,
    agent_version: d.agentVersion,
    holdout: d.holdout,
    deliver: d.deliver,
    reason: d.reason,
    probability: d.probability,
    send_at: d.sendAt ?? null,
  });
  return {
    userId: d.userId,
    messageId: decisionMessageIds(d.decisionId).track,
    timestamp: new Date(d.at),
    event: DECISION_EVENT,
    properties,
  };
}
