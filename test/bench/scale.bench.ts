import { generateApiKey } from '../../plugin/service/keys.ts';
import {
  BACKLOG,
  CLOSING_PER_SECOND,
  CLOSING_SECONDS,
  FILL_BATCH,
  FILL_CACHE_MIB,
  SCHEMA_VERSION,
  ensureCache,
  fillContext,
  logBytes,
  prepareRun,
  removeRun,
  type CacheInfo,
  type LogBytes,
  type RunStore,
} from './scale-fill.ts';
import {
  DECIDE_MIX,
  EVENT_MIX,
  Traffic,
  decideLoad,
  eventLoad,
  timeReport,
  watchCatchUp,
  watchClosingLag,
  type CatchUp,
  type CloseLag,
  type LoadResult,
  type ReportTiming,
} from './scale-load.ts';
import {
  Sampler,
  memoryOf,
  startServerProcess,
  type CpuShare,
  type Memory,
  type ServerProcess,
} from './scale-server.ts';

/**
 * `npm run bench -- scale`: the service in its own process on SQLite stores of 0, 1,000,000 and
 * 10,000,000 logged decisions (env NEXTBEST_SCALE_SIZES=0,100000 to run it small), each figure
 * beside the empty store's. Per store: decide throughput and p99 over HTTP, event ingest with
 * attribution, the learner's catch-up on a backlog and its lag under a steady load, report
 * latency, the server's memory, the longest event-loop block, and the decision log's bytes per
 * decision. Figures are printed, never asserted; the targets at scale are printed beside them.
 *
 * Env: NEXTBEST_SCALE_SIZES (comma-separated; 0 is always measured, as the floor),
 * NEXTBEST_SCALE_SECONDS (of each measured load, default 15), NEXTBEST_SCALE_DIR (cached stores,
 * default data/bench), NEXTBEST_SCALE_REBUILD=1 (build the cached stores again).
 */

const DEFAULT_SIZES = [0, 1_000_000, 10_000_000];
const WARMUP_SECONDS = 2;
const DECIDE_CONNECTIONS = 50;
const INGEST_CONNECTIONS = 20;
const INGEST_BATCH = 100;
const STEADY_EVENTS_PER_SECOND = 500;
const STEADY_BATCH = 10;
const STEADY_DECIDES_PER_SECOND = 100;
const CATCH_UP_TIMEOUT_MS = 300_000;
const SETTLE_MS = 3000;
const REPORT_PAUSE_MS = 1000;
const LOAD_PHASES = ['catch-up', 'steady', 'decide', 'ingest', 'report'];
/**
 * Phases whose load leaves the event loop idle between requests: there the longest delay is the
 * longest block. At full load (decide, ingest) the loop runs every request that is ready before
 * it comes back to its timers, so the delay there is also queueing (about connections × service
 * time): printed apart.
 */
const UNSATURATED = ['catch-up', 'steady', 'report'];
const SATURATED = ['decide', 'ingest'];

const TARGET = { ratio: 0.8, reportMs: 200, lagSeconds: 5, loopMs: 50, rssMiB: 400, bytes: 400 };

interface Settings {
  sizes: number[];
  seconds: number;
  dir: string;
  rebuild: boolean;
}

interface SizeResult {
  size: number;
  cache: CacheInfo;
  run: RunStore;
  readySeconds: number;
  catchUp: CatchUp;
  steady: { events: LoadResult; decides: LoadResult; lagMax?: number; closeLag: CloseLag; seconds: number };
  decide: LoadResult;
  ingest: LoadResult;
  /** Who used the CPU in each phase (decide and ingest with their warm-up). */
  cpu: Record<string, CpuShare | undefined>;
  report: ReportTiming;
  memory: Memory;
  rssMax?: number;
  loop: Record<string, number | undefined>;
  bytes: LogBytes;
}

