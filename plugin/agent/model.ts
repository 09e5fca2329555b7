import {
  createPolicy,
  FeatureEncoder,
  groupsOf,
  policyFromJSON,
  remapPolicy,
  sparseContext,
  type ArmGroups,
  type FeatureBlock,
  type SparseContext,
  type Policy,
  type PolicyState,
} from '../bandit/index.ts';
import { changeDetection, type AgentConfig } from '../config/index.ts';
import type { MaskReason } from '../guardrails/index.ts';
import { partWidth } from './context.ts';

/** One side of a declared interaction: a feature's slots, or an earlier dimension's choice (its arms). */
export type InteractionPart = { feature: FeatureBlock } | { dimension: number; arms: number };

/** A declared interaction a dimension sees: its two parts, and the first of its slots in the dimension's context. */
export interface Interaction {
  parts: [InteractionPart, InteractionPart];
  offset: number;
}

/** The learned model of one dimension: its arms, its feature layout and its policy. */
export interface DimensionModel {
  id: string;
  armIds: string[];
  /** Feature names of this dimension's context: the agent's features it sees, then one-hots of the earlier dimensions it sees. */
  featureNames: string[];
  /** The encoder's slots this dimension sees (all of them unless its config lists `features`), in order. */
  columns: Int32Array;
  /** The earlier dimensions (by index) whose choice it sees. */
  sees: number[];
  /** The declared interactions it sees (`policy.interactions`), laid out after the earlier choices. */
  interactions: Interaction[];
  /** With `share: tags` in a dimension where arms have a tag in common: the groups (tags, or `arm:<id>` for an untagged arm) and each arm's. */
  groups?: { names: string[] } & ArmGroups;
  policy: Policy;
}

/**
 * Everything an agent has learned, plus the buffers `decide` reuses. Built from the config with
 * `createAgentModel`, saved with `agentModelToJSON`, restored (and carried across config
 * changes) with `agentModelFromJSON`.
 */
export interface AgentModel {
  agentId: string;
  /** Config version the model was last built for. */
  agentVersion: number;
  encoder: FeatureEncoder;
  dimensions: DimensionModel[];
  /** The change detector's state (`policy.detect`; see learn.ts). */
  change: ChangeState;
  /** Buffers reused by every decision (one set per dimension), so deciding allocates little. */
  readonly scratch: {
    /** The encoded features, before each dimension takes what it sees. */
    base: Float64Array;
    /** Each dimension's context, sparse (see context.ts). */
    x: SparseContext[];
    eligible: Uint8Array[];
    probabilities: Float64Array[];
    reasons: (MaskReason | undefined)[][];
  };
}

export interface AgentModelJSON {
  agentId: string;
  agentVersion: number;
  dimensions: { id: string; armIds: string[]; featureNames: string[]; groupNames?: string[]; policy: PolicyState }[];
  /** Absent in models saved before the detector existed: a fresh state. */
  change?: ChangeState;
}

/** The change detector: outcomes counted since the last (re)start, the CUSUM, and restarts so far. */
export interface ChangeState {
  seen: number;
  shortfall: number;
  restarts: number;
}

/** The parameters the bandit policies take: the agent's policy config without what the agent itself reads. */
function banditParams(agent: AgentConfig): AgentConfig['policy'] {
  if (!('detect' in agent.policy) && !('interactions' in agent.policy)) return agent.policy;
  const {
    detect: _detect,
    interactions: _interactions,
    ...params
  } = agent.policy as AgentConfig['policy'] & {
    detect?: unknown;
    interactions?: unknown;
  };
  return params as AgentConfig['policy'];
}

/** A dimension's policy at its prior, in its layout. */
function freshPolicy(agent: AgentConfig, l: Layout): Policy {
  return createPolicy(banditParams(agent), l.armIds.length, l.featureNames.length, l.groups);
}

/**
 * A new learning run after a detected change, counted: every dimension keeps `retain` outcomes'
 * worth of its evidence (`Policy.retain`; all of it if it has learned fewer; retain 0 is the prior).
 */
export function restartAgentModel(agent: AgentConfig, model: AgentModel): void {
  const retain = changeDetection(agent.policy)?.retain ?? 0;
  for (const dim of model.dimensions) {
    const learned = dim.policy.observations();
    if (learned > retain) dim.policy.retain(retain / learned);
  }
  model.change = { seen: 0, shortfall: 0, restarts: model.change.restarts + 1 };
}

