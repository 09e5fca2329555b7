import {
  agentModelFromJSON,
  agentModelToJSON,
  changeDetection,
  createAgentModel,
  MAX_AGENTS,
  profileNameClashes,
  validateAgentConfig,
  type AgentModelJSON,
  type DecisionSink,
  type Delivery,
} from '../agent/index.ts';
import { ValidationError } from './errors.ts';
import { agentOf, type AgentRuntime, type ServiceState } from './state.ts';

/** Loads every agent of the workspace from the store, with its latest model snapshot. */
export async function loadAgents(state: ServiceState): Promise<void> {
  for (const row of await state.store.listAgentConfigs(state.workspace)) {
    const parsed = validateAgentConfig(row.config);
    if (!parsed.ok) {
      state.log.error(
        { agentId: row.agentId, version: row.version, errors: parsed.errors },
        'stored agent config no longer validates; agent not loaded',
      );
      continue;
    }
    const snapshot = await state.store.latestSnapshot(state.workspace, row.agentId);
    const model = snapshot
      ? agentModelFromJSON(parsed.config, snapshot.state as AgentModelJSON, row.version)
      : createAgentModel(parsed.config, row.version);
    setAgent(state, row.agentId, {
      config: parsed.config,
      input: row.config,
      version: row.version,
      model,
      snapshotSeq: snapshot?.seq ?? 0,
    });
  }
}

export function setAgent(state: ServiceState, agentId: string, agent: AgentRuntime): void {
  state.agents.set(agentId, agent);
  // a series from the start, so that an alert on its increase sees the first restart
  if (changeDetection(agent.config.policy)) state.metrics?.learningRestarts.inc({ agent: agentId }, 0);
}

/**
 * Creates or updates an agent. The config is validated first (400 naming every bad field);
 * an unchanged config keeps its version. The model carries its learning over to the new
 * arms and features (see agentModelFromJSON).
 */
export async function putAgent(
  state: ServiceState,
  agentId: string,
  input: unknown,
  actor: string,
): Promise<{ version: number; changed: boolean }> {
  const config = checkedConfig(state, agentId, input);
  const { row, changed } = await state.store.putAgentConfig(state.workspace, agentId, input, actor, state.clock());
  const current = state.agents.get(agentId);
  if (!current || changed) {
    const model = current
      ? agentModelFromJSON(config, agentModelToJSON(current.model), row.version)
      : createAgentModel(config, row.version);
    setAgent(state, agentId, { config, input, version: row.version, model, snapshotSeq: current?.snapshotSeq ?? 0 });
    state.log.info({ agentId, version: row.version, actor }, changed ? 'agent config updated' : 'agent created');
  }
  return { version: row.version, changed };
}

/** The parsed config, or a ValidationError: bad fields, an id other than the URL's, or profile names another agent writes. */
export function checkedConfig(state: ServiceState, agentId: string, input: unknown) {
  const parsed = validateAgentConfig(input);
  if (!parsed.ok) throw new ValidationError(parsed.errors.join('; '), parsed.errors.map(splitError));
  if (parsed.config.id !== agentId)
    throw new ValidationError(`id: "${parsed.config.id}" does not match the agent in the URL ("${agentId}")`, [
      { path: 'id', message: `must be "${agentId}"` },
    ]);
  // the workspace rules of the config file: at most MAX_AGENTS agents, and no two agents writing
  // the same names onto the same profiles
  const others = [...state.agents.values()].map((a) => a.config).filter((c) => c.id !== agentId);
  if (others.length >= MAX_AGENTS)
    throw new ValidationError(`the workspace already has ${MAX_AGENTS} agents, the most it may have`, [
      { path: '', message: `a workspace has at most ${MAX_AGENTS} agents` },
    ]);
  const clash = profileNameClashes([...others, parsed.config]).find((c) => c.agent === others.length);
  if (clash) {
    const path = `delivery[${clash.delivery}].prefix`;
    throw new ValidationError(`${path}: ${clash.message}`, [{ path, message: clash.message }]);
  }
  return parsed.config;
}

function splitError(e: string): { path: string; message: string } {
  const i = e.indexOf(': ');
  return i < 0 ? { path: '', message: e } : { path: e.slice(0, i), message: e.slice(i + 2) };
}

/**
 * The sink of each of the agent's `delivery` entries, built once per agent version; `sink` is
 * undefined when this process is not connected to that destination.
 */
export function deliveryTargets(state: ServiceState, agentId: string): { delivery: Delivery; sink?: DecisionSink }[] {
  const agent = agentOf(state, agentId);
  const key = `${agentId}@${agent.version}`;
  let targets = state.targets.get(key);
  if (!targets) {
    targets = agent.config.delivery.map((delivery) => ({
      delivery,
      sink: state.sinkFactory?.(agent.config, delivery),
    }));
    state.targets.set(key, targets);
  }
  return targets;
}
