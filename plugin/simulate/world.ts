import type { Rng } from '../bandit/index.ts';

/**
 * The digital twin's ground truth: a synthetic population of customers and the true
 * probability that a message converts them.
 *
 * Every customer has hidden characteristics the agent never sees:
 * - `intent`: what they shop for (performance running gear, athleisure or outdoor);
 * - `priceSensitivity` ∈ [0, 1];
 * - a preferred channel (email, sms or push) and a preferred send hour (8, 12, 18 or 20 local);
 * - a base propensity to buy.
 * The agent sees only traits that correlate with these imperfectly: the last category bought
 * (right 75 % of the time), the share of past orders made with a discount (price sensitivity
 * plus noise), age (which shifts channel preference), whether the app is installed (push
 * consent; more likely for push lovers), an "active daypart" (the preferred hour, right 80 % of
 * the time), lifetime orders and days since the last order (both driven by the base propensity).
 *
 * True conversion probability within the goal window:
 *   skip:  σ(base − 0.4)                                (organic purchase; no message)
 *   send:  σ(base + channel + hour + subject·[email] + content − fatigue)
 * with the effect sizes in `TRUTH` (see `effects()`), and a fatigue penalty per message already sent to this
 * customer in the last 7 days. Subject lines only exist for email.
 */

/** Effect sizes of the true model, in logit units (documented in docs/algorithms.md). */
export const TRUTH = {
  baseLogit: -2.0,
  tagMatch: 0.9,
  tagMismatch: -0.3,
  discountSlope: 1.2,
  urgencySlope: 0.6,
  social: 0.1,
  channelMatch: 0.5,
  channelOther: -0.3,
  smsPenalty: -0.1,
  hourMatch: 0.6,
  hourNear: 0.1,
  hourFar: -0.3,
  fatiguePerSend: 0.25,
  organicOffset: -0.8,
} as const;
const BASE_LOGIT = TRUTH.baseLogit;

export const INTENTS = ['performance', 'athleisure', 'outdoor'] as const;
export type Intent = (typeof INTENTS)[number];
export const CHANNELS = ['email', 'sms', 'push'] as const;
export const HOURS = [8, 12, 18, 20] as const;
export const DAYPARTS = ['morning', 'midday', 'evening', 'night'] as const;
const CATEGORY_OF: Record<Intent, string> = { performance: 'running', athleisure: 'athleisure', outdoor: 'outdoor' };
const TIME_ZONES = ['America/New_York', 'America/Chicago', 'America/Los_Angeles', 'Europe/London', 'Europe/Berlin'];

/** A subject line or content block with the tags that drive its true effect. */
export interface VariantSpec {
  id: string;
  text?: string;
  tags: string[];
  /** Intrinsic quality in logit units (small), the same for everyone. */
  quality: number;
}

export const SUBJECT_LINES: VariantSpec[] = [
  { id: 'sl_plain', text: 'New arrivals picked for you', tags: ['neutral'], quality: 0 },
  {
    id: 'sl_urgency',
    text: 'Ends tonight: 20% off race gear',
    tags: ['urgency', 'discount', 'performance'],
    quality: 0,
  },
  { id: 'sl_discount', text: '15% off your next order', tags: ['discount'], quality: 0 },
  { id: 'sl_pb', text: 'Gear for your next personal best', tags: ['performance'], quality: 0 },
  { id: 'sl_race', text: 'Race season starts now', tags: ['performance', 'urgency'], quality: 0 },
  { id: 'sl_style', text: 'The looks everyone is wearing this week', tags: ['style'], quality: 0 },
  { id: 'sl_lookbook', text: 'Your autumn lookbook', tags: ['style'], quality: 0 },
  { id: 'sl_trail', text: 'Made for the trail', tags: ['outdoor'], quality: 0 },
  { id: 'sl_summit', text: 'Last chance: summit kit 25% off', tags: ['outdoor', 'discount', 'urgency'], quality: 0 },
  { id: 'sl_social', text: 'Runners like you love these', tags: ['social'], quality: 0 },
  { id: 'sl_question', text: 'Ready for what is next?', tags: ['curiosity'], quality: 0 },
  { id: 'sl_restock', text: 'Back in stock in your size', tags: ['neutral'], quality: 0.1 },
];

export const CONTENT_BLOCKS: VariantSpec[] = [
  { id: 'cb_specs', tags: ['performance'], quality: 0 },
  { id: 'cb_style', tags: ['style'], quality: 0 },
  { id: 'cb_bundle', tags: ['discount'], quality: 0 },
  { id: 'cb_outdoor', tags: ['outdoor'], quality: 0 },
  { id: 'cb_reviews', tags: ['social'], quality: 0.05 },
  { id: 'cb_new', tags: ['neutral'], quality: 0 },
];