type Layout = Omit<DimensionModel, 'policy'>;

function layout(agent: AgentConfig, encoder: FeatureEncoder): Layout[] {
  return agent.dimensions.map((dim, j) => {
    // the intercept is always seen; without `features`, everything else too
    const seen = (name: string) => !dim.features || dim.features.includes(name);
    const columns: number[] = [];
    for (let s = 0; s < encoder.dim; s++) if (s === 0 || seen(encoder.sources[s])) columns.push(s);
    const featureNames = columns.map((s) => encoder.names[s]);
    const sees: number[] = [];
    for (let i = 0; i < j; i++) {
      if (!seen(agent.dimensions[i].id)) continue;
      sees.push(i);
      for (const arm of agent.dimensions[i].arms) featureNames.push(`${agent.dimensions[i].id}=${arm.id}`);
    }
    const interactions = interactionsSeen(agent, encoder, j, seen, featureNames);
    const l: Layout = {
      id: dim.id,
      armIds: dim.arms.map((a) => a.id),
      featureNames,
      columns: Int32Array.from(columns),
      sees,
      interactions,
    };
    // the schema allows `share` only on the policies that can share (SHAREABLE)
    const groups = 'share' in agent.policy && agent.policy.share === 'tags' ? tagGroups(dim.arms) : undefined;
    if (groups) l.groups = groups;
    return l;
  });
}

/**
 * The declared interactions dimension `j` sees (both parts seen, a dimension's only when decided
 * before it), each laid out after what `featureNames` holds so far, whose names it appends:
 * `a*b` for every pair of the parts' slot names.
 */
function interactionsSeen(
  agent: AgentConfig,
  encoder: FeatureEncoder,
  j: number,
  seen: (name: string) => boolean,
  featureNames: string[],
): Interaction[] {
  const declared = 'interactions' in agent.policy ? (agent.policy.interactions ?? []) : [];
  const result: Interaction[] = [];
  for (const pair of declared) {
    const parts = pair.map((name) => interactionPart(agent, encoder, name)) as [InteractionPart, InteractionPart];
    const visible = parts.every((p, k) => seen(pair[k]) && (!('dimension' in p) || p.dimension < j));
    if (!visible) continue;
    result.push({ parts, offset: featureNames.length });
    const [a, b] = parts.map((p) => partNames(agent, encoder, p));
    for (const na of a) for (const nb of b) featureNames.push(`${na}*${nb}`);
  }
  return result;
}

/** The part an interaction's name refers to: a feature of the agent, else a dimension. */
function interactionPart(agent: AgentConfig, encoder: FeatureEncoder, name: string): InteractionPart {
  const feature = encoder.blocks.find((b) => b.name === name);
  if (feature) return { feature };
  const dimension = agent.dimensions.findIndex((d) => d.id === name);
  if (dimension < 0)
    throw new Error(`policy.interactions: ${JSON.stringify(name)} is neither a feature nor a dimension of the agent`);
  return { dimension, arms: agent.dimensions[dimension].arms.length };
}

/** The slot names of an interaction's part, as a dimension's context names them. */
function partNames(agent: AgentConfig, encoder: FeatureEncoder, part: InteractionPart): string[] {
  if ('feature' in part) return encoder.names.slice(part.feature.start, part.feature.start + partWidth(part));
  const dim = agent.dimensions[part.dimension];
  return dim.arms.map((arm) => `${dim.id}=${arm.id}`);
}

/**
 * The arms' groups for `share: tags`: every tag is a group, and an arm without tags is a group of
 * its own. Undefined when no tag is on two arms: nothing would be shared.
 */
function tagGroups(
  arms: readonly { id: string; tags: readonly string[] }[],
): ({ names: string[] } & ArmGroups) | undefined {
  const counts = new Map<string, number>();
  for (const arm of arms) for (const tag of new Set(arm.tags)) counts.set(tag, (counts.get(tag) ?? 0) + 1);
  if (![...counts.values()].some((c) => c >= 2)) return undefined;
  const names: string[] = [];
  const indexOf = (name: string) => {
    let g = names.indexOf(name);
    if (g < 0) g = names.push(name) - 1;
    return g;
  };
  const of = arms.map((arm) =>
    arm.tags.length > 0 ? [...new Set(arm.tags)].map(indexOf) : [indexOf(`arm:${arm.id}`)],
  );
  return { names, count: names.length, of };
}

