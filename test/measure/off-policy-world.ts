import { Rng } from '../../plugin/bandit/index.ts';
import {
  evaluateOffPolicy,
  factorizedWeight,
  RewardModel,
  type OffPolicyEvaluation,
} from '../../plugin/measure/index.ts';
import {
  CHANNELS,
  CONTENT_BLOCKS,
  conversionProbability,
  effects,
  NORMAL_PREFERENCES,
  population,
  SUBJECT_LINES,
  type Customer,
  type Effects,
} from '../../plugin/simulate/world.ts';

/**
 * Off-policy evaluation in the simulator's world: customers of `plugin/simulate` receive a message
 * decided on two dimensions (channel × content block, factorized as the agent logs them), and
 * convert with the world's true probability. One policy logs; candidates are estimated from its
 * log and then run online on the same seeds.
 */

const CONTENT_TAG: Record<string, string> = { running: 'cb_specs', athleisure: 'cb_style', outdoor: 'cb_outdoor' };
const CHANNEL_COUNT = CHANNELS.length;
const CONTENT_COUNT = CONTENT_BLOCKS.length;
export const JOINT_ARMS = CHANNEL_COUNT * CONTENT_COUNT;

/** A policy: per customer, a distribution over channels and one over content blocks (factorized). */
export interface WorldPolicy {
  name: string;
  channel(c: Customer): number[];
  content(c: Customer): number[];
}

function proxyChannel(c: Customer): number {
  return Math.max(0, CHANNELS.indexOf(c.traits.last_engaged_channel as (typeof CHANNELS)[number]));
}

function matchedContent(c: Customer): number {
  const id = CONTENT_TAG[c.traits.last_category as string] ?? 'cb_new';
  return CONTENT_BLOCKS.findIndex((b) => b.id === id);
}

/** `favourite` gets `p`, the other allowed entries share the rest; disallowed entries get 0. */
function favour(n: number, favourite: number, p: number, allowed: (k: number) => boolean = () => true): number[] {
  const ok = Array.from({ length: n }, (_, k) => allowed(k));
  const others = ok.filter((a, k) => a && k !== favourite).length;
  const fav = ok[favourite] ? (others === 0 ? 1 : p) : 0;
  const rest = others === 0 ? 0 : (1 - fav) / others;
  return ok.map((a, k) => (!a ? 0 : k === favourite ? fav : rest));
}

/** Channels the customer consented to (sms and push by their traits; email always). */
function consented(c: Customer): (k: number) => boolean {
  return (k) =>
    CHANNELS[k] === 'email' || (CHANNELS[k] === 'sms' ? c.traits.sms_opt_in === true : c.traits.push_enabled === true);
}

/** The logging policy: leans on the last engaged channel and the last category, within consent. */
export const LOGGER: WorldPolicy = {
  name: 'logger',
  channel: (c) => favour(CHANNEL_COUNT, proxyChannel(c), 0.6, consented(c)),
  content: (c) => favour(CONTENT_COUNT, matchedContent(c), 0.5),
};

/** Candidates: one close to the logger, one deterministic, one that ignores consent (choices never logged). */
export const CANDIDATES: WorldPolicy[] = [
  {
    name: 'sharper',
    channel: (c) => favour(CHANNEL_COUNT, proxyChannel(c), 0.8, consented(c)),
    content: (c) => favour(CONTENT_COUNT, matchedContent(c), 0.7),
  },
  {
    name: 'greedy',
    channel: (c) => favour(CHANNEL_COUNT, proxyChannel(c), 1, consented(c)),
    content: (c) => favour(CONTENT_COUNT, matchedContent(c), 1),
  },
  {
    name: 'content-only',
    channel: LOGGER.channel,
    content: (c) => favour(CONTENT_COUNT, matchedContent(c), 0.8),
  },
  {
    name: 'sms-for-all',
    channel: () => favour(CHANNEL_COUNT, CHANNELS.indexOf('sms'), 1),
    content: (c) => favour(CONTENT_COUNT, matchedContent(c), 1),
  },
];

/** The context the reward model sees: observable traits only (proxy channel, category, discount share). */
function features(c: Customer): number[] {
  const x = new Array<number>(8).fill(0);
  x[0] = 1;
  x[1 + proxyChannel(c)] = 1;
  x[4 + Math.max(0, ['running', 'athleisure', 'outdoor'].indexOf(c.traits.last_category as string))] = 1;
  x[7] = Number(c.traits.discount_share ?? 0.5);
  return x;
}

interface World {
  customers: Customer[];
  effects: Effects[];
  features: number[][];
}

function world(seed: string, customers: number): World {
  const people = population(customers, new Rng(`${seed}/population`), Date.UTC(2026, 0, 1));
  return {
    customers: people,
    effects: people.map((c) => effects(c, NORMAL_PREFERENCES, SUBJECT_LINES, CONTENT_BLOCKS)),
    features: people.map(features),
  };
}

function draw(probabilities: number[], rng: Rng): number {
  let u = rng.next();
  for (let k = 0; k < probabilities.length; k++) if ((u -= probabilities[k]!) < 0) return k;
  // rounding left u just above the total: the last arm with any probability
  let last = probabilities.length - 1;
  while (last > 0 && probabilities[last] === 0) last--;
  return last;
}

function rewardOf(w: World, i: number, channel: number, content: number, rng: Rng): number {
  const message = { channel, hour: 1, subject: CHANNELS[channel] === 'email' ? 0 : -1, content };
  return rng.next() < conversionProbability(w.customers[i]!, w.effects[i]!, 0, message) ? 1 : 0;
}

