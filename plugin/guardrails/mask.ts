import type { AgentConfig, Dimension } from '../config/index.ts';
import { matches } from './conditions.ts';
import { inQuietHours } from './quiet-hours.ts';

/** Why a guardrail removed an arm (or stopped a decision). Checked in this order; the first wins. */
/** Why an arm may not be chosen; `pinned`: the request fixed the dimension to another arm (Connected Content's `channel`). */
export type MaskReason = 'quiet_hours' | 'consent' | 'eligibility' | 'forbid' | 'frequency_cap' | 'pinned';

/** The id of the dimension that consent and per-channel frequency caps refer to. */
export const CHANNEL_DIMENSION = 'channel';

export interface GuardrailContext {
  /** Profile traits (and request context). */
  traits: Record<string, unknown>;
  /** Explicit consent per channel arm; wins over the consent traits named in the config. */
  consent?: Record<string, boolean>;
  /** IANA time zone of the customer. */
  timeZone?: string;
  /** Decision time, epoch ms. */
  now: number;
  /** Arms chosen so far in this decision, by dimension id. */
  choices: Record<string, string>;
  /** The customer's recent (and scheduled) sends, epoch ms, with the channel arm when known. */
  recentSends?: { at: number; channel?: string }[];
}

/**
 * Writes 1 (allowed) / 0 (masked) per arm of `agent.dimensions[dimIndex]` into `allowed`
 * (length = number of arms) and, for masked arms, the first reason into `reasons[i]`
 * (undefined when allowed). Returns the number of allowed arms.
 *
 * Rules, in the order their reasons are reported:
 * - quiet_hours: in a `local_hour` dimension, an arm whose hour is in quiet hours.
 * - consent: in the `channel` dimension, an arm the profile's `consent` sets to false, or, when
 *   `consent` says nothing about it, whose consent trait (guardrails.consent) is not truthy:
 *   `true`, `1`, `"true"` and `"yes"` (any case) count as consent, anything else (missing,
 *   false, `"no"`, ...) does not. An arm with neither is allowed.
 * - eligibility: a rule whose `arm` names this arm, and whose other keys all equal choices
 *   already made, masks it when `if` is given and does not hold, or `unless` is given and holds.
 * - forbid: a combination that names this arm, and whose other keys all equal choices already
 *   made, masks it.
 * - frequency_cap: in the `channel` dimension, an arm with a cap for its channel that has
 *   `max` or more sends on that channel within `per` before now (scheduled sends count too).
 *
 * Pure; allocates nothing.
 */
export function maskArms(
  agent: AgentConfig,
  dimIndex: number,
  ctx: GuardrailContext,
  allowed: Uint8Array,
  reasons: (MaskReason | undefined)[],
): number {
  const dim = agent.dimensions[dimIndex];
  let count = 0;
  for (let i = 0; i < dim.arms.length; i++) {
    const reason = armMaskReason(agent, dim, i, ctx);
    allowed[i] = reason === undefined ? 1 : 0;
    reasons[i] = reason;
    if (reason === undefined) count++;
  }
  return count;
}

/**
 * A global frequency cap (one without `channel`) that is reached suppresses the whole decision:
 * returns the reason, or undefined.
 */
export function suppressed(agent: AgentConfig, ctx: GuardrailContext): MaskReason | undefined {
  for (const cap of agent.guardrails.frequency_caps) {
    if (cap.channel === undefined && countSends(ctx, undefined, cap.perMs) >= cap.max) return 'frequency_cap';
  }
  return undefined;
}

function armMaskReason(agent: AgentConfig, dim: Dimension, i: number, ctx: GuardrailContext): MaskReason | undefined {
  const arm = dim.arms[i];
  const g = agent.guardrails;
  if (dim.type === 'local_hour' && arm.hour !== undefined && inQuietHours(arm.hour * 60, g.quiet_hours))
    return 'quiet_hours';
  const isChannel = dim.id === CHANNEL_DIMENSION;
  if (isChannel && !hasConsent(arm.id, g.consent, ctx)) return 'consent';
  for (const rule of g.eligibility) {
    if (rule.arm[dim.id] !== arm.id || !othersChosen(rule.arm, dim.id, ctx.choices)) continue;
    if ((rule.if && !matches(rule.if, ctx)) || (rule.unless && matches(rule.unless, ctx))) return 'eligibility';
  }
  for (const rule of g.forbid) {
    if (rule[dim.id] === arm.id && othersChosen(rule, dim.id, ctx.choices)) return 'forbid';
  }
  if (isChannel) {
    for (const cap of g.frequency_caps) {
      if (cap.channel === arm.id && countSends(ctx, arm.id, cap.perMs) >= cap.max) return 'frequency_cap';
    }
  }
  return undefined;
}

function hasConsent(
  channel: string,
  traitByChannel: Record<string, string> | undefined,
  ctx: GuardrailContext,
): boolean {
  const explicit = ctx.consent?.[channel];
  if (explicit !== undefined) return explicit === true;
  const trait = traitByChannel?.[channel];
  return trait === undefined || isConsentValue(ctx.traits[trait]);
}

/** Consent traits arrive typed or as CRM strings: true, 1, "true", "yes" (any case) mean consent. */
function isConsentValue(value: unknown): boolean {
  if (value === true || value === 1) return true;
  if (typeof value !== 'string') return false;
  const v = value.trim().toLowerCase();
  return v === 'true' || v === 'yes';
}

/** Every key of `rule` other than `dimension` equals the choice made for it. */
function othersChosen(rule: Record<string, string>, dimension: string, choices: Record<string, string>): boolean {
  for (const key in rule) {
    if (key !== dimension && choices[key] !== rule[key]) return false;
  }
  return true;
}

/** Sends (on `channel`, or any when undefined) after `now - perMs`. */
function countSends(ctx: GuardrailContext, channel: string | undefined, perMs: number): number {
  const sends = ctx.recentSends;
  if (!sends) return 0;
  const since = ctx.now - perMs;
  let n = 0;
  for (const s of sends) {
    if (s.at > since && (channel === undefined || s.channel === channel)) n++;
  }
  return n;
}