function settingsFromEnv(): Settings {
  const raw = process.env.NEXTBEST_SCALE_SIZES;
  const asked = raw ? raw.split(',').map((s) => Number(s.trim().replaceAll('_', ''))) : DEFAULT_SIZES;
  const bad = asked.find((n) => !Number.isInteger(n) || n < 0);
  if (bad !== undefined) throw new Error(`NEXTBEST_SCALE_SIZES: "${raw}" must be comma-separated whole numbers`);
  const sizes = [...new Set([0, ...asked])].sort((a, b) => a - b);
  const seconds = Number(process.env.NEXTBEST_SCALE_SECONDS ?? 15);
  if (!(seconds > 0)) throw new Error(`NEXTBEST_SCALE_SECONDS must be a positive number`);
  return {
    sizes,
    seconds,
    dir: process.env.NEXTBEST_SCALE_DIR ?? 'data/bench',
    rebuild: process.env.NEXTBEST_SCALE_REBUILD === '1',
  };
}

const log = (line: string) => process.stderr.write(`[scale ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
const fmt = (n: number | undefined, digits = 0) =>
  n === Infinity
    ? '∞'
    : n === undefined || !Number.isFinite(n)
      ? '—'
      : n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const MiB = (bytes: number) => bytes / 1024 / 1024;
const seconds = (since: bigint) => Number(process.hrtime.bigint() - since) / 1e9;

// ---------------------------------------------------------------------------------------------
// measuring one store

/** What the loads measure on one running server. */
type LoadFigures = Omit<SizeResult, 'size' | 'cache' | 'run' | 'readySeconds' | 'bytes'>;

async function measureSize(size: number, settings: Settings): Promise<SizeResult> {
  const ctx = await fillContext(size);
  log(`${fmt(size)} decisions: ${settings.rebuild ? 'building' : 'looking for'} the cached history`);
  const cache = await ensureCache(settings.dir, ctx, settings.rebuild, log);
  log(
    `${fmt(size)}: ${cache.reused ? 'reused' : 'built'} ${cache.path} (${fmt(cache.decisions)} decisions in ${fmt(cache.seconds, 1)} s); copying and adding the run-time part`,
  );
  const run = await prepareRun(cache, ctx);
  try {
    log(`${fmt(size)}: measuring the bytes of the decision log as filled`);
    const bytes = logBytes(run.path);
    const apiKey = generateApiKey();
    const server = await startServerProcess(run.path, apiKey);
    try {
      log(`${fmt(size)}: server ready in ${fmt(server.readySeconds, 1)} s (pid ${server.pid})`);
      const traffic = new Traffic(ctx.pop, run.activeUsers, `nextbest-scale/${size}/traffic`);
      const figures = await measureLoads(server, apiKey, run, traffic, settings, `${fmt(size)}:`);
      return { size, cache, run, readySeconds: server.readySeconds, bytes, ...figures };
    } catch (err) {
      log(`${fmt(size)}: failed; the server's last lines:\n${server.tail().join('\n')}`);
      throw err;
    } finally {
      await server.stop();
    }
  } finally {
    removeRun(run);
  }
}

/** Catch-up, steady load, decide, ingest and report on a running server, sampling its metrics throughout. */
async function measureLoads(
  server: ServerProcess,
  apiKey: string,
  run: RunStore,
  traffic: Traffic,
  settings: Settings,
  label: string,
): Promise<LoadFigures> {
  const ready = process.hrtime.bigint();
  const sampler = new Sampler(server.url, server.pid);
  sampler.start();
  try {
    log(`${label} watching the learner catch up on ${fmt(BACKLOG)} decisions`);
    await sampler.phase('catch-up');
    const catchUp = await watchCatchUp(server.url, apiKey, run.backlogIds, ready, CATCH_UP_TIMEOUT_MS);
    // the learner's next pass measures its lag from the end of the catch-up pass: let it settle
    await new Promise((r) => setTimeout(r, SETTLE_MS));

    log(
      `${label} steady load (${STEADY_EVENTS_PER_SECOND} events/s + ${STEADY_DECIDES_PER_SECOND} decides/s) for ${settings.seconds} s`,
    );
    await sampler.phase('steady');
    const steady = await steadyLoad(server.url, apiKey, traffic, run, settings.seconds);
    await sampler.phase('decide');

    log(`${label} decide at full load for ${WARMUP_SECONDS} + ${settings.seconds} s`);
    await decideLoad(server.url, apiKey, traffic, { connections: DECIDE_CONNECTIONS, seconds: WARMUP_SECONDS });
    const decide = await decideLoad(server.url, apiKey, traffic, {
      connections: DECIDE_CONNECTIONS,
      seconds: settings.seconds,
    });

    log(`${label} event ingest at full load for ${WARMUP_SECONDS} + ${settings.seconds} s`);
    await sampler.phase('ingest');
    await eventLoad(server.url, apiKey, traffic, INGEST_BATCH, {
      connections: INGEST_CONNECTIONS,
      seconds: WARMUP_SECONDS,
    });
    const ingest = await eventLoad(server.url, apiKey, traffic, INGEST_BATCH, {
      connections: INGEST_CONNECTIONS,
      seconds: settings.seconds,
    });

    await sampler.phase('report');
    // requests still in flight when the load stopped are answered first
    await new Promise((r) => setTimeout(r, REPORT_PAUSE_MS));
    const report = await timeReport(server.url, apiKey);
    const memory = memoryOf(server.pid);
    await sampler.stop();
    return {
      catchUp,
      steady: { ...steady, lagMax: sampler.max('learnerLag', ['steady']) },
      decide,
      ingest,
      cpu: Object.fromEntries(LOAD_PHASES.map((p) => [p, sampler.cpu(p)])),
      report,
      memory,
      rssMax: sampler.max('rss', LOAD_PHASES),
      loop: loopFigures(sampler),
    };
  } finally {
    await sampler.stop();
  }
}

