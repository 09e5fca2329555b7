import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { createAgentModel, decide, readConfigFile, type AgentConfig, type Decision, type Profile } from '../../plugin/agent/index.ts';
import { Rng, unitHash } from '../../plugin/bandit/index.ts';
import { userKeyOf } from '../../plugin/server/keys.ts';
import { SQLITE_MIGRATIONS } from '../../plugin/store/migrations.ts';
import { openStore, type DecisionRow, type EventRow, type OutcomeRow, type SendRow, type Store } from '../../plugin/store/index.ts';

/**
 * Fills the SQLite stores of the scale bench through the store's own batch API (`insertDecisions`,
 * `recordEvents`), with the bodies of real decisions of the example agent and a seeded, skewed
 * population of users. The history (everything whose goal window closed before the build) is built
 * once per size and schema version and cached; the part that depends on the wall clock (decisions
 * whose window is still open, a backlog of closed unlearned ones, and a stream of windows closing
 * during the run) is added to a fresh copy of the cache at every run, so that each run starts from
 * the same state.
 */

export const WORKSPACE = 'acme-sports';
export const AGENT_ID = 'winback';
export const CONFIG_PATH = 'examples/agents.yaml';
/** The workspace secret the server will find in the store (it keeps an existing workspace's secret). */
const SECRET = createHash('sha256').update('nextbest scale bench: workspace secret').digest('base64url');
/** Schema version of the cached files: the number of SQLite migrations. */
export const SCHEMA_VERSION = SQLITE_MIGRATIONS.length;

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const HISTORY_MS = 90 * DAY;
/** Decisions per `insertDecisions` call (one transaction). */
const BATCH = 10_000;
/** Share of decisions with an outcome event (an order or an open). */
const OUTCOME_SHARE = 0.05;
/** Decisions per regular user on average; at least this many regular users. */
const DECISIONS_PER_USER = 5;
const MIN_USERS = 20_000;
/** Heavy users: `heavy-0` … `heavy-49` are the ids the load uses; a store has as many real ones as keeps them at 7.5 % of it. */
export const HEAVY_IDS = 50;
const HEAVY_SHARE = 0.075;
const HEAVY_MIN = 10_500;
const HEAVY_MAX = 19_500;
const TEMPLATES = 400;
/** The run-time part every store gets, whatever its size. */
export const BACKLOG = 20_000;
const BACKLOG_SPAN_MS = 6 * HOUR;
export const CLOSING_PER_SECOND = 100;
export const CLOSING_SECONDS = 600;
/** Users with an open decision kept for the event load. */
const ACTIVE_SAMPLE = 50_000;

export const heavyUserId = (j: number) => `heavy-${j}`;
export const regularUserId = (i: number) => `u-${i}`;

/** The example agent, parsed. */
export async function loadAgent(): Promise<AgentConfig> {
  const { config } = await readConfigFile(CONFIG_PATH);
  const agent = config.agents.find((a) => a.id === AGENT_ID);
  if (!agent) throw new Error(`${CONFIG_PATH} has no agent "${AGENT_ID}"`);
  return agent;
}

// ---------------------------------------------------------------------------------------------
// the population

/** Users are numbers: regular users 0 … users − 1, heavy user j is −(j + 1). */
export interface Population {
  size: number;
  users: number;
  /** Expected decisions of each real heavy user. */
  heavyTargets: number[];
  /** Share of all decisions that are heavy users'. */
  heavyShare: number;
  heavyCumulative: number[];
}

export function populationOf(size: number): Population {
  const heavyCount = Math.min(HEAVY_IDS, Math.floor((size * HEAVY_SHARE) / ((HEAVY_MIN + HEAVY_MAX) / 2)));
  const rng = new Rng('nextbest-scale/heavy');
  const heavyTargets = Array.from({ length: heavyCount }, () => Math.round(HEAVY_MIN + rng.next() * (HEAVY_MAX - HEAVY_MIN)));
  const heavyTotal = heavyTargets.reduce((a, b) => a + b, 0);
  let sum = 0;
  const heavyCumulative = heavyTargets.map((t) => (sum += t / Math.max(1, heavyTotal)));
  return { size, users: Math.max(MIN_USERS, Math.round(size / DECISIONS_PER_USER)), heavyTargets, heavyShare: size > 0 ? heavyTotal / size : 0, heavyCumulative };
}

