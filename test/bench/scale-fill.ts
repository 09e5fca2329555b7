import { createHash } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import {
  createAgentModel,
  decide,
  readConfigFile,
  type AgentConfig,
  type Decision,
  type Profile,
} from '../../plugin/agent/index.ts';
import { Rng, unitHash } from '../../plugin/bandit/index.ts';
import { userKeyOf } from '../../plugin/service/keys.ts';
import { SQLITE_MIGRATIONS } from '../../plugin/store/migrations.ts';
import {
  SqliteStore,
  type DecisionRow,
  type EventRow,
  type OutcomeRow,
  type SendRow,
  type Store,
} from '../../plugin/store/index.ts';

/**
 * Fills the SQLite stores of the scale bench through the store's own batch API (`insertDecisions`,
 * `recordEvents`), with the bodies of real decisions of the example agent and a seeded, skewed
 * population of users. The history (all but the last 8 days of the 90) is built once per size,
 * schema version and fill version, and cached; the part that depends on the wall clock (the last
 * 8 days, whose sends the frequency caps read and whose last 72 h still have open windows, a
 * backlog of closed unlearned decisions, and a stream of windows closing during the run) is added
 * to a fresh copy of the cache at every run, so that each run starts from the same state.
 */

export const WORKSPACE = 'acme-sports';
export const AGENT_ID = 'winback';
export const CONFIG_PATH = 'examples/agents.yaml';
/** The workspace secret the server will find in the store (it keeps an existing workspace's secret). */
const SECRET = createHash('sha256').update('nextbest scale bench: workspace secret').digest('base64url');
/** Schema version of the cached files: the number of SQLite migrations. */
export const SCHEMA_VERSION = SQLITE_MIGRATIONS.length;
/** Version of what the fill writes: change it when the rows change, so that older caches are not reused. */
const FILL_VERSION = 3;

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const HISTORY_MS = 90 * DAY;
/**
 * Decisions per `insertDecisions` call (one transaction), and the page cache of the fill's
 * connection (the server keeps its own default). The indexes by user take each decision on
 * a random page: with 10,000 a transaction and the default cache, a 3 M fill wrote about 10 KB
 * per decision (WAL and checkpoints) and slowed from 22,000 to 6,000 decisions/s; with these, it
 * kept about 16,000/s (measured on this 2-core machine while other work ran on it).
 */
export const FILL_BATCH = 50_000;
export const FILL_CACHE_MIB = 1024;
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
/** One closing decision in this many is watched for its learner lag (2 a second). */
const CLOSING_SAMPLE = 50;
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
  const heavyTargets = Array.from({ length: heavyCount }, () =>
    Math.round(HEAVY_MIN + rng.next() * (HEAVY_MAX - HEAVY_MIN)),
  );
  const heavyTotal = heavyTargets.reduce((a, b) => a + b, 0);
  let sum = 0;
  const heavyCumulative = heavyTargets.map((t) => (sum += t / Math.max(1, heavyTotal)));
  return {
    size,
    users: Math.max(MIN_USERS, Math.round(size / DECISIONS_PER_USER)),
    heavyTargets,
    heavyShare: size > 0 ? heavyTotal / size : 0,
    heavyCumulative,
  };
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

const ZONES = [
  'Europe/Paris',
  'America/New_York',
  'Asia/Tokyo',
  'UTC',
  'Australia/Sydney',
  'America/Los_Angeles',
  'Europe/London',
];
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

/**
 * A seeded UUID version 7 for a decision made at `at`: the layout of the service's `timeOrderedId`
 * (48 bits of milliseconds, then random bits), so the fill lands in the id index where the
 * service's own decisions would.
 */
