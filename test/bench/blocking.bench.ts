import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { DECIDE_BATCH_MAX, EVENTS_BATCH_MAX, generateApiKey } from '../../plugin/service/index.ts';
import { largestAgent } from '../config/largest.ts';
import { EXAMPLE_TRAITS } from './http.bench.ts';
import { Sampler, startServerProcess, type ServerProcess } from './scale-server.ts';
import { summarize } from './stats.ts';

/**
 * Does the largest input any route accepts hold up the others? Decide for the example agent
 * (autocannon, `connections` connections) first alone, then while three clients each send one of
 * the largest requests the limits allow, once a second (or as soon as the previous is answered,
 * when that takes longer) until the load ends: a Segment webhook batch of EVENTS_BATCH_MAX events
 * just under the 512 KB body limit (orders of customers decided before, so each is attributed),
 * a decide:batch of DECIDE_BATCH_MAX users, and a PUT of the largest allowed agent config
 * (test/config/largest.ts; an update, so its model is carried over). It prints decide's p99
 * beside them next to the idle p99 of the same run (target ≤ 2×), each heavy request's time, and
 * the service's longest event-loop stall (from its /metrics). Every body is built before the load
 * starts; the service runs in a process of its own (as in the scale bench), so the load generator
 * never stalls its event loop. Figures are printed, never asserted.
 */

export interface BlockingBenchOptions {
  connections?: number;
  /** Seconds of measured decide load, idle and loaded each. */
  duration?: number;
  warmup?: number;
}

const DECIDE_PATH = '/v1/agents/winback/decide';
const WEBHOOK_PATH = '/v1/webhooks/segment';
const TARGET_RATIO = 2;
/** Heavy bodies of each kind built ahead; the loop cycles through them. */
const PREBUILT = 40;
const BODY_LIMIT_BYTES = 512 * 1024;
const BATCH_TOKEN = 'blocking-bench-batch-token';
/** Each kind of heavy request is sent once a second: 2,500 events/s, a config change a second, decide:batch back to back. */
const HEAVY_EVERY_MS = 1000;

/** decide:batch `b`: DECIDE_BATCH_MAX fresh customers of the example agent. */
function decideBatchBody(b: number): string {
  const users = Array.from({ length: DECIDE_BATCH_MAX }, (_, i) => ({
    userId: `blk-${b}-${i}`,
    timezone: 'Europe/Paris',
    traits: EXAMPLE_TRAITS,
  }));
  return JSON.stringify({ users });
}

/** The customers decided before the load, whose orders the webhook batches bring. */
const DECIDED_BATCH = -1;

/**
 * Webhook batch `b`: EVENTS_BATCH_MAX orders of the customers decided before the load, each
 * padded so that the batch is just under the body limit.
 */
function webhookBody(b: number, now: number): string {
  const event = (i: number, pad: string) => ({
    type: 'track',
    event: 'Order Completed',
    userId: `blk-${DECIDED_BATCH}-${i % DECIDE_BATCH_MAX}`,
    messageId: `blk-${b}-${i}`,
    timestamp: new Date(now).toISOString(),
    properties: { revenue: 80, pad },
  });
  const bare = Buffer.byteLength(JSON.stringify(Array.from({ length: EVENTS_BATCH_MAX }, (_, i) => event(i, ''))));
  const pad = 'x'.repeat(Math.floor((BODY_LIMIT_BYTES - 1024 - bare) / EVENTS_BATCH_MAX));
  return JSON.stringify(Array.from({ length: EVENTS_BATCH_MAX }, (_, i) => event(i, pad)));
}

interface Heavy {
  name: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  bodies: string[];
  ms: number[];
}

function heavyRequests(apiKey: string, now: number): Heavy[] {
  const auth = { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` };
  const range = Array.from({ length: PREBUILT }, (_, b) => b);
  return [
    {
      name: `webhook batch: ${EVENTS_BATCH_MAX} events, ${Math.round(Buffer.byteLength(webhookBody(0, now)) / 1024)} KB`,
      method: 'POST',
      path: WEBHOOK_PATH,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${BATCH_TOKEN}` },
      bodies: range.map((b) => webhookBody(b, now)),
      ms: [],
    },
    {
      name: `decide:batch: ${DECIDE_BATCH_MAX} users`,
      method: 'POST',
      path: '/v1/agents/winback/decide:batch',
      headers: auth,
      bodies: range.map(decideBatchBody),
      ms: [],
    },
    {
      name: 'PUT the largest allowed agent config',
      method: 'PUT',
      path: '/v1/agents/largest',
      headers: auth,
      bodies: range.map((b) => JSON.stringify({ ...largestAgent(), holdout: b % 2 === 0 ? 0.2 : 0.1 })),
      ms: [],
    },
  ];
}

