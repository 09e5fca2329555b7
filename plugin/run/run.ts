import pMap from 'p-map';
import { randomUUID } from 'node:crypto';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { Decision, DecisionSink, Delivery, Profile, ProfileSource } from '../agent/index.ts';
import type { DecisionResponse, DecisionService } from '../service/index.ts';
import type { AwaitedSend, DeliveryRow, DeliveryUpdate, RunRow, Store } from '../store/index.ts';
import { sendProofReport, type SendProofSummary } from './send-proof.ts';

/**
 * Batch runs: iterate an audience, decide for every member, deliver through the agent's sinks.
 *
 * Exactly once, even across a crash: each member's decision has a request id derived from the run
 * and the member (`run:<runId>:<userKey>`), so deciding again after a restart returns the logged
 * decision. Deliveries go through an outbox in the store: queued in the same transaction as the
 * checkpoint; the batch handed to a sink is recorded as in flight first, and each row marked
 * `delivered` after. Rows of a batch still in flight after a crash, and rows a sink answered in
 * doubt, are settled by asking the sink (`confirm`) whether the destination already has them
 * before anything is sent again.
 */

export interface RunRequest {
  agentId: string;
  /** The audience reference the profile source understands (`file:PATH`, a list id, …). */
  audience: string;
  /** Decide and log, but deliver nothing. */
  dryRun?: boolean;
  /** Continue this run (same agent and audience) where it stopped. */
  resume?: string;
  /** Id for a new run (default: a random UUID). */
  runId?: string;
}

export interface RunProgress {
  runId: string;
  members: number;
  /** Audience size, when the source knows it. */
  total?: number;
  delivered: number;
}

export interface RunOptions {
  store: Store;
  source: ProfileSource;
  /** Decisions in flight at once (default: the chunk size, so that a chunk's decisions commit together). */
  concurrency?: number;
  /**
   * Members per checkpoint (default 5,000). SQLite writes a chunk's decisions in one transaction,
   * and larger transactions cost less per row (measured: 1,000 → 5,000 is about 1.3 × the
   * throughput), at the price of a longer pause of the event loop per chunk.
   */
  chunkSize?: number;
  /** Deliveries handed to a sink per call (default 5,000; the sink splits them into requests). */
  deliveryBatch?: number;
  /**
   * Deliveries of one decision to one sink, in one session of the run, before it is set aside
   * (default 4): it stays queued, the run ends `failed`, and `--resume` tries it again.
   */
  maxAttempts?: number;
  total?: number;
  onProgress?: (p: RunProgress) => void;
  /** Stops the run after the current chunk; it can be resumed. */
  signal?: AbortSignal;
}

interface Counters {
  members: number;
  decided: number;
  heldOut: number;
  skipped: { total: number; reasons: Record<string, number> };
}

interface Checkpoint extends Counters {
  /** Members of the audience fully queued: a resumed run skips this many. */
  position: number;
  dryRun: boolean;
}

export interface RunSummary extends Counters {
  runId: string;
  agentId: string;
  audience: string;
  dryRun: boolean;
  status: RunRow['status'];
  /** Deliveries per sink. */
  delivered: Record<string, number>;
  /** Deliveries given up per sink, by reason. */
  failed: Record<string, { total: number; reasons: Record<string, number> }>;
  /** Deliveries neither delivered nor failed yet (in doubt, or waiting for a retry): a resume finishes them. */
  unfinished: Record<string, number>;
  /** For sinks whose destination reports what it really sent: this run's proofs of send, by target. */
  sendProof?: Record<string, SendProofSummary>;
  /** What the operator should look at: sends the destination accepted and never made (this run's and the agent's earlier runs'). */
  warnings?: string[];
}

export class RunError extends Error {
  constructor(
    readonly code: 'not_found' | 'conflict' | 'not_configured' | 'bad_request',
    message: string,
  ) {
    super(message);
  }
}

/** What a delivery row carries: the decision as sinks see it, with the raw user id delivery needs. */
type Payload = Omit<Decision, 'features' | 'explanation'>;

function decisionOf(payload: unknown): Decision {
  return { ...(payload as Payload), features: [] };
}

