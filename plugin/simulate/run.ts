import { Rng } from '../bandit/index.ts';
import {
  agentModelFromJSON,
  agentModelToJSON,
  createAgentModel,
  decide,
  learn,
  validateConfig,
  type AgentConfig,
  type AgentModel,
  type Decision,
} from '../agent/index.ts';
import { maskArms, suppressed, type GuardrailContext, type MaskReason } from '../guardrails/index.ts';
import {
  retailAgentInput,
  SCENARIOS,
  SIMULATION_CROSSES,
  SIMULATION_POLICY_DEFAULTS,
  type ScenarioName,
} from './scenarios.ts';
import {
  CHANNELS,
  conversionProbability,
  effects,
  HOURS,
  population,
  proxyCustomer,
  type Customer,
  type Effects,
  type VariantSpec,
} from './world.ts';

const DAY_MS = 86_400_000;
const WEEK_MS = 7 * DAY_MS;
const START = Date.UTC(2026, 0, 5); // a Monday

export interface SimulationOptions {
  scenario: ScenarioName;
  decisions: number;
  seed: string | number;
  /** Policy specs: `random`, `static-best`, `oracle`, or a policy kind with optional `:key=value` overrides. */
  policies?: string[];
  /** Decisions per learning-curve point. */
  bucket?: number;
  onProgress?: (policy: string, done: number, total: number) => void;
}

export interface PolicyResult {
  name: string;
  /** Mean expected reward per decision (the true conversion probability of what was chosen). */
  reward: number;
  /**
   * Σ reward / Σ best achievable reward for the same customer at the same moment (the oracle
   * evaluated on the contexts this policy met: the standard regret definition).
   */
  oracleShare: number;
  /** reward / the reward of the oracle driving its own run (fatigue makes contexts depend on past choices). */
  oracleRunShare: number;
  /** Σ over decisions of (best achievable expected reward − expected reward of the choice). */
  regret: number;
  /** The same over the last 20 % of decisions. */
  last: { reward: number; oracleShare: number; oracleRunShare: number; regret: number };
  /** Mean reward per `bucket` decisions. */
  curve: number[];
  /** Realised conversions (the sampled outcomes the policy learned from). */
  conversions: number;
  /** For scenarios with a change half-way: share of the oracle in the 2,000 decisions ending 10,000 after it. */
  afterChange?: { oracleShare: number; recoveredAfter: number | null };
  /** How often the change detector restarted learning (policies with `detect`), and before which decisions (0-based). */
  restarts?: number;
  restartedAt?: number[];
  /** For static-best: the combination it fixed. */
  combination?: Record<string, string>;
}

export interface SimulationReport {
  scenario: ScenarioName;
  seed: string;
  decisions: number;
  description: string;
  oracle: { reward: number; last: { reward: number }; curve: number[] };
  bucket: number;
  changeAt?: number;
  policies: PolicyResult[];
}

interface PhaseWorld {
  from: number;
  subjects: VariantSpec[];
  contents: VariantSpec[];
  effects: Effects[];
  subjectIndex: Map<string, number>;
  contentIndex: Map<string, number>;
}

/** What a chooser picked, in world indices; -1 = not decided. */
interface Pick {
  deliver: boolean;
  channel: number;
  hour: number;
  subject: number;
  content: number;
}

const NOTHING_SENT: Pick = Object.freeze({ deliver: false, channel: -1, hour: -1, subject: -1, content: -1 });

/** Shared, seeded ground truth of one run: who is decided about when, and the outcome noise. */
class World {
  readonly customers: Customer[];
  readonly times: Float64Array;
  readonly who: Uint32Array;
  readonly conversionDraw: Float64Array;
  readonly phases: PhaseWorld[];

