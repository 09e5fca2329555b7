import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import express from 'express';
import { pino } from 'pino';
import { startServer } from '../../plugin/server/index.ts';
import { generateApiKey, type DecideRequest, type DecisionService } from '../../plugin/service/index.ts';
import { summarize, type Timing } from './stats.ts';

/**
 * POST /v1/agents/winback/decide through the real server (express, auth, zod, the decision, the
 * SQLite decision log in WAL mode, metrics) beside its floor: an express hello-world in the same
 * process, on the same route pattern, with the same app settings and JSON body parser, answering a
 * pre-serialised JSON body of the same size as a decide response. Both are driven by the same
 * autocannon load (same connections, duration, headers and request body); hello-world runs first.
 *
 * Every request carries a fresh userId (autocannon's `[<id>]` replacement, applied to both
 * targets so the client does the same work), so no decision is cut short by the example agent's
 * frequency cap, and the decide body carries `traits`, so no profile source is involved.
 * Figures are printed, never asserted.
 */

export interface HttpBenchOptions {
  connections?: number;
  /** Seconds of measured load per target. */
  duration?: number;
  /** Seconds of unmeasured load per target before it, to warm the JIT. */
  warmup?: number;
}

const AGENT_PATH = '/v1/agents/winback/decide';
/** The workspace of examples/agents.yaml. */
const WORKSPACE = 'acme-sports';
const TARGET_THROUGHPUT = 0.6;
const TARGET_P99 = 2;

/** Traits of a customer of the example agent (examples/agents.yaml) with consent to email and SMS. */
export const EXAMPLE_TRAITS = {
  lifetime_orders: 4,
  last_category: 'running',
  city: 'Lyon',
  last_order_at: '2025-11-02T10:00:00Z',
  email_subscribed: true,
  sms_opt_in: true,
  push_enabled: false,
  vip: false,
};

/** A customer of the example agent; `[<id>]` becomes a fresh id per request. */
function decideBody(userId: string): string {
  return JSON.stringify({ userId, timezone: 'Europe/Paris', traits: EXAMPLE_TRAITS });
}

/** A JSON text of exactly `bytes` UTF-8 bytes. */
function jsonOfSize(bytes: number): string {
  const empty = JSON.stringify({ ok: true, pad: '' });
  return JSON.stringify({ ok: true, pad: 'x'.repeat(Math.max(0, bytes - Buffer.byteLength(empty))) });
}

function listen(app: express.Express): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = app.listen(0, '127.0.0.1', () => resolve(server));
    server.on('error', reject);
  });
}

function load(
  url: string,
  headers: Record<string, string>,
  body: string,
  connections: number,
  duration: number,
): Promise<autocannon.Result> {
  return autocannon({ url, connections, duration, method: 'POST', headers, body, idReplacement: true });
}

const fmt = (n: number, digits = 0) =>
  n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

function line(label: string, r: autocannon.Result): string {
  return `${label.padEnd(44)} ${fmt(r.requests.average).padStart(8)} req/s   p50 ${fmt(r.latency.p50, 1).padStart(6)} ms   p99 ${fmt(r.latency.p99, 1).padStart(6)} ms   errors+non2xx ${r.errors + r.non2xx}`;
}

/** The decision alone (agent, guardrails, policy, explanation, decision log), awaited one at a time. */
async function timeServiceDecide(service: DecisionService, iterations = 500, warmup = 50): Promise<Timing> {
  const request = (i: number) => JSON.parse(decideBody(`inproc-${i}`)) as DecideRequest;
  for (let i = 0; i < warmup; i++) await service.decide('winback', request(i));
  const samples = new Float64Array(iterations);
  for (let i = 0; i < iterations; i++) {
    const req = request(warmup + i);
    const t0 = process.hrtime.bigint();
    await service.decide('winback', req);
    samples[i] = Number(process.hrtime.bigint() - t0) / 1000;
  }
  return summarize(samples);
}

