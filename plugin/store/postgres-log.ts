import type pg from 'pg';
import { choicePairs, explorationOfChoices } from './decision-codec.ts';
import { addReportUser, ReportTally, SUPPRESSED_REASON } from './postgres-report.ts';
import {
  AlreadyStoredError,
  type DecisionHead,
  type DecisionRow,
  type OutcomeRow,
  type ReportCell,
  type SendRow,
} from './types.ts';

/**
 * The PostgreSQL decision log: decisions with their sends and outcomes, and the report
 * aggregates kept beside them, as statements run on a client the caller holds (inside its
 * transaction). Every statement here is in `LOG_SQL`, whose plans test/store/postgres-query-plans
 * checks: each reads a bounded number of rows through an index that matches it.
 */

type Row = Record<string, unknown>;
const DAY_MS = 86_400_000;

export const LOG_SQL = {
  insert: `INSERT INTO decisions (workspace, decision_id, agent_id, agent_version, user_key, request_id, at, window_end, holdout, deliver, reason, probability, body, reward, learned)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) RETURNING seq`,
  insertSend: 'INSERT INTO sends (workspace, user_key, at, channel, decision) VALUES ($1, $2, $3, $4, $5)',
  seqOf: 'SELECT seq FROM decisions WHERE workspace = $1 AND decision_id = $2',
  get: 'SELECT * FROM decisions WHERE workspace = $1 AND decision_id = $2',
  byRequest: 'SELECT * FROM decisions WHERE workspace = $1 AND agent_id = $2 AND request_id = $3',
  latest:
    'SELECT decision_id, at, window_end FROM decisions WHERE workspace = $1 AND user_key = $2 AND agent_id = $3 AND at <= $4 ORDER BY at DESC, seq DESC LIMIT 1',
  list: 'SELECT * FROM decisions WHERE workspace = $1 AND agent_id = $2 ORDER BY seq DESC LIMIT $3',
  closedUnlearned: `SELECT * FROM decisions WHERE workspace = $1 AND agent_id = $2 AND NOT learned
    AND (window_end, decision_id) > ($3, $4) AND window_end <= $5 ORDER BY window_end, decision_id LIMIT $6`,
  closedUnlearnedFirst: `SELECT * FROM decisions WHERE workspace = $1 AND agent_id = $2 AND NOT learned
    AND window_end <= $3 ORDER BY window_end, decision_id LIMIT $4`,
  // the outcomes of a page of decisions (a handful each), put in time order in outcomesBySeq
  outcomesOfMany: 'SELECT decision, message_id, event, value, at FROM outcomes WHERE decision = ANY($1::bigint[])',
  markLearned: `UPDATE decisions d SET learned = true, reward = r.reward
    FROM unnest($2::text[], $3::float8[]) AS r(id, reward)
    WHERE d.workspace = $1 AND d.decision_id = r.id AND NOT d.learned
    RETURNING d.agent_id, d.at, d.holdout, d.body, d.reward, d.user_key, d.reason`,
  // decisions left out of learning (never sent): learned without a reward
  markLeftOut: `UPDATE decisions SET learned = true, reward = NULL
    WHERE workspace = $1 AND decision_id = ANY($2::text[]) AND NOT learned RETURNING decision_id, agent_id, at, holdout, body`,
  oldestUnlearned:
    'SELECT window_end FROM decisions WHERE workspace = $1 AND agent_id = $2 AND NOT learned ORDER BY window_end LIMIT 1',
  sendsSince: 'SELECT at, channel FROM sends WHERE workspace = $1 AND user_key = $2 AND at >= $3 ORDER BY at',
  insertOutcome: `INSERT INTO outcomes (decision, message_id, event, value, at)
    SELECT seq, $3, $4, $5, $6 FROM decisions WHERE workspace = $1 AND decision_id = $2 ON CONFLICT DO NOTHING`,
  // one decision's outcomes (a handful), put in time order in inTimeOrder
  outcomes:
    'SELECT message_id, event, value, at FROM outcomes WHERE decision = (SELECT seq FROM decisions WHERE workspace = $1 AND decision_id = $2)',
  eraseOutcomes:
    'DELETE FROM outcomes WHERE decision IN (SELECT seq FROM decisions WHERE workspace = $1 AND user_key = $2)',
  eraseSends: 'DELETE FROM sends WHERE workspace = $1 AND user_key = $2',
  eraseDecisions: 'DELETE FROM decisions WHERE workspace = $1 AND user_key = $2',
  oldest: 'SELECT seq, workspace, user_key, at, window_end FROM decisions ORDER BY seq LIMIT $1',
  pruneOutcomes: 'DELETE FROM outcomes WHERE decision = $1',
  pruneSends: 'DELETE FROM sends WHERE workspace = $1 AND user_key = $2 AND decision = $3',
  pruneDecision: 'DELETE FROM decisions WHERE seq = $1',
  addCells: `INSERT INTO report_cells AS c (workspace, agent_id, day, holdout, dimension, arm, decided, closed, reward_sum, reward_squares)
    SELECT * FROM unnest($1::text[], $2::text[], $3::int[], $4::bool[], $5::text[], $6::text[], $7::bigint[], $8::bigint[], $9::float8[], $10::float8[])
    ON CONFLICT (workspace, agent_id, day, holdout, dimension, arm) DO UPDATE SET decided = c.decided + excluded.decided,
      closed = c.closed + excluded.closed, reward_sum = c.reward_sum + excluded.reward_sum,
      reward_squares = c.reward_squares + excluded.reward_squares`,
  cells:
    'SELECT day, holdout, dimension, arm, decided, closed, reward_sum, reward_squares FROM report_cells WHERE workspace = $1 AND agent_id = $2',
};

