import { createPolicy, FeatureEncoder, policyFromJSON, remapPolicy, type Policy, type PolicyState } from '../bandit/index.ts';
import type { MaskReason } from '../guardrails/index.ts';
import type { AgentConfig } from './config.ts';

/** The learned model of one dimension: its arms, its feature layout and its policy. */
export interface DimensionModel {
  id: string;
  armIds: string[];
  /** Feature names of this dimension's context: the agent's features, then one-hots of earlier dimensions. */
  featureNames: string[];
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
  /** Buffers reused by every decision (one set per dimension), so deciding allocates little. */
  readonly scratch: {
    x: Float64Array[];
    eligible: Uint8Array[];
    probabilities: Float64Array[];
    reasons: (MaskReason | undefined)[][];
  };
}

export interface AgentModelJSON {
  agentId: string;
  agentVersion: number;
  dimensions: { id: string; armIds: string[]; featureNames: string[]; policy: PolicyState }[];
}

function layout(agent: AgentConfig, encoder: FeatureEncoder): { id: string; armIds: string[]; featureNames: string[] }[] {
  return agent.dimensions.map((dim, j) => {
    const featureNames = [...encoder.names];
    for (let i = 0; i < j; i++) for (const arm of agent.dimensions[i].arms) featureNames.push(`${agent.dimensions[i].id}=${arm.id}`);
    return { id: dim.id, armIds: dim.arms.map((a) => a.id), featureNames };
  });
}

function withScratch(agentId: string, agentVersion: number, encoder: FeatureEncoder, dimensions: DimensionModel[]): AgentModel {
  return {
    agentId,
    agentVersion,
    encoder,
    dimensions,
    scratch: {
      x: dimensions.map((d) => new Float64Array(d.featureNames.length)),
      eligible: dimensions.map((d) => new Uint8Array(d.armIds.length)),
      probabilities: dimensions.map((d) => new Float64Array(d.armIds.length)),
      reasons: dimensions.map((d) => new Array(d.armIds.length).fill(undefined)),
    },
  };
}

/** A fresh model: every dimension's policy at its prior. */
export function createAgentModel(agent: AgentConfig, agentVersion = 1): AgentModel {
  const encoder = new FeatureEncoder(agent.features);
  const dims = layout(agent, encoder).map((l) => ({ ...l, policy: createPolicy(agent.policy, l.armIds.length, l.featureNames.length) }));
  return withScratch(agent.id, agentVersion, encoder, dims);
}

export function agentModelToJSON(model: AgentModel): AgentModelJSON {
  return {
    agentId: model.agentId,
    agentVersion: model.agentVersion,
    dimensions: model.dimensions.map((d) => ({ id: d.id, armIds: d.armIds, featureNames: d.featureNames, policy: d.policy.toJSON() })),
  };
}

/**
 * Restores a saved model for `agent` (possibly a newer config version). Dimensions, arms and
 * features are matched by id and name: learning carries over for what still exists, new arms and
 * features start from the prior, and a changed policy kind or parameters restarts that dimension
 * only if the state format differs (see `remapPolicy`).
 */
export function agentModelFromJSON(agent: AgentConfig, json: AgentModelJSON, agentVersion = json.agentVersion): AgentModel {
  const encoder = new FeatureEncoder(agent.features);
  const dims = layout(agent, encoder).map((l): DimensionModel => {
    const saved = json.dimensions.find((d) => d.id === l.id);
    const sameShape =
      saved !== undefined &&
      saved.policy.name === agent.policy.kind &&
      sameList(saved.armIds, l.armIds) &&
      sameList(saved.featureNames, l.featureNames);
    if (saved && sameShape) {
      return { ...l, policy: policyFromJSON({ ...saved.policy, params: agent.policy }) };
    }
    if (saved && saved.policy.name === agent.policy.kind) {
      const old = policyFromJSON(saved.policy);
      const armFrom = l.armIds.map((id) => saved.armIds.indexOf(id));
      const featureFrom = l.featureNames.map((name) => saved.featureNames.indexOf(name));
      return { ...l, policy: remapPolicy(old, armFrom, featureFrom, agent.policy) };
    }
    return { ...l, policy: createPolicy(agent.policy, l.armIds.length, l.featureNames.length) };
  });
  return withScratch(agent.id, agentVersion, encoder, dims);
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}