/** Events and decides at a fixed rate, both at once, while the closing stream's windows close and are learned. */
async function steadyLoad(
  url: string,
  apiKey: string,
  traffic: Traffic,
  run: RunStore,
  seconds: number,
): Promise<Omit<SizeResult['steady'], 'lagMax'>> {
  const from = Date.now();
  const [events, decides, closeLag] = await Promise.all([
    eventLoad(url, apiKey, traffic, STEADY_BATCH, {
      connections: 10,
      seconds,
      rate: STEADY_EVENTS_PER_SECOND / STEADY_BATCH,
    }),
    decideLoad(url, apiKey, traffic, { connections: 10, seconds, rate: STEADY_DECIDES_PER_SECOND }),
    watchClosingLag(url, apiKey, run.closing, from, from + seconds * 1000),
  ]);
  return { events, decides, closeLag, seconds };
}

function loopFigures(sampler: Sampler): Record<string, number | undefined> {
  return Object.fromEntries([
    ...LOAD_PHASES.map((p) => [p, sampler.max('loopMax', [p])]),
    ['blocks', sampler.max('loopMax', UNSATURATED)],
    ['saturated', sampler.max('loopMax', SATURATED)],
  ]);
}

// ---------------------------------------------------------------------------------------------
// figures

const eventsPerSecond = (r: LoadResult) => r.accepted / r.result.duration;
const failures = (r: LoadResult) => r.result.errors + r.result.non2xx;
/** The larger of the gauge's max and the lag seen through the API; Infinity when a watched decision was not learned 10 s after the load. */
const lagOf = (r: SizeResult) =>
  r.steady.closeLag.pending > 0 ? Infinity : Math.max(r.steady.lagMax ?? 0, r.steady.closeLag.max ?? 0);
const loopMs = (r: SizeResult, which: 'blocks' | 'saturated' = 'blocks') =>
  r.loop[which] === undefined ? undefined : r.loop[which] * 1000;
const ratio = (value: number | undefined, floor: number | undefined) =>
  value === undefined || floor === undefined || floor === 0 ? undefined : value / floor;
const times = (x: number | undefined) => (x === undefined ? '—' : `${x.toFixed(2)}×`);

