import { LineCounter, parseDocument, stringify } from 'yaml';
import type { AuditRow } from '../store/index.ts';
import { checkedConfig } from './agents.ts';
import { RequestError } from './errors.ts';
import { agentOf, type ServiceState } from './state.ts';

const DAY_MS = 86_400_000;

/** What the console's list shows of an agent. */
export interface AgentSummary {
  id: string;
  version: number;
  policy: string;
  dimensions: string[];
  holdout: number;
  /** Decisions logged since 00:00 UTC today, and ever (from the report's aggregates). */
  decisionsToday: number;
  decisionsTotal: number;
  /** How long the oldest closed window has waited for the learner, in seconds (0: up to date). */
  learnerLagSeconds: number;
}

/** Every agent of the workspace with its state, by id. */
export async function agentSummaries(state: ServiceState): Promise<AgentSummary[]> {
  const now = state.clock();
  const today = Math.floor(now / DAY_MS);
  const out: AgentSummary[] = [];
  for (const [id, agent] of [...state.agents].sort(([a], [b]) => a.localeCompare(b))) {
    const cells = (await state.store.reportCells(state.workspace, id)).filter((c) => c.dimension === null);
    const oldest = await state.store.oldestUnlearnedWindowEnd(state.workspace, id);
    out.push({
      id,
      version: agent.version,
      policy: agent.config.policy.kind,
      dimensions: agent.config.dimensions.map((d) => d.id),
      holdout: agent.config.holdout,
      decisionsToday: cells.filter((c) => c.day === today).reduce((n, c) => n + c.decided, 0),
      decisionsTotal: cells.reduce((n, c) => n + c.decided, 0),
      learnerLagSeconds: oldest !== undefined && oldest < now ? (now - oldest) / 1000 : 0,
    });
  }
  return out;
}

/** One stored version of an agent's config. */
export interface AgentVersion {
  version: number;
  createdAt: string;
  actor: string;
  config: unknown;
  /** The config as YAML, as the console's editor shows it. */
  yaml: string;
}

/** The agent's versions, newest first, at most `limit` of them. */
export async function agentVersions(state: ServiceState, agentId: string, limit: number): Promise<AgentVersion[]> {
  const current = agentOf(state, agentId).version;
  const out: AgentVersion[] = [];
  for (let v = current; v >= 1 && out.length < limit; v--) {
    const row = await state.store.getAgentConfig(state.workspace, agentId, v);
    if (row)
      out.push({
        version: v,
        createdAt: new Date(row.createdAt).toISOString(),
        actor: row.actor,
        config: row.config,
        yaml: stringify(row.config),
      });
  }
  return out;
}

/** The audit log entries about this agent, newest first, among the workspace's last `scan`. */
export async function agentAudit(state: ServiceState, agentId: string, scan: number): Promise<AuditRow[]> {
  agentOf(state, agentId);
  return (await state.store.auditLog(state.workspace, scan)).filter((r) => r.target === agentId);
}

/** A problem of a config text: its path in the config (`policy.epsilon`), and where it is in the text when known. */
export interface ConfigIssue {
  path: string;
  message: string;
  line?: number;
  column?: number;
}

export type ConfigCheck = { ok: true; config: unknown } | { ok: false; issues: ConfigIssue[] };

/**
 * Checks an agent's config as written in YAML (or JSON, which is YAML), with the rules
 * `PUT /v1/agents/{id}` applies: syntax errors at their line and column, then every schema
 * error at its path and the line of that path in the text. Nothing is saved.
 */
export function checkAgentText(state: ServiceState, agentId: string, text: string): ConfigCheck {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0)
    return {
      ok: false,
      issues: doc.errors.map((e) => {
        const place = lineCounter.linePos(e.pos[0]);
        return { path: '', message: e.message.split('\n')[0]!, line: place.line, column: place.col };
      }),
    };
  const input: unknown = doc.toJS();
  try {
    checkedConfig(state, agentId, input);
    return { ok: true, config: input };
  } catch (err) {
    if (!(err instanceof RequestError) || !err.issues) throw err;
    return { ok: false, issues: err.issues.map((i) => ({ ...i, ...placeOf(doc, lineCounter, i.path) })) };
  }
}

/** `a.b[2].c` → `['a', 'b', 2, 'c']`. */
function pathSegments(path: string): (string | number)[] {
  const out: (string | number)[] = [];
  for (const m of path.matchAll(/([^.[\]]+)|\[(\d+)\]/g)) out.push(m[2] !== undefined ? Number(m[2]) : m[1]!);
  return out;
}

/** Line and column of the deepest node of `path` the text has (a missing key points at its parent). */
function placeOf(
  doc: ReturnType<typeof parseDocument>,
  lineCounter: LineCounter,
  path: string,
): { line?: number; column?: number } {
  const segments = pathSegments(path);
  for (let n = segments.length; n >= 0; n--) {
    const node = n === 0 ? doc.contents : doc.getIn(segments.slice(0, n), true);
    const range = (node as { range?: [number, number, number] } | null | undefined)?.range;
    if (range) {
      const place = lineCounter.linePos(range[0]);
      return { line: place.line, column: place.col };
    }
  }
  return {};
}
