import { sampleArm, unitHash, type Rng, type SparseContext } from '../bandit/index.ts';
import type { AgentConfig } from '../config/index.ts';
import {
  CHANNEL_DIMENSION,
  localTime,
  matches,
  maskArms,
  nextSendAt,
  suppressed,
  type GuardrailContext,
  type MaskReason,
} from '../guardrails/index.ts';
import { dimensionContext } from './context.ts';
import type { AgentModel } from './model.ts';
import type { Choice, Decision, DimensionExplanation, Profile } from './types.ts';

export interface DecideOptions {
  /** Id for the decision; drawn from `rng` when absent. Callers fork `rng` by this id. */
  decisionId?: string;
  /** This user's recent deliveries (any agent), for frequency caps. */
  recentSends?: { at: number; channel?: string }[];
  /** Request-time context merged over the profile's traits. */
  context?: Record<string, unknown>;
  /** Build the per-arm explanation (costs O(K·d²) per dimension more). */
  explain?: boolean;
  /**
   * Dimensions fixed by the request, by id (Braze Connected Content's `channel`: an email render
   * must get an email decision): the other arms are masked (`pinned`), so the pinned arm is
   * chosen with probability 1 when the guardrails allow it, and the decision is suppressed when
   * they do not. A holdout customer gets the pinned arm instead of the default.
   */
  pin?: Readonly<Record<string, string>>;
}

/** The dimension whose `skip` arm means "send nothing this time". */
export const FREQUENCY_DIMENSION = 'frequency';
export const SKIP_ARM = 'skip';

/**
 * Decides every dimension of `agent` for one customer.
 *
 * Dimensions are decided in their declared order; a dimension whose `when` does not hold is not
 * decided, and nothing after `frequency = skip` is. For each one, the guardrails mask arms first, the policy returns the exact
 * distribution over what is left, and an arm is sampled from it with `rng`. Holdout customers
 * (a stable keyed hash of the user id below `agent.holdout`) get the default arms with
 * probability 1. When guardrails leave a dimension without arms, the decision is suppressed:
 * `deliver` is false and `suppressed` says where and why.
 *
 * Pure: the time is `now` (epoch ms) and all randomness comes from `rng`.
 */
export function decide(
  agent: AgentConfig,
  model: AgentModel,
  profile: Profile,
  now: number,
  rng: Rng,
  options: DecideOptions = {},
): Decision {
  const decisionId = options.decisionId ?? rng.id();
  const traits = options.context ? { ...profile.traits, ...options.context } : profile.traits;
  const local = localTime(now, profile.timezone);
  const features = new Array<number>(model.encoder.dim);
  const base = model.scratch.base;
  model.encoder.encode({ traits, now, localHour: local.hour, localWeekday: local.weekday }, base);
  for (let i = 0; i < features.length; i++) features[i] = base[i];

  const holdout = unitHash(agent.salt, profile.userId) < agent.holdout;
  const choices: Record<string, Choice> = {};
  const plain: Record<string, string> = {};
  const decision = newDecision(
    agent,
    model.agentVersion,
    profile.userId,
    now,
    decisionId,
    holdout,
    holdout ? 'holdout' : 'exploit',
    choices,
    features,
  );
  const ctx: GuardrailContext = {
    traits,
    consent: profile.consent,
    timeZone: profile.timezone,
    now,
    choices: plain,
    recentSends: options.recentSends,
  };

  const globalStop = suppressed(agent, ctx);
  if (globalStop) return stop(decision, undefined, [globalStop]);
  // A customer no channel may reach (consent, channel caps) is stopped before anything is
  // decided: otherwise the dimensions before channel (frequency) would choose, and learn, for a
  // message that can never be sent.
  const channel = agent.dimensions.findIndex((d) => d.id === CHANNEL_DIMENSION && !d.when);
  if (
    channel >= 0 &&
    pinArms(
      model.dimensions[channel].armIds,
      options.pin?.[CHANNEL_DIMENSION],
      model.scratch.eligible[channel],
      model.scratch.reasons[channel],
      maskArms(agent, channel, ctx, model.scratch.eligible[channel], model.scratch.reasons[channel]),
    ) === 0
  ) {
    return stop(decision, CHANNEL_DIMENSION, model.scratch.reasons[channel]);
  }

  const explanation: DimensionExplanation[] | undefined = options.explain ? [] : undefined;
  let explored = false;
  for (let j = 0; j < agent.dimensions.length; j++) {
    const dim = agent.dimensions[j];
    if (dim.when && !matches(dim.when, { traits, choices: plain })) continue;
    const eligible = model.scratch.eligible[j];
    const reasons = model.scratch.reasons[j];
    const armIds = model.dimensions[j].armIds;
    const pinned = options.pin?.[dim.id];
    const allowed = pinArms(armIds, pinned, eligible, reasons, maskArms(agent, j, ctx, eligible, reasons));
    if (allowed === 0) return stop(decision, dim.id, reasons);

    let arm: number;
    let probability: number;
    if (holdout) {
      arm = armIds.indexOf(pinned ?? dim.default);
      if (arm < 0 || !eligible[arm]) return stop(decision, dim.id, reasons[arm] ? [reasons[arm]!] : []);
      probability = 1;
    } else {
      const x = model.scratch.x[j];
      dimensionContext(agent, model, j, base, choices, x);
      const probabilities = model.scratch.probabilities[j];
      model.dimensions[j].policy.distribution(x, eligible, rng, probabilities);
      arm = sampleArm(probabilities, rng);
      probability = probabilities[arm];
      const best = maxOf(probabilities);
      if (probability < best) explored = true;
      if (explanation) explanation.push(explainDimension(agent, model, j, x, arm));
      choices[dim.id] = { arm: armIds[arm], probability, reason: probability < best ? 'explore' : 'exploit', best };
    }
    choices[dim.id] ??= { arm: armIds[arm], probability };
    plain[dim.id] = armIds[arm];
    decision.probability *= probability;
    // Skipping sends nothing, so the remaining dimensions have nothing to choose for (and must
    // not learn from an outcome no message of theirs caused).
    if (dim.id === FREQUENCY_DIMENSION && armIds[arm] === SKIP_ARM) break;
  }

  if (!holdout) decision.reason = explored ? 'explore' : 'exploit';
  if (explanation) decision.explanation = explanation;
  if (plain[FREQUENCY_DIMENSION] === SKIP_ARM) return decision;
  decision.deliver = true;
  const hourDim = agent.dimensions.find((d) => d.type === 'local_hour' && plain[d.id] !== undefined);
  const hour = hourDim ? hourDim.arms.find((a) => a.id === plain[hourDim.id])?.hour : undefined;
  decision.sendAt = new Date(nextSendAt(now, profile.timezone, hour, agent.guardrails.quiet_hours)).toISOString();
  return decision;
}