function emptyCounters(): Counters {
  return { members: 0, decided: 0, heldOut: 0, skipped: { total: 0, reasons: {} } };
}

/** Why a decision delivers nothing, as the summary counts it. */
function skipReasons(r: DecisionResponse): string[] {
  if (r.deliver) return [];
  if (r.error) return [`error: ${r.error.code}`];
  if (r.suppressed) return r.suppressed.reasons.map((reason) => `guardrail: ${reason}`);
  if (r.choices.frequency?.arm === 'skip') return ['frequency: skip'];
  return ['not delivered'];
}

/**
 * Members of a chunk whose decisions are started in one turn of the event loop. Between two
 * slices the process serves what arrived meanwhile (the sinks' answers, so that a drain goes on
 * while the next chunk is decided); the decisions of a slice commit together (the store's group
 * commit writes the units that finish in one turn in one transaction).
 */
const DECIDE_SLICE = 250;

function sinkKey(delivery: Delivery, sink: DecisionSink): string {
  return sink.metadata.name || `${delivery.to}:${delivery.mode}`;
}

/** Starts or resumes a run and carries it to its end (or to the abort signal). */
export async function runAudience(
  service: DecisionService,
  request: RunRequest,
  options: RunOptions,
): Promise<RunSummary> {
  const run = await openRun(service, request, options.store);
  return continueRun(service, run, options);
}

/** Creates the run row (or reopens the one to resume), checking that the agent can deliver. */
export async function openRun(service: DecisionService, request: RunRequest, store: Store): Promise<RunRow> {
  const ws = service.workspace;
  service.agentConfig(request.agentId); // 404 for an unknown agent
  const now = service.now();
  if (request.resume) {
    const run = await store.getRun(ws, request.resume);
    if (!run) throw new RunError('not_found', `run "${request.resume}" does not exist`);
    if (run.agentId !== request.agentId || run.audience !== request.audience) {
      throw new RunError(
        'conflict',
        `run "${run.runId}" is for agent ${run.agentId} and audience ${run.audience}, not ${request.agentId} and ${request.audience}`,
      );
    }
    if (run.status === 'completed') throw new RunError('conflict', `run "${run.runId}" is already completed`);
    await store.updateRun(ws, run.runId, { status: 'running' }, now);
    return { ...run, status: 'running' };
  }
  const dryRun = request.dryRun ?? false;
  if (!dryRun) targetsOf(service, request.agentId);
  const checkpoint: Checkpoint = { position: 0, dryRun, ...emptyCounters() };
  const run: RunRow = {
    runId: request.runId ?? randomUUID(),
    workspace: ws,
    agentId: request.agentId,
    audience: request.audience,
    status: 'running',
    checkpoint,
    summary: null,
    createdAt: now,
    updatedAt: now,
  };
  await store.createRun(run);
  return run;
}

/** The agent's sinks; every delivery entry must have one, or the run cannot deliver. */
function targetsOf(service: DecisionService, agentId: string): { key: string; sink: DecisionSink }[] {
  const targets = service.deliveryTargets(agentId);
  if (targets.length === 0)
    throw new RunError(
      'not_configured',
      `agent "${agentId}" has no delivery entries: add one (e.g. { to: braze, mode: attributes }) or use a dry run`,
    );
  const missing = targets.filter((t) => !t.sink).map((t) => `${t.delivery.to} (${t.delivery.mode})`);
  if (missing.length > 0)
    throw new RunError(
      'not_configured',
      `this process is not connected to ${missing.join(', ')}: set the destination's environment variables (see docs), or use a dry run`,
    );
  const keyed = targets.map((t) => ({ key: sinkKey(t.delivery, t.sink!), sink: t.sink! }));
  const twice = keyed.map((t) => t.key).filter((k, i, all) => all.indexOf(k) !== i);
  if (twice.length > 0)
    throw new RunError(
      'bad_request',
      `agent "${agentId}" delivers twice to ${[...new Set(twice)].join(', ')}: remove the duplicate delivery entry`,
    );
  return keyed;
}

