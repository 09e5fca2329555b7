import {
  agentModelFromJSON,
  agentModelToJSON,
  createAgentModel,
  validateAgentConfig,
  type AgentModelJSON,
} from '../agent/index.ts';
import { setAgent } from './agents.ts';
import type { ServiceState } from './state.ts';

/**
 * Brings this instance's agents up to what the store holds, for several instances on one
 * database: a config version another instance stored (an admin PUT answered elsewhere), and, with
 * `models`, the model snapshot the learner (another instance) committed last. With `reset`, every
 * model is loaded again from its latest snapshot, whatever this instance had: what an instance
 * does when it becomes the learner, or stops being it, so that it resumes from the last commit.
 * One query for the configs, and one indexed look-up of the latest snapshot's seq per agent; a
 * snapshot is read only when it is new.
 */
export async function followStore(state: ServiceState, options: { models: boolean; reset?: boolean }): Promise<void> {
  for (const row of await state.store.listAgentConfigs(state.workspace)) {
    const current = state.agents.get(row.agentId);
    const latestSeq = options.models ? ((await state.store.latestSnapshotSeq(state.workspace, row.agentId)) ?? 0) : 0;
    const newModel = options.models && (options.reset || latestSeq !== (current?.snapshotSeq ?? 0));
    if (current && current.version === row.version && !newModel) continue;
    const parsed = validateAgentConfig(row.config);
    if (!parsed.ok) {
      state.log.error(
        { agentId: row.agentId, version: row.version, errors: parsed.errors },
        'stored agent config no longer validates; agent not updated',
      );
      continue;
    }
    const snapshot = newModel ? await state.store.latestSnapshot(state.workspace, row.agentId) : undefined;
    const model = snapshot
      ? agentModelFromJSON(parsed.config, snapshot.state as AgentModelJSON, row.version)
      : current && !newModel
        ? agentModelFromJSON(parsed.config, agentModelToJSON(current.model), row.version)
        : createAgentModel(parsed.config, row.version);
    setAgent(state, row.agentId, {
      config: parsed.config,
      input: row.config,
      version: row.version,
      model,
      snapshotSeq: newModel ? (snapshot?.seq ?? 0) : (current?.snapshotSeq ?? 0),
    });
    if (!current || current.version !== row.version)
      state.log.info({ agentId: row.agentId, version: row.version }, 'agent config loaded from the store');
  }
}
