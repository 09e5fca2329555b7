import { createHash } from 'node:crypto';
import type Database from 'better-sqlite3';
import { addToReplicates, emptyReplicates, userReplicateWeights } from '../measure/bootstrap.ts';
import { choicePairs, choicesOfBody, decodeBody, encodeBody, explorationOfChoices } from './decision-codec.ts';
import type { SqliteLabels } from './labels.ts';
import type { SqliteReportAggregates } from './report-aggregates.ts';
import {
  AlreadyStoredError,
  type DecisionHead,
  type DecisionRow,
  type LearningCursor,
  type OutcomeRow,
  type RecentSend,
  type ReportCell,
  type SendRow,
} from './types.ts';

/**
 * The SQLite decision log: decisions, their sends (for frequency caps), their outcomes and the
 * report aggregates kept beside them. Every query here reads a bounded number of rows through an
 * index that matches it (test/store/query-plans.test.ts holds each plan), so its cost does not
 * grow with the log.
 *
 * A row is compact (about 250 bytes with its indexes and send): names are labels, a UUID decision
 * id is 16 bytes, a user key 32, the body has the encoding of decision-codec.ts, and a request id
 * is kept as a 12-byte hash for its unique index (the text itself travels in the body).
 */

type Row = Record<string, unknown>;
type Id = Buffer | string;

const DAY_MS = 86_400_000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const USER_KEY = /^[A-Za-z0-9_-]{43}$/;

/** A UUID as its 16 bytes; any other id as it is. */
export function idBytes(id: string): Id {
  return UUID.test(id) ? Buffer.from(id.replaceAll('-', ''), 'hex') : id;
}