/** Carries an open run on from its checkpoint: decide chunk by chunk, queue, drain, then the final passes. */
export async function continueRun(service: DecisionService, run: RunRow, options: RunOptions): Promise<RunSummary> {
  const progress = new RunInProgress(service, run, options);
  const chunkSize = options.chunkSize ?? 5000;
  // Members after the checkpoint that were decided before a crash get their logged decision back:
  // the store's unique request id refuses a second one, and the first is replayed.
  let skip = progress.checkpoint.position;
  let chunk: Profile[] = [];
  let aborted = false;
  progress.startDrain();
  for await (const profile of options.source.audience(run.audience)) {
    if (skip > 0) {
      skip -= 1;
      continue;
    }
    chunk.push(profile);
    if (chunk.length < chunkSize) continue;
    await progress.advance(chunk);
    chunk = [];
    if (options.signal?.aborted) {
      aborted = true;
      break;
    }
  }
  if (!aborted && chunk.length > 0) await progress.advance(chunk);
  await progress.drained();
  if (!aborted) await progress.finalPasses();
  return progress.finish(aborted);
}

type Member = { profile: Profile; userKey: string; r: DecisionResponse };
type Target = { key: string; sink: DecisionSink };

/**
 * One run being carried on: its checkpoint (counters and position), its sinks, and the drain that
 * delivers what is queued while the next chunk is decided (one drain at a time, so that a row is
 * never handed to a sink twice at once; its failure is raised where it is awaited).
 */
class RunInProgress {
  readonly checkpoint: Checkpoint;
  private readonly store: Store;
  private readonly ws: string;
  private readonly sinks: Target[];
  private readonly maxAttempts: number;
  /** Deliveries tried in this session and not delivered, by sink and decision: set aside at maxAttempts. */
  private readonly tries = new Map<string, number>();
  private delivered = 0;
  private draining: Promise<unknown> = Promise.resolve();
  private drainError: unknown;

  constructor(
    private readonly service: DecisionService,
    private readonly run: RunRow,
    private readonly options: RunOptions,
  ) {
    this.store = options.store;
    this.ws = service.workspace;
    this.checkpoint = { ...(run.checkpoint as Checkpoint) };
    this.sinks = this.checkpoint.dryRun ? [] : targetsOf(service, run.agentId);
    this.maxAttempts = options.maxAttempts ?? 4;
  }

  /** Decides a chunk, counts it, queues its deliveries with the checkpoint, and starts draining them. */
  async advance(members: Profile[]): Promise<void> {
    const decided = await this.decideChunk(members);
    // A decision that could not be logged (store error) must not be passed over: stop before the
    // checkpoint, so that a resume decides these members again.
    const failed = decided.filter((d) => d.r.error?.code === 'decision_failed').length;
    if (failed > 0)
      throw new RunError(
        'bad_request',
        `${failed} decisions of this chunk could not be logged (see the log); resume the run once the store is healthy`,
      );
    const now = this.service.now();
    const rows = decided.flatMap((member) => this.count(member, now));
    this.checkpoint.position += members.length;
    await this.drained();
    await this.store.advanceRun(this.ws, this.run.runId, rows, this.checkpoint, now);
    this.startDrain();
    this.report();
  }

  startDrain(): void {
    this.draining = this.drainAll(false).catch((err: unknown) => void (this.drainError ??= err));
  }

  async drained(): Promise<void> {
    await this.draining;
    if (this.drainError !== undefined) throw this.drainError;
  }

  /** Once the audience is done: drain until every delivery is delivered or given up (maxAttempts passes). */
  async finalPasses(): Promise<void> {
    for (let pass = 0; pass < this.maxAttempts; pass++) await this.drainAll(true);
  }

  async finish(aborted: boolean): Promise<RunSummary> {
    const summary = {
      ...(await summarize(this.store, this.run, this.checkpoint, aborted)),
      ...(await sendProofReport(this.store, this.run, this.service.now())),
    };
    await this.store.updateRun(
      this.ws,
      this.run.runId,
      { status: summary.status, checkpoint: this.checkpoint, summary },
      this.service.now(),
    );
    return summary;
  }

  private report(): void {
    this.options.onProgress?.({
      runId: this.run.runId,
      members: this.checkpoint.members,
      total: this.options.total,
      delivered: this.delivered,
    });
  }