function header(settings: Settings): string[] {
  return [
    `scale: the service in its own process (node bin/nextbest.js serve --config examples/agents.yaml --db sqlite:FILE, learner every 1 s), client (autocannon) in this one; stores of ${settings.sizes.map((s) => fmt(s)).join(', ')} logged decisions (schema v${SCHEMA_VERSION}), ${settings.seconds} s per measured load`,
    `  filled through the store's batch API (SqliteStore.insertDecisions, ${fmt(FILL_BATCH)} a transaction, on a connection with a ${FILL_CACHE_MIB} MiB page cache; recordEvents for outcomes), not HTTP: bodies of 400 real decisions of the example agent reused at random, seeded time-ordered ids (UUID v7, as the service makes them), users = max(20,000, decisions / 5) with p ∝ 1/√rank, plus heavy users (ids heavy-0…49; a store has min(50, 7.5 % of it / 15,000) real ones with 10,500–19,500 decisions each)`,
    `  90 days of decisions, learned with their reward, 5 % with an outcome event (30 % Order Completed = 1, 70 % Email Opened = 0.1); all but the last 8 days cached per size in ${settings.dir} (NEXTBEST_SCALE_REBUILD=1 rebuilds); written to a fresh copy at each run, relative to the clock: the last 8 days (longer than the 7-day frequency cap; the last 72 h with open windows, unlearned; counted in the size), a backlog of ${fmt(BACKLOG)} closed unlearned decisions (windows ended 1 min – 6 h before) and ${CLOSING_PER_SECOND} decisions/s whose windows close over the next ${CLOSING_SECONDS / 60} min`,
    `  loads: decide ${DECIDE_CONNECTIONS} connections, ${100 * DECIDE_MIX.fresh} % new users / ${100 * DECIDE_MIX.existing} % existing / ${100 * DECIDE_MIX.heavy} % heavy ids, traits in the body; ingest ${INGEST_CONNECTIONS} connections × {batch: ${INGEST_BATCH}} track events (fresh messageIds; ${100 * EVENT_MIX.active} % users with an open decision, ${100 * EVENT_MIX.existing} % other existing, ${100 * EVENT_MIX.heavy} % heavy ids); steady: ${STEADY_EVENTS_PER_SECOND} events/s + ${STEADY_DECIDES_PER_SECOND} decides/s; each after ${WARMUP_SECONDS} s warm-up (steady: none)`,
    `  event loop: max of nextbest_nodejs_eventloop_lag_max_seconds scraped every 500 ms (prom-client resets it at each scrape) during catch-up, steady and report (at full load it includes queueing: printed in brackets); RSS from /proc/<pid>/status; CPU of the server, this process and all others from /proc (a figure measured while other processes took more than ${BUSY_CORES} of a core is marked !); bytes: dbstat pages of the decision log's tables and their indexes (decisions, sends, outcomes: found by their columns), before the load`,
  ];
}

function describe(r: SizeResult): string[] {
  const c = r.cache;
  return [
    '',
    `${fmt(r.size)} logged decisions: history ${c.reused ? 'reused from' : 'built into'} ${c.path} (built ${c.builtAt.slice(0, 16)}Z: ${fmt(c.decisions)} decisions + ${fmt(c.events)} events in ${fmt(c.seconds, 1)} s, ${fmt(c.decisions / c.seconds)} decisions/s; ${fmt(c.users)} users, ${c.heavyUsers} heavy)`,
    `  this run: copy ${fmt(r.run.copySeconds, 1)} s; run-time part ${fmt(r.run.added.recent)} recent + ${fmt(r.run.added.open)} open + ${fmt(r.run.added.backlog)} backlog + ${fmt(r.run.added.closing)} closing decisions, ${fmt(r.run.added.events)} events in ${fmt(r.run.fillSeconds, 1)} s (${fmt(addedDecisions(r.run) / r.run.fillSeconds)} decisions/s); file ${fmt(MiB(r.run.fileBytes))} MiB; server ready in ${fmt(r.readySeconds, 1)} s`,
    catchUpLine(r.catchUp),
    `  steady ${r.steady.seconds} s (${fmt(eventsPerSecond(r.steady.events))} events/s accepted + ${fmt(r.steady.decides.result.requests.average)} decides/s, errors+non2xx ${failures(r.steady.events) + failures(r.steady.decides)}; decide p99 ${fmt(r.steady.decides.result.latency.p99, 1)} ms, events p99 ${fmt(r.steady.events.result.latency.p99, 1)} ms): learner lag gauge max ${fmt(r.steady.lagMax, 1)} s; window closed → learned, seen through the API for ${r.steady.closeLag.seen} decisions: median ${fmt(r.steady.closeLag.median, 1)} s, max ${fmt(r.steady.closeLag.max, 1)} s${r.steady.closeLag.pending > 0 ? `, ${r.steady.closeLag.pending} NOT learned 10 s after the load` : ''} (target ≤ window + ${TARGET.lagSeconds} s)`,
    `  decide: ${fmt(r.decide.result.requests.average)} req/s, p50 ${fmt(r.decide.result.latency.p50, 1)} ms, p99 ${fmt(r.decide.result.latency.p99, 1)} ms, errors+non2xx ${failures(r.decide)}, answered with default arms (error) ${r.decide.degraded}`,
    `  ingest: ${fmt(eventsPerSecond(r.ingest))} events/s accepted (${fmt(r.ingest.result.requests.average)} batches/s, p99 ${fmt(r.ingest.result.latency.p99, 1)} ms), duplicates ${r.ingest.duplicates}, errors+non2xx ${failures(r.ingest)}`,
    `  report: median ${fmt(r.report.median, 1)} ms, max ${fmt(r.report.max, 1)} ms (${r.report.calls} calls, first ${fmt(r.report.first, 1)} ms)`,
    `  memory: VmRSS ${fmt(MiB(r.memory.rss))} MiB (anon ${fmt(MiB(r.memory.anon))}, file ${fmt(MiB(r.memory.file))}) after the load, max sampled ${fmt(MiB(r.rssMax ?? NaN))} MiB, VmHWM ${fmt(MiB(r.memory.hwm))} MiB`,
    `  CPU (cores: server / this process / other processes): ${LOAD_PHASES.map((p) => `${p} ${cpuText(r.cpu[p])}`).join(', ')}`,
    `  event loop max: ${LOAD_PHASES.map((p) => `${p} ${fmt((r.loop[p] ?? NaN) * 1000)} ms`).join(', ')} (at full load, decide and ingest, the delay includes queueing)`,
    `  bytes (as filled, before the load): ${fmt(r.bytes.perDecision)} B/decision over ${fmt(r.bytes.decisions)} decisions (file ${fmt(MiB(r.bytes.fileBytes))} MiB); ${r.bytes.tables
      .filter((t) => t.log || t.bytes + t.indexBytes > 1024 * 1024)
      .map((t) => `${t.table}${t.log ? '*' : ''} ${fmt(MiB(t.bytes), 1)} + idx ${fmt(MiB(t.indexBytes), 1)} MiB`)
      .join(', ')} (* decision log)`,
  ];
}