/**
 * Increments of report cells, summed in memory and written once per transaction, in key order
 * (two transactions bumping the same cells lock them in the same order, so they never deadlock),
 * with those of the per-user aggregates (`report`, see postgres-report.ts).
 * The whole-decision cell has dimension and arm '' (a dimension or arm name is never empty).
 */
export class CellTally {
  private readonly cells = new Map<string, { key: [string, string, number, boolean, string, string]; n: number[] }>();
  readonly report = new ReportTally();

  add(d: { workspace: string; agentId: string; at: number; holdout: boolean; body: unknown }, reward: number | null) {
    this.bumpAll(d, reward, 1);
  }

  /** Takes a decision counted decided back out of its cells (it was never sent). */
  leave(d: { workspace: string; agentId: string; at: number; holdout: boolean; body: unknown }) {
    this.bumpAll(d, null, -1);
  }

  private bumpAll(
    d: { workspace: string; agentId: string; at: number; holdout: boolean; body: unknown },
    reward: number | null,
    decided: number,
  ): void {
    const day = Math.floor(d.at / DAY_MS);
    this.bump([d.workspace, d.agentId, day, d.holdout, '', ''], reward, decided);
    if (d.holdout) return;
    for (const [dimension, arm] of choicePairs((d.body as { choices?: unknown } | null)?.choices))
      this.bump([d.workspace, d.agentId, day, false, dimension, arm], reward, decided);
  }

  private bump(key: [string, string, number, boolean, string, string], reward: number | null, decided: number): void {
    const k = JSON.stringify(key);
    let cell = this.cells.get(k);
    if (!cell) this.cells.set(k, (cell = { key, n: [0, 0, 0, 0] }));
    if (reward === null) cell.n[0]! += decided;
    else {
      cell.n[1]! += 1;
      cell.n[2]! += reward;
      cell.n[3]! += reward * reward;
    }
  }

  /** Writes the increments (inside the transaction whose writes they count). */
  async apply(client: pg.ClientBase): Promise<void> {
    await this.applyCells(client);
    await this.report.apply(client);
  }

