import type { MaskReason } from '../guardrails/index.ts';

/** A customer as the agent sees it. Adapters (ProfileSource) produce these. */
export interface Profile {
  userId: string;
  traits: Record<string, unknown>;
  /** IANA time zone, e.g. `Europe/Paris`; UTC when absent or unknown. */
  timezone?: string;
  /** Explicit consent per channel; overrides the consent traits named in the guardrails. */
  consent?: Record<string, boolean>;
}

/** Why a decision came out as it did (a closed set, as in OpenFeature's resolution reasons). */
export type DecisionReason = 'explore' | 'exploit' | 'holdout' | 'guardrail' | 'default' | 'error';

export interface Choice {
  arm: string;
  /** Probability with which this arm was chosen, given the earlier choices (1 for holdout defaults). */
  probability: number;
  /**
   * When the policy drew the arm (never for holdout defaults): `exploit` when it chose the
   * arm it estimates best (the most probable), `explore` otherwise.
   */
  reason?: 'exploit' | 'explore';
  /** The probability of the estimated best arm; 1 − best is the mass this dimension spent exploring. */
  best?: number;
}

export interface ArmView {
  arm: string;
  /** Estimated reward of the arm for this customer. */
  estimate: number;
  /** One standard deviation of uncertainty on the estimate. */
  uncertainty: number;
  probability: number;
}

export interface DimensionExplanation {
  dimension: string;
  chosen: string;
  runnerUp?: string;
  arms: ArmView[];
  /** Features that pushed the chosen arm ahead of the runner-up, largest first. */
  drivers: { feature: string; weight: number }[];
  /** Arms removed by guardrails before the distribution was computed, with the reason. */
  masked: { arm: string; reason: MaskReason }[];
}

export interface Decision {
  decisionId: string;
  agentId: string;
  agentVersion: number;
  userId: string;
  /** Decision time, ISO-8601. */
  at: string;
  holdout: boolean;
  /** The decided dimensions only: a dimension whose `when` did not hold has no entry. */
  choices: Record<string, Choice>;
  /** Joint probability of the choices: the product over the decided dimensions. */
  probability: number;
  /** When to send (ISO-8601): the chosen local hour, outside quiet hours. Absent when nothing is delivered. */
  sendAt?: string;
  /** False when the decision is to skip, or guardrails left nothing to send. */
  deliver: boolean;
  reason: DecisionReason;
  /** Set when guardrails stopped the decision: which dimension ran out of arms (absent for a global cap) and why. */
  suppressed?: { dimension?: string; reasons: MaskReason[] };
  /** Encoded base context (the agent's features) at decision time, so learning sees what deciding saw. */
  features: number[];
  explanation?: DimensionExplanation[];
}
