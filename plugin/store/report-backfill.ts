import type Database from 'better-sqlite3';
import { keyText, Tally } from './decision-log.ts';
import { SqliteLabels } from './labels.ts';
import { SqliteReportAggregates } from './report-aggregates.ts';

type Row = Record<string, unknown>;
const PAGE = 5_000;

/**
 * Migration 9: fills the per-user report aggregates from the decision log, oldest first, a page
 * at a time, inside the migration's transaction: the distinct users of each (agent, group), the
 * decisions suppressed by guardrails, and the bootstrap-by-user sums of the closed rewards.
 * Exploration is not filled: bodies logged before it do not carry their best arm's probability.
 */
export function fillReportGroups(db: Database.Database): void {
  const labels = new SqliteLabels(db, true);
  const aggregates = new SqliteReportAggregates(db, labels);
  const suppressedReason = labels.find('guardrail');
  const page = db.prepare(
    'SELECT seq, ws, agent, user_key, at, holdout, learned, reason, reward FROM decision_log WHERE seq > ? ORDER BY seq LIMIT ?',
  );
  const tally = new Tally();
  for (let after = 0; ;) {
    const rows = page.all(after, PAGE) as Row[];
    if (rows.length === 0) break;
    for (const r of rows) fillOne(r, aggregates, tally, suppressedReason);
    after = rows.at(-1)!.seq as number;
    aggregates.apply(tally);
    tally.groups.clear();
  }
}

function fillOne(r: Row, aggregates: SqliteReportAggregates, tally: Tally, suppressedReason: number | undefined): void {
  const [ws, agent, at] = [r.ws as number, r.agent as number, r.at as number];
  const holdout = r.holdout === 1;
  const suppressed = r.reason === suppressedReason;
  const newUser = aggregates.addUser(ws, r.user_key as Buffer | string, agent, holdout);
  tally.logged(ws, agent, at, holdout, { newUser, suppressed, exploration: [] });
  if (r.learned === 1)
    tally.closed(ws, agent, at, holdout, keyText(r.user_key), suppressed, (r.reward as number | null) ?? 0);
}