/** Cores used by other processes above which a throughput is flagged as measured on a busy machine. */
const BUSY_CORES = 0.25;

function cpuText(c: CpuShare | undefined): string {
  return c
    ? `${c.server.toFixed(2)} / ${c.bench.toFixed(2)} / ${c.others.toFixed(2)}${c.others > BUSY_CORES ? '!' : ''}`
    : '—';
}

/** `!` when other processes took CPU during any of the phases of these results a figure comes from. */
const busyMark = (phases: string[], ...results: (SizeResult | undefined)[]) =>
  results.some((r) => phases.some((p) => (r?.cpu[p]?.others ?? 0) > BUSY_CORES)) ? '!' : '';

const addedDecisions = (run: RunStore) => run.added.recent + run.added.open + run.added.backlog + run.added.closing;

function catchUpLine(c: CatchUp): string {
  const last = c.learnedAt[c.learnedAt.length - 1];
  const seen = c.learnedAt
    .map((t, i) => `#${fmt(c.positions[i])} ${t === undefined ? 'not yet' : `${fmt(t, 2)} s`}`)
    .join(', ');
  return `  learner catch-up: ${fmt(c.rate)} decisions/s between the 5 % and 95 % probes; backlog ${last === undefined ? `NOT folded within ${CATCH_UP_TIMEOUT_MS / 1000} s` : `folded ${fmt(last, 1)} s after the server was ready`} (learned at: ${seen})`;
}