async function send(url: string, heavy: Heavy, body: string): Promise<void> {
  const t0 = performance.now();
  const res = await fetch(`${url}${heavy.path}`, { method: heavy.method, headers: heavy.headers, body });
  const text = await res.text();
  if (res.status >= 300) throw new Error(`${heavy.name} answered ${res.status}: ${text.slice(0, 300)}`);
  heavy.ms.push(performance.now() - t0);
}

/** Sends `heavy`'s bodies in turn, one every HEAVY_EVERY_MS (or as soon as the previous is answered, if later), until `done()`. */
async function heavyLoop(url: string, heavy: Heavy, done: () => boolean): Promise<void> {
  for (let b = 0; !done(); b++) {
    const next = performance.now() + HEAVY_EVERY_MS;
    await send(url, heavy, heavy.bodies[b % PREBUILT]!);
    const wait = next - performance.now();
    if (wait > 0 && !done()) await new Promise((resolve) => setTimeout(resolve, wait));
  }
}

function decideLoad(url: string, apiKey: string, connections: number, duration: number) {
  return autocannon({
    url: `${url}${DECIDE_PATH}`,
    connections,
    duration,
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` },
    body: JSON.stringify({ userId: 'blocking-[<id>]', timezone: 'Europe/Paris', traits: EXAMPLE_TRAITS }),
    idReplacement: true,
  });
}

const fmt = (n: number, digits = 0) =>
  n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

function decideLine(label: string, r: autocannon.Result, stallMs: number): string {
  return `${label.padEnd(44)} ${fmt(r.requests.average).padStart(6)} req/s   p50 ${fmt(r.latency.p50, 1).padStart(6)} ms   p99 ${fmt(r.latency.p99, 1).padStart(7)} ms   errors+non2xx ${r.errors + r.non2xx}   longest event-loop stall ${fmt(stallMs)} ms`;
}

function heavyLine(h: Heavy): string {
  const t = summarize(Float64Array.from(h.ms));
  return `  ${h.name.padEnd(42)} ${String(h.ms.length).padStart(3)} sent   median ${fmt(t.median).padStart(5)} ms   max ${fmt(Math.max(...h.ms)).padStart(5)} ms`;
}

/** The service in a process of its own, with the Segment webhook taking batches by token. */
function startBenchServer(dir: string, apiKey: string): Promise<ServerProcess> {
  return startServerProcess(join(dir, 'nextbest.db'), apiKey, {
    SEGMENT_SHARED_SECRET: 'blocking-bench-secret',
    SEGMENT_WEBHOOK_TOKEN: BATCH_TOKEN,
  });
}

export async function benchBlocking(options: BlockingBenchOptions = {}): Promise<string[]> {
  const connections = options.connections ?? 50;
  const duration = options.duration ?? 10;
  const warmup = options.warmup ?? 2;
  const dir = mkdtempSync(join(tmpdir(), 'nextbest-blocking-bench-'));
  const apiKey = generateApiKey();
  const server = await startBenchServer(dir, apiKey);
  const sampler = new Sampler(server.url, server.pid, 250);
  const lines: string[] = [];
  try {
    const heavies = heavyRequests(apiKey, Date.now());
    const [, batch, put] = heavies as [Heavy, Heavy, Heavy];
    await send(server.url, batch, decideBatchBody(DECIDED_BATCH)); // whose orders the webhook brings
    await send(server.url, put, JSON.stringify(largestAgent())); // created now: the load measures updates
    for (const h of heavies) h.ms.length = 0;
    lines.push(
      `blocking: decide ${DECIDE_PATH}, ${connections} connections × ${duration} s, idle and then beside the largest requests the limits allow (each sent once a second, or again as soon as answered when slower); the service in its own process, its event loop's longest stall from its /metrics`,
    );
    if (warmup > 0) await decideLoad(server.url, apiKey, connections, warmup);
    sampler.start();
    await sampler.phase('idle');
    const idle = await decideLoad(server.url, apiKey, connections, duration);
    await sampler.phase('loaded');
    let over = false;
    const loops = Promise.all(heavies.map((h) => heavyLoop(server.url, h, () => over)));
    const loaded = await decideLoad(server.url, apiKey, connections, duration);
    over = true;
    await loops;
    await sampler.stop();
    const stallMs = (phase: string) => (sampler.max('loopMax', [phase]) ?? NaN) * 1000;
    const ratio = loaded.latency.p99 / idle.latency.p99;
    lines.push(decideLine('decide, idle', idle, stallMs('idle')));
    lines.push(decideLine('decide, beside the largest requests', loaded, stallMs('loaded')));
    lines.push(`${'decide p99 beside them vs idle'.padEnd(44)} ×${fmt(ratio, 2)} (target ≤ ×${TARGET_RATIO})`);
    lines.push('the largest requests during the load (the last of each may end after it):');
    for (const h of heavies) lines.push(heavyLine(h));
  } finally {
    await sampler.stop();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  return lines;
}