  constructor(
    readonly scenario: ScenarioName,
    readonly decisions: number,
    readonly seed: string,
  ) {
    const spec = SCENARIOS[scenario];
    const rng = new Rng(seed);
    this.customers = population(spec.customers, rng.fork('population'), START);
    const arrivals = rng.fork('arrivals');
    const spacing = DAY_MS / spec.decisionsPerDay;
    this.times = new Float64Array(decisions);
    this.who = new Uint32Array(decisions);
    this.conversionDraw = new Float64Array(decisions);
    for (let i = 0; i < decisions; i++) {
      this.times[i] = START + (i + arrivals.next()) * spacing;
      this.who[i] = arrivals.int(this.customers.length);
      this.conversionDraw[i] = arrivals.next();
    }
    this.phases = spec.phases.map((p) => ({
      from: Math.floor(p.at * decisions),
      subjects: p.subjects,
      contents: p.contents,
      effects: this.customers.map((c) => effects(c, p.preferences, p.subjects, p.contents)),
      subjectIndex: new Map(p.subjects.map((s, i) => [s.id, i])),
      contentIndex: new Map(p.contents.map((s, i) => [s.id, i])),
    }));
  }

  phaseAt(i: number): number {
    let k = 0;
    while (k + 1 < this.phases.length && this.phases[k + 1].from <= i) k++;
    return k;
  }

  /** True conversion probability of a pick for customer `c` with `sends` recent messages. */
  value(c: number, phase: number, sends: number, pick: Pick): number {
    return conversionProbability(
      this.customers[c],
      this.phases[phase].effects[c],
      sends,
      pick.deliver ? pick : undefined,
    );
  }
}

/** The arms each dimension allows for one customer at one moment, in the agent's arm order. */
interface Allowed {
  stopped: boolean;
  channel: Uint8Array;
  hour: Uint8Array;
  subject: Uint8Array;
  /** Content arms allowed per channel arm (brand rules forbid some combinations). */
  content: Uint8Array[];
}

function dimIndex(agent: AgentConfig, id: string): number {
  const j = agent.dimensions.findIndex((d) => d.id === id);
  if (j < 0) throw new Error(`the simulated agent has no "${id}" dimension`);
  return j;
}

function allowedArms(agent: AgentConfig, ctx: GuardrailContext): Allowed {
  const j = {
    channel: dimIndex(agent, 'channel'),
    hour: dimIndex(agent, 'send_time'),
    subject: dimIndex(agent, 'subject_line'),
    content: dimIndex(agent, 'content_block'),
  };
  const mask = (dim: number, choices: Record<string, string>): Uint8Array => {
    const out = new Uint8Array(agent.dimensions[dim].arms.length);
    const reasons: (MaskReason | undefined)[] = [];
    maskArms(agent, dim, { ...ctx, choices }, out, reasons);
    return out;
  };
  const channels = agent.dimensions[j.channel].arms;
  return {
    stopped: suppressed(agent, ctx) !== undefined,
    channel: mask(j.channel, { frequency: 'send' }),
    hour: mask(j.hour, { frequency: 'send' }),
    subject: mask(j.subject, { frequency: 'send', channel: 'email' }),
    content: channels.map((ch) => mask(j.content, { frequency: 'send', channel: ch.id })),
  };
}

/** Maps the agent's arms (by position) to the world's effect tables, for one phase. */
interface ArmMap {
  channel: number[];
  hour: number[];
  subject: number[];
  content: number[];
  emailArm: number;
}

function armMap(agent: AgentConfig, phase: PhaseWorld): ArmMap {
  const arms = (id: string) => agent.dimensions[dimIndex(agent, id)].arms;
  return {
    channel: arms('channel').map((a) => CHANNELS.indexOf(a.id as (typeof CHANNELS)[number])),
    hour: arms('send_time').map((a) => HOURS.indexOf(a.hour as (typeof HOURS)[number])),
    subject: arms('subject_line').map((a) => phase.subjectIndex.get(a.id) ?? -1),
    content: arms('content_block').map((a) => phase.contentIndex.get(a.id) ?? -1),
    emailArm: arms('channel').findIndex((a) => a.id === 'email'),
  };
}