  private decideMember = async (p: Profile): Promise<Member> => {
    const userKey = this.service.userKey(p.userId);
    const request = {
      userId: p.userId,
      traits: p.traits,
      timezone: p.timezone,
      consent: p.consent,
      requestId: `run:${this.run.runId}:${userKey}`,
    };
    return {
      profile: p,
      userKey,
      r: await this.service.decide(this.run.agentId, request, { userKey, likelyNew: true }),
    };
  };

  /**
   * All of a chunk's decisions, started a slice per turn of the event loop (the store writes the
   * decisions that finish in one turn in one transaction); or, with a lower concurrency, that many
   * at once.
   */
  private async decideChunk(members: Profile[]): Promise<Member[]> {
    const concurrency = this.options.concurrency ?? this.options.chunkSize ?? 5000;
    if (concurrency < members.length) return pMap(members, this.decideMember, { concurrency });
    const started: Promise<Member>[] = [];
    for (let i = 0; i < members.length; i += DECIDE_SLICE) {
      if (i > 0) await nextTurn();
      for (const member of members.slice(i, i + DECIDE_SLICE)) {
        const decision = this.decideMember(member);
        decision.catch(() => undefined); // raised by Promise.all below, not as unhandled in between
        started.push(decision);
      }
    }
    return Promise.all(started);
  }

  /** Counts a decided member in the checkpoint; a deliverable decision becomes one outbox row per sink. */
  private count({ profile, userKey, r }: Member, now: number): DeliveryRow[] {
    const c = this.checkpoint;
    c.members += 1;
    if (!r.error) c.decided += 1;
    if (r.holdout) c.heldOut += 1;
    const reasons = skipReasons(r);
    if (reasons.length > 0) {
      c.skipped.total += 1;
      for (const reason of reasons) c.skipped.reasons[reason] = (c.skipped.reasons[reason] ?? 0) + 1;
      return [];
    }
    const payload = payloadOf(r, profile.userId);
    return this.sinks.map(({ key }) => ({
      workspace: this.ws,
      decisionId: r.decisionId,
      sink: key,
      runId: this.run.runId,
      userKey,
      payload,
      status: 'pending' as const,
      attempts: 0,
      error: null,
      updatedAt: now,
    }));
  }

  private drainAll(finalPass: boolean): Promise<unknown> {
    return Promise.all(this.sinks.map((target) => this.drainSink(target, finalPass)));
  }

  /** Delivers every queued delivery of the run to one sink, first settling those left in doubt. */
  private async drainSink({ key, sink }: Target, finalPass: boolean): Promise<void> {
    // Nothing new goes to a sink while some of its deliveries are still in doubt.
    const awaitOf = (row: DeliveryRow) => this.awaitedSend(sink, row);
    if (!(await settleInDoubt(this.store, this.ws, this.run.runId, key, sink, this.service.now(), awaitOf))) return;
    const batch = Math.max(1, this.options.deliveryBatch ?? 5000);
    // rows before this position are set aside for this session (their tries ran out)
    let from = 0;
    for (;;) {
      const rows = await this.store.deliveriesOf(this.ws, this.run.runId, key, ['pending'], batch, from);
      if (rows.length === 0) return;
      const live = rows.filter((r) => this.triesOf(key, r.decisionId) < this.maxAttempts);
      if (live.length === 0) {
        from = rows[rows.length - 1]!.seq! + 1;
        continue;
      }
      const updates = await this.deliverBatch(key, sink, live);
      if (!updates) return; // the sink itself failed: nothing is known of this batch, which stays in flight (in doubt)
      const inDoubt = updates.some((u) => u.status === 'sending');
      if (
        inDoubt &&
        !(await settleInDoubt(this.store, this.ws, this.run.runId, key, sink, this.service.now(), awaitOf))
      )
        return;
      // Nothing got through: the sink has already waited and retried inside; leave the rest for the final pass.
      if (!finalPass && updates.every((u) => u.status !== 'delivered')) return;
    }
  }

  private triesOf(key: string, decisionId: string): number {
    return this.tries.get(`${key}\u0000${decisionId}`) ?? 0;
  }