function decisionIdOf(rng: Rng, at: number): string {
  const bytes = Buffer.alloc(16);
  bytes.writeUIntBE(Math.max(0, Math.floor(at)) % 2 ** 48, 0, 6);
  for (let i = 6; i < 16; i += 2) bytes.writeUInt16BE(rng.nextUint32() & 0xffff, i);
  bytes[6] = (bytes[6] & 0x0f) | 0x70;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const h = bytes.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/** A seeded random UUID (version 4), for event messageIds. */
function uuidOf(rng: Rng): string {
  const h = [rng.nextUint32(), rng.nextUint32(), rng.nextUint32(), rng.nextUint32()]
    .map((n) => n.toString(16).padStart(8, '0'))
    .join('');
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
  const decisionId = decisionIdOf(rng, at);
  const outcome = rng.next() < OUTCOME_SHARE ? outcomeOf(rng, at, Math.min(windowEnd, slice.now)) : undefined;
  const body = {
    choices: t.choices,
    features: t.features,
    ...(t.sendOffset !== undefined ? { sendAt: new Date(at + t.sendOffset).toISOString() } : {}),
    ...(t.suppressed ? { suppressed: t.suppressed } : {}),
  };
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
  const send =
    t.deliver && t.sendOffset !== undefined
      ? { workspace: WORKSPACE, userKey, channel: t.channel, at: at + t.sendOffset, decisionId }
      : undefined;
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
  batch.outcomes.push({
    workspace: WORKSPACE,
    decisionId,
    messageId,
    event: outcome.event,
    value: outcome.value,
    at: outcome.at,
  });
}

/** An order (reward 1) or an email open (0.1) between the decision and `before`. */
function outcomeOf(rng: Rng, at: number, before: number): { event: string; value: number; at: number } {
  const order = rng.next() < 0.3;
  return {
    event: order ? 'Order Completed' : 'Email Opened',
    value: order ? 1 : 0.1,
    at: Math.floor(at + rng.next() * Math.max(0, before - at)),
  };
}

/** Inserts a slice in batches; returns the decision ids in order and how many events were stored. */
export async function insertSlice(
  store: Store,
  ctx: FillContext,
  slice: Slice,
  progress?: (done: number) => void,
): Promise<{ ids: string[]; events: number }> {
  const rng = new Rng(slice.seed);
  const ids: string[] = [];
  let events = 0;
  for (let from = 0; from < slice.count; from += FILL_BATCH) {
    const batch: BatchRows = { decisions: [], events: [], outcomes: [], ids };
    for (let i = from; i < Math.min(slice.count, from + FILL_BATCH); i++) rowOf(ctx, slice, rng, i, batch);
    await store.insertDecisions(batch.decisions);
    if (batch.events.length > 0) events += (await store.recordEvents(batch.events, batch.outcomes)).inserted.length;
    progress?.(Math.min(slice.count, from + FILL_BATCH));
  }
  return { ids, events };
}

// ---------------------------------------------------------------------------------------------
// the cached history

/**
 * The last RECENT_MS of a store are written at each run, relative to the clock: longer than the
 * example agent's longest frequency cap (7 days), so that a user's recent sends, which decide
 * reads, do not depend on when the cache was built. Of those, the decisions of the last 72 h
 * (less 10 minutes) still have their window open.
 */
const RECENT_MS = 8 * DAY;
const OPEN_MARGIN_MS = 10 * MINUTE;

/** How a store of `size` decisions over 90 days splits into the cached history, the recent learned days and the open windows. */
export function layoutOf(size: number, windowMs: number): { history: number; recent: number; open: number } {
  const history = Math.round((size * (HISTORY_MS - RECENT_MS)) / HISTORY_MS);
  const open = Math.round((size * (windowMs - OPEN_MARGIN_MS)) / HISTORY_MS);
  return { history, recent: size - history - open, open };
}

export interface CacheInfo {
  size: number;
  schema: number;
  path: string;
  /** When the history was built: its decisions end RECENT_MS before this. */
  builtAt: string;
  seconds: number;
  decisions: number;
  events: number;
  users: number;
  heavyUsers: number;
  reused: boolean;
}

export function cachePathOf(dir: string, size: number): string {
  return join(dir, `scale-${size}-v${SCHEMA_VERSION}-fill${FILL_VERSION}.db`);
}

function removeDb(path: string): void {
  for (const suffix of ['', '-wal', '-shm', '.lock', '.lock-journal']) rmSync(`${path}${suffix}`, { force: true });
}

/** The store a fill writes through: the real SqliteStore, with a larger page cache for the bulk load. */
function openFillStore(path: string): Store {
  const store = new SqliteStore(path);
  store.db.pragma(`cache_size = -${FILL_CACHE_MIB * 1024}`);
  return store;
}

/** Deletes the cached stores of this size built for another schema or fill version (GBs at 10 M). */
function removeStaleCaches(dir: string, size: number, keep: string): void {
  const prefix = `scale-${size}-v`;
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (name.startsWith(prefix) && !path.startsWith(keep)) rmSync(path, { force: true });
  }
}

/** Copies the WAL into the file and empties it, so the file alone is the database. */
function checkpointFile(path: string): void {
  const db = new Database(path);
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
}