/** Runs `policy` online for `rounds` decisions: its mean reward. Rounds draw customers from the seed. */
function online(w: World, policy: WorldPolicy, seed: string, rounds: number): number {
  const visits = new Rng(`${seed}/visits`);
  const rng = new Rng(`${seed}/online/${policy.name}`);
  let total = 0;
  for (let t = 0; t < rounds; t++) {
    const i = visits.int(w.customers.length);
    const c = w.customers[i]!;
    total += rewardOf(w, i, draw(policy.channel(c), rng), draw(policy.content(c), rng), rng);
  }
  return total / rounds;
}

interface LoggedDecision {
  customer: number;
  channel: number;
  content: number;
  reward: number;
  /** Logged probabilities of the chosen arms, per dimension. */
  pChannel: number;
  pContent: number;
}

function log(w: World, seed: string, rounds: number): LoggedDecision[] {
  const visits = new Rng(`${seed}/visits`);
  const rng = new Rng(`${seed}/log`);
  const out: LoggedDecision[] = [];
  for (let t = 0; t < rounds; t++) {
    const i = visits.int(w.customers.length);
    const c = w.customers[i]!;
    const pc = LOGGER.channel(c);
    const pk = LOGGER.content(c);
    const channel = draw(pc, rng);
    const content = draw(pk, rng);
    out.push({
      customer: i,
      channel,
      content,
      reward: rewardOf(w, i, channel, content, rng),
      pChannel: pc[channel]!,
      pContent: pk[content]!,
    });
  }
  return out;
}

/**
 * Offline estimates of `candidate` from the log: jointly (product of the two dimensions'
 * probabilities), or on one dimension only (`content`: valid when the candidate decides the
 * channel as the logger does).
 */
function offline(
  w: World,
  logged: LoggedDecision[],
  model: RewardModel,
  candidate: WorldPolicy,
  dimension?: 'content',
  clock: () => number = () => 0,
  timings: { estimateMs?: number } = {},
): OffPolicyEvaluation {
  const n = logged.length;
  const rounds = {
    reward: new Float64Array(n),
    propensity: new Float64Array(n),
    target: new Float64Array(n),
    modelValue: new Float64Array(n),
    modelLogged: new Float64Array(n),
  };
  // the candidate and the model depend on the customer only: computed once per customer seen
  const perCustomer = new Map<number, { pc: number[]; pk: number[]; value: number; q: Float64Array }>();
  const of = (i: number) => {
    let v = perCustomer.get(i);
    if (v) return v;
    const c = w.customers[i]!;
    const x = w.features[i]!;
    const [pc, pk] = [candidate.channel(c), candidate.content(c)];
    const q = Float64Array.from({ length: JOINT_ARMS }, (_, arm) => model.predict(x, arm));
    let value = 0;
    for (let a = 0; a < CHANNEL_COUNT; a++)
      for (let b = 0; b < CONTENT_COUNT; b++) value += pc[a]! * pk[b]! * q[a * CONTENT_COUNT + b]!;
    perCustomer.set(i, (v = { pc, pk, value, q }));
    return v;
  };
  logged.forEach((d, t) => {
    const { pc, pk, value, q } = of(d.customer);
    const weight = factorizedWeight(
      [
        { dimension: 'channel', logged: d.pChannel, candidate: pc[d.channel]! },
        { dimension: 'content', logged: d.pContent, candidate: pk[d.content]! },
      ],
      dimension,
    );
    rounds.reward[t] = d.reward;
    rounds.propensity[t] = weight.propensity;
    rounds.target[t] = weight.target;
    rounds.modelValue[t] = value;
    rounds.modelLogged[t] = q[d.channel * CONTENT_COUNT + d.content]!;
  });
  const estimated = clock();
  const evaluation = evaluateOffPolicy(rounds);
  timings.estimateMs = clock() - estimated;
  return evaluation;
}

export interface SeedResult {
  seed: string;
  candidate: string;
  online: number;
  evaluation: OffPolicyEvaluation;
  /** For the candidate that changes only the content block: the estimate on that dimension alone. */
  contentOnly?: OffPolicyEvaluation;
}

/** One seed: log `rounds` decisions with the logger, estimate each candidate offline, run each online. */
export function offPolicyExperiment(seed: string, rounds: number, customers = 20_000): SeedResult[] {
  const w = world(seed, customers);
  const logged = log(w, seed, rounds);
  const model = new RewardModel(JOINT_ARMS, 8);
  for (const d of logged) model.observe(w.features[d.customer]!, d.channel * CONTENT_COUNT + d.content, d.reward);
  return CANDIDATES.map((candidate) => ({
    seed,
    candidate: candidate.name,
    online: online(w, candidate, seed, rounds),
    evaluation: offline(w, logged, model, candidate),
    ...(candidate.name === 'content-only' ? { contentOnly: offline(w, logged, model, candidate, 'content') } : {}),
  }));
}

/** Timings of one offline evaluation (for the bench): logging, fitting the reward model, the rounds, the estimators. */
export function timedOfflineEvaluation(
  seed: string,
  rounds: number,
  clock: () => number,
): { logMs: number; fitMs: number; evaluateMs: number; estimateMs: number; evaluation: OffPolicyEvaluation } {
  const w = world(seed, 20_000);
  const t0 = clock();
  const logged = log(w, seed, rounds);
  const t1 = clock();
  const model = new RewardModel(JOINT_ARMS, 8);
  for (const d of logged) model.observe(w.features[d.customer]!, d.channel * CONTENT_COUNT + d.content, d.reward);
  model.predict(w.features[0]!, 0);
  const t2 = clock();
  const timings: { estimateMs?: number } = {};
  const evaluation = offline(w, logged, model, CANDIDATES[0]!, undefined, clock, timings);
  const t3 = clock();
  return { logMs: t1 - t0, fitMs: t2 - t1, evaluateMs: t3 - t2, estimateMs: timings.estimateMs!, evaluation };
}
