import type {
  AgentConfigRow,
  ApiKeyRow,
  DeliveryRow,
  DeliveryStatus,
  DeliveryUpdate,
  RunRow,
  SnapshotRow,
} from './types.ts';

/**
 * The port's rows from a database row, for the tables SQLite and PostgreSQL lay out alike (same
 * column names, JSON kept as text): one mapping for both stores.
 */
export type Row = Record<string, unknown>;

const parsed = (text: unknown) => (text === null ? null : JSON.parse(text as string));

export function runFrom(r: Row): RunRow {
  return {
    runId: r.run_id as string,
    workspace: r.workspace as string,
    agentId: r.agent_id as string,
    audience: r.audience as string,
    status: r.status as RunRow['status'],
    checkpoint: parsed(r.checkpoint),
    summary: parsed(r.summary),
    createdAt: r.created_at as number,
    updatedAt: r.updated_at as number,
  };
}

export function deliveryFrom(r: Row): DeliveryRow {
  if (r.payload === null)
    throw new Error(`the outbox row of decision ${String(r.decision_id)} for ${String(r.sink)} has lost its payload`);
  return {
    seq: r.seq as number,
    workspace: r.workspace as string,
    decisionId: r.decision_id as string,
    sink: r.sink as string,
    runId: (r.run_id as string | null) ?? null,
    userKey: r.user_key as string,
    payload: JSON.parse(r.payload as string),
    status: r.status as DeliveryStatus,
    attempts: r.attempts as number,
    error: (r.error as string | null) ?? null,
    updatedAt: r.updated_at as number,
  };
}

export function configFrom(r: Row): AgentConfigRow {
  return {
    workspace: r.workspace as string,
    agentId: r.agent_id as string,
    version: r.version as number,
    config: JSON.parse(r.config as string),
    createdAt: r.created_at as number,
    actor: r.actor as string,
  };
}

export function snapshotFrom(r: Row): SnapshotRow {
  return {
    workspace: r.workspace as string,
    agentId: r.agent_id as string,
    seq: r.seq as number,
    agentVersion: r.agent_version as number,
    state: JSON.parse(r.state as string),
    createdAt: r.created_at as number,
  };
}

export function apiKeyFrom(r: Row): ApiKeyRow {
  return {
    keyHash: r.key_hash as string,
    workspace: r.workspace as string,
    scope: r.scope as ApiKeyRow['scope'],
    label: r.label as string,
    createdAt: r.created_at as number,
  };
}

/** Delivery updates grouped by the change they make, so that each distinct change is one statement (a batch is mostly one: all delivered). */
export function deliveryChanges(
  updates: readonly DeliveryUpdate[],
): { status: string; error: string | null; attempt: number; ids: string[] }[] {
  const groups = new Map<string, { status: string; error: string | null; attempt: number; ids: string[] }>();
  for (const u of updates) {
    const change = { status: u.status, error: u.error ?? null, attempt: u.attempt ? 1 : 0 };
    const key = JSON.stringify(change);
    const group = groups.get(key) ?? { ...change, ids: [] };
    group.ids.push(u.decisionId);
    groups.set(key, group);
  }
  return [...groups.values()];
}
