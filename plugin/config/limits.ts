/**
 * The size limits of an agent config, and the cost checks they need.
 *
 * What an agent costs grows with products of its lists: each dimension's model holds, per arm, a
 * matrix over the context it sees (slots² weights: the intercept, its features' encoded slots and
 * one slot per arm of every earlier dimension it sees), which is allocated when the agent is
 * saved, copied when it changes and serialized at every learner commit; Thompson sampling draws
 * `draws` scores per arm at every decision, and the guardrails test each of their rules against
 * each arm. Limits on each list alone would either refuse real
 * configs or allow ones that take seconds and gigabytes, so the lists have generous caps and the
 * products have budgets: arms per agent, context slots per dimension, weights per agent, scores
 * per decision.
 * The largest config within them saves in milliseconds and decides in a few (test/config/limits.test.ts
 * holds the counts to the real model; `npm run bench -- blocking` measures it).
 */
import { FeatureEncoder, SHAREABLE, useDiagonal } from '../bandit/index.ts';
import type { Dimension } from './dimensions.ts';
import type { FeatureSpec } from './features.ts';
import type { PolicyConfig } from './policy.ts';

export const MAX_AGENTS = 100;
export const MAX_DIMENSIONS = 10;
export const MAX_ARMS = 100;
/** Arms of all dimensions together: guardrails check every rule against every arm at each decision. */
export const MAX_TOTAL_ARMS = 200;
export const MAX_ARM_TAGS = 20;
export const MAX_FEATURES = 50;
export const MAX_CATEGORY_VALUES = 100;
export const MAX_HASH_BUCKETS = 4_096;
export const MAX_REWARD_RULES = 50;
export const MAX_FREQUENCY_CAPS = 20;
export const MAX_ELIGIBILITY_RULES = 50;
export const MAX_FORBIDDEN_COMBINATIONS = 50;
export const MAX_DELIVERIES = 10;
/** Conditions inside one `all` or `any`. */
export const MAX_CONDITION_ITEMS = 100;
/** Values of one `in` test, or arms of one choice test. */
export const MAX_CONDITION_VALUES = 1000;

/** Context slots one dimension's policy sees with a full covariance (slots × slots per arm; learning is O(slots³) at times). */
export const MAX_CONTEXT_SLOTS = 256;
/** Context slots with a diagonal covariance (slots variances per arm; deciding and learning linear in the nonzero slots). */
export const MAX_DIAGONAL_SLOTS = 8_192;
/** Weights of all the agent's models together (2 MB as numbers; the example agent has about 91,000). */
export const MAX_MODEL_WEIGHTS = 250_000;
/** Monte Carlo scores Thompson sampling draws per decision: draws × the arms of all dimensions (the default 300 × MAX_TOTAL_ARMS). */
export const MAX_THOMPSON_SCORES = 60_000;

type Path = (string | number)[];
type Issue = (path: Path, message: string) => void;

const count = (n: number) => n.toLocaleString('en-US');

/** The parts of an agent the budgets read, parsed and individually valid. */
export interface CostedAgent {
  policy: PolicyConfig;
  features: FeatureSpec[];
  dimensions: Dimension[];
}

/** What one dimension's model costs: the context it sees and the weights it holds. */
interface DimensionCost {
  slots: number;
  /** Whether its model has a diagonal covariance (policy.covariance, or auto above its width). */
  diagonal: boolean;
  weights: number;
}

/**
 * Slots of each encoded feature, by its name (as the agent's model lays them out; the first slot,
 * the intercept, belongs to none). Counted once per agent, so each dimension's sum is over its
 * features, not over every slot.
 */
function slotSources(features: FeatureSpec[]): ReadonlyMap<string, number> {
  const slots = new Map<string, number>();
  const sources = new FeatureEncoder(features).sources;
  for (let s = 1; s < sources.length; s++) slots.set(sources[s]!, (slots.get(sources[s]!) ?? 0) + 1);
  return slots;
}

/**
 * Slots dimension `j` sees: the intercept, the features it lists (all by default), earlier
 * dimensions' arms, and the declared interactions whose two parts it sees (one slot per pair of
 * their slots).
 */
function contextSlots(agent: CostedAgent, j: number, sources: ReadonlyMap<string, number>): number {
  const dims = agent.dimensions;
  const seen = (name: string) => !dims[j].features || dims[j].features.includes(name);
  const partSlots = (name: string): number => {
    if (!seen(name)) return 0;
    const earlier = dims.slice(0, j).find((d) => d.id === name);
    return earlier ? earlier.arms.length : (sources.get(name) ?? 0);
  };
  let slots = 1;
  for (const [name, n] of sources) if (seen(name)) slots += n;
  for (let i = 0; i < j; i++) if (seen(dims[i].id)) slots += dims[i].arms.length;
  const crosses = 'interactions' in agent.policy ? (agent.policy.interactions ?? []) : [];
  for (const [a, b] of crosses) slots += partSlots(a) * partSlots(b);
  return slots;
}

