import autocannon from 'autocannon';
import { Rng } from '../../plugin/bandit/index.ts';
import { EXAMPLE_TRAITS } from './http.bench.ts';
import { HEAVY_IDS, heavyUserId, pickRegular, userIdOf, type Population } from './scale-fill.ts';

/**
 * The load of the scale bench: HTTP requests against the service in its own process, with
 * autocannon in this one. Decides carry traits (no profile source); events are Segment-spec track
 * events for users the store knows, each with a fresh messageId.
 */

const DECIDE_PATH = '/v1/agents/winback/decide';
const EVENTS_PATH = '/v1/events';
const REPORT_PATH = '/v1/agents/winback/report';

/** Shares of the decide load: new users (autocannon's `[<id>]`), existing users, heavy users. */
export const DECIDE_MIX = { fresh: 0.8, existing: 0.1, heavy: 0.1 };
/** Shares of the event load: users with an open decision, other existing users, heavy users. */
export const EVENT_MIX = { active: 0.6, existing: 0.3, heavy: 0.1 };
/** Share of `Order Completed` among the events (the rest are `Email Opened`). */
const ORDER_SHARE = 0.3;

const TRAITS = EXAMPLE_TRAITS;

/** Who the requests are for, drawn from the store's population. */
export class Traffic {
  private readonly rng: Rng;
  private heavyTurn = 0;
  private message = 0;
  private readonly tag = Date.now().toString(36);

  constructor(
    private readonly pop: Population,
    private readonly activeUsers: number[],
    seed: string,
  ) {
    this.rng = new Rng(seed);
  }

  /** The next of the 50 heavy ids in turn (those beyond the store's real heavy users have no history). */
  private heavy(): string {
    return heavyUserId(this.heavyTurn++ % HEAVY_IDS);
  }

  private existing(): string {
    return userIdOf(pickRegular(this.pop, this.rng));
  }

  private active(): string {
    return this.activeUsers.length > 0
      ? userIdOf(this.activeUsers[this.rng.int(this.activeUsers.length)])
      : this.existing();
  }

  decideBody(): string {
    const r = this.rng.next();
    const userId =
      r < DECIDE_MIX.fresh
        ? 'scale-[<id>]'
        : r < DECIDE_MIX.fresh + DECIDE_MIX.existing
          ? this.existing()
          : this.heavy();
    return JSON.stringify({ userId, timezone: 'Europe/Paris', traits: TRAITS });
  }

  private event(): Record<string, unknown> {
    const r = this.rng.next();
    const userId =
      r < EVENT_MIX.active ? this.active() : r < EVENT_MIX.active + EVENT_MIX.existing ? this.existing() : this.heavy();
    const order = this.rng.next() < ORDER_SHARE;
    return {
      type: 'track',
      event: order ? 'Order Completed' : 'Email Opened',
      userId,
      messageId: `scale-${this.tag}-${this.message++}`,
      properties: order ? { revenue: 20 + this.rng.int(180) } : {},
    };
  }

  eventBatch(n: number): string {
    return JSON.stringify({ batch: Array.from({ length: n }, () => this.event()) });
  }
}

const headersOf = (apiKey: string) => ({ 'content-type': 'application/json', authorization: `Bearer ${apiKey}` });

export interface LoadResult {
  result: autocannon.Result;
  /** Decides answered with the default arms because the decision failed (`error` in the body). */
  degraded: number;
  /** Events the service said it accepted (`accepted`), and duplicates. */
  accepted: number;
  duplicates: number;
}

interface LoadOptions {
  connections: number;
  seconds: number;
  /** Requests/s over all connections (none: as fast as it answers). */
  rate?: number;
}

function run(url: string, apiKey: string, body: () => string, options: LoadOptions): Promise<LoadResult> {
  const out = { degraded: 0, accepted: 0, duplicates: 0 };
  return new Promise((resolve, reject) => {
    autocannon(
      {
        url,
        connections: options.connections,
        duration: options.seconds,
        ...(options.rate ? { overallRate: options.rate } : {}),
        headers: headersOf(apiKey),
        idReplacement: true,
        requests: [
          {
            method: 'POST',
            setupRequest: (req) => ({ ...req, body: body() }),
            onResponse: (status, text) => countAnswer(status, text, out),
          },
        ],
      },
      (err, result) => (err ? reject(err) : resolve({ result, ...out })),
    );
  });
}

function countAnswer(
  status: number,
  text: string,
  out: { degraded: number; accepted: number; duplicates: number },
): void {
  if (status !== 200) return;
  if (text.includes('"error":{')) out.degraded++;
  const accepted = /"accepted":(\d+)/.exec(text);
  if (accepted) out.accepted += Number(accepted[1]);
  const duplicates = /"duplicates":(\d+)/.exec(text);
  if (duplicates) out.duplicates += Number(duplicates[1]);
}

export function decideLoad(base: string, apiKey: string, traffic: Traffic, options: LoadOptions): Promise<LoadResult> {
  return run(`${base}${DECIDE_PATH}`, apiKey, () => traffic.decideBody(), options);
}