  /** The send proof a delivered row awaits, for a sink whose destination reports what it sent. */
  private awaitedSend(sink: DecisionSink, row: DeliveryRow): AwaitedSend | undefined {
    if (!sink.sendProof) return undefined;
    return {
      target: sink.sendProof.target,
      runId: this.run.runId,
      agentId: this.run.agentId,
      userKey: row.userKey,
      holdout: (row.payload as Payload).holdout,
      dueAt: this.service.now() + sink.sendProof.withinMs,
    };
  }

  /** Hands one batch to the sink, in flight while it is out, and records each row's answer; undefined when the sink threw. */
  private async deliverBatch(
    key: string,
    sink: DecisionSink,
    live: DeliveryRow[],
  ): Promise<DeliveryUpdate[] | undefined> {
    // Marked in flight as a range, not row by row: after a crash, the pending rows in it are in doubt.
    await this.store.setInFlight(
      this.ws,
      this.run.runId,
      key,
      { from: live[0]!.seq!, to: live[live.length - 1]!.seq! },
      this.service.now(),
    );
    const previous = sink.usesPrevious ? await this.previousDeliveries(key, live) : new Map<string, Decision>();
    let results;
    try {
      results = (
        await sink.deliver(
          live.map((r) => decisionOf(r.payload)),
          { previous },
        )
      ).results;
    } catch {
      return undefined;
    }
    const updates: DeliveryUpdate[] = live.map((r, i) => {
      const res = results[i] ?? { status: 'retry', message: 'no result from the sink' };
      if (res.status === 'ok') {
        const awaitSend = this.awaitedSend(sink, r);
        return {
          decisionId: r.decisionId,
          status: 'delivered',
          error: null,
          attempt: true,
          ...(awaitSend && { awaitSend }),
        };
      }
      if (res.status === 'retry') this.tries.set(`${key}\u0000${r.decisionId}`, this.triesOf(key, r.decisionId) + 1);
      if (res.status === 'rejected')
        return { decisionId: r.decisionId, status: 'failed', error: `${res.code}: ${res.message}`, attempt: true };
      return {
        decisionId: r.decisionId,
        status: res.inDoubt ? 'sending' : 'pending',
        error: res.message,
        attempt: true,
      };
    });
    await this.store.setDeliveryStatus(this.ws, key, updates, this.service.now());
    await this.store.setInFlight(this.ws, this.run.runId, key, null, this.service.now());
    this.delivered += updates.filter((u) => u.status === 'delivered').length;
    this.report();
    return updates;
  }

  /** For sinks that write only what changed: each user's decision the destination holds now, when it is another one. */
  private async previousDeliveries(key: string, live: DeliveryRow[]): Promise<Map<string, Decision>> {
    const previous = new Map<string, Decision>();
    const last = await this.store.lastDelivered(
      this.ws,
      key,
      live.map((r) => r.userKey),
    );
    for (const r of live) {
      const before = last.get(r.userKey);
      if (before && before.decisionId !== r.decisionId) previous.set(r.decisionId, decisionOf(before.payload));
    }
    return previous;
  }
}

/** What an outbox row carries: the decision as sinks see it, at its own time, with the raw user id delivery needs. */
function payloadOf(r: DecisionResponse, userId: string): Payload {
  return {
    decisionId: r.decisionId,
    agentId: r.agentId,
    agentVersion: r.agentVersion,
    userId,
    at: r.at,
    holdout: r.holdout,
    choices: r.choices,
    probability: r.probability,
    ...(r.sendAt ? { sendAt: r.sendAt } : {}),
    deliver: r.deliver,
    reason: r.reason,
  };
}

/**
 * Settles the deliveries in doubt: those a sink answered in doubt (`sending`) and the pending ones
 * of a batch that was in flight when the process stopped. The sink is asked which landed
 * (`confirm`): those are delivered, the others go back to pending. A sink that cannot tell gets
 * them again. False when the sink could not answer now: they stay in doubt.
 */
