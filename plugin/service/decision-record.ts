import { attributesOf, type AgentConfig, type AttributeValue, type Decision } from '../agent/index.ts';
import type { DecisionRow } from '../store/index.ts';

/**
 * The one decision shape the service answers with: the agent's `Decision` (less the raw user id
 * and the features, which stay in the log) plus the flat attributes that deliveries and Liquid read.
 */
export interface DecisionResponse {
  decisionId: string;
  agentId: string;
  agentVersion: number;
  /** When the decision was made (ISO-8601); a replay answers the logged decision's time. */
  at: string;
  holdout: boolean;
  deliver: boolean;
  reason: Decision['reason'];
  choices: Decision['choices'];
  probability: number;
  sendAt: string | null;
  suppressed?: Decision['suppressed'];
  /** Flat attributes ready for delivery (Braze custom attributes, HubSpot properties, Liquid). */
  attributes: Record<string, AttributeValue>;
  explanation?: Decision['explanation'];
  error?: { code: string; message: string };
  /** True when this requestId was answered before and the stored decision is returned. */
  replayed?: boolean;
}

/** What a logged decision keeps beside its row's columns (the store encodes it compactly). */
interface DecisionBody {
  choices: Decision['choices'];
  features: number[];
  sendAt?: string;
  suppressed?: Decision['suppressed'];
  explanation?: Decision['explanation'];
  /** The seq of the model snapshot the decision was made with (0: the agent's initial model). */
  model?: number;
}

export function toResponse(d: Decision, agent: AgentConfig | undefined): DecisionResponse {
  return {
    decisionId: d.decisionId,
    agentId: d.agentId,
    agentVersion: d.agentVersion,
    at: d.at,
    holdout: d.holdout,
    deliver: d.deliver,
    reason: d.reason,
    choices: d.choices,
    probability: d.probability,
    sendAt: d.sendAt ?? null,
    ...(d.suppressed ? { suppressed: d.suppressed } : {}),
    attributes: attributesOf(d, agent),
    ...(d.explanation ? { explanation: d.explanation } : {}),
  };
}

/** The decision as the store logs it, keyed by the user's keyed hash (never the raw id). */
export function rowFromDecision(
  workspace: string,
  d: Decision,
  userKey: string,
  requestId: string | null,
  windowMs: number,
  modelSeq: number,
): DecisionRow {
  const at = Date.parse(d.at);
  const body: DecisionBody = {
    choices: d.choices,
    features: d.features,
    sendAt: d.sendAt,
    suppressed: d.suppressed,
    explanation: d.explanation,
    model: modelSeq,
  };
  return {
    workspace,
    decisionId: d.decisionId,
    agentId: d.agentId,
    agentVersion: d.agentVersion,
    userKey,
    requestId,
    at,
    windowEnd: at + windowMs,
    holdout: d.holdout,
    deliver: d.deliver,
    reason: d.reason,
    probability: d.probability,
    body,
    reward: null,
    learned: false,
  };
}

/** The Decision back from its stored row (the raw user id is not stored: it comes back empty). */
export function decisionFromRow(row: DecisionRow): Decision {
  const body = row.body as DecisionBody;
  return {
    decisionId: row.decisionId,
    agentId: row.agentId,
    agentVersion: row.agentVersion,
    userId: '',
    at: new Date(row.at).toISOString(),
    holdout: row.holdout,
    choices: body.choices,
    probability: row.probability,
    sendAt: body.sendAt,
    deliver: row.deliver,
    reason: row.reason as Decision['reason'],
    suppressed: body.suppressed,
    features: body.features,
    explanation: body.explanation,
  };
}

export function responseFromRow(row: DecisionRow, agent: AgentConfig | undefined): DecisionResponse {
  return toResponse(decisionFromRow(row), agent);
}