/** Masks every allowed arm but `pinned` (when given) as `pinned`; returns how many arms remain allowed. */
function pinArms(
  armIds: readonly string[],
  pinned: string | undefined,
  eligible: Uint8Array,
  reasons: (MaskReason | undefined)[],
  allowed: number,
): number {
  if (pinned === undefined) return allowed;
  let left = 0;
  for (let a = 0; a < armIds.length; a++) {
    if (eligible[a] && armIds[a] !== pinned) {
      eligible[a] = 0;
      reasons[a] = 'pinned';
    }
    left += eligible[a];
  }
  return left;
}

/** The agent's default arms, for a decision that could not be made (store down, bad state). */
export function defaultDecision(
  agent: AgentConfig,
  agentVersion: number,
  profile: Profile,
  now: number,
  decisionId: string,
  holdout: boolean,
): Decision {
  const choices: Record<string, Choice> = {};
  const plain: Record<string, string> = {};
  for (const dim of agent.dimensions) {
    if (dim.when && !matches(dim.when, { traits: profile.traits, choices: plain })) continue;
    choices[dim.id] = { arm: dim.default, probability: 1 };
    plain[dim.id] = dim.default;
  }
  return newDecision(agent, agentVersion, profile.userId, now, decisionId, holdout, 'error', choices, []);
}

/** A decision that delivers nothing yet, with joint probability 1. */
function newDecision(
  agent: AgentConfig,
  agentVersion: number,
  userId: string,
  now: number,
  decisionId: string,
  holdout: boolean,
  reason: Decision['reason'],
  choices: Record<string, Choice>,
  features: number[],
): Decision {
  return {
    decisionId,
    agentId: agent.id,
    agentVersion,
    userId,
    at: new Date(now).toISOString(),
    holdout,
    choices,
    probability: 1,
    deliver: false,
    reason,
    features,
  };
}

function stop(
  decision: Decision,
  dimension: string | undefined,
  reasons: readonly (MaskReason | undefined)[],
): Decision {
  const unique = [...new Set(reasons.filter((r): r is MaskReason => r !== undefined))];
  decision.deliver = false;
  decision.reason = 'guardrail';
  decision.suppressed = dimension === undefined ? { reasons: unique } : { dimension, reasons: unique };
  return decision;
}

function maxOf(values: Float64Array): number {
  let m = 0;
  for (let i = 0; i < values.length; i++) if (values[i] > m) m = values[i];
  return m;
}

function explainDimension(
  agent: AgentConfig,
  model: AgentModel,
  j: number,
  x: SparseContext,
  chosen: number,
): DimensionExplanation {
  const dim = model.dimensions[j];
  const eligible = model.scratch.eligible[j];
  const probabilities = model.scratch.probabilities[j];
  const reasons = model.scratch.reasons[j];
  const estimates = dim.policy.explain(x, eligible);
  const byArm = new Map(estimates.map((e) => [e.arm, e]));
  let runnerUp: number | undefined;
  for (const e of estimates) {
    if (e.arm === chosen) continue;
    if (runnerUp === undefined || e.mean > byArm.get(runnerUp)!.mean) runnerUp = e.arm;
  }
  const drivers: { feature: string; weight: number }[] = [];
  const c = byArm.get(chosen)?.contributions;
  const r = runnerUp === undefined ? undefined : byArm.get(runnerUp)?.contributions;
  if (c) {
    for (let i = 0; i < c.length; i++) {
      const weight = c[i] - (r ? r[i] : 0);
      if (weight > 0) drivers.push({ feature: dim.featureNames[i], weight });
    }
    drivers.sort((a, b) => b.weight - a.weight);
    drivers.length = Math.min(drivers.length, 5);
  }
  return {
    dimension: agent.dimensions[j].id,
    chosen: dim.armIds[chosen],
    runnerUp: runnerUp === undefined ? undefined : dim.armIds[runnerUp],
    arms: estimates.map((e) => ({
      arm: dim.armIds[e.arm],
      estimate: e.mean,
      uncertainty: e.sd,
      probability: probabilities[e.arm],
    })),
    drivers,
    masked: dim.armIds.flatMap((arm, a) => (eligible[a] ? [] : [{ arm, reason: reasons[a]! }])),
  };
}
