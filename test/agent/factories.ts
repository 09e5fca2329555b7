/**
 * Factories for the agent-layer tests: agents built through the public config loader
 * (`validateConfig`, so every test runs on a normalized, validated config), profiles, and a
 * seeded `decide` wrapper. Each takes overrides, as GrowthBook's `cbRule(overrides)` does.
 */
import { decide, type DecideOptions } from '../../plugin/agent/decide.ts';
import type { AgentModel } from '../../plugin/agent/model.ts';
import type { Decision, Profile } from '../../plugin/agent/types.ts';
import { Rng } from '../../plugin/bandit/index.ts';
import { validateConfig, type AgentConfig } from '../../plugin/config/index.ts';

type Json = Record<string, unknown>;

/** Decision time used unless a test says otherwise: a Monday, 12:00 UTC, far from any DST change. */
export const NOW = Date.parse('2026-06-01T12:00:00Z');
export const DAY_MS = 86_400_000;

/** The dimensions of the contract agent (examples/agents.yaml), as config input. */
export const FREQUENCY = { id: 'frequency', arms: ['send', 'skip'], default: 'send' };
export const CHANNEL = { id: 'channel', arms: ['email', 'sms', 'push'], default: 'email' };
export const SEND_TIME = { id: 'send_time', type: 'local_hour', arms: [8, 12, 18, 20], default: 12 };
export const SUBJECT_LINE = {
  id: 'subject_line',
  when: { channel: 'email' },
  default: 'sl_plain',
  arms: [
    { id: 'sl_plain', text: 'New arrivals picked for you', tags: ['neutral'] },
    { id: 'sl_urgency', text: 'Ends tonight: 20% off race gear', tags: ['urgency', 'discount'] },
  ],
};
export const CONTENT_BLOCK = { id: 'content_block', arms: ['cb_specs', 'cb_style', 'cb_bundle'], default: 'cb_style' };
export const CONTRACT_DIMENSIONS = [FREQUENCY, CHANNEL, SEND_TIME, SUBJECT_LINE, CONTENT_BLOCK];

/** Consent traits per channel, as in the contract. */
export const CONSENT_TRAITS = { email: 'email_subscribed', sms: 'sms_opt_in', push: 'push_enabled' };

/**
 * Agent config input: the contract's five dimensions with consent traits, a random policy and
 * no holdout (so a decision is the policy's unless a test asks for a holdout). Top-level keys
 * of `overrides` replace the defaults.
 */
export function makeAgentInput(overrides: Json = {}): Json {
  return {
    id: 'winback',
    goal: { window: '72h', rewards: [{ event: 'Order Completed', value: 1 }] },
    holdout: 0,
    policy: { kind: 'random' },
    features: [
      { trait: 'lifetime_orders', type: 'numeric', min: 0, max: 50 },
      { trait: 'vip', type: 'boolean' },
      { derived: 'local_hour' },
    ],
    dimensions: CONTRACT_DIMENSIONS,
    guardrails: { consent: CONSENT_TRAITS },
    ...overrides,
  };
}

/** A validated, normalized agent (see `makeAgentInput`). Throws with every config error when invalid. */
export function makeAgent(overrides: Json = {}): AgentConfig {
  const result = validateConfig({ workspace: 'test', agents: [makeAgentInput(overrides)] });
  if (!result.ok) throw new Error(`makeAgent: invalid agent config:\n${result.errors.join('\n')}`);
  return result.config.agents[0];
}

/** A customer in UTC with consent on every channel. */
export function makeProfile(overrides: Partial<Profile> = {}): Profile {
  return {
    userId: 'user-1',
    traits: { email_subscribed: true, sms_opt_in: true, push_enabled: true, lifetime_orders: 4, vip: false },
    timezone: 'UTC',
    ...overrides,
  };
}

export interface DecideWith extends DecideOptions {
  now?: number;
  seed?: string;
  decisionId?: string;
}

/** `decide` with the RNG the service uses: `new Rng(seed).fork(decisionId)`. */
export function decideWith(
  agent: AgentConfig,
  model: AgentModel,
  profile: Profile,
  options: DecideWith = {},
): Decision {
  const { now = NOW, seed = 'seed', decisionId = 'd-1', ...rest } = options;
  return decide(agent, model, profile, now, new Rng(seed).fork(decisionId), { ...rest, decisionId });
}

/** `n` of every arm of a dimension, by arm id, from the policy's documented state. */
export function armCounts(model: AgentModel, dimension: string): Record<string, number> {
  const dim = model.dimensions.find((d) => d.id === dimension);
  if (!dim) throw new Error(`no dimension ${dimension}`);
  const state = dim.policy.toJSON();
  return Object.fromEntries(dim.armIds.map((id, a) => [id, state.arms[a].n]));
}

/** The first user id `user-<i>` whose decision `isHoldout` says is (or is not) held out. */
export function findUser(isHoldout: (userId: string) => boolean, wanted: boolean): string {
  for (let i = 0; i < 100_000; i++) {
    const userId = `user-${i}`;
    if (isHoldout(userId) === wanted) return userId;
  }
  throw new Error('no such user');
}

/**
 * The local wall clock at `ms` in `timeZone`, read from a fresh `Intl` formatter (an oracle
 * independent of plugin/guardrails). Undefined or unknown zones read as UTC, as the plugin does.
 */
export function wallClock(
  ms: number,
  timeZone: string | undefined,
): { hour: number; minute: number; minuteOfDay: number } {
  let format: Intl.DateTimeFormat;
  try {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone: timeZone || 'UTC',
      hourCycle: 'h23',
      hour: 'numeric',
      minute: 'numeric',
    });
  } catch {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone: 'UTC',
      hourCycle: 'h23',
      hour: 'numeric',
      minute: 'numeric',
    });
  }
  const parts = format.formatToParts(ms);
  const hour = Number(parts.find((p) => p.type === 'hour')!.value);
  const minute = Number(parts.find((p) => p.type === 'minute')!.value);
  return { hour, minute, minuteOfDay: hour * 60 + minute };
}

/** Whether a local minute of day is in the [start, end) quiet window (wrapping midnight when start > end). */
export function isQuiet(minuteOfDay: number, quiet: { start: string; end: string } | undefined): boolean {
  if (!quiet) return false;
  const minutes = (t: string) => Number(t.slice(0, 2)) * 60 + Number(t.slice(3, 5));
  const start = minutes(quiet.start);
  const end = minutes(quiet.end);
  return start < end ? minuteOfDay >= start && minuteOfDay < end : minuteOfDay >= start || minuteOfDay < end;
}