/** The best pick and its value, knowing the truth (the oracle). Arm indices are the agent's. */
function best(
  world: World,
  c: number,
  phase: number,
  sends: number,
  allowed: Allowed,
  map: ArmMap,
): { value: number; pick: Pick } {
  const e = world.phases[phase].effects[c];
  let bestPick: Pick = NOTHING_SENT;
  let bestValue = world.value(c, phase, sends, NOTHING_SENT);
  if (allowed.stopped) return { value: bestValue, pick: bestPick };
  const argmax = (mask: Uint8Array, table: Float64Array, toWorld: number[]): number => {
    let k = -1;
    for (let a = 0; a < mask.length; a++) if (mask[a] && (k < 0 || table[toWorld[a]] > table[toWorld[k]])) k = a;
    return k;
  };
  const h = argmax(allowed.hour, e.hour, map.hour);
  if (h < 0) return { value: bestValue, pick: bestPick };
  for (let ch = 0; ch < allowed.channel.length; ch++) {
    if (!allowed.channel[ch]) continue;
    const b = argmax(allowed.content[ch], e.content, map.content);
    if (b < 0) continue;
    let s = -1;
    if (ch === map.emailArm) {
      s = argmax(allowed.subject, e.subject, map.subject);
      if (s < 0) continue;
    }
    const pick: Pick = {
      deliver: true,
      channel: map.channel[ch],
      hour: map.hour[h],
      subject: s < 0 ? -1 : map.subject[s],
      content: map.content[b],
    };
    const v = world.value(c, phase, sends, pick);
    if (v > bestValue) {
      bestValue = v;
      bestPick = pick;
    }
  }
  return { value: bestValue, pick: bestPick };
}

function pickFromDecision(d: Decision, agent: AgentConfig, map: ArmMap): Pick {
  if (!d.deliver) return NOTHING_SENT;
  const index = (dim: string) =>
    agent.dimensions[dimIndex(agent, dim)].arms.findIndex((a) => a.id === d.choices[dim]?.arm);
  const s = index('subject_line');
  return {
    deliver: true,
    channel: map.channel[index('channel')],
    hour: map.hour[index('send_time')],
    subject: s < 0 ? -1 : map.subject[s],
    content: map.content[index('content_block')],
  };
}

/** A fixed combination resolved to one agent's arm indices (fixed arm and default per dimension; −1 = none). */
interface FixedArms {
  skip: boolean;
  channel: [number, number];
  hour: [number, number];
  subject: [number, number];
  content: [number, number];
}

function fixedArms(combo: Record<string, string>, agent: AgentConfig): FixedArms {
  const pair = (dim: string): [number, number] => {
    const d = agent.dimensions[dimIndex(agent, dim)];
    return [d.arms.findIndex((a) => a.id === combo[dim]), d.arms.findIndex((a) => a.id === d.default)];
  };
  return {
    skip: combo.frequency === 'skip',
    channel: pair('channel'),
    hour: pair('send_time'),
    subject: pair('subject_line'),
    content: pair('content_block'),
  };
}

/** A fixed arm per dimension; a masked arm falls back to the default, then to the first allowed. */
function fixedPick(f: FixedArms, allowed: Allowed, map: ArmMap): Pick {
  const choose = ([fixed, def]: [number, number], mask: Uint8Array): number =>
    fixed >= 0 && mask[fixed] ? fixed : def >= 0 && mask[def] ? def : mask.indexOf(1);
  if (f.skip || allowed.stopped) return NOTHING_SENT;
  const ch = choose(f.channel, allowed.channel);
  const h = choose(f.hour, allowed.hour);
  if (ch < 0 || h < 0) return NOTHING_SENT;
  const b = choose(f.content, allowed.content[ch]);
  const s = ch === map.emailArm ? choose(f.subject, allowed.subject) : -1;
  if (b < 0 || (ch === map.emailArm && s < 0)) return NOTHING_SENT;
  return {
    deliver: true,
    channel: map.channel[ch],
    hour: map.hour[h],
    subject: s < 0 ? -1 : map.subject[s],
    content: map.content[b],
  };
}