function idText(stored: unknown): string {
  if (typeof stored === 'string') return stored;
  const h = (stored as Buffer).toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** A user key (base64url of an HMAC-SHA256) as its 32 bytes; any other key as it is. */
export function keyBytes(userKey: string): Id {
  if (!USER_KEY.test(userKey)) return userKey;
  const bytes = Buffer.from(userKey, 'base64url');
  return bytes.toString('base64url') === userKey ? bytes : userKey;
}

export function keyText(stored: unknown): string {
  return typeof stored === 'string' ? stored : (stored as Buffer).toString('base64url');
}

function requestHash(requestId: string): Buffer {
  return createHash('sha256').update(requestId).digest().subarray(0, 12);
}

/** A decision made ready for insertion outside any transaction (its labels exist by then). */
export interface PreparedDecision {
  values: unknown[];
  decisionId: string;
  ws: number;
  agent: number;
  at: number;
  holdout: boolean;
  /** The reward of a decision logged already learned (an import), else undefined. */
  learnedReward?: number;
  cells: [number, number][];
  userKey: Id;
  suppressed: boolean;
  /** (dimension label, chosen arm's probability, best arm's probability) where the policy drew the arm. */
  exploration: [number, number, number][];
  send?: { userKey: Id; at: number; channel: number | null; decisionId: string };
}

/** The reason a decision suppressed by guardrails is logged with. */
const SUPPRESSED_REASON = 'guardrail';

export interface GroupTally {
  key: number[];
  users: number;
  suppressed: number;
  suppressedClosed: number;
  suppressedSum: number;
  replicates: Float64Array | null;
}

/** Increments of report cells, summed in memory and written once per transaction. */
export class Tally {
  readonly cells = new Map<string, { key: number[]; decided: number; closed: number; sum: number; squares: number }>();

  add(ws: number, agent: number, at: number, holdout: boolean, cells: [number, number][], reward: number | null): void {
    const day = Math.floor(at / DAY_MS);
    // the whole decision, then each decided dimension of a treatment decision
    this.bump([ws, agent, day, holdout ? 1 : 0, 0, 0], reward);
    if (!holdout) for (const [dimension, arm] of cells) this.bump([ws, agent, day, 0, dimension, arm], reward);
  }

  /** Takes a decision counted decided back out of its cells (it was never sent). */
  leave(ws: number, agent: number, at: number, holdout: boolean, cells: [number, number][]): void {
    const day = Math.floor(at / DAY_MS);
    this.bump([ws, agent, day, holdout ? 1 : 0, 0, 0], null, -1);
    if (!holdout) for (const [dimension, arm] of cells) this.bump([ws, agent, day, 0, dimension, arm], null, -1);
  }

  private bump(key: number[], reward: number | null, decided = 1): void {
    const k = key.join(',');
    let cell = this.cells.get(k);
    if (!cell) this.cells.set(k, (cell = { key, decided: 0, closed: 0, sum: 0, squares: 0 }));
    if (reward === null) cell.decided += decided;
    else {
      cell.closed += 1;
      cell.sum += reward;
      cell.squares += reward * reward;
    }
  }

  /** Per (agent, day, group): new users, suppressed decisions and the bootstrap-by-user sums. */
  readonly groups = new Map<string, GroupTally>();
  /** Per (agent, day, dimension): decisions drawn by the policy, how many explored, mass off the best arm. */
  readonly exploration = new Map<string, { key: number[]; decided: number; explored: number; offBest: number }>();
  private readonly weights = new Float64Array(emptyReplicates().length / 2);

  /** Counts a logged decision in its group: a first-seen user, a suppression, its exploration. */
  logged(
    ws: number,
    agent: number,
    at: number,
    holdout: boolean,
    d: { newUser: boolean; suppressed: boolean; exploration: [number, number, number][] },
  ): void {
    const day = Math.floor(at / DAY_MS);
    const g = this.group(ws, agent, day, holdout);
    if (d.newUser) g.users += 1;
    if (d.suppressed) g.suppressed += 1;
    for (const [dimension, probability, best] of d.exploration) {
      const key = [ws, agent, day, dimension];
      const k = key.join(',');
      let e = this.exploration.get(k);
      if (!e) this.exploration.set(k, (e = { key, decided: 0, explored: 0, offBest: 0 }));
      e.decided += 1;
      if (probability < best) e.explored += 1;
      e.offBest += 1 - best;
    }
  }

  /** Counts a committed reward of the user in its group's replicates (and in the suppressed sums). */
  closed(
    ws: number,
    agent: number,
    at: number,
    holdout: boolean,
    userKey: string,
    suppressed: boolean,
    reward: number,
  ): void {
    const g = this.group(ws, agent, Math.floor(at / DAY_MS), holdout);
    if (suppressed) {
      g.suppressedClosed += 1;
      g.suppressedSum += reward;
    }
    g.replicates ??= emptyReplicates();
    addToReplicates(g.replicates, userReplicateWeights(userKey, this.weights), reward);
  }

  private group(ws: number, agent: number, day: number, holdout: boolean): GroupTally {
    const key = [ws, agent, day, holdout ? 1 : 0];
    const k = key.join(',');
    let g = this.groups.get(k);
    if (!g) {
      g = { key, users: 0, suppressed: 0, suppressedClosed: 0, suppressedSum: 0, replicates: null };
      this.groups.set(k, g);
    }
    return g;
  }
}

export class SqliteDecisionLog {
  /** @internal Every statement, by name (the query-plan test reads their SQL). */
  readonly s;

  /**
   * `aggregates`: the per-user report aggregates of migration 9; absent while an older migration
   * runs (migration 9 fills them from the log).
   */
  constructor(
    db: Database.Database,
    private readonly labels: SqliteLabels,
    private readonly aggregates?: SqliteReportAggregates,
  ) {
    this.s = {
      insert: db.prepare(
        `INSERT INTO decision_log (ws, agent, decision_id, user_key, request, version, at, window_end, holdout, deliver, learned, reason, probability, reward, body)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      insertSend: db.prepare('INSERT INTO send_log (ws, user_key, at, channel, decision) VALUES (?, ?, ?, ?, ?)'),
      seqOf: db.prepare('SELECT seq FROM decision_log WHERE ws = ? AND decision_id = ?').pluck(),
      get: db.prepare('SELECT * FROM decision_log WHERE ws = ? AND decision_id = ?'),
      byRequest: db.prepare('SELECT * FROM decision_log WHERE ws = ? AND agent = ? AND request = ?'),
      latest: db.prepare(
        'SELECT decision_id, at, window_end FROM decision_log WHERE ws = ? AND user_key = ? AND agent = ? AND at <= ? ORDER BY at DESC, seq DESC LIMIT 1',
      ),
      list: db.prepare('SELECT * FROM decision_log WHERE ws = ? AND agent = ? ORDER BY seq DESC LIMIT ?'),
      closedUnlearned: db.prepare(
        'SELECT * FROM decision_log WHERE ws = ? AND agent = ? AND learned = 0 AND (window_end, decision_id) > (?, ?) AND window_end <= ? ORDER BY window_end, decision_id LIMIT ?',
      ),
      markLearned: db.prepare(
        'UPDATE decision_log SET learned = 1, reward = ? WHERE ws = ? AND decision_id = ? AND learned = 0 RETURNING agent, at, holdout, body, user_key, reason',
      ),
      oldestUnlearned: db
        .prepare(
          'SELECT window_end FROM decision_log WHERE ws = ? AND agent = ? AND learned = 0 ORDER BY window_end LIMIT 1',
        )
        .pluck(),
      sendsSince: db.prepare('SELECT at, channel FROM send_log WHERE ws = ? AND user_key = ? AND at >= ? ORDER BY at'),
      insertOutcome: db.prepare(
        'INSERT OR IGNORE INTO outcome_log (decision, message_id, event, value, at) VALUES (?, ?, ?, ?, ?)',
      ),
      // one decision's outcomes (a handful), put in time order in outcomesOfSeq
      outcomes: db.prepare('SELECT message_id, event, value, at FROM outcome_log WHERE decision = ?'),
      eraseOutcomes: db.prepare(
        'DELETE FROM outcome_log WHERE decision IN (SELECT seq FROM decision_log WHERE ws = ? AND user_key = ?)',
      ),
      eraseSends: db.prepare('DELETE FROM send_log WHERE ws = ? AND user_key = ?'),
      eraseDecisions: db.prepare('DELETE FROM decision_log WHERE ws = ? AND user_key = ?'),
      oldest: db.prepare('SELECT seq, ws, user_key, at, window_end, body FROM decision_log ORDER BY seq LIMIT ?'),
      pruneOutcomes: db.prepare('DELETE FROM outcome_log WHERE decision = ?'),
      pruneSend: db.prepare('DELETE FROM send_log WHERE ws = ? AND user_key = ? AND at = ? AND decision = ?'),
      pruneDecision: db.prepare('DELETE FROM decision_log WHERE seq = ?'),
      addCell: db.prepare(
        `INSERT INTO report_cells (ws, agent, day, holdout, dimension, arm, decided, closed, reward_sum, reward_squares) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT DO UPDATE SET decided = decided + excluded.decided, closed = closed + excluded.closed,
           reward_sum = reward_sum + excluded.reward_sum, reward_squares = reward_squares + excluded.reward_squares`,
      ),
      cells: db.prepare(
        'SELECT day, holdout, dimension, arm, decided, closed, reward_sum, reward_squares FROM report_cells WHERE ws = ? AND agent = ?',
      ),
    };
  }

  /** Encodes a decision (and its send), creating the labels it needs: call it outside a transaction. */
  prepare(d: DecisionRow, send?: SendRow): PreparedDecision {
    const ws = this.labels.id(d.workspace);
    const agent = this.labels.id(d.agentId);
    const body = encodeBody(d.body, d.requestId, this.labels);
    const choices = (d.body as { choices?: unknown } | null)?.choices;
    const cells = choicePairs(choices).map(
      ([dimension, arm]) => [this.labels.id(dimension), this.labels.id(arm)] as [number, number],
    );
    const exploration = d.holdout
      ? []
      : explorationOfChoices(choices).map(
          (e) => [this.labels.id(e.dimension), e.probability, e.best] as [number, number, number],
        );
    const values = [
      ws,
      agent,
      idBytes(d.decisionId),
      keyBytes(d.userKey),
      d.requestId === null ? null : requestHash(d.requestId),
      d.agentVersion,
      d.at,
      d.windowEnd,
      d.holdout ? 1 : 0,
      d.deliver ? 1 : 0,
      d.learned ? 1 : 0,
      this.labels.id(d.reason),
      d.probability,
      d.reward,
      body,
    ];
    const prepared: PreparedDecision = {
      values,
      decisionId: d.decisionId,
      ws,
      agent,
      at: d.at,
      holdout: d.holdout,
      cells,
      userKey: values[3] as Id,
      suppressed: d.reason === SUPPRESSED_REASON,
      exploration,
      ...(d.learned ? { learnedReward: d.reward ?? 0 } : {}),
    };
    if (send) {
      prepared.send = {
        userKey: keyBytes(send.userKey),
        at: send.at,
        channel: send.channel === null ? null : this.labels.id(send.channel),
        decisionId: send.decisionId,
      };
      if (send.workspace !== d.workspace)
        throw new Error(`a send of workspace "${send.workspace}" cannot be logged with a decision of "${d.workspace}"`);
    }
    return prepared;
  }

  /** Inserts a prepared decision (inside the caller's transaction) and counts it in `tally`. */
  insert(p: PreparedDecision, tally: Tally): void {
    const seq = this.insertRow(p);
    tally.add(p.ws, p.agent, p.at, p.holdout, p.cells, null);
    const newUser = this.aggregates?.addUser(p.ws, p.userKey, p.agent, p.holdout) ?? false;
    tally.logged(p.ws, p.agent, p.at, p.holdout, { newUser, suppressed: p.suppressed, exploration: p.exploration });
    // a decision logged already learned (an import) counts as closed too
    if (p.learnedReward !== undefined) {
      tally.add(p.ws, p.agent, p.at, p.holdout, p.cells, p.learnedReward);
      tally.closed(p.ws, p.agent, p.at, p.holdout, keyText(p.userKey), p.suppressed, p.learnedReward);
    }
    if (!p.send) return;
    const decision = p.send.decisionId === p.decisionId ? seq : this.seqOf(p.ws, p.send.decisionId);
    if (decision === undefined) throw new Error(`the send names decision ${p.send.decisionId}, which is not logged`);
    this.s.insertSend.run(p.ws, p.send.userKey, p.send.at, p.send.channel, decision);
  }

  private insertRow(p: PreparedDecision): number {
    try {
      return Number(this.s.insert.run(...p.values).lastInsertRowid);
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
        throw new AlreadyStoredError(`decision ${p.decisionId} (or its request id) is already logged`, { cause: err });
      }
      throw err;
    }
  }

  /** Writes the tally's increments (inside the transaction whose writes it counted). */
  applyTally(tally: Tally): void {
    for (const c of tally.cells.values()) this.s.addCell.run(...c.key, c.decided, c.closed, c.sum, c.squares);
    tally.cells.clear();
    this.aggregates?.apply(tally);
    tally.groups.clear();
    tally.exploration.clear();
  }

  private seqOf(ws: number, decisionId: string): number | undefined {
    return this.s.seqOf.get(ws, idBytes(decisionId)) as number | undefined;
  }

  get(workspace: string, decisionId: string): DecisionRow | undefined {
    const ws = this.labels.find(workspace);
    const r = ws === undefined ? undefined : (this.s.get.get(ws, idBytes(decisionId)) as Row | undefined);
    return r && this.rowFrom(r);
  }

  byRequest(workspace: string, agentId: string, requestId: string): DecisionRow | undefined {
    const ws = this.labels.find(workspace);
    const agent = this.labels.find(agentId);
    if (ws === undefined || agent === undefined) return undefined;
    const r = this.s.byRequest.get(ws, agent, requestHash(requestId)) as Row | undefined;
    if (!r) return undefined;
    const row = this.rowFrom(r);
    return row.requestId === requestId ? row : undefined;
  }

  latest(workspace: string, userKey: string, agentIds: readonly string[], at: number): DecisionHead[] {
    const ws = this.labels.find(workspace);
    if (ws === undefined) return [];
    const key = keyBytes(userKey);
    const out: DecisionHead[] = [];
    for (const agentId of agentIds) {
      const agent = this.labels.find(agentId);
      const r = agent === undefined ? undefined : (this.s.latest.get(ws, key, agent, at) as Row | undefined);
      if (!r || (r.window_end as number) <= at) continue;
      out.push({
        decisionId: idText(r.decision_id),
        agentId,
        userKey,
        at: r.at as number,
        windowEnd: r.window_end as number,
      });
    }
    return out;
  }

  list(workspace: string, agentId: string, limit: number): DecisionRow[] {
    const ws = this.labels.find(workspace);
    const agent = this.labels.find(agentId);
    if (ws === undefined || agent === undefined) return [];
    return (this.s.list.all(ws, agent, limit) as Row[]).map((r) => this.rowFrom(r));
  }

  closedUnlearned(
    workspace: string,
    agentId: string,
    now: number,
    limit: number,
    after?: LearningCursor,
  ): (DecisionRow & { outcomes: OutcomeRow[] })[] {
    const ws = this.labels.find(workspace);
    const agent = this.labels.find(agentId);
    if (ws === undefined || agent === undefined) return [];
    // before every id: a number sorts before any text or blob
    const [afterEnd, afterId] = after ? [after.windowEnd, idBytes(after.decisionId)] : [-Infinity, 0];
    return (this.s.closedUnlearned.all(ws, agent, afterEnd, afterId, now, limit) as Row[]).map((r) => {
      const d = this.rowFrom(r);
      return { ...d, outcomes: this.outcomesOfSeq(workspace, d.decisionId, r.seq as number) };
    });
  }

  /** Marks decisions learned with their reward (inside the caller's transaction) and counts them closed. */
  markLearned(workspace: string, rewards: { decisionId: string; reward: number }[], tally: Tally): void {
    const ws = this.labels.find(workspace);
    if (ws === undefined) return;
    for (const { decisionId, reward } of rewards) {
      const r = this.s.markLearned.get(reward, ws, idBytes(decisionId)) as Row | undefined;
      if (!r) continue;
      const cells = choicesOfBody(r.body as Buffer, this.labels).map(
        ([dimension, arm]) => [this.labels.find(dimension)!, this.labels.find(arm)!] as [number, number],
      );
      tally.add(ws, r.agent as number, r.at as number, r.holdout === 1, cells, reward);
      const suppressed = r.reason === this.labels.find(SUPPRESSED_REASON);
      tally.closed(ws, r.agent as number, r.at as number, r.holdout === 1, keyText(r.user_key), suppressed, reward);
    }
  }

  /**
   * Marks decisions learned without a reward and takes them out of their report cells (inside the
   * caller's transaction); returns those that were still unlearned, with their agent's arm.
   */
  markLeftOut(
    workspace: string,
    decisionIds: readonly string[],
    tally: Tally,
  ): { decisionId: string; holdout: boolean }[] {
    const ws = this.labels.find(workspace);
    if (ws === undefined) return [];
    const left: { decisionId: string; holdout: boolean }[] = [];
    for (const decisionId of decisionIds) {
      const r = this.s.markLearned.get(null, ws, idBytes(decisionId)) as Row | undefined;
      if (!r) continue;
      const cells = choicesOfBody(r.body as Buffer, this.labels).map(
        ([dimension, arm]) => [this.labels.find(dimension)!, this.labels.find(arm)!] as [number, number],
      );
      tally.leave(ws, r.agent as number, r.at as number, r.holdout === 1, cells);
      left.push({ decisionId, holdout: r.holdout === 1 });
    }
    return left;
  }

  oldestUnlearnedWindowEnd(workspace: string, agentId: string): number | undefined {
    const ws = this.labels.find(workspace);
    const agent = this.labels.find(agentId);
    if (ws === undefined || agent === undefined) return undefined;
    return (this.s.oldestUnlearned.get(ws, agent) as number | undefined) ?? undefined;
  }

  sendsSince(workspace: string, userKey: string, since: number): RecentSend[] {
    const ws = this.labels.find(workspace);
    if (ws === undefined) return [];
    return (this.s.sendsSince.all(ws, keyBytes(userKey), since) as Row[]).map((r) => ({
      at: r.at as number,
      channel: r.channel === null ? null : this.labels.text(r.channel as number),
    }));
  }

  /** The event labels of outcomes, created outside the transaction that records them. */
  prepareOutcomes(outcomes: OutcomeRow[]): number[] {
    return outcomes.map((o) => this.labels.id(o.event));
  }

  /** Records an outcome of a logged decision (inside the caller's transaction); false when the decision is gone. */
  insertOutcome(o: OutcomeRow, event: number): boolean {
    const ws = this.labels.find(o.workspace);
    const decision = ws === undefined ? undefined : this.seqOf(ws, o.decisionId);
    if (decision === undefined) return false;
    this.s.insertOutcome.run(decision, o.messageId, event, o.value, o.at);
    return true;
  }

  outcomesOf(workspace: string, decisionId: string): OutcomeRow[] {
    const ws = this.labels.find(workspace);
    const decision = ws === undefined ? undefined : this.seqOf(ws, decisionId);
    return decision === undefined ? [] : this.outcomesOfSeq(workspace, decisionId, decision);
  }

  private outcomesOfSeq(workspace: string, decisionId: string, decision: number): OutcomeRow[] {
    return (this.s.outcomes.all(decision) as Row[])
      .map((r) => ({
        workspace,
        decisionId,
        messageId: r.message_id as string,
        event: this.labels.text(r.event as number),
        value: r.value as number,
        at: r.at as number,
      }))
      .sort((a, b) => a.at - b.at || (a.messageId < b.messageId ? -1 : a.messageId > b.messageId ? 1 : 0));
  }

  /** Erases the user's decisions, their outcomes and sends (inside the caller's transaction). */
  erase(workspace: string, userKey: string): { decisions: number; outcomes: number; sends: number } {
    const ws = this.labels.find(workspace);
    if (ws === undefined) return { decisions: 0, outcomes: 0, sends: 0 };
    const key = keyBytes(userKey);
    this.aggregates?.erase(ws, key);
    return {
      outcomes: this.s.eraseOutcomes.run(ws, key).changes,
      sends: this.s.eraseSends.run(ws, key).changes,
      decisions: this.s.eraseDecisions.run(ws, key).changes,
    };
  }

  /**
   * Deletes, oldest first, up to `limit` decisions made before `before` whose window also ended
   * before it (learned or not: an agent gone from the config never learns its last ones), with
   * their outcomes and sends (inside the caller's transaction). The report cells stay.
   */
  prune(before: number, limit: number): number {
    let deleted = 0;
    for (const r of this.s.oldest.all(limit) as Row[]) {
      if ((r.at as number) >= before) break;
      if ((r.window_end as number) >= before) continue;
      const seq = r.seq as number;
      this.s.pruneOutcomes.run(seq);
      // a send is logged at the decision's send time, or at its time when it has none
      const { body } = decodeBody(r.body as Buffer, this.labels);
      const sendAt = Date.parse((body as { sendAt?: string }).sendAt ?? '');
      const removed = Number.isFinite(sendAt) ? this.s.pruneSend.run(r.ws, r.user_key, sendAt, seq).changes : 0;
      if (removed === 0) this.s.pruneSend.run(r.ws, r.user_key, r.at, seq);
      this.s.pruneDecision.run(seq);
      deleted += 1;
    }
    return deleted;
  }

  reportCells(workspace: string, agentId: string): ReportCell[] {
    const ws = this.labels.find(workspace);
    const agent = this.labels.find(agentId);
    if (ws === undefined || agent === undefined) return [];
    return (this.s.cells.all(ws, agent) as Row[]).map((r) => ({
      day: r.day as number,
      holdout: r.holdout === 1,
      dimension: r.dimension === 0 ? null : this.labels.text(r.dimension as number),
      arm: r.arm === 0 ? null : this.labels.text(r.arm as number),
      decided: r.decided as number,
      closed: r.closed as number,
      rewardSum: r.reward_sum as number,
      rewardSquares: r.reward_squares as number,
    }));
  }

  private rowFrom(r: Row): DecisionRow {
    const { body, requestId } = decodeBody(r.body as Buffer, this.labels);
    return {
      workspace: this.labels.text(r.ws as number),
      decisionId: idText(r.decision_id),
      agentId: this.labels.text(r.agent as number),
      agentVersion: r.version as number,
      userKey: keyText(r.user_key),
      requestId,
      at: r.at as number,
      windowEnd: r.window_end as number,
      holdout: r.holdout === 1,
      deliver: r.deliver === 1,
      reason: this.labels.text(r.reason as number),
      probability: r.probability as number,
      body,
      reward: (r.reward as number | null) ?? null,
      learned: r.learned === 1,
    };
  }
}