function withScratch(
  agentId: string,
  agentVersion: number,
  encoder: FeatureEncoder,
  dimensions: DimensionModel[],
  change: ChangeState = { seen: 0, shortfall: 0, restarts: 0 },
): AgentModel {
  return {
    agentId,
    agentVersion,
    encoder,
    dimensions,
    change: { ...change },
    scratch: {
      base: new Float64Array(encoder.dim),
      x: dimensions.map((d) => sparseContext(d.featureNames.length, d.featureNames.length)),
      eligible: dimensions.map((d) => new Uint8Array(d.armIds.length)),
      probabilities: dimensions.map((d) => new Float64Array(d.armIds.length)),
      reasons: dimensions.map((d) => new Array(d.armIds.length).fill(undefined)),
    },
  };
}

/** A fresh model: every dimension's policy at its prior. */
export function createAgentModel(agent: AgentConfig, agentVersion = 1): AgentModel {
  const encoder = new FeatureEncoder(agent.features);
  const dims = layout(agent, encoder).map((l) => ({ ...l, policy: freshPolicy(agent, l) }));
  return withScratch(agent.id, agentVersion, encoder, dims);
}

export function agentModelToJSON(model: AgentModel): AgentModelJSON {
  return {
    agentId: model.agentId,
    agentVersion: model.agentVersion,
    dimensions: model.dimensions.map((d) => ({
      id: d.id,
      armIds: d.armIds,
      featureNames: d.featureNames,
      ...(d.groups ? { groupNames: d.groups.names } : {}),
      policy: d.policy.toJSON(),
    })),
    change: { ...model.change },
  };
}

/**
 * Restores a saved model for `agent` (possibly a newer config version). Dimensions, arms and
 * features are matched by id and name: learning carries over for what still exists, new arms and
 * features start from the prior, and a changed policy kind or parameters restarts that dimension
 * only if the state format differs (see `remapPolicy`).
 */
export function agentModelFromJSON(
  agent: AgentConfig,
  json: AgentModelJSON,
  agentVersion = json.agentVersion,
): AgentModel {
  const encoder = new FeatureEncoder(agent.features);
  let unchanged = true;
  const dims = layout(agent, encoder).map((l): DimensionModel => {
    const saved = json.dimensions.find((d) => d.id === l.id);
    const sameShape =
      saved !== undefined &&
      saved.policy.name === agent.policy.kind &&
      sameList(saved.armIds, l.armIds) &&
      sameList(saved.featureNames, l.featureNames) &&
      sameList(saved.groupNames ?? [], l.groups?.names ?? []) &&
      sameGroups(groupsOf(saved.policy), l.groups);
    if (saved && sameShape) {
      return { ...l, policy: policyFromJSON({ ...saved.policy, params: banditParams(agent) }) };
    }
    unchanged = false;
    if (saved && saved.policy.name === agent.policy.kind) {
      const old = policyFromJSON(saved.policy);
      const armFrom = l.armIds.map((id) => saved.armIds.indexOf(id));
      const featureFrom = l.featureNames.map((name) => saved.featureNames.indexOf(name));
      const groups = l.groups && {
        of: l.groups,
        from: l.groups.names.map((name) => saved.groupNames?.indexOf(name) ?? -1),
      };
      return { ...l, policy: remapPolicy(old, armFrom, featureFrom, banditParams(agent), groups) };
    }
    return { ...l, policy: freshPolicy(agent, l) };
  });
  // The detector's evidence is about the estimates it was gathered against: it carries over only
  // while detection stays on and every dimension is restored as it was (a changed layout or kind,
  // or detection switched off, starts its warm-up again). Restarts are counted for good.
  const keep = changeDetection(agent.policy) !== undefined && unchanged && json.dimensions.length === dims.length;
  const change = {
    seen: keep ? (json.change?.seen ?? 0) : 0,
    shortfall: keep ? (json.change?.shortfall ?? 0) : 0,
    restarts: json.change?.restarts ?? 0,
  };
  return withScratch(agent.id, agentVersion, encoder, dims, change);
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

function sameGroups(a: ArmGroups | undefined, b: ArmGroups | undefined): boolean {
  if (!a || !b) return a === b;
  return (
    a.count === b.count &&
    a.of.length === b.of.length &&
    a.of.every((g, i) => g.length === b.of[i].length && g.every((v, k) => v === b.of[i][k]))
  );
}