function table(results: SizeResult[]): string[] {
  const floor = results.find((r) => r.size === 0);
  const cols = [
    'logged decisions',
    'decide req/s (× empty)',
    'decide p99 ms (× empty)',
    'events/s (× empty)',
    'learner catch-up/s',
    'lag max s',
    'report ms med/max',
    'RSS MiB (HWM)',
    'event loop max ms (full load)',
    'bytes/decision',
  ];
  const rows = results.map((r) => [
    fmt(r.size),
    `${fmt(r.decide.result.requests.average)} (${times(ratio(r.decide.result.requests.average, floor?.decide.result.requests.average))}${busyMark(['decide'], r, floor)})`,
    `${fmt(r.decide.result.latency.p99, 1)} (${times(ratio(r.decide.result.latency.p99, floor?.decide.result.latency.p99))}${busyMark(['decide'], r, floor)})`,
    `${fmt(eventsPerSecond(r.ingest))} (${times(ratio(eventsPerSecond(r.ingest), floor && eventsPerSecond(floor.ingest)))}${busyMark(['ingest'], r, floor)})`,
    `${fmt(r.catchUp.rate)}${busyMark(['catch-up'], r)}`,
    `${fmt(lagOf(r), 1)}${busyMark(['steady'], r)}`,
    `${fmt(r.report.median, 1)} / ${fmt(r.report.max, 1)}${busyMark(['report'], r)}`,
    `${fmt(MiB(r.memory.rss))} (${fmt(MiB(r.memory.hwm))})`,
    `${fmt(loopMs(r))}${busyMark(UNSATURATED, r)} (${fmt(loopMs(r, 'saturated'))}${busyMark(SATURATED, r)})`,
    fmt(r.bytes.perDecision),
  ]);
  const widths = cols.map((c, i) => Math.max(c.length, ...rows.map((row) => row[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padStart(widths[i])).join(' | ');
  const busy = rows.some((row) => row.some((c) => c.includes('!')));
  return [
    '',
    line(cols),
    widths.map((w) => '-'.repeat(w)).join('-|-'),
    ...rows.map(line),
    ...(busy
      ? [
          `  ! other processes used more than ${BUSY_CORES} of a core while this figure (or, for a ratio, the empty store's) was measured: not reliable (the server waits for a core, which also counts as event-loop delay)`,
        ]
      : []),
  ];
}

function check(ok: boolean | undefined): string {
  return ok === undefined ? '?' : ok ? '✓' : '✗';
}

function targets(results: SizeResult[]): string[] {
  const floor = results.find((r) => r.size === 0);
  return results
    .filter((r) => r.size > 0)
    .map((r) => {
      const decide = ratio(r.decide.result.requests.average, floor?.decide.result.requests.average);
      const ingest = ratio(eventsPerSecond(r.ingest), floor && eventsPerSecond(floor.ingest));
      const loop = loopMs(r);
      const items = [
        `decide ${times(decide)} ≥ ${TARGET.ratio}× ${check(decide === undefined ? undefined : decide >= TARGET.ratio)}${busyMark(['decide'], r, floor)}`,
        `ingest ${times(ingest)} ≥ ${TARGET.ratio}× ${check(ingest === undefined ? undefined : ingest >= TARGET.ratio)}${busyMark(['ingest'], r, floor)}`,
        `report ${fmt(r.report.max)} ms < ${TARGET.reportMs} ${check(r.report.max < TARGET.reportMs)}${busyMark(['report'], r)}`,
        `lag ${fmt(lagOf(r), 1)} s ≤ window + ${TARGET.lagSeconds} s ${check(lagOf(r) <= TARGET.lagSeconds)}${busyMark(['steady'], r)}`,
        `event loop ${fmt(loop)} ms ≤ ${TARGET.loopMs} ${check(loop === undefined ? undefined : loop <= TARGET.loopMs)}${busyMark(UNSATURATED, r)}`,
        `RSS ${fmt(MiB(r.memory.hwm))} MiB < ${TARGET.rssMiB} ${check(MiB(r.memory.hwm) < TARGET.rssMiB)}`,
        `${fmt(r.bytes.perDecision)} B/decision ≤ ${TARGET.bytes} ${check(r.bytes.perDecision <= TARGET.bytes)}`,
      ];
      return `targets at ${fmt(r.size)}: ${items.join('   ')}`;
    });
}

export async function benchScale(): Promise<string[]> {
  const settings = settingsFromEnv();
  const results: SizeResult[] = [];
  const started = process.hrtime.bigint();
  for (const size of settings.sizes) results.push(await measureSize(size, settings));
  return [
    ...header(settings),
    ...results.flatMap(describe),
    ...table(results),
    '',
    ...targets(results),
    `  (lag: the larger of nextbest_learner_lag_seconds (the age of the oldest closed window not yet learned) and the time from a window's end to its decision being learned as GET /v1/decisions/{id} shows it, both during the steady load; ≤ ${TARGET.lagSeconds} s means every decision is learned within its 72 h window + ${TARGET.lagSeconds} s; RSS: VmHWM, the peak; event loop: the longest delay during catch-up, steady load and reports)`,
    `  whole bench ${fmt(seconds(started) / 60, 1)} min`,
  ];
}
