/**
 * The largest agent config the limits allow (plugin/config/limits.ts), as an admin would write it:
 * every list at its cap where caps do not compete (one dimension of MAX_ARMS, the others sharing
 * the rest of MAX_TOTAL_ARMS), the model's weights and Thompson sampling's scores at or near their
 * budgets. The limit tests save and decide it; the blocking bench saves it while it measures
 * decide.
 */
import {
  MAX_ARM_TAGS,
  MAX_ARMS,
  MAX_CONDITION_ITEMS,
  MAX_DELIVERIES,
  MAX_DIMENSIONS,
  MAX_ELIGIBILITY_RULES,
  MAX_FEATURES,
  MAX_FORBIDDEN_COMBINATIONS,
  MAX_FREQUENCY_CAPS,
  MAX_HASH_BUCKETS,
  MAX_REWARD_RULES,
  MAX_THOMPSON_SCORES,
  MAX_TOTAL_ARMS,
} from '../../plugin/config/index.ts';

type Json = Record<string, any>;

/**
 * Numeric features each dimension sees (2 slots each, plus the intercept): the large dimension 7
 * (100 arms × 15² weights), the others 23 (100 arms × 47² in all): 243,400 weights.
 */
const SEEN_BY_LARGE = 7;
const SEEN_BY_OTHERS = 23;

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

/** 50 features: numeric ones (each dimension sees 7 of them), then categorical, hashed, recency. */
function features(): Json[] {
  return range(MAX_FEATURES).map((i) => {
    if (i < 40) return { trait: `n${i}`, type: 'numeric', min: 0, max: 100 };
    if (i < 45) return { trait: `c${i}`, type: 'categorical', values: range(20).map((v) => `v${v}`) };
    if (i < 48) return { trait: `h${i}`, type: 'hashed', buckets: MAX_HASH_BUCKETS };
    if (i < 49) return { trait: `r${i}`, type: 'recency', unit: 'days' };
    return { derived: 'local_hour' };
  });
}

/** Arms per dimension: MAX_ARMS for the first, the rest of MAX_TOTAL_ARMS spread over the others. */
function armCount(d: number): number {
  const rest = MAX_TOTAL_ARMS - MAX_ARMS;
  const others = MAX_DIMENSIONS - 1;
  return d === 0 ? MAX_ARMS : Math.floor(rest / others) + (d <= rest % others ? 1 : 0);
}

function arms(d: number): Json[] {
  return range(armCount(d)).map((a) => ({
    id: `d${d}a${a}`,
    text: `Variant ${a} of dimension ${d}: approved copy of about sixty characters.`,
    tags: range(MAX_ARM_TAGS).map((t) => `tag${(a + t) % 30}`),
  }));
}

function dimensions(): Json[] {
  return range(MAX_DIMENSIONS).map((d) => ({
    id: d === 0 ? 'channel' : `dim${d}`,
    arms: arms(d),
    default: `d${d}a0`,
    features: range(d === 0 ? SEEN_BY_LARGE : SEEN_BY_OTHERS).map((k) => `n${(d * 3 + k) % 40}`),
    ...(d > 0 ? { when: { any: range(MAX_CONDITION_ITEMS).map((k) => ({ trait: `n${k % 40}`, gte: k })) } } : {}),
  }));
}

function guardrails(): Json {
  return {
    quiet_hours: { start: '21:00', end: '08:00' },
    frequency_caps: range(MAX_FREQUENCY_CAPS).map((i) => ({ max: 3 + i, per: `${i + 1}d` })),
    consent: { d0a0: 'email_ok', d0a1: 'sms_ok' },
    eligibility: range(MAX_ELIGIBILITY_RULES).map((i) => ({
      arm: { [`dim${1 + (i % 9)}`]: `d${1 + (i % 9)}a${i % 11}` },
      unless: { trait: `c${40 + (i % 5)}`, in: range(20).map((v) => `v${v}`) },
    })),
    forbid: range(MAX_FORBIDDEN_COMBINATIONS).map((i) => ({
      channel: `d0a${i % 3}`,
      [`dim${1 + (i % 9)}`]: `d${1 + (i % 9)}a${i % 11}`,
    })),
  };
}

/** The config, with id `id` (its delivery prefixes are the id's, so several can coexist in a workspace). */
export function largestAgent(id = 'largest'): Json {
  return {
    id,
    goal: {
      window: '72h',
      rewards: range(MAX_REWARD_RULES).map((i) => ({ event: `Event ${i}`, value: (i + 1) / MAX_REWARD_RULES })),
    },
    holdout: 0.1,
    // draws × every arm of every dimension, at the budget
    policy: { kind: 'logistic-ts', draws: MAX_THOMPSON_SCORES / MAX_TOTAL_ARMS },
    features: features(),
    dimensions: dimensions(),
    guardrails: guardrails(),
    delivery: range(MAX_DELIVERIES).map((i) => ({ to: 'braze', mode: 'attributes', prefix: `${id}${i}_` })),
  };
}

/** Traits of a customer of the largest agent who meets every dimension's `when`. */
export function largestTraits(): Json {
  const traits: Json = { email_ok: true, sms_ok: true, r48: '2026-05-01T00:00:00Z' };
  for (const i of range(40)) traits[`n${i}`] = 100;
  for (const i of range(5)) traits[`c${40 + i}`] = 'other';
  for (const i of range(3)) traits[`h${45 + i}`] = `value-${i}`;
  return traits;
}