/** Parses `kind`, `kind:key=value:key=value` (a value is a number, or a word such as `share=tags`). */
export function parsePolicySpec(spec: string): {
  label: string;
  kind: string;
  overrides: Record<string, number | string>;
} {
  const [kind, ...pairs] = spec.split(':');
  const overrides: Record<string, number | string> = {};
  for (const pair of pairs) {
    const [key, value] = pair.split('=');
    if (!key || !value) throw new Error(`policy "${spec}": "${pair}" must be key=value`);
    const v = Number(value);
    overrides[key] = Number.isFinite(v) ? v : value;
  }
  return { label: spec, kind, overrides };
}

interface Chooser {
  /** Called when the scenario enters a new phase (new agent config). */
  enter(agent: AgentConfig, version: number): void;
  choose(
    i: number,
    c: Customer,
    traits: Record<string, unknown>,
    now: number,
    recentSends: { at: number; channel?: string }[],
    allowed: Allowed,
    map: ArmMap,
    oracle: Pick,
  ): { pick: Pick; decision?: Decision };
  learn?(decision: Decision, reward: number): void;
  /** The decisions before which the change detector restarted learning (policies with `detect`). */
  restartedAt?(): number[];
}

function banditChooser(
  kind: string,
  overrides: Record<string, number | string>,
  seed: string,
): { chooser: Chooser; agents: (phase: PhaseWorld) => AgentConfig } {
  const { features = 'all', restart, detect, retain, crosses = 'off', ...params } = overrides;
  if (features !== 'all' && features !== 'focused')
    throw new Error(`policy "${kind}": features must be all or focused, got ${JSON.stringify(features)}`);
  // crosses=on: the policy declares SIMULATION_CROSSES as interactions
  if (crosses !== 'on' && crosses !== 'off')
    throw new Error(`policy "${kind}": crosses must be on or off, got ${JSON.stringify(crosses)}`);

  // A diagnostic, not a policy: at each change of phase, these dimensions start again from the
  // prior, as if the policy knew exactly when and where preferences changed.
  const restarted = restart === undefined ? [] : String(restart).split('+');
  // detect=on: the change detector with its defaults; detect=<number>: with that threshold; detect=off: none.
  // retain=<outcomes>: what a restart keeps (with detect)
  if (retain !== undefined && (detect === undefined || detect === 'off'))
    throw new Error(`policy "${kind}": retain needs detect`);
  const detector =
    detect === undefined || detect === 'off'
      ? {}
      : { detect: { ...(detect === 'on' ? {} : { threshold: detect }), ...(retain === undefined ? {} : { retain }) } };
  const interactions = crosses === 'on' ? { interactions: SIMULATION_CROSSES } : {};
  const policy = { kind, ...SIMULATION_POLICY_DEFAULTS[kind], ...params, ...detector, ...interactions };
  let agent: AgentConfig | undefined;
  let model: AgentModel | undefined;
  // the next decision's index: outcomes are learned just before it is made
  let nextDecision = 0;
  const restartedAt: number[] = [];
  const root = new Rng(`${seed}/policy/${kind}`);
  return {
    agents: (phase) => agentFor(policy, phase, features === 'focused'),
    chooser: {
      enter(next, version) {
        model = model ? agentModelFromJSON(next, agentModelToJSON(model), version) : createAgentModel(next, version);
        const fresh = version > 1 && restarted.length > 0 ? createAgentModel(next, version) : undefined;
        for (const id of restarted) {
          const j = model.dimensions.findIndex((d) => d.id === id);
          if (j < 0)
            throw new Error(
              `policy "${kind}": restart names no dimension "${id}" (${model.dimensions.map((d) => d.id).join(', ')})`,
            );
          if (fresh) model.dimensions[j].policy = fresh.dimensions[j].policy;
        }
        agent = next;
      },
      choose(i, c, traits, now, recentSends, _allowed, map) {
        nextDecision = i + 1;
        const decisionId = `d${i}`;
        const decision = decide(
          agent!,
          model!,
          { userId: c.userId, traits, timezone: c.timezone },
          now,
          root.fork(decisionId),
          { decisionId, recentSends },
        );
        return { pick: pickFromDecision(decision, agent!, map), decision };
      },
      ...('detect' in detector ? { restartedAt: () => restartedAt } : {}),
      learn(decision, reward) {
        // a restarted dimension learns nothing decided before its restart
        if (restarted.length > 0 && decision.agentVersion < model!.agentVersion) {
          const choices = Object.fromEntries(
            Object.entries(decision.choices).filter(([id]) => !restarted.includes(id)),
          );
          decision = { ...decision, choices };
        }
        const restarts = model!.change.restarts;
        learn(agent!, model!, decision, reward);
        if (model!.change.restarts > restarts) restartedAt.push(nextDecision);
      },
    },
  };
}