  private async applyCells(client: pg.ClientBase): Promise<void> {
    if (this.cells.size === 0) return;
    const sorted = [...this.cells.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, c]) => c);
    const column = (i: number) => sorted.map((c) => c.key[i]);
    const count = (i: number) => sorted.map((c) => c.n[i]);
    await client.query(LOG_SQL.addCells, [
      column(0),
      column(1),
      column(2),
      column(3),
      column(4),
      column(5),
      count(0),
      count(1),
      count(2),
      count(3),
    ]);
    this.cells.clear();
  }
}

/** Inserts a decision (and its send) inside the caller's transaction, counting it in `tally`. */
export async function insertDecision(
  client: pg.ClientBase,
  d: DecisionRow,
  send: SendRow | undefined,
  tally: CellTally,
): Promise<void> {
  if (send && send.workspace !== d.workspace)
    throw new Error(`a send of workspace "${send.workspace}" cannot be logged with a decision of "${d.workspace}"`);
  let seq: number;
  try {
    const { rows } = await client.query<{ seq: number }>(LOG_SQL.insert, [
      d.workspace,
      d.decisionId,
      d.agentId,
      d.agentVersion,
      d.userKey,
      d.requestId,
      d.at,
      d.windowEnd,
      d.holdout,
      d.deliver,
      d.reason,
      d.probability,
      JSON.stringify(d.body),
      d.reward,
      d.learned,
    ]);
    seq = rows[0]!.seq;
  } catch (err) {
    if ((err as { code?: string }).code === '23505')
      throw new AlreadyStoredError(`decision ${d.decisionId} (or its request id) is already logged`, { cause: err });
    throw err;
  }
  tally.add(d, null);
  const suppressed = d.reason === SUPPRESSED_REASON;
  const newUser = await addReportUser(client, d);
  const exploration = d.holdout ? [] : explorationOfChoices((d.body as { choices?: unknown } | null)?.choices);
  tally.report.logged({ ...d, newUser, suppressed, exploration });
  // a decision logged already learned (an import) counts as closed too
  if (d.learned) {
    tally.add(d, d.reward ?? 0);
    tally.report.closed({ ...d, suppressed }, d.reward ?? 0);
  }
  if (!send) return;
  const decision = send.decisionId === d.decisionId ? seq : await seqOf(client, d.workspace, send.decisionId);
  if (decision === undefined) throw new Error(`the send names decision ${send.decisionId}, which is not logged`);
  await client.query(LOG_SQL.insertSend, [send.workspace, send.userKey, send.at, send.channel, decision]);
}

async function seqOf(client: pg.ClientBase, workspace: string, decisionId: string): Promise<number | undefined> {
  return (await client.query<{ seq: number }>(LOG_SQL.seqOf, [workspace, decisionId])).rows[0]?.seq;
}

/** Marks decisions learned with their reward (inside the caller's transaction) and counts them closed. */
export async function markLearned(
  client: pg.ClientBase,
  workspace: string,
  rewards: { decisionId: string; reward: number }[],
  tally: CellTally,
): Promise<void> {
  if (rewards.length === 0) return;
  const { rows } = await client.query<Row>(LOG_SQL.markLearned, [
    workspace,
    rewards.map((r) => r.decisionId),
    rewards.map((r) => r.reward),
  ]);
  for (const r of rows) {
    const d = {
      workspace,
      agentId: r.agent_id as string,
      at: r.at as number,
      holdout: r.holdout as boolean,
      body: JSON.parse(r.body as string),
      userKey: r.user_key as string,
      suppressed: r.reason === SUPPRESSED_REASON,
    };
    tally.add(d, r.reward as number);
    tally.report.closed(d, r.reward as number);
  }
}

/**
 * Marks decisions learned without a reward and takes them out of their report cells (inside the
 * caller's transaction); returns those that were still unlearned, with their arm.
 */
