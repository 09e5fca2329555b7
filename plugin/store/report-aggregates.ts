import type Database from 'better-sqlite3';
import type { Tally } from './decision-log.ts';
import type { SqliteLabels } from './labels.ts';
import type { ReportExplorationDay, ReportGroupDay } from './types.ts';

type Row = Record<string, unknown>;
type Id = Buffer | string;

/**
 * The report aggregates of migration 9, beside the decision log: who was ever decided (to count
 * distinct users), and per (agent, UTC day, group) the users first seen, the decisions suppressed
 * by guardrails and the bootstrap-by-user sums; per (agent, day, dimension) the exploration. Every
 * write is a primary-key upsert, every read a primary-key range of one agent's days.
 */
export class SqliteReportAggregates {
  /** @internal Every statement, by name (the query-plan test reads their SQL). */
  readonly s;

  constructor(
    db: Database.Database,
    private readonly labels: SqliteLabels,
  ) {
    this.s = {
      insertUser: db.prepare('INSERT OR IGNORE INTO report_users (ws, user_key, agent, holdout) VALUES (?, ?, ?, ?)'),
      eraseUsers: db.prepare('DELETE FROM report_users WHERE ws = ? AND user_key = ?'),
      groupReplicates: db
        .prepare('SELECT replicates FROM report_groups WHERE ws = ? AND agent = ? AND day = ? AND holdout = ?')
        .pluck(),
      addGroup: db.prepare(
        `INSERT INTO report_groups (ws, agent, day, holdout, users, suppressed, suppressed_closed, suppressed_sum, replicates)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT DO UPDATE SET users = users + excluded.users, suppressed = suppressed + excluded.suppressed,
           suppressed_closed = suppressed_closed + excluded.suppressed_closed,
           suppressed_sum = suppressed_sum + excluded.suppressed_sum, replicates = excluded.replicates`,
      ),
      addExploration: db.prepare(
        `INSERT INTO report_exploration (ws, agent, day, dimension, decided, explored, off_best) VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT DO UPDATE SET decided = decided + excluded.decided, explored = explored + excluded.explored,
           off_best = off_best + excluded.off_best`,
      ),
      groups: db.prepare(
        'SELECT day, holdout, users, suppressed, suppressed_closed, suppressed_sum, replicates FROM report_groups WHERE ws = ? AND agent = ? AND day BETWEEN ? AND ?',
      ),
      explorationDays: db.prepare(
        'SELECT day, dimension, decided, explored, off_best FROM report_exploration WHERE ws = ? AND agent = ? AND day BETWEEN ? AND ?',
      ),
    };
  }

  /** Records that the user was decided by the agent in this group; true when it is the first time. */
  addUser(ws: number, userKey: Id, agent: number, holdout: boolean): boolean {
    return this.s.insertUser.run(ws, userKey, agent, holdout ? 1 : 0).changes === 1;
  }

  /** Writes the tally's group and exploration increments (inside the transaction whose writes it counted). */
  apply(tally: Tally): void {
    for (const g of tally.groups.values()) {
      const stored = this.s.groupReplicates.get(...g.key) as Buffer | null | undefined;
      const replicates = g.replicates;
      if (stored && replicates) for (let i = 0; i < replicates.length; i++) replicates[i] += stored.readDoubleLE(i * 8);
      const blob = replicates ? replicatesBlob(replicates) : (stored ?? null);
      this.s.addGroup.run(...g.key, g.users, g.suppressed, g.suppressedClosed, g.suppressedSum, blob);
    }
    for (const e of tally.exploration.values()) this.s.addExploration.run(...e.key, e.decided, e.explored, e.offBest);
  }

  /** Forgets that the user was ever decided (inside the erasure's transaction). */
  erase(ws: number, userKey: Id): void {
    this.s.eraseUsers.run(ws, userKey);
  }

  groups(workspace: string, agentId: string, fromDay: number, toDay: number): ReportGroupDay[] {
    const ws = this.labels.find(workspace);
    const agent = this.labels.find(agentId);
    if (ws === undefined || agent === undefined) return [];
    return (this.s.groups.all(ws, agent, fromDay, toDay) as Row[]).map((r) => ({
      day: r.day as number,
      holdout: r.holdout === 1,
      users: r.users as number,
      suppressed: {
        decided: r.suppressed as number,
        closed: r.suppressed_closed as number,
        rewardSum: r.suppressed_sum as number,
      },
      replicates: r.replicates === null ? null : replicatesOf(r.replicates as Buffer),
    }));
  }

  exploration(workspace: string, agentId: string, fromDay: number, toDay: number): ReportExplorationDay[] {
    const ws = this.labels.find(workspace);
    const agent = this.labels.find(agentId);
    if (ws === undefined || agent === undefined) return [];
    return (this.s.explorationDays.all(ws, agent, fromDay, toDay) as Row[]).map((r) => ({
      day: r.day as number,
      dimension: this.labels.text(r.dimension as number),
      decided: r.decided as number,
      explored: r.explored as number,
      offBest: r.off_best as number,
    }));
  }
}

/** Replicates as little-endian float64 bytes, whatever the machine. */
function replicatesBlob(replicates: Float64Array): Buffer {
  const blob = Buffer.allocUnsafe(replicates.length * 8);
  for (let i = 0; i < replicates.length; i++) blob.writeDoubleLE(replicates[i]!, i * 8);
  return blob;
}

function replicatesOf(blob: Buffer): Float64Array {
  const out = new Float64Array(blob.byteLength / 8);
  for (let i = 0; i < out.length; i++) out[i] = blob.readDoubleLE(i * 8);
  return out;
}