/** A heavy user in proportion to their target, or a regular user with p ∝ 1/√rank. */
export function pickUser(pop: Population, rng: Rng): number {
  const r = rng.next();
  if (r < pop.heavyShare) {
    const u = r / pop.heavyShare;
    const j = pop.heavyCumulative.findIndex((c) => u < c);
    return -((j < 0 ? pop.heavyCumulative.length - 1 : j) + 1);
  }
  return pickRegular(pop, rng);
}

export function pickRegular(pop: Population, rng: Rng): number {
  const v = rng.next();
  return Math.min(pop.users - 1, Math.floor(pop.users * v * v));
}

export const userIdOf = (u: number) => (u >= 0 ? regularUserId(u) : heavyUserId(-u - 1));

/** User keys (the keyed hash the server computes) and holdout flags, computed once per user. */
class UserKeys {
  private readonly keys: Buffer;
  private readonly known: Uint8Array;
  private readonly heavy = new Map<number, { key: string; holdout: boolean }>();

  constructor(
    private readonly users: number,
    private readonly agent: AgentConfig,
  ) {
    this.keys = Buffer.alloc(users * 32);
    // 0 unknown, 1 treatment, 2 holdout
    this.known = new Uint8Array(users);
  }

  of(u: number): { key: string; holdout: boolean } {
    if (u < 0) {
      let h = this.heavy.get(u);
      if (!h) this.heavy.set(u, (h = this.compute(u)));
      return h;
    }
    if (this.known[u] === 0) {
      const c = this.compute(u);
      Buffer.from(c.key, 'base64url').copy(this.keys, u * 32);
      this.known[u] = c.holdout ? 2 : 1;
      return c;
    }
    return { key: this.keys.toString('base64url', u * 32, u * 32 + 32), holdout: this.known[u] === 2 };
  }

  private compute(u: number): { key: string; holdout: boolean } {
    const id = userIdOf(u);
    return { key: userKeyOf(SECRET, id), holdout: unitHash(this.agent.salt, id) < this.agent.holdout };
  }

  get size(): number {
    return this.users;
  }
}

// ---------------------------------------------------------------------------------------------
// decision bodies

interface Template {
  deliver: boolean;
  reason: string;
  probability: number;
  channel: string | null;
  /** sendAt − decision time, when something is sent. */
  sendOffset?: number;
  choices: Decision['choices'];
  features: number[];
  suppressed?: Decision['suppressed'];
}

interface Templates {
  holdout: Template[];
  treatment: Template[];
}

const ZONES = ['Europe/Paris', 'America/New_York', 'Asia/Tokyo', 'UTC', 'Australia/Sydney', 'America/Los_Angeles', 'Europe/London'];
const CATEGORIES = ['running', 'athleisure', 'outdoor'];

function templateProfile(rng: Rng, i: number): Profile {
  const none = rng.next() < 0.05;
  return {
    userId: `template-${i}`,
    timezone: ZONES[rng.int(ZONES.length)],
    traits: {
      lifetime_orders: rng.int(40),
      last_category: CATEGORIES[rng.int(CATEGORIES.length)],
      city: `city-${rng.int(100)}`,
      last_order_at: new Date(Date.parse('2025-06-01T00:00:00Z') + rng.int(200) * DAY).toISOString(),
      vip: rng.next() < 0.1,
      email_subscribed: !none,
      sms_opt_in: !none && rng.next() < 0.5,
      push_enabled: !none && rng.next() < 0.5,
    },
  };
}