/** The history: `count` learned decisions from 90 days before `builtAt` up to the recent days, which each run writes. */
async function fillHistory(
  store: Store,
  ctx: FillContext,
  count: number,
  builtAt: number,
  progress: (done: number) => void,
): Promise<number> {
  const first = builtAt - HISTORY_MS;
  const span = HISTORY_MS - RECENT_MS;
  await store.ensureWorkspace(WORKSPACE, SECRET, first);
  const slice: Slice = {
    label: 'history',
    count,
    seed: `nextbest-scale/${ctx.pop.size}/history`,
    learned: true,
    atOf: (i) => first + Math.floor((i * span) / Math.max(1, count)),
    now: builtAt,
  };
  return (await insertSlice(store, ctx, slice, progress)).events;
}

/** Logs a fill's progress every tenth of it. */
function progressLog(
  size: number,
  count: number,
  started: bigint,
  log: (line: string) => void,
): (done: number) => void {
  let next = 0.1;
  return (done) => {
    if (done / count < next) return;
    next += 0.1;
    const s = Number(process.hrtime.bigint() - started) / 1e9;
    log(
      `  fill ${size.toLocaleString('en-US')}: ${done.toLocaleString('en-US')} decisions in ${s.toFixed(0)} s (${Math.round(done / s).toLocaleString('en-US')}/s)`,
    );
  };
}

/** The cached history of a store of `size` decisions, built when absent (or when `rebuild`). */
export async function ensureCache(
  dir: string,
  ctx: FillContext,
  rebuild: boolean,
  log: (line: string) => void,
): Promise<CacheInfo> {
  const size = ctx.pop.size;
  const path = cachePathOf(dir, size);
  const sidecar = `${path}.json`;
  if (!rebuild && existsSync(path) && existsSync(sidecar))
    return { ...(JSON.parse(readFileSync(sidecar, 'utf8')) as CacheInfo), reused: true };
  mkdirSync(dir, { recursive: true });
  removeStaleCaches(dir, size, path);
  const building = `${path}.building`;
  removeDb(building);
  const builtAt = Math.floor(Date.now() / MINUTE) * MINUTE;
  const count = layoutOf(size, ctx.agent.goal.windowMs).history;
  const started = process.hrtime.bigint();
  const store = openFillStore(building);
  let events: number;
  try {
    events = await fillHistory(store, ctx, count, builtAt, progressLog(size, count, started, log));
  } finally {
    await store.close();
  }
  checkpointFile(building);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  removeDb(path);
  renameSync(building, path);
  removeDb(building);
  const info: CacheInfo = {
    size,
    schema: SCHEMA_VERSION,
    path,
    builtAt: new Date(builtAt).toISOString(),
    seconds,
    decisions: count,
    events,
    users: ctx.pop.users,
    heavyUsers: ctx.pop.heavyTargets.length,
    reused: false,
  };
  writeFileSync(sidecar, `${JSON.stringify(info, null, 2)}\n`);
  return info;
}

// ---------------------------------------------------------------------------------------------
// the run-time part

export interface RunStore {
  path: string;
  copySeconds: number;
  fillSeconds: number;
  /** Decisions added at run time: the recent learned days, open windows, backlog, closing stream. */
  added: { recent: number; open: number; backlog: number; closing: number; events: number };
  /** Backlog decision ids in the order the learner folds them (oldest window first). */
  backlogIds: string[];
  /** Every CLOSING_SAMPLE-th decision of the closing stream, with the end of its window. */
  closing: { id: string; windowEnd: number }[];
  /** A sample of users with a decision whose window is open. */
  activeUsers: number[];
  fileBytes: number;
}

/**
 * A fresh copy of the cache plus the part that depends on the clock: the store's last 8 days
 * (learned, then the last 72 h with open windows), a backlog of closed unlearned decisions
 * (windows ended 1 min to 6 h ago) and a stream of decisions whose windows close during the next
 * 10 minutes.
 */
export async function prepareRun(cache: CacheInfo, ctx: FillContext): Promise<RunStore> {
  const path = cache.path.replace(/\.db$/, '.run.db');
  removeDb(path);
  const c0 = process.hrtime.bigint();
  copyFileSync(cache.path, path);
  const copySeconds = Number(process.hrtime.bigint() - c0) / 1e9;
  const now = Date.now();
  const plan = runTimeSlices(cache.size, ctx.agent.goal.windowMs, now);
  const f0 = process.hrtime.bigint();
  const store = openFillStore(path);
  const ids = new Map<string, string[]>();
  let events = 0;
  try {
    for (const slice of plan.slices) {
      const r = await insertSlice(store, ctx, slice);
      events += r.events;
      ids.set(slice.label, r.ids);
    }
  } finally {
    await store.close();
  }
  const fillSeconds = Number(process.hrtime.bigint() - f0) / 1e9;
  const count = (label: string) => plan.slices.find((s) => s.label === label)?.count ?? 0;
  return {
    path,
    copySeconds,
    fillSeconds,
    added: {
      recent: count('recent'),
      open: count('open'),
      backlog: count('backlog'),
      closing: count('closing'),
      events,
    },
    backlogIds: ids.get('backlog') ?? [],
    closing: (ids.get('closing') ?? []).flatMap((id, i) =>
      i % CLOSING_SAMPLE === 0 ? [{ id, windowEnd: plan.closingEnd(i) }] : [],
    ),
    activeUsers: plan.activeUsers,
    fileBytes: statSync(path).size,
  };
}