/**
 * Groups of the shared model (`share: tags`): every tag, and each untagged arm alone; none when
 * no tag is on two arms (then every arm has a model of its own).
 */
function sharedGroups(dim: Dimension): number {
  const tagged = new Map<string, number>();
  for (const arm of dim.arms) for (const tag of new Set(arm.tags)) tagged.set(tag, (tagged.get(tag) ?? 0) + 1);
  if (![...tagged.values()].some((n) => n >= 2)) return 0;
  return tagged.size + dim.arms.filter((a) => a.tags.length === 0).length;
}

function dimensionCost(agent: CostedAgent, j: number, sources: ReadonlyMap<string, number>): DimensionCost {
  const dim = agent.dimensions[j];
  const slots = contextSlots(agent, j, sources);
  const arms = dim.arms.length;
  const groups = 'share' in agent.policy && agent.policy.share === 'tags' ? sharedGroups(dim) : 0;
  const size = slots * groups + arms;
  const covariance = 'covariance' in agent.policy ? agent.policy.covariance : undefined;
  // what grows: a covariance of one variance per slot (diagonal), or a slots × slots matrix (full)
  const diagonal = useDiagonal(covariance, slots);
  if (diagonal) return { slots, diagonal, weights: groups > 0 ? size : arms * slots };
  return { slots, diagonal, weights: groups > 0 ? size * size : arms * slots * slots };
}

/** Each dimension's context within MAX_CONTEXT_SLOTS, the agent's weights within MAX_MODEL_WEIGHTS. */
function checkModelSize(agent: CostedAgent, issue: Issue): void {
  const sources = slotSources(agent.features);
  const costs = agent.dimensions.map((_, j) => dimensionCost(agent, j, sources));
  const cap = (c: DimensionCost) => (c.diagonal ? MAX_DIAGONAL_SLOTS : MAX_CONTEXT_SLOTS);
  costs.forEach((c, j) => {
    if (c.slots > cap(c))
      issue(
        ['dimensions', j],
        `sees ${count(c.slots)} context slots (the intercept, each feature's encoded slots, one per arm of each earlier dimension, one per pair of an interaction's slots); at most ${count(cap(c))} with a ${c.diagonal ? 'diagonal' : 'full'} covariance: list fewer in its \`features\`, or use fewer hashed buckets, categorical values or interactions${c.diagonal ? '' : ', or set policy.covariance: diagonal'}`,
      );
  });
  if (costs.some((c) => c.slots > cap(c))) return;
  const total = costs.reduce((s, c) => s + c.weights, 0);
  if (total <= MAX_MODEL_WEIGHTS) return;
  const largest = costs.reduce((best, c, j) => (c.weights > costs[best].weights ? j : best), 0);
  const dim = agent.dimensions[largest];
  issue(
    ['dimensions'],
    `the model would hold ${count(total)} weights, ${count(costs[largest].weights)} of them for "${dim.id}" (${dim.arms.length} arms over ${costs[largest].slots} context slots); at most ${count(MAX_MODEL_WEIGHTS)}: give dimensions fewer arms or fewer context slots (their \`features\`)`,
  );
}

function totalArms(agent: CostedAgent): number {
  return agent.dimensions.reduce((s, d) => s + d.arms.length, 0);
}

/** Thompson sampling's draws × arms within MAX_THOMPSON_SCORES. */
function checkThompsonScores(agent: CostedAgent, issue: Issue): void {
  if (!('draws' in agent.policy)) return;
  const arms = totalArms(agent);
  const scores = agent.policy.draws * arms;
  if (scores > MAX_THOMPSON_SCORES)
    issue(
      ['policy', 'draws'],
      `${count(agent.policy.draws)} draws × ${arms} arms (all dimensions) is ${count(scores)} random scores per decision; at most ${count(MAX_THOMPSON_SCORES)}: lower draws or use fewer arms`,
    );
}

/** The budgets of an agent whose parts are valid: arms, context slots, model weights, Thompson scores. */
export function checkCosts(agent: CostedAgent, issue: Issue): void {
  const arms = totalArms(agent);
  if (arms > MAX_TOTAL_ARMS) {
    issue(['dimensions'], `have ${arms} arms in all; at most ${MAX_TOTAL_ARMS} across the agent's dimensions`);
    return;
  }
  if (SHAREABLE.has(agent.policy.kind)) checkModelSize(agent, issue);
  checkThompsonScores(agent, issue);
}

/** What the agent's model holds (the figures the budgets check), for tools and tests. */
export function modelCost(agent: CostedAgent): { slots: number[]; weights: number; arms: number } {
  const sources = slotSources(agent.features);
  const costs = agent.dimensions.map((_, j) => dimensionCost(agent, j, sources));
  return {
    slots: costs.map((c) => c.slots),
    weights: costs.reduce((s, c) => s + c.weights, 0),
    arms: totalArms(agent),
  };
}