export async function markLeftOut(
  client: pg.ClientBase,
  workspace: string,
  decisionIds: string[],
  tally: CellTally,
): Promise<{ decisionId: string; holdout: boolean }[]> {
  if (decisionIds.length === 0) return [];
  const { rows } = await client.query<Row>(LOG_SQL.markLeftOut, [workspace, decisionIds]);
  return rows.map((r) => {
    const d = {
      workspace,
      agentId: r.agent_id as string,
      at: r.at as number,
      holdout: r.holdout as boolean,
      body: JSON.parse(r.body as string),
    };
    tally.leave(d);
    return { decisionId: r.decision_id as string, holdout: d.holdout };
  });
}

export function headFrom(r: Row, agentId: string, userKey: string): DecisionHead {
  return {
    decisionId: r.decision_id as string,
    agentId,
    userKey,
    at: r.at as number,
    windowEnd: r.window_end as number,
  };
}

/** The outcomes of many decisions (by seq), each list in time order. */
export async function outcomesBySeq(
  client: pg.ClientBase | pg.Pool,
  workspace: string,
  decisions: { seq: number; decisionId: string }[],
): Promise<Map<number, OutcomeRow[]>> {
  const out = new Map<number, OutcomeRow[]>(decisions.map((d) => [d.seq, []]));
  if (decisions.length === 0) return out;
  const ids = new Map(decisions.map((d) => [d.seq, d.decisionId]));
  const { rows } = await client.query<Row>(LOG_SQL.outcomesOfMany, [decisions.map((d) => d.seq)]);
  for (const r of rows) {
    const seq = r.decision as number;
    out.get(seq)!.push({
      workspace,
      decisionId: ids.get(seq)!,
      messageId: r.message_id as string,
      event: r.event as string,
      value: r.value as number,
      at: r.at as number,
    });
  }
  for (const list of out.values()) inTimeOrder(list);
  return out;
}

/** Sorts outcomes by time, then message id (as the SQLite store returns them). */
export function inTimeOrder(outcomes: OutcomeRow[]): OutcomeRow[] {
  return outcomes.sort((a, b) => a.at - b.at || (a.messageId < b.messageId ? -1 : a.messageId > b.messageId ? 1 : 0));
}

export function decisionFrom(r: Row): DecisionRow {
  return {
    workspace: r.workspace as string,
    decisionId: r.decision_id as string,
    agentId: r.agent_id as string,
    agentVersion: r.agent_version as number,
    userKey: r.user_key as string,
    requestId: (r.request_id as string | null) ?? null,
    at: r.at as number,
    windowEnd: r.window_end as number,
    holdout: r.holdout as boolean,
    deliver: r.deliver as boolean,
    reason: r.reason as string,
    probability: r.probability as number,
    body: JSON.parse(r.body as string),
    reward: (r.reward as number | null) ?? null,
    learned: r.learned as boolean,
  };
}

export function cellFrom(r: Row): ReportCell {
  return {
    day: r.day as number,
    holdout: r.holdout as boolean,
    dimension: r.dimension === '' ? null : (r.dimension as string),
    arm: r.arm === '' ? null : (r.arm as string),
    decided: r.decided as number,
    closed: r.closed as number,
    rewardSum: r.reward_sum as number,
    rewardSquares: r.reward_squares as number,
  };
}

/**
 * Deletes, oldest first, up to `limit` decisions made before `before` whose window also ended
 * before it, with their outcomes and sends (inside the caller's transaction), as the SQLite store
 * does. The report cells stay.
 */
export async function pruneDecisions(client: pg.ClientBase, before: number, limit: number): Promise<number> {
  let deleted = 0;
  for (const r of (await client.query<Row>(LOG_SQL.oldest, [limit])).rows) {
    if ((r.at as number) >= before) break;
    if ((r.window_end as number) >= before) continue;
    await client.query(LOG_SQL.pruneOutcomes, [r.seq]);
    await client.query(LOG_SQL.pruneSends, [r.workspace, r.user_key, r.seq]);
    await client.query(LOG_SQL.pruneDecision, [r.seq]);
    deleted += 1;
  }
  return deleted;
}