/** The real `decide` of the example agent for varied profiles at varied hours; reused round-robin by the fill. */
function decisionTemplates(agent: AgentConfig): Templates {
  const model = createAgentModel(agent, 1);
  const rng = new Rng('nextbest-scale/templates');
  const root = new Rng('nextbest-scale/decide');
  const start = Date.parse('2026-01-05T00:00:00Z');
  const out: Templates = { holdout: [], treatment: [] };
  for (let i = 0; out.holdout.length + out.treatment.length < TEMPLATES || out.holdout.length === 0; i++) {
    const now = start + i * 37 * MINUTE;
    const d = decide(agent, model, templateProfile(rng, i), now, root.fork(i), { decisionId: `template-${i}` });
    const t: Template = {
      deliver: d.deliver,
      reason: d.reason,
      probability: d.probability,
      channel: d.choices.channel?.arm ?? null,
      ...(d.sendAt ? { sendOffset: Date.parse(d.sendAt) - now } : {}),
      choices: d.choices,
      features: d.features,
      ...(d.suppressed ? { suppressed: d.suppressed } : {}),
    };
    (d.holdout ? out.holdout : out.treatment).push(t);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// rows

/** What every slice of the fill shares. */
export interface FillContext {
  agent: AgentConfig;
  pop: Population;
  keys: UserKeys;
  templates: Templates;
}

export async function fillContext(size: number): Promise<FillContext> {
  const agent = await loadAgent();
  const pop = populationOf(size);
  return { agent, pop, keys: new UserKeys(pop.users, agent), templates: decisionTemplates(agent) };
}

/** A seeded version-4 UUID. */
function uuidOf(rng: Rng): string {
  const h = [rng.nextUint32(), rng.nextUint32(), rng.nextUint32(), rng.nextUint32()].map((n) => n.toString(16).padStart(8, '0')).join('');
  const variant = ((parseInt(h[16], 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** A run of decisions of the fill: `count` of them at `atOf(i)`, learned (with their reward) or not. */
export interface Slice {
  label: string;
  count: number;
  seed: string;
  learned: boolean;
  atOf(i: number): number;
  /** Events happen before this time (the fill's clock). */
  now: number;
  /** Collects a sample of the slice's users (users with an open decision, for the event load). */
  users?: number[];
  /** Return the decision ids (small slices only). */
  keepIds?: boolean;
}

/** Keeps up to ACTIVE_SAMPLE users, then replaces one at random now and then. */
function sampleUser(users: number[], user: number, rng: Rng): void {
  if (users.length < ACTIVE_SAMPLE) users.push(user);
  else if (rng.next() < 0.1) users[rng.int(ACTIVE_SAMPLE)] = user;
}

interface BatchRows {
  decisions: { decision: DecisionRow; send?: SendRow }[];
  events: EventRow[];
  outcomes: OutcomeRow[];
  ids: string[];
}

function rowOf(ctx: FillContext, slice: Slice, rng: Rng, i: number, batch: BatchRows): void {
  const user = pickUser(ctx.pop, rng);
  const { key: userKey, holdout } = ctx.keys.of(user);
  const pool = holdout ? ctx.templates.holdout : ctx.templates.treatment;
  const t = pool[rng.int(pool.length)];
  const at = slice.atOf(i);
  const windowEnd = at + ctx.agent.goal.windowMs;
  const decisionId = uuidOf(rng);
  const outcome = rng.next() < OUTCOME_SHARE ? outcomeOf(rng, at, Math.min(windowEnd, slice.now)) : undefined;
  const body = { choices: t.choices, features: t.features, ...(t.sendOffset !== undefined ? { sendAt: new Date(at + t.sendOffset).toISOString() } : {}), ...(t.suppressed ? { suppressed: t.suppressed } : {}) };
  const decision: DecisionRow = {
    workspace: WORKSPACE,
    decisionId,
    agentId: AGENT_ID,
    agentVersion: 1,
    userKey,
    requestId: null,
    at,
    windowEnd,
    holdout,
    deliver: t.deliver,
    reason: t.reason,
    probability: t.probability,
    body,
    reward: slice.learned ? (outcome?.value ?? 0) : null,
    learned: slice.learned,
  };
  const send = t.deliver && t.sendOffset !== undefined ? { workspace: WORKSPACE, userKey, channel: t.channel, at: at + t.sendOffset, decisionId } : undefined;
  batch.decisions.push(send ? { decision, send } : { decision });
  if (slice.keepIds) batch.ids.push(decisionId);
  if (slice.users) sampleUser(slice.users, user, rng);
  if (!outcome) return;
  const messageId = `ajs-next-${uuidOf(rng)}`;
  const properties = outcome.event === 'Order Completed' ? { revenue: 20 + rng.int(180) } : {};
  batch.events.push({
    workspace: WORKSPACE,
    messageId,
    userKey,
    type: 'track',
    event: outcome.event,
    timestamp: outcome.at,
    receivedAt: outcome.at,
    body: { type: 'track', messageId, event: outcome.event, properties, timestamp: outcome.at },
  });
  batch.outcomes.push({ workspace: WORKSPACE, decisionId, messageId, event: outcome.event, value: outcome.value, at: outcome.at });
}

/** An order (reward 1) or an email open (0.1) between the decision and `before`. */
function outcomeOf(rng: Rng, at: number, before: number): { event: string; value: number; at: number } {
  const order = rng.next() < 0.3;
  return { event: order ? 'Order Completed' : 'Email Opened', value: order ? 1 : 0.1, at: Math.floor(at + rng.next() * Math.max(0, before - at)) };
}

/** Inserts a slice in batches; returns the decision ids in order and how many events were stored. */
export async function insertSlice(store: Store, ctx: FillContext, slice: Slice, progress?: (done: number) => void): Promise<{ ids: string[]; events: number }> {
  const rng = new Rng(slice.seed);
  const ids: string[] = [];
  let events = 0;
  for (let from = 0; from < slice.count; from += BATCH) {
    const batch: BatchRows = { decisions: [], events: [], outcomes: [], ids };
    for (let i = from; i < Math.min(slice.count, from + BATCH); i++) rowOf(ctx, slice, rng, i, batch);
    await store.insertDecisions(batch.decisions);
    if (batch.events.length > 0) events += (await store.recordEvents(batch.events, batch.outcomes)).inserted.length;
    progress?.(Math.min(slice.count, from + BATCH));
  }
  return { ids, events };
}

// ---------------------------------------------------------------------------------------------
// the cached history

/** Decisions of a store of `size` whose window is still open at the run (the last 72 h of its 90 days). */
export function openCountOf(size: number, windowMs: number): number {
  return Math.round((size * windowMs) / HISTORY_MS);
}

export interface CacheInfo {
  size: number;
  schema: number;
  path: string;
  /** When the history was built: its decisions end 72 h and 1 h before this. */
  builtAt: string;
  seconds: number;
  decisions: number;
  events: number;
  users: number;
  heavyUsers: number;
  reused: boolean;
}

export function cachePathOf(dir: string, size: number): string {
  return join(dir, `scale-${size}-v${SCHEMA_VERSION}.db`);
}

function removeDb(path: string): void {
  for (const suffix of ['', '-wal', '-shm']) rmSync(`${path}${suffix}`, { force: true });
}

/** Copies the WAL into the file and empties it, so the file alone is the database. */
function checkpointFile(path: string): void {
  const db = new Database(path);
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
}

/** The cached history of a store of `size` decisions, built when absent (or when `rebuild`). */
export async function ensureCache(dir: string, ctx: FillContext, rebuild: boolean, log: (line: string) => void): Promise<CacheInfo> {
  const size = ctx.pop.size;
  const path = cachePathOf(dir, size);
  const sidecar = `${path}.json`;
  if (!rebuild && existsSync(path) && existsSync(sidecar)) return { ...(JSON.parse(readFileSync(sidecar, 'utf8')) as CacheInfo), reused: true };
  mkdirSync(dir, { recursive: true });
  const building = `${path}.building`;
  removeDb(building);
  const builtAt = Math.floor(Date.now() / MINUTE) * MINUTE;
  const count = size - openCountOf(size, ctx.agent.goal.windowMs);
  // history: from 90 days before the build up to 1 h before the last window closed
  const span = HISTORY_MS - ctx.agent.goal.windowMs - HOUR;
  const first = builtAt - HISTORY_MS;
  const started = process.hrtime.bigint();
  const store = openStore(`sqlite:${building}`);
  let events = 0;
  try {
    await store.ensureWorkspace(WORKSPACE, SECRET, first);
    const slice: Slice = { label: 'history', count, seed: `nextbest-scale/${size}/history`, learned: true, atOf: (i) => first + Math.floor((i * span) / Math.max(1, count)), now: builtAt };
    let next = 0.1;
    events = (
      await insertSlice(store, ctx, slice, (done) => {
        if (done / count < next) return;
        next += 0.1;
        const s = Number(process.hrtime.bigint() - started) / 1e9;
        log(`  fill ${size.toLocaleString('en-US')}: ${done.toLocaleString('en-US')} decisions in ${s.toFixed(0)} s (${Math.round(done / s).toLocaleString('en-US')}/s)`);
      })
    ).events;
  } finally {
    await store.close();
  }
  checkpointFile(building);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  removeDb(path);
  renameSync(building, path);
  removeDb(building);
  const info: CacheInfo = { size, schema: SCHEMA_VERSION, path, builtAt: new Date(builtAt).toISOString(), seconds, decisions: count, events, users: ctx.pop.users, heavyUsers: ctx.pop.heavyTargets.length, reused: false };
  writeFileSync(sidecar, `${JSON.stringify(info, null, 2)}\n`);
  return info;
}

// ---------------------------------------------------------------------------------------------
// the run-time part

export interface RunStore {
  path: string;
  copySeconds: number;
  fillSeconds: number;
  /** Decisions added at run time: open windows, backlog, closing stream. */
  added: { open: number; backlog: number; closing: number; events: number };
  /** Backlog decision ids in the order the learner folds them (oldest window first). */
  backlogIds: string[];
  /** A sample of users with a decision whose window is open. */
  activeUsers: number[];
  fileBytes: number;
}

/**
 * A fresh copy of the cache plus the part that depends on the clock: the store's last 72 h (open
 * windows), a backlog of closed unlearned decisions (windows ended 1 min to 6 h ago) and a stream
 * of decisions whose windows close during the next 10 minutes.
 */
export async function prepareRun(cache: CacheInfo, ctx: FillContext): Promise<RunStore> {
  const path = cache.path.replace(/\.db$/, '.run.db');
  removeDb(path);
  const c0 = process.hrtime.bigint();
  copyFileSync(cache.path, path);
  const copySeconds = Number(process.hrtime.bigint() - c0) / 1e9;
  const windowMs = ctx.agent.goal.windowMs;
  const now = Date.now();
  const open = openCountOf(cache.size, windowMs);
  const activeUsers: number[] = [];
  const openFrom = now - windowMs + 10 * MINUTE;
  const closing = CLOSING_PER_SECOND * CLOSING_SECONDS;
  const slices: Slice[] = [
    { label: 'open', count: open, seed: `nextbest-scale/${cache.size}/open`, learned: false, atOf: (i) => openFrom + Math.floor((i * (now - openFrom)) / Math.max(1, open)), now, users: activeUsers },
    { label: 'backlog', count: BACKLOG, seed: 'nextbest-scale/backlog', learned: false, keepIds: true, atOf: (i) => now - MINUTE - BACKLOG_SPAN_MS + Math.floor((i * BACKLOG_SPAN_MS) / BACKLOG) - windowMs, now },
    { label: 'closing', count: closing, seed: 'nextbest-scale/closing', learned: false, atOf: (i) => now + Math.round(((i + 1) * 1000) / CLOSING_PER_SECOND) - windowMs, now, users: activeUsers },
  ];
  const f0 = process.hrtime.bigint();
  const store = openStore(`sqlite:${path}`);
  let backlogIds: string[] = [];
  let events = 0;
  try {
    for (const slice of slices) {
      const r = await insertSlice(store, ctx, slice);
      events += r.events;
      if (slice.label === 'backlog') backlogIds = r.ids;
    }
  } finally {
    await store.close();
  }
  const fillSeconds = Number(process.hrtime.bigint() - f0) / 1e9;
  return { path, copySeconds, fillSeconds, added: { open, backlog: BACKLOG, closing, events }, backlogIds, activeUsers, fileBytes: statSync(path).size };
}

export function removeRun(run: RunStore): void {
  removeDb(run.path);
}

// ---------------------------------------------------------------------------------------------
// bytes on disk

export interface TableBytes {
  table: string;
  /** The table's own b-tree (for WITHOUT ROWID tables, its primary key). */
  bytes: number;
  /** Its indexes. */
  indexBytes: number;
  /** Part of the decision log (decisions, sends, outcomes). */
  log: boolean;
}

export interface LogBytes {
  tables: TableBytes[];
  decisions: number;
  perDecision: number;
  fileBytes: number;
}

type Columns = Set<string>;

/** What the decision log is made of, found by columns so that a renamed table is still found. */
function logRole(columns: Columns): 'decisions' | 'sends' | 'outcomes' | undefined {
  if (columns.has('window_end') && columns.has('probability')) return 'decisions';
  if (columns.has('channel') && columns.has('at') && columns.has('user_key')) return 'sends';
  if (columns.has('message_id') && columns.has('value')) return 'outcomes';
  return undefined;
}

/** Page bytes of every table with its indexes (the dbstat virtual table), and the decision log's bytes per decision. */
export function logBytes(path: string): LogBytes {
  checkpointFile(path);
  const db = new Database(path, { readonly: true });
  try {
    const objects = db.prepare("SELECT type, name, tbl_name AS tbl FROM sqlite_master WHERE type IN ('table', 'index')").all() as { type: string; name: string; tbl: string }[];
    const pages = new Map((db.prepare('SELECT name, sum(pgsize) AS bytes FROM dbstat GROUP BY name').all() as { name: string; bytes: number }[]).map((r) => [r.name, r.bytes]));
    const tables = new Map<string, TableBytes>();
    let decisionTable: string | undefined;
    for (const o of objects.filter((o) => o.type === 'table')) {
      const columns: Columns = new Set((db.prepare(`SELECT name FROM pragma_table_info(?)`).all(o.name) as { name: string }[]).map((c) => c.name));
      const role = logRole(columns);
      if (role === 'decisions') decisionTable = o.name;
      tables.set(o.name, { table: o.name, bytes: pages.get(o.name) ?? 0, indexBytes: 0, log: role !== undefined });
    }
    for (const o of objects.filter((o) => o.type === 'index')) {
      const t = tables.get(o.tbl);
      if (t) t.indexBytes += pages.get(o.name) ?? 0;
    }
    const decisions = decisionTable ? (db.prepare(`SELECT count(*) AS n FROM "${decisionTable}"`).get() as { n: number }).n : 0;
    const logTotal = [...tables.values()].filter((t) => t.log).reduce((s, t) => s + t.bytes + t.indexBytes, 0);
    return { tables: [...tables.values()].sort((a, b) => b.bytes + b.indexBytes - (a.bytes + a.indexBytes)), decisions, perDecision: decisions > 0 ? logTotal / decisions : 0, fileBytes: statSync(path).size };
  } finally {
    db.close();
  }
}