/**
 * The slices written at each run, relative to `now`: the recent learned days, the open windows, the
 * backlog and the closing stream. The users of the open and closing decisions are sampled into
 * `activeUsers` as they are written.
 */
function runTimeSlices(
  size: number,
  windowMs: number,
  now: number,
): { slices: Slice[]; closingEnd: (i: number) => number; activeUsers: number[] } {
  const { recent, open } = layoutOf(size, windowMs);
  const activeUsers: number[] = [];
  const recentFrom = now - RECENT_MS;
  const recentSpan = RECENT_MS - windowMs - MINUTE;
  const openFrom = now - windowMs + OPEN_MARGIN_MS;
  const backlogFrom = now - MINUTE - BACKLOG_SPAN_MS;
  const closingEnd = (i: number) => now + Math.round(((i + 1) * 1000) / CLOSING_PER_SECOND);
  const spread = (from: number, span: number, count: number) => (i: number) =>
    from + Math.floor((i * span) / Math.max(1, count));
  const slices: Slice[] = [
    {
      label: 'recent',
      count: recent,
      seed: `nextbest-scale/${size}/recent`,
      learned: true,
      atOf: spread(recentFrom, recentSpan, recent),
      now,
    },
    {
      label: 'open',
      count: open,
      seed: `nextbest-scale/${size}/open`,
      learned: false,
      atOf: spread(openFrom, now - openFrom, open),
      now,
      users: activeUsers,
    },
    {
      label: 'backlog',
      count: BACKLOG,
      seed: 'nextbest-scale/backlog',
      learned: false,
      keepIds: true,
      atOf: spread(backlogFrom - windowMs, BACKLOG_SPAN_MS, BACKLOG),
      now,
    },
    {
      label: 'closing',
      count: CLOSING_PER_SECOND * CLOSING_SECONDS,
      seed: 'nextbest-scale/closing',
      learned: false,
      keepIds: true,
      atOf: (i) => closingEnd(i) - windowMs,
      now,
      users: activeUsers,
    },
  ];
  return { slices, closingEnd, activeUsers };
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
    const objects = db
      .prepare("SELECT type, name, tbl_name AS tbl FROM sqlite_master WHERE type IN ('table', 'index')")
      .all() as { type: string; name: string; tbl: string }[];
    const pages = new Map(
      (
        db.prepare('SELECT name, sum(pgsize) AS bytes FROM dbstat GROUP BY name').all() as {
          name: string;
          bytes: number;
        }[]
      ).map((r) => [r.name, r.bytes]),
    );
    const tables = new Map<string, TableBytes>();
    let decisionTable: string | undefined;
    for (const o of objects.filter((o) => o.type === 'table')) {
      const columns: Columns = new Set(
        (db.prepare(`SELECT name FROM pragma_table_info(?)`).all(o.name) as { name: string }[]).map((c) => c.name),
      );
      const role = logRole(columns);
      if (role === 'decisions') decisionTable = o.name;
      tables.set(o.name, { table: o.name, bytes: pages.get(o.name) ?? 0, indexBytes: 0, log: role !== undefined });
    }
    for (const o of objects.filter((o) => o.type === 'index')) {
      const t = tables.get(o.tbl);
      if (t) t.indexBytes += pages.get(o.name) ?? 0;
    }
    const decisions = decisionTable
      ? (db.prepare(`SELECT count(*) AS n FROM "${decisionTable}"`).get() as { n: number }).n
      : 0;
    const logTotal = [...tables.values()].filter((t) => t.log).reduce((s, t) => s + t.bytes + t.indexBytes, 0);
    return {
      tables: [...tables.values()].sort((a, b) => b.bytes + b.indexBytes - (a.bytes + a.indexBytes)),
      decisions,
      perDecision: decisions > 0 ? logTotal / decisions : 0,
      fileBytes: statSync(path).size,
    };
  } finally {
    db.close();
  }
}