function agentFor(policy: Record<string, unknown>, phase: PhaseWorld, focused = false): AgentConfig {
  const result = validateConfig({
    workspace: 'simulation',
    agents: [retailAgentInput(policy, phase.subjects, phase.contents, focused)],
  });
  if (!result.ok) throw new Error(`invalid simulated agent:\n${result.errors.join('\n')}`);
  return result.config.agents[0];
}

/** Runs one chooser through the whole scenario; returns per-decision expected and best rewards. */
function runOne(
  world: World,
  chooser: Chooser,
  agents: (phase: PhaseWorld) => AgentConfig,
  progress?: (done: number) => void,
) {
  const n = world.decisions;
  const chosen = new Float64Array(n);
  const optimal = new Float64Array(n);
  const sendLog: { at: number; channel?: string }[][] = world.customers.map(() => []);
  // Like the service (learnClosed), a decision is learned once its goal window has closed,
  // converted or not, in the order the windows close. Learning a conversion as soon as it
  // happens would show every recent choice its successes before its failures, a bias that
  // grows as forgetting shortens the memory (see docs/algorithms.md).
  const pending: { at: number; decision: Decision; reward: number }[] = [];
  let learned = 0;
  const windowMs = 72 * 3_600_000;
  let phase = -1;
  let agent!: AgentConfig;
  let map!: ArmMap;
  let conversions = 0;
  for (let i = 0; i < n; i++) {
    const p = world.phaseAt(i);
    if (p !== phase) {
      phase = p;
      agent = agents(world.phases[p]);
      chooser.enter(agent, p + 1);
      map = armMap(agent, world.phases[p]);
    }
    const now = world.times[i];
    if (chooser.learn) {
      while (learned < pending.length && pending[learned].at <= now)
        chooser.learn(pending[learned].decision, pending[learned++].reward);
      if (learned > 4096) {
        pending.splice(0, learned);
        learned = 0;
      }
    }
    const c = world.who[i];
    const customer = world.customers[c];
    const log = sendLog[c];
    while (log.length > 0 && log[0].at <= now - WEEK_MS) log.shift();
    const sends = log.length;
    const traits = { ...customer.traits, sends_7d: sends };
    const allowed = allowedArms(agent, { traits, timeZone: customer.timezone, now, choices: {}, recentSends: log });
    const oracle = best(world, c, p, sends, allowed, map);
    const { pick, decision } = chooser.choose(i, customer, traits, now, log, allowed, map, oracle.pick);
    const value = world.value(c, p, sends, pick);
    chosen[i] = value;
    optimal[i] = oracle.value;
    const converted = world.conversionDraw[i] < value;
    if (converted) conversions++;
    if (pick.deliver) log.push({ at: now, channel: CHANNELS[pick.channel] });
    if (decision && chooser.learn) {
      pending.push({ at: now + windowMs, decision, reward: converted ? 1 : 0 });
    }
    if (progress && (i + 1) % 500 === 0) progress(i + 1);
  }
  return { chosen, optimal, conversions };
}