/** A variant added mid-run in the cold-start scenario: good for nearly everyone. */
export const COLD_START_BLOCK: VariantSpec = { id: 'cb_drop', tags: ['exclusive'], quality: 0.7 };

export interface Customer {
  userId: string;
  timezone: string;
  intent: Intent;
  priceSensitivity: number;
  channel: (typeof CHANNELS)[number];
  hour: (typeof HOURS)[number];
  base: number;
  /** What the agent can observe (its profile traits), fatigue excepted. */
  traits: Record<string, unknown>;
}

function pick<T>(rng: Rng, items: readonly T[], weights?: readonly number[]): T {
  if (!weights) return items[rng.int(items.length)];
  let u = rng.next() * weights.reduce((s, w) => s + w, 0);
  for (let i = 0; i < items.length; i++) {
    u -= weights[i];
    if (u < 0) return items[i];
  }
  return items[items.length - 1];
}

function clip(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}

/** Draws `size` customers; the same seed gives the same population. */
export function population(size: number, rng: Rng, now: number): Customer[] {
  const customers: Customer[] = [];
  for (let i = 0; i < size; i++) {
    const intent = pick(rng, INTENTS, [0.4, 0.35, 0.25]);
    const priceSensitivity = rng.beta(2, 2);
    const age = Math.round(clip(18 + rng.gamma(2.2) * 9, 18, 80));
    const channelWeights = age < 30 ? [0.2, 0.45, 0.35] : age < 50 ? [0.5, 0.25, 0.25] : [0.75, 0.15, 0.1];
    const channel = pick(rng, CHANNELS, channelWeights);
    const hour = pick(rng, HOURS);
    const base = BASE_LOGIT + 0.4 * rng.normal();
    const lifetimeOrders = Math.max(0, Math.round(Math.exp(1.2 + (base - BASE_LOGIT) + 0.4 * rng.normal())));
    const lastCategory =
      rng.next() < 0.03
        ? undefined
        : rng.next() < 0.92
          ? CATEGORY_OF[intent]
          : CATEGORY_OF[
              pick(
                rng,
                INTENTS.filter((x) => x !== intent),
              )
            ];
    const daypart = rng.next() < 0.92 ? DAYPARTS[HOURS.indexOf(hour)] : pick(rng, DAYPARTS);
    const lastChannel = rng.next() < 0.9 ? channel : pick(rng, CHANNELS);
    const daysSinceOrder = rng.exponential(60 * Math.exp(-(base - BASE_LOGIT)));
    customers.push({
      userId: `u${String(i).padStart(6, '0')}`,
      timezone: pick(rng, TIME_ZONES),
      intent,
      priceSensitivity,
      channel,
      hour,
      base,
      traits: {
        age,
        lifetime_orders: lifetimeOrders,
        vip: lifetimeOrders >= 20,
        last_category: lastCategory,
        discount_share: Math.round(clip(priceSensitivity + 0.08 * rng.normal(), 0, 1) * 100) / 100,
        active_daypart: daypart,
        last_engaged_channel: lastChannel,
        last_order_at: new Date(now - daysSinceOrder * 86_400_000).toISOString(),
        email_subscribed: rng.next() < 0.95,
        sms_opt_in: rng.next() < (channel === 'sms' ? 0.85 : 0.4),
        push_enabled: rng.next() < (channel === 'push' ? 0.9 : 0.3),
        city: pick(rng, ['Boston', 'Denver', 'Austin', 'Seattle', 'London', 'Berlin', 'Chicago', 'Portland']),
      },
    });
  }
  return customers;
}

const INTENT_OF_CATEGORY: Record<string, Intent> = {
  running: 'performance',
  athleisure: 'athleisure',
  outdoor: 'outdoor',
};
const HOUR_OF_DAYPART: Record<string, (typeof HOURS)[number]> = { morning: 8, midday: 12, evening: 18, night: 20 };

/** The customer as their traits suggest: every hidden characteristic replaced by its observable proxy. */
export function proxyCustomer(c: Customer, traits: Record<string, unknown>): Customer {
  return {
    ...c,
    intent: INTENT_OF_CATEGORY[traits.last_category as string] ?? 'performance',
    priceSensitivity: typeof traits.discount_share === 'number' ? traits.discount_share : 0.5,
    channel: (CHANNELS as readonly string[]).includes(traits.last_engaged_channel as string)
      ? (traits.last_engaged_channel as Customer['channel'])
      : 'email',
    hour: HOUR_OF_DAYPART[traits.active_daypart as string] ?? 12,
  };
}

