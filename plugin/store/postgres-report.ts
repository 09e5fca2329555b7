import type pg from 'pg';
import { addToReplicates, emptyReplicates, userReplicateWeights } from '../measure/bootstrap.ts';
import type { ReportExplorationDay, ReportGroupDay } from './types.ts';

/**
 * The report aggregates of PostgreSQL migration 4 (SQLite's migration 9: see report-aggregates.ts),
 * beside the decision log: who was ever decided (to count distinct users), per (agent, UTC day,
 * group) the users first seen, the decisions suppressed by guardrails and the bootstrap-by-user
 * sums, per (agent, day, dimension) the exploration. Every write is a primary-key upsert (the
 * replicates added element by element in the upsert, so that two transactions never lose one
 * another's sums), every read a primary-key range of one agent's days.
 */

type Row = Record<string, unknown>;
const DAY_MS = 86_400_000;

/** The reason a decision suppressed by guardrails is logged with. */
export const SUPPRESSED_REASON = 'guardrail';

export const REPORT_SQL = {
  // the per-decision insert: true (one row) when the user is new to this agent and group
  insertReportUser:
    'INSERT INTO report_users (workspace, user_key, agent_id, holdout) VALUES ($1, $2, $3, $4) ON CONFLICT (workspace, user_key, agent_id, holdout) DO NOTHING',
  eraseReportUsers: 'DELETE FROM report_users WHERE workspace = $1 AND user_key = $2',
  addGroup: `INSERT INTO report_groups AS g (workspace, agent_id, day, holdout, users, suppressed, suppressed_closed, suppressed_sum, replicates)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::float8[])
    ON CONFLICT (workspace, agent_id, day, holdout) DO UPDATE SET users = g.users + excluded.users,
      suppressed = g.suppressed + excluded.suppressed, suppressed_closed = g.suppressed_closed + excluded.suppressed_closed,
      suppressed_sum = g.suppressed_sum + excluded.suppressed_sum,
      replicates = CASE WHEN excluded.replicates IS NULL THEN g.replicates WHEN g.replicates IS NULL THEN excluded.replicates
        ELSE ARRAY(SELECT a + b FROM unnest(g.replicates, excluded.replicates) WITH ORDINALITY AS r(a, b, i) ORDER BY i) END`,
  addExploration: `INSERT INTO report_exploration AS e (workspace, agent_id, day, dimension, decided, explored, off_best)
    VALUES ($1, $2, $3, $4, $5, $6, $7)
    ON CONFLICT (workspace, agent_id, day, dimension) DO UPDATE SET decided = e.decided + excluded.decided,
      explored = e.explored + excluded.explored, off_best = e.off_best + excluded.off_best`,
  groups: `SELECT day, holdout, users, suppressed, suppressed_closed, suppressed_sum, replicates FROM report_groups
    WHERE workspace = $1 AND agent_id = $2 AND day BETWEEN $3 AND $4 ORDER BY day, holdout`,
  explorationDays: `SELECT day, dimension, decided, explored, off_best FROM report_exploration
    WHERE workspace = $1 AND agent_id = $2 AND day BETWEEN $3 AND $4 ORDER BY day, dimension`,
};

type GroupKey = [string, string, number, boolean];
interface GroupTally {
  key: GroupKey;
  users: number;
  suppressed: number;
  suppressedClosed: number;
  suppressedSum: number;
  replicates: Float64Array | null;
}

/** What the report aggregates count of one logged decision. */
export interface LoggedDecision {
  workspace: string;
  agentId: string;
  at: number;
  holdout: boolean;
  newUser: boolean;
  suppressed: boolean;
  /** (dimension, chosen arm's probability, best arm's probability) where the policy drew the arm. */
  exploration: { dimension: string; probability: number; best: number }[];
}

/** Increments of the group and exploration aggregates, summed in memory and written once per transaction, in key order. */
export class ReportTally {
  private readonly groups = new Map<string, GroupTally>();
  private readonly exploration = new Map<string, { key: [string, string, number, string]; n: number[] }>();
  private readonly weights = new Float64Array(emptyReplicates().length / 2);

  /** Counts a logged decision in its group: a first-seen user, a suppression, its exploration. */
  logged(d: LoggedDecision): void {
    const day = Math.floor(d.at / DAY_MS);
    const g = this.group([d.workspace, d.agentId, day, d.holdout]);
    if (d.newUser) g.users += 1;
    if (d.suppressed) g.suppressed += 1;
    for (const { dimension, probability, best } of d.exploration) {
      const key: [string, string, number, string] = [d.workspace, d.agentId, day, dimension];
      const k = JSON.stringify(key);
      let e = this.exploration.get(k);
      if (!e) this.exploration.set(k, (e = { key, n: [0, 0, 0] }));
      e.n[0]! += 1;
      if (probability < best) e.n[1]! += 1;
      e.n[2]! += 1 - best;
    }
  }