/**
 * The best a policy could do if it knew the true model but saw only the traits: each hidden
 * characteristic is replaced by its observable proxy (last category for intent, discount share
 * for price sensitivity, last engaged channel, active daypart) and the oracle decides on that.
 * A diagnostic: the gap between it and the oracle is what the traits cannot reveal.
 */
function traitOracleChooser(world: World): Chooser {
  return {
    enter() {},
    choose(i, customer, traits, _now, _recent, allowed, map) {
      const c = world.who[i];
      const p = world.phaseAt(i);
      const phase = world.phases[p];
      const proxy = proxyCustomer(customer, traits);
      const saved = phase.effects[c];
      phase.effects[c] = effects(
        proxy,
        SCENARIOS[world.scenario].phases[p].preferences,
        phase.subjects,
        phase.contents,
      );
      const pick = best(world, c, p, traits.sends_7d as number, allowed, map).pick;
      phase.effects[c] = saved;
      return { pick };
    },
  };
}

function oracleChooser(): Chooser {
  return { enter() {}, choose: (_i, _c, _t, _n, _s, _a, _m, oracle) => ({ pick: oracle }) };
}

function fixedChooser(combo: Record<string, string>): Chooser {
  let arms!: FixedArms;
  return {
    enter(next) {
      arms = fixedArms(combo, next);
    },
    choose: (_i, _c, _t, _n, _s, allowed, map) => ({ pick: fixedPick(arms, allowed, map) }),
  };
}

/**
 * The best fixed combination in hindsight (what a perfect A/B test would find): every
 * combination of arms is scored on the states an always-send policy visits, with the true
 * probabilities, and the best one (or "always skip") is returned.
 */
function staticBest(world: World, agents: (phase: PhaseWorld) => AgentConfig): Record<string, string> {
  const last = agents(world.phases[world.phases.length - 1]);
  const arms = (id: string) => last.dimensions[dimIndex(last, id)].arms.map((a) => a.id);
  const combos: Record<string, string>[] = [{ frequency: 'skip' }];
  for (const channel of arms('channel'))
    for (const send_time of arms('send_time'))
      for (const content_block of arms('content_block'))
        for (const subject_line of channel === 'email'
          ? arms('subject_line')
          : [last.dimensions[dimIndex(last, 'subject_line')].default])
          combos.push({ frequency: 'send', channel, send_time, subject_line, content_block });
  const totals = new Float64Array(combos.length);
  const probe = fixedChooser({ frequency: 'send' });
  const states: { c: number; p: number; sends: number; allowed: Allowed; map: ArmMap; agent: AgentConfig }[] = [];
  let agent!: AgentConfig;
  const recorder: Chooser = {
    enter(next, v) {
      agent = next;
      probe.enter(next, v);
    },
    choose(i, c, traits, now, recent, allowed, map, oracle) {
      states.push({ c: world.who[i], p: world.phaseAt(i), sends: traits.sends_7d as number, allowed, map, agent });
      return probe.choose(i, c, traits, now, recent, allowed, map, oracle);
    },
  };
  runOne(world, recorder, agents);
  const resolved = new Map<AgentConfig, FixedArms[]>();
  for (const s of states) {
    if (!resolved.has(s.agent))
      resolved.set(
        s.agent,
        combos.map((c) => fixedArms(c, s.agent)),
      );
    const arms = resolved.get(s.agent)!;
    for (let k = 0; k < combos.length; k++)
      totals[k] += world.value(s.c, s.p, s.sends, fixedPick(arms[k], s.allowed, s.map));
  }
  let bestK = 0;
  for (let k = 1; k < combos.length; k++) if (totals[k] > totals[bestK]) bestK = k;
  return combos[bestK];
}

function mean(values: Float64Array, from = 0, to = values.length): number {
  let s = 0;
  for (let i = from; i < to; i++) s += values[i];
  return to > from ? s / (to - from) : 0;
}