async function settleInDoubt(
  store: Store,
  ws: string,
  runId: string,
  key: string,
  sink: DecisionSink,
  now: number,
  awaitOf: (row: DeliveryRow) => AwaitedSend | undefined,
): Promise<boolean> {
  const range = await store.getInFlight(ws, runId, key);
  const inFlight = range
    ? (await store.deliveriesOf(ws, runId, key, ['pending'], range.to - range.from + 1, range.from)).filter(
        (r) => r.seq! <= range.to,
      )
    : [];
  for (let first = true; ; first = false) {
    const rows = [...(first ? inFlight : []), ...(await store.deliveriesOf(ws, runId, key, ['sending'], 500))];
    if (rows.length === 0) break;
    let landed: boolean[];
    if (sink.confirm) {
      try {
        landed = await sink.confirm(rows.map((r) => decisionOf(r.payload)));
      } catch {
        return false; // cannot tell now; they stay in doubt and are asked about again later
      }
    } else landed = rows.map(() => false);
    await store.setDeliveryStatus(
      ws,
      key,
      rows.map((r, i) => {
        const awaitSend = landed[i] ? awaitOf(r) : undefined;
        return {
          decisionId: r.decisionId,
          status: landed[i] ? 'delivered' : 'pending',
          error: landed[i] ? null : r.error,
          ...(awaitSend && { awaitSend }),
        };
      }),
      now,
    );
  }
  if (range) await store.setInFlight(ws, runId, key, null, now);
  return true;
}

async function summarize(store: Store, run: RunRow, checkpoint: Checkpoint, aborted: boolean): Promise<RunSummary> {
  const delivered: Record<string, number> = {};
  const failed: RunSummary['failed'] = {};
  const unfinished: Record<string, number> = {};
  for (const c of await store.deliveryCounts(run.workspace, run.runId)) {
    if (c.status === 'delivered') delivered[c.sink] = (delivered[c.sink] ?? 0) + c.count;
    else if (c.status === 'failed') {
      const f = (failed[c.sink] ??= { total: 0, reasons: {} });
      f.total += c.count;
      f.reasons[c.error ?? 'unknown'] = (f.reasons[c.error ?? 'unknown'] ?? 0) + c.count;
    } else unfinished[c.sink] = (unfinished[c.sink] ?? 0) + c.count;
  }
  const { position: _position, dryRun, ...counters } = checkpoint;
  const status: RunRow['status'] = aborted
    ? 'interrupted'
    : Object.keys(unfinished).length > 0
      ? 'failed'
      : 'completed';
  return {
    runId: run.runId,
    agentId: run.agentId,
    audience: run.audience,
    dryRun,
    status,
    ...counters,
    delivered,
    failed,
    unfinished,
  };
}

/** The summary as the CLI prints it. */
export function runTable(s: RunSummary): string {
  const lines = [
    `run ${s.runId}: ${s.status}${s.dryRun ? ' (dry run: nothing delivered)' : ''}`,
    `  agent ${s.agentId}, audience ${s.audience}`,
    `  members      ${s.members}`,
    `  decided      ${s.decided}`,
    `  held out     ${s.heldOut} (default arms, delivered as business as usual)`,
    `  skipped      ${s.skipped.total}`,
    ...Object.entries(s.skipped.reasons)
      .sort((a, b) => b[1] - a[1])
      .map(([reason, n]) => `    ${String(n).padStart(8)}  ${reason}`),
  ];
  for (const [sink, n] of Object.entries(s.delivered)) lines.push(`  delivered    ${n} via ${sink}`);
  for (const [sink, f] of Object.entries(s.failed)) {
    lines.push(`  failed       ${f.total} via ${sink}`);
    for (const [reason, n] of Object.entries(f.reasons)) lines.push(`    ${String(n).padStart(8)}  ${reason}`);
  }
  for (const [sink, n] of Object.entries(s.unfinished))
    lines.push(`  unfinished   ${n} via ${sink} (in doubt or waiting for a retry: resume the run)`);
  for (const [target, p] of Object.entries(s.sendProof ?? {})) {
    const notSent = Object.entries(p.notSent).map(([reason, n]) => `${n} ${reason}`);
    lines.push(
      `  sent         ${p.sent} via ${target} (from its reports), ${p.awaited} awaited, not sent: ${notSent.join(', ') || 0}`,
    );
  }
  for (const warning of s.warnings ?? []) lines.push(`  warning: ${warning}`);
  return lines.join('\n');
}