export async function benchHttp(options: HttpBenchOptions = {}): Promise<string[]> {
  const connections = options.connections ?? 50;
  const duration = options.duration ?? 10;
  const warmup = options.warmup ?? 1;
  const dir = mkdtempSync(join(tmpdir(), 'nextbest-http-bench-'));
  const apiKey = generateApiKey();
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` };
  const body = decideBody('bench-[<id>]');
  const lines: string[] = [];

  const nextbest = await startServer({
    db: `sqlite:${join(dir, 'nextbest.db')}`,
    port: 0,
    configPath: 'examples/agents.yaml',
    apiKey,
    learnerIntervalMs: 0,
    logger: pino({ level: 'silent' }),
  });
  let hello: Server | undefined;
  try {
    // Decides of 20 users size the floor's answer (their mean; a hyperid is 24 characters, as the probes' ids).
    let probeBytes = 0;
    const PROBES = 20;
    for (let i = 0; i < PROBES; i++) {
      const probe = await fetch(`${nextbest.url}${AGENT_PATH}`, {
        method: 'POST',
        headers,
        body: decideBody(`bench-${String(i).padStart(24, 'p')}`),
      });
      const text = await probe.text();
      if (probe.status !== 200) throw new Error(`decide probe answered ${probe.status}: ${text}`);
      probeBytes += Buffer.byteLength(text);
    }
    const responseBytes = Math.round(probeBytes / PROBES);
    const helloBody = jsonOfSize(responseBytes);

    const app = express();
    app.disable('x-powered-by');
    app.set('etag', false);
    app.post(
      '/v1/agents/:agentId/decide',
      express.json({ limit: '1mb', strict: false, type: () => true }),
      (_req, res) => {
        res.type('application/json').send(helloBody);
      },
    );
    hello = await listen(app);
    const helloUrl = `http://127.0.0.1:${(hello.address() as AddressInfo).port}${AGENT_PATH}`;
    const nextbestUrl = `${nextbest.url}${AGENT_PATH}`;

    lines.push(
      `http: POST ${AGENT_PATH}, ${connections} connections × ${duration} s (after ${warmup} s warm-up), request ${Buffer.byteLength(body)} B, response ${responseBytes} B; client and servers in one process`,
    );
    if (warmup > 0) await load(helloUrl, headers, body, connections, warmup);
    const floor = await load(helloUrl, headers, body, connections, duration);
    if (warmup > 0) await load(nextbestUrl, headers, body, connections, warmup);
    const real = await load(nextbestUrl, headers, body, connections, duration);
    const logged = (await nextbest.store.listDecisions(WORKSPACE, 'winback', 10_000_000)).length;
    const inProcess = await timeServiceDecide(nextbest.service);

    lines.push(line('floor: express hello-world, same-size JSON', floor));
    lines.push(line('nextbest decide (SQLite file, WAL)', real));
    const throughput = real.requests.average / floor.requests.average;
    const p99 = real.latency.p99 / floor.latency.p99;
    lines.push(
      `${'decide vs floor'.padEnd(44)} throughput ${fmt(100 * throughput, 1)} % (target ≥ ${100 * TARGET_THROUGHPUT} %)   p99 ×${fmt(p99, 2)} (target ≤ ×${TARGET_P99})   errors+non2xx ${real.errors + real.non2xx} (target 0)`,
    );
    lines.push(`${''.padEnd(44)} decisions logged during the run (probes and warm-up included): ${fmt(logged)}`);
    lines.push(
      `${'context: service.decide in-process, no HTTP'.padEnd(44)} median ${fmt(inProcess.median, 0)} µs   p99 ${fmt(inProcess.p99, 0)} µs   (one core's ceiling at the mean: ${fmt(1e6 / inProcess.mean)} decides/s)`,
    );
  } finally {
    if (hello) {
      const server = hello;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    }
    await nextbest.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return lines;
}
