import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { encodeBody } from '../../plugin/store/decision-codec.ts';
import { SQLITE_MIGRATIONS } from '../../plugin/store/migrations.ts';
import { SqliteStore } from '../../plugin/store/sqlite.ts';
import type { DecisionRow, SendRow } from '../../plugin/store/types.ts';

/**
 * Decision-log writes per second through the real path (`store.withUser` + `tx.insertDecision`)
 * beside its floor: bare better-sqlite3 prepared INSERTs of the same row into tables of the same
 * shape (the store's own migrations, so the same indexes), one transaction per decision in both,
 * each in its own temporary file in WAL mode with synchronous=NORMAL. Both encode the body per
 * write (decision-codec.ts), since storing it needs that; the floor knows its labels in advance. Measured twice: with a send (as a delivered decision is
 * logged: decision and send in one transaction) and without (a single autocommit INSERT).
 * Figures are printed, never asserted.
 */

export interface StoreBenchOptions {
  /** Seconds of measured writes per figure. */
  seconds?: number;
  /** Unmeasured writes before each figure. */
  warmup?: number;
  /** Alternating rounds the seconds are split into. */
  rounds?: number;
}

const WS = 'bench';
const USERS = 10_000;
const TARGET = 0.5;

const CHOICES = {
  frequency: { arm: 'send', probability: 0.912 },
  channel: { arm: 'email', probability: 0.634 },
  send_time: { arm: '18', probability: 0.281 },
  subject_line: { arm: 'sl_urgency', probability: 0.475 },
  content_block: { arm: 'cb_bundle', probability: 0.3333333333333333 },
};

/** A realistic decision row: 5 choices and 30 features in its body. */
function baseRow(): DecisionRow {
  const at = Date.parse('2026-01-01T12:00:00Z');
  return {
    workspace: WS,
    decisionId: '',
    agentId: 'winback',
    agentVersion: 3,
    userKey: '',
    requestId: null,
    at,
    windowEnd: at + 72 * 3_600_000,
    holdout: false,
    deliver: true,
    reason: 'explore',
    probability: 0.912 * 0.634 * 0.281 * 0.475 * (1 / 3),
    body: {
      choices: CHOICES,
      features: Array.from({ length: 30 }, (_, i) => (i % 4 === 0 ? 1 : Math.round(Math.sin(i) * 1e6) / 1e6)),
      sendAt: '2026-01-01T17:00:00.000Z',
    },
    reward: null,
    learned: false,
  };
}

const userKeys = Array.from({ length: USERS }, (_, i) => `uk_${i.toString(36).padStart(40, '0')}`);

interface Writer {
  write(i: number): void | Promise<void>;
  close(): Promise<void>;
}

function realWriter(path: string, withSend: boolean): Writer {
  const store = new SqliteStore(path);
  const base = baseRow();
  return {
    write(i) {
      const row: DecisionRow = { ...base, decisionId: `d${i}`, userKey: userKeys[i % USERS] };
      const send: SendRow | undefined = withSend
        ? { workspace: WS, userKey: row.userKey, channel: 'email', at: row.at, decisionId: row.decisionId }
        : undefined;
      return store.withUser(WS, row.userKey, (tx) => tx.insertDecision(row, send));
    },
    close: () => store.close(),
  };
}

function floorWriter(path: string, withSend: boolean): Writer {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  // the store's schema (the old tables its migration 5 drops stay, empty)
  for (const m of SQLITE_MIGRATIONS) db.exec(m.sql);
  const names = ['bench', 'winback', 'explore', 'email', ...Object.entries(CHOICES).flatMap(([d, c]) => [d, c.arm])];
  const ids = new Map(names.map((n, i) => [n, i + 1]));
  const labels = { id: (text: string) => ids.get(text)!, text: (id: number) => names[id - 1]! };
  const insertDecision = db.prepare(
    'INSERT INTO decision_log (ws, agent, decision_id, user_key, request, version, at, window_end, holdout, deliver, learned, reason, probability, reward, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
  );
  const insertSend = db.prepare('INSERT INTO send_log (ws, user_key, at, channel, decision) VALUES (?, ?, ?, ?, ?)');
  const r = baseRow();
  const insert = (i: number) => {
    const userKey = userKeys[i % USERS];
    const seq = insertDecision.run(
      1,
      2,
      `d${i}`,
      userKey,
      null,
      r.agentVersion,
      r.at,
      r.windowEnd,
      r.holdout ? 1 : 0,
      r.deliver ? 1 : 0,
      0,
      3,
      r.probability,
      r.reward,
      encodeBody(r.body, null, labels),
    ).lastInsertRowid;
    if (withSend) insertSend.run(1, userKey, r.at, 4, seq);
  };
  const inTransaction = db.transaction(insert);
  return {
    write: withSend ? (i) => inTransaction(i) : insert,
    close: async () => {
      db.close();
    },
  };
}