function curve(values: Float64Array, bucket: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < values.length; i += bucket) out.push(mean(values, i, Math.min(values.length, i + bucket)));
  return out;
}

/** Runs a scenario for every requested policy with common random numbers, and summarises. */
export function simulate(options: SimulationOptions): SimulationReport {
  const spec = SCENARIOS[options.scenario];
  const seed = String(options.seed);
  const world = new World(options.scenario, options.decisions, seed);
  const bucket = options.bucket ?? 1000;
  const n = options.decisions;
  const lastFrom = n - Math.floor(n * 0.2);
  const changeAt = world.phases.length > 1 ? world.phases[1].from : undefined;
  const specs = options.policies ?? spec.defaultPolicies;
  const defaultAgents = banditChooser('random', {}, seed).agents;

  const run = (label: string, chooser: Chooser, agents: (phase: PhaseWorld) => AgentConfig) =>
    runOne(world, chooser, agents, options.onProgress && ((done) => options.onProgress!(label, done, n)));

  const oracleRun = run('oracle', oracleChooser(), defaultAgents);
  const oracleReward = mean(oracleRun.chosen);
  const oracleLast = mean(oracleRun.chosen, lastFrom);
  const results: PolicyResult[] = specs.map((label) => {
    const { kind, overrides } = parsePolicySpec(label);
    let out: ReturnType<typeof runOne>;
    let combination: Record<string, string> | undefined;
    let restarts: number[] | undefined;
    if (kind === 'static-best') {
      combination = staticBest(world, defaultAgents);
      out = run(label, fixedChooser(combination), defaultAgents);
    } else if (kind === 'oracle') {
      out = oracleRun;
    } else if (kind === 'trait-oracle') {
      out = run(label, traitOracleChooser(world), defaultAgents);
    } else {
      const { chooser, agents } = banditChooser(kind, overrides, seed);
      out = run(label, chooser, agents);
      restarts = chooser.restartedAt?.();
    }
    const reward = mean(out.chosen);
    const lastReward = mean(out.chosen, lastFrom);
    const achievable = mean(out.optimal);
    const lastAchievable = mean(out.optimal, lastFrom);
    let regret = 0;
    let lastRegret = 0;
    for (let i = 0; i < n; i++) {
      regret += out.optimal[i] - out.chosen[i];
      if (i >= lastFrom) lastRegret += out.optimal[i] - out.chosen[i];
    }
    const result: PolicyResult = {
      name: label,
      reward,
      oracleShare: reward / achievable,
      oracleRunShare: reward / oracleReward,
      regret,
      last: {
        reward: lastReward,
        oracleShare: lastReward / lastAchievable,
        oracleRunShare: lastReward / oracleLast,
        regret: lastRegret,
      },
      curve: curve(out.chosen, bucket),
      conversions: out.conversions,
    };
    if (combination) result.combination = combination;
    if (restarts !== undefined) {
      result.restarts = restarts.length;
      result.restartedAt = restarts;
    }
    if (changeAt !== undefined) {
      const end = Math.min(n, changeAt + 10_000);
      const from = Math.max(changeAt, end - 2000);
      const policyCurve = curve(out.chosen.subarray(changeAt), bucket);
      const bestCurve = curve(out.optimal.subarray(changeAt), bucket);
      const k = policyCurve.findIndex((v, b) => v >= 0.8 * bestCurve[b]);
      result.afterChange = {
        oracleShare: mean(out.chosen, from, end) / mean(out.optimal, from, end),
        recoveredAfter: k < 0 ? null : (k + 1) * bucket,
      };
    }
    return result;
  });
  return {
    scenario: options.scenario,
    seed,
    decisions: n,
    description: spec.description,
    oracle: { reward: oracleReward, last: { reward: oracleLast }, curve: curve(oracleRun.chosen, bucket) },
    bucket,
    ...(changeAt !== undefined ? { changeAt } : {}),
    policies: results,
  };
}
