import type Database from 'better-sqlite3';
import { idBytes, keyBytes, SqliteDecisionLog, Tally } from './decision-log.ts';
import { SqliteLabels } from './labels.ts';
import type { DecisionRow } from './types.ts';

type Row = Record<string, unknown>;
const PAGE = 5_000;

/**
 * Migration 5: moves the decisions, sends and outcomes of the first schema into the compact log
 * (decision_log, send_log, outcome_log), fills the report cells from them, and drops the old
 * tables. Runs inside the migration's transaction, a page of rows at a time.
 */
export function compactDecisionLog(db: Database.Database): void {
  const labels = new SqliteLabels(db, true);
  const log = new SqliteDecisionLog(db, labels);
  const tally = new Tally();
  const page = db.prepare('SELECT rowid, * FROM decisions WHERE rowid > ? ORDER BY rowid LIMIT ?');
  for (let after = 0; ;) {
    const rows = page.all(after, PAGE) as Row[];
    if (rows.length === 0) break;
    for (const r of rows) log.insert(log.prepare(legacyDecision(r)), tally);
    after = rows.at(-1)!.rowid as number;
    log.applyTally(tally);
  }
  const seqOf = db.prepare('SELECT seq FROM decision_log WHERE ws = ? AND decision_id = ?').pluck();
  const sends = db.prepare('SELECT rowid, * FROM sends WHERE rowid > ? ORDER BY rowid LIMIT ?');
  const insertSend = db.prepare(
    'INSERT OR IGNORE INTO send_log (ws, user_key, at, channel, decision) VALUES (?, ?, ?, ?, ?)',
  );
  for (let after = 0; ;) {
    const rows = sends.all(after, PAGE) as Row[];
    if (rows.length === 0) break;
    for (const r of rows) {
      const ws = labels.id(r.workspace as string);
      const decision = seqOf.get(ws, idBytes(r.decision_id as string));
      if (decision !== undefined)
        insertSend.run(
          ws,
          keyBytes(r.user_key as string),
          r.at,
          r.channel === null ? null : labels.id(r.channel as string),
          decision,
        );
    }
    after = rows.at(-1)!.rowid as number;
  }
  const outcomes = db.prepare('SELECT rowid, * FROM outcomes WHERE rowid > ? ORDER BY rowid LIMIT ?');
  for (let after = 0; ;) {
    const rows = outcomes.all(after, PAGE) as Row[];
    if (rows.length === 0) break;
    for (const r of rows) {
      const o = {
        workspace: r.workspace as string,
        decisionId: r.decision_id as string,
        messageId: r.message_id as string,
        event: r.event as string,
        value: r.value as number,
        at: r.at as number,
      };
      log.insertOutcome(o, labels.id(o.event));
    }
    after = rows.at(-1)!.rowid as number;
  }
  db.exec('DROP TABLE decisions; DROP TABLE sends; DROP TABLE outcomes;');
}

function legacyDecision(r: Row): DecisionRow {
  return {
    workspace: r.workspace as string,
    decisionId: r.decision_id as string,
    agentId: r.agent_id as string,
    agentVersion: r.agent_version as number,
    userKey: r.user_key as string,
    requestId: (r.request_id as string | null) ?? null,
    at: r.at as number,
    windowEnd: r.window_end as number,
    holdout: r.holdout === 1,
    deliver: r.deliver === 1,
    reason: r.reason as string,
    probability: r.probability as number,
    body: JSON.parse(r.body as string),
    reward: (r.reward as number | null) ?? null,
    learned: r.learned === 1,
  };
}