export function eventLoad(
  base: string,
  apiKey: string,
  traffic: Traffic,
  batch: number,
  options: LoadOptions,
): Promise<LoadResult> {
  return run(`${base}${EVENTS_PATH}`, apiKey, () => traffic.eventBatch(batch), options);
}

// ---------------------------------------------------------------------------------------------
// the learner

async function getJson(url: string, apiKey: string): Promise<Record<string, unknown>> {
  const res = await fetch(url, { headers: headersOf(apiKey) });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`GET ${url} answered ${res.status}: ${text}`);
  return JSON.parse(text) as Record<string, unknown>;
}

async function isLearned(base: string, apiKey: string, decisionId: string): Promise<boolean> {
  const d = await getJson(`${base}/v1/decisions/${decisionId}`, apiKey);
  return d.reward !== null && d.reward !== undefined;
}

export interface CatchUp {
  /** Seconds from `since` at which each probe was first seen learned (undefined: not within the timeout). */
  learnedAt: (number | undefined)[];
  /** The probes' positions in the backlog, in the order the learner folds it. */
  positions: number[];
  /** Decisions/s between the first and the last probe but one. */
  rate?: number;
}

/** Probes at 0 %, 5 %, 95 % and 100 % of the backlog (in folding order). */
export function backlogProbes(ids: string[]): { ids: string[]; positions: number[] } {
  const positions = [0, Math.floor(ids.length * 0.05), Math.floor(ids.length * 0.95), ids.length - 1];
  return { ids: positions.map((p) => ids[p]), positions };
}

/**
 * Polls GET /v1/decisions/{id} of the probes every `pollMs` until the last is learned (its reward
 * is set) or `timeoutMs` passed. The rate is taken between the 5 % and 95 % probes, so neither the
 * learner's first tick nor its last partial batch counts.
 */
export async function watchCatchUp(
  base: string,
  apiKey: string,
  backlogIds: string[],
  since: bigint,
  timeoutMs: number,
  pollMs = 50,
): Promise<CatchUp> {
  const probes = backlogProbes(backlogIds);
  const learnedAt: (number | undefined)[] = probes.ids.map(() => undefined);
  const deadline = Date.now() + timeoutMs;
  while (learnedAt[learnedAt.length - 1] === undefined && Date.now() < deadline) {
    for (const [i, id] of probes.ids.entries()) {
      if (learnedAt[i] !== undefined) continue;
      if (!(await isLearned(base, apiKey, id))) break;
      learnedAt[i] = Number(process.hrtime.bigint() - since) / 1e9;
    }
    await new Promise((r) => setTimeout(r, pollMs));
  }
  const [, t5, t95] = learnedAt;
  const [, p5, p95] = probes.positions;
  const rate = t5 !== undefined && t95 !== undefined && t95 > t5 ? (p95 - p5) / (t95 - t5) : undefined;
  return { learnedAt, positions: probes.positions, rate };
}

export interface CloseLag {
  /** Watched decisions whose window closed during the load and that were seen learned. */
  seen: number;
  /** Seconds from the end of a window to the poll that saw its decision learned (upper bounds, within pollMs). */
  max?: number;
  median?: number;
  /** Watched decisions still not learned `graceMs` after the load. */
  pending: number;
}

/**
 * Watches the closing stream's sampled decisions whose windows end between `from` and `until`
 * (epoch ms): each is polled (GET /v1/decisions/{id}) from the end of its window until it is
 * learned, which gives the time from a window's close to its learning as the API shows it.
 */
export async function watchClosingLag(
  base: string,
  apiKey: string,
  closing: { id: string; windowEnd: number }[],
  from: number,
  until: number,
  graceMs = 10_000,
  pollMs = 200,
): Promise<CloseLag> {
  const pending = closing.filter((c) => c.windowEnd >= from && c.windowEnd <= until);
  const lags: number[] = [];
  while (pending.length > 0 && Date.now() < until + graceMs) {
    for (const c of pending.filter((c) => c.windowEnd <= Date.now())) {
      if (!(await isLearned(base, apiKey, c.id))) continue;
      lags.push((Date.now() - c.windowEnd) / 1000);
      pending.splice(pending.indexOf(c), 1);
    }
    await new Promise((r) => setTimeout(r, pollMs));
  }
  const sorted = [...lags].sort((a, b) => a - b);
  return {
    seen: lags.length,
    max: sorted.at(-1),
    median: sorted[Math.floor(sorted.length / 2)],
    pending: pending.length,
  };
}

// ---------------------------------------------------------------------------------------------
// the report

export interface ReportTiming {
  median: number;
  max: number;
  first: number;
  calls: number;
}

/** GET /v1/agents/winback/report `calls` times, one after the other; ms. */
export async function timeReport(base: string, apiKey: string, calls = 5): Promise<ReportTiming> {
  const ms: number[] = [];
  for (let i = 0; i < calls; i++) {
    const t0 = process.hrtime.bigint();
    await getJson(`${base}${REPORT_PATH}`, apiKey);
    ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  const sorted = [...ms].sort((a, b) => a - b);
  return { median: sorted[Math.floor(sorted.length / 2)], max: sorted[sorted.length - 1], first: ms[0], calls };
}