/** Writes one at a time (awaiting each) for `seconds`, from write number `from`; returns how many and how long. */
async function measure(writer: Writer, from: number, seconds: number): Promise<{ n: number; ns: number }> {
  const started = process.hrtime.bigint();
  const budget = BigInt(Math.round(seconds * 1e9));
  let n = 0;
  let elapsed = 0n;
  while (elapsed < budget) {
    for (let k = 0; k < 256; k++, n++) await writer.write(from + n);
    elapsed = process.hrtime.bigint() - started;
  }
  return { n, ns: Number(elapsed) };
}

/**
 * Writes/s of the floor and of the real path, each in its own temporary file, measured in
 * alternating rounds so that a change of machine load during the run hits both alike.
 */
async function compare(
  makeFloor: (path: string) => Writer,
  makeReal: (path: string) => Writer,
  seconds: number,
  warmup: number,
  rounds: number,
): Promise<{ floor: number; real: number }> {
  const dirs = [0, 1].map(() => mkdtempSync(join(tmpdir(), 'nextbest-store-bench-')));
  const writers = [makeFloor(join(dirs[0], 'bench.db')), makeReal(join(dirs[1], 'bench.db'))];
  try {
    const next = [0, 0];
    const totals = [
      { n: 0, ns: 0 },
      { n: 0, ns: 0 },
    ];
    for (const [w, writer] of writers.entries()) for (; next[w] < warmup; next[w]++) await writer.write(next[w]);
    for (let round = 0; round < rounds; round++) {
      for (const [w, writer] of writers.entries()) {
        const { n, ns } = await measure(writer, next[w], seconds / rounds);
        next[w] += n;
        totals[w].n += n;
        totals[w].ns += ns;
      }
    }
    const [floor, real] = totals.map((t) => t.n / (t.ns / 1e9));
    return { floor, real };
  } finally {
    for (const writer of writers) await writer.close();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  }
}

const rate = (label: string, perSecond: number) =>
  `${label.padEnd(60)} ${Math.round(perSecond).toLocaleString('en-US').padStart(8)} writes/s   ${(1e6 / perSecond).toFixed(1).padStart(6)} µs/write`;

export async function benchStore(options: StoreBenchOptions = {}): Promise<string[]> {
  const seconds = options.seconds ?? 2;
  const warmup = options.warmup ?? 1000;
  const rounds = options.rounds ?? 8;
  const body = JSON.stringify(baseRow().body);
  const lines = [
    `store: decision-log writes, one transaction per decision, temp files in WAL with synchronous=NORMAL, body ${Buffer.byteLength(body)} B (5 choices, 30 features), ${seconds} s each in ${rounds} alternating rounds`,
  ];
  for (const withSend of [true, false]) {
    const what = withSend ? 'decision + send' : 'decision alone';
    const { floor, real } = await compare(
      (path) => floorWriter(path, withSend),
      (path) => realWriter(path, withSend),
      seconds,
      warmup,
      rounds,
    );
    lines.push(
      rate(`floor: bare prepared INSERT${withSend ? 's in one transaction' : ', autocommit'} (${what})`, floor),
    );
    lines.push(rate(`SqliteStore.withUser + insertDecision (${what})`, real));
    lines.push(
      `${'store vs floor'.padEnd(60)} ${(100 * (real / floor)).toFixed(1)} % of floor (target ≥ ${100 * TARGET} %)`,
    );
  }
  return lines;
}