/** How preferences are wired; `drifted` swaps them, for the drift scenario. */
export interface Preferences {
  /** The content tag each intent responds to. */
  tagOf: Record<Intent, string>;
  /** Rotation applied to each customer's preferred channel (0 = none). */
  channelShift: number;
  /** Rotation applied to each customer's preferred hour slot. */
  hourShift: number;
  /** Added to every customer's conversion logit, sent to or not: a market-wide lull (negative) or boom. */
  offset: number;
}

export const NORMAL_PREFERENCES: Preferences = {
  tagOf: { performance: 'performance', athleisure: 'style', outdoor: 'outdoor' },
  channelShift: 0,
  hourShift: 0,
  offset: 0,
};

/** After the change in the drift scenario: every intent's taste moves to another style, and preferred send hours move one slot later. */
export const DRIFTED_PREFERENCES: Preferences = {
  tagOf: { performance: 'style', athleisure: 'outdoor', outdoor: 'performance' },
  channelShift: 0,
  hourShift: 1,
  offset: 0,
};

/**
 * The lull scenario's middle phase: tastes and hours as usual, every conversion logit 0.7 lower
 * (a sent message's conversion rate falls by about 40 %), as in a holiday lull or a shop outage.
 */
export const LULL_PREFERENCES: Preferences = { ...NORMAL_PREFERENCES, offset: -0.7 };

/** The true logit contribution of a variant with `tags` for customer `c`. */
export function variantEffect(c: Customer, v: VariantSpec, prefs: Preferences): number {
  let e = v.quality;
  for (const tag of v.tags) {
    if (tag === prefs.tagOf[c.intent]) e += TRUTH.tagMatch;
    else if (tag === 'performance' || tag === 'style' || tag === 'outdoor') e += TRUTH.tagMismatch;
    else if (tag === 'discount') e += TRUTH.discountSlope * (c.priceSensitivity - 0.5);
    else if (tag === 'urgency') e += TRUTH.urgencySlope * (c.priceSensitivity - 0.45);
    else if (tag === 'social') e += TRUTH.social;
  }
  return e;
}

/** Per-customer effect tables in logit units, precomputed for the hot loop. */
export interface Effects {
  channel: Float64Array; // [3]
  hour: Float64Array; // [4]
  subject: Float64Array; // [subjects]
  content: Float64Array; // [contents]
  /** Preferences.offset. */
  offset: number;
}

export function effects(
  c: Customer,
  prefs: Preferences,
  subjects: readonly VariantSpec[],
  contents: readonly VariantSpec[],
): Effects {
  const preferredChannel = (CHANNELS.indexOf(c.channel) + prefs.channelShift) % CHANNELS.length;
  const preferredHour = (HOURS.indexOf(c.hour) + prefs.hourShift) % HOURS.length;
  const channel = new Float64Array(CHANNELS.length);
  for (let k = 0; k < CHANNELS.length; k++)
    channel[k] =
      (k === preferredChannel ? TRUTH.channelMatch : TRUTH.channelOther) +
      (CHANNELS[k] === 'sms' ? TRUTH.smsPenalty : 0);
  const hour = new Float64Array(HOURS.length);
  for (let k = 0; k < HOURS.length; k++) {
    const distance = Math.abs(k - preferredHour);
    hour[k] = distance === 0 ? TRUTH.hourMatch : distance === 1 ? TRUTH.hourNear : TRUTH.hourFar;
  }
  return {
    channel,
    hour,
    subject: Float64Array.from(subjects, (v) => variantEffect(c, v, prefs)),
    content: Float64Array.from(contents, (v) => variantEffect(c, v, prefs)),
    offset: prefs.offset,
  };
}

/** A message as indices into the world's tables; `subject` is −1 when there is none (not email). */
export interface Message {
  channel: number;
  hour: number;
  subject: number;
  content: number;
}

/** True probability that customer `c` converts within the window, after `message` (undefined: nothing sent). */
export function conversionProbability(c: Customer, e: Effects, sends: number, message: Message | undefined): number {
  if (!message) return sigmoid(c.base + e.offset + TRUTH.organicOffset);
  let z =
    c.base +
    e.offset +
    e.channel[message.channel] +
    e.hour[message.hour] +
    e.content[message.content] -
    TRUTH.fatiguePerSend * sends;
  if (message.subject >= 0) z += e.subject[message.subject];
  return sigmoid(z);
}

export function sigmoid(z: number): number {
  return 1 / (1 + Math.exp(-z));
}