  /** Counts a committed reward of the user in its group's replicates (and in the suppressed sums). */
  closed(
    d: { workspace: string; agentId: string; at: number; holdout: boolean; userKey: string; suppressed: boolean },
    reward: number,
  ): void {
    const g = this.group([d.workspace, d.agentId, Math.floor(d.at / DAY_MS), d.holdout]);
    if (d.suppressed) {
      g.suppressedClosed += 1;
      g.suppressedSum += reward;
    }
    g.replicates ??= emptyReplicates();
    addToReplicates(g.replicates, userReplicateWeights(d.userKey, this.weights), reward);
  }

  private group(key: GroupKey): GroupTally {
    const k = JSON.stringify(key);
    let g = this.groups.get(k);
    if (!g) {
      g = { key, users: 0, suppressed: 0, suppressedClosed: 0, suppressedSum: 0, replicates: null };
      this.groups.set(k, g);
    }
    return g;
  }

  /** Writes the increments (inside the transaction whose writes they count). */
  async apply(client: pg.ClientBase): Promise<void> {
    for (const [, g] of inKeyOrder(this.groups))
      await client.query(REPORT_SQL.addGroup, [
        ...g.key,
        g.users,
        g.suppressed,
        g.suppressedClosed,
        g.suppressedSum,
        g.replicates && Array.from(g.replicates),
      ]);
    for (const [, e] of inKeyOrder(this.exploration)) await client.query(REPORT_SQL.addExploration, [...e.key, ...e.n]);
    this.groups.clear();
    this.exploration.clear();
  }
}

function inKeyOrder<T>(map: Map<string, T>): [string, T][] {
  return [...map.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/** Records that the user was decided by the agent in this group; true when it is the first time. */
export async function addReportUser(
  client: pg.ClientBase,
  d: { workspace: string; userKey: string; agentId: string; holdout: boolean },
): Promise<boolean> {
  const { rowCount } = await client.query(REPORT_SQL.insertReportUser, [d.workspace, d.userKey, d.agentId, d.holdout]);
  return rowCount === 1;
}

export async function reportGroups(
  pool: pg.Pool,
  workspace: string,
  agentId: string,
  fromDay: number,
  toDay: number,
): Promise<ReportGroupDay[]> {
  const { rows } = await pool.query<Row>(REPORT_SQL.groups, [workspace, agentId, fromDay, toDay]);
  return rows.map((r) => ({
    day: r.day as number,
    holdout: r.holdout as boolean,
    users: r.users as number,
    suppressed: {
      decided: r.suppressed as number,
      closed: r.suppressed_closed as number,
      rewardSum: r.suppressed_sum as number,
    },
    replicates: r.replicates === null ? null : Float64Array.from(r.replicates as number[]),
  }));
}

export async function reportExploration(
  pool: pg.Pool,
  workspace: string,
  agentId: string,
  fromDay: number,
  toDay: number,
): Promise<ReportExplorationDay[]> {
  const { rows } = await pool.query<Row>(REPORT_SQL.explorationDays, [workspace, agentId, fromDay, toDay]);
  return rows.map((r) => ({
    day: r.day as number,
    dimension: r.dimension as string,
    decided: r.decided as number,
    explored: r.explored as number,
    offBest: r.off_best as number,
  }));
}

const PAGE = 5_000;

/**
 * Migration 4: fills the per-user report aggregates from the decision log, oldest first, a page
 * at a time, inside the migration's transaction (as SQLite's migration 9 does: see
 * report-backfill.ts). Exploration is not filled: older bodies do not carry their best arm.
 */
export async function fillPgReportGroups(client: pg.ClientBase): Promise<void> {
  const tally = new ReportTally();
  for (let after = 0; ;) {
    const { rows } = await client.query<Row>(
      'SELECT seq, workspace, agent_id, user_key, at, holdout, learned, reason, reward FROM decisions WHERE seq > $1 ORDER BY seq LIMIT $2',
      [after, PAGE],
    );
    if (rows.length === 0) break;
    for (const r of rows) {
      const d = {
        workspace: r.workspace as string,
        agentId: r.agent_id as string,
        userKey: r.user_key as string,
        at: Number(r.at),
        holdout: r.holdout as boolean,
        suppressed: r.reason === SUPPRESSED_REASON,
      };
      const newUser = await addReportUser(client, d);
      tally.logged({ ...d, newUser, exploration: [] });
      if (r.learned) tally.closed(d, (r.reward as number | null) ?? 0);
    }
    after = Number(rows.at(-1)!.seq);
    await tally.apply(client);
  }
}
