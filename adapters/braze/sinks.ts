import pMap from 'p-map';
import { z } from 'zod';
import {
  attributePrefix,
  attributesOf,
  type AgentConfig,
  type AttributeValue,
  type Decision,
  type DecisionSink,
  type DeliveryContext,
  type DeliveryReport,
  type DeliveryResult,
  type Delivery,
} from '../../plugin/agent/index.ts';
import { AdapterError, AuthError, bisect, PayloadValidationError, RetryableError } from '../kit/index.ts';
import type { BrazeClient, BrazeReply } from './client.ts';
import {
  EXPORT_IDS_MAX,
  sendTarget,
  TRACK_BATCH_DEFAULT,
  TRACK_BATCH_MAX,
  TRIGGER_RECIPIENTS_MAX,
} from './constants.ts';

/**
 * Waits before each read that confirms a send left in doubt: Braze's reads are eventually
 * consistent (normally within 100 ms, and Braze advises allowing up to 5 minutes between
 * dependent calls, https://www.braze.com/docs/api/basics/), so a read made at once can miss a
 * write that landed and have it sent twice. A decision seen holding its id is settled; the others
 * are asked about again after a longer wait, and count as not landed only after the last read.
 */
export const CONFIRM_DELAYS_MS: readonly number[] = [5_000, 15_000, 45_000, 135_000];

/** Requests a sink keeps in flight at once. */
const PARALLEL_REQUESTS = 4;
/** A send time closer than this is sent now rather than scheduled. */
const SCHEDULE_MIN_LEAD_MS = 60_000;

export interface BrazeSinkOptions {
  client: BrazeClient;
  agent: AgentConfig;
  delivery: Delivery;
  /** Objects per /users/track request (default 50, at most 75). */
  batchSize?: number;
  /** Extra tries for the users a partial error named (default 2); then they are reported rejected. */
  partialRetries?: number;
  /** Requests in flight at once (default 4; the rate limit is shared and paced by the client). */
  parallelRequests?: number;
  /**
   * Attributes sink: write only onto profiles Braze already has (`_update_existing_only`, the
   * default), so that a decided id Braze does not know never becomes a new, billable profile.
   */
  updateExistingOnly?: boolean;
  /**
   * Trigger sink, when Braze Currents reports to nextbest: how long a send may take to be reported
   * before its decision counts as not sent (see `DecisionSink.sendProof`).
   */
  sendProofWithinMs?: number;
  /** The waits before each confirming read (default CONFIRM_DELAYS_MS). */
  confirmDelaysMs?: readonly number[];
  /** How the sink waits (default: a timer); tests pass a virtual clock's. */
  sleep?: (ms: number) => Promise<void>;
  clock?: () => number;
}

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

const exportSchema = z.looseObject({
  message: z.string(),
  users: z
    .array(
      z.looseObject({
        external_id: z.string().optional(),
        custom_attributes: z.record(z.string(), z.unknown()).optional(),
      }),
    )
    .default([]),
  invalid_user_ids: z.array(z.string()).optional(),
});

/**
 * Whether each decision landed: asked after each wait of `options.confirmDelaysMs` (backing off),
 * again only for those not seen yet; never at once (see CONFIRM_DELAYS_MS).
 */
async function confirmAfterDelays(
  options: BrazeSinkOptions,
  decisions: readonly Decision[],
  key: string,
): Promise<boolean[]> {
  const landed = decisions.map(() => false);
  const sleep = options.sleep ?? realSleep;
  for (const delay of options.confirmDelaysMs ?? CONFIRM_DELAYS_MS) {
    const open = decisions.flatMap((d, i) => (landed[i] ? [] : [i]));
    if (open.length === 0) break;
    await sleep(delay);
    const seen = await confirmByAttribute(
      options.client,
      open.map((i) => decisions[i]),
      key,
    );
    open.forEach((i, k) => (landed[i] = seen[k]));
  }
  return landed;
}

/** Asks Braze which users hold `key` = each decision's id (the proof that a delivery landed). */
async function confirmByAttribute(
  client: BrazeClient,
  decisions: readonly Decision[],
  key: string,
): Promise<boolean[]> {
  const holds = new Map<string, unknown>();
  for (let i = 0; i < decisions.length; i += EXPORT_IDS_MAX) {
    const ids = [...new Set(decisions.slice(i, i + EXPORT_IDS_MAX).map((d) => d.userId))];
    const reply = await client
      .post('/users/export/ids', { external_ids: ids, fields_to_export: ['external_id', 'custom_attributes'] })
      .catch((err: Error) => {
        throw new Error(`cannot confirm deliveries: ${err.message}`, { cause: err });
      });
    const parsed = exportSchema.safeParse(reply.body);
    if (!parsed.success)
      throw new Error(
        `cannot confirm deliveries: unreadable /users/export/ids response (${parsed.error.issues[0]?.path.join('.')}: ${parsed.error.issues[0]?.message})`,
      );
    for (const u of parsed.data.users)
      if (u.external_id !== undefined) holds.set(u.external_id, u.custom_attributes?.[key]);
  }
  return decisions.map((d) => holds.get(d.userId) === d.decisionId);
}

/** The delivery result of a request Braze did not take. */
function failure(err: unknown): DeliveryResult {
  if (err instanceof RetryableError)
    return { status: 'retry', httpStatus: err.status, message: err.message, ...(err.inDoubt ? { inDoubt: true } : {}) };
  // A refused key or permission is fixed in Braze's settings, and the run resumed: not lost for good.
  if (err instanceof AuthError) return { status: 'retry', httpStatus: err.status, message: err.message };
  const status = err instanceof AdapterError ? err.status : undefined;
  return {
    status: 'rejected',
    httpStatus: status,
    code: status === 400 ? 'bad_request' : `http_${status ?? 'error'}`,
    message: (err as Error).message,
  };
}

/** Braze refuses a whole request for one bad object or recipient with a 400 (nothing of it is done). */
function refusedAsWhole(err: unknown): err is PayloadValidationError {
  return err instanceof PayloadValidationError && err.status === 400;
}

/** What one `deliver` call of the attributes sink works on. */
interface AttributesRun {
  decisions: readonly Decision[];
  objects: Record<string, AttributeValue>[];
  results: DeliveryResult[];
}

/** Extra requests one batch may spend: on users a partial error named, and on asking whether a request in doubt landed. */
interface Budget {
  partial: number;
  doubt: number;
}

/**
 * Delivery as custom attributes through `POST /users/track`: `<prefix><dimension>`,
 * `<prefix><dimension>_text`, `<prefix>decision_id`, `<prefix>send_at`, `<prefix>deliver`, onto
 * existing profiles only (`_update_existing_only`, unless `updateExistingOnly` is false).
 * Braze bills every data point, so only values that differ from what this sink last delivered to
 * the user are sent (a dimension no longer decided is cleared with null). A 5xx or lost connection
 * leaves a request in doubt: the sink asks Braze (`/users/export/ids`) which users already hold
 * the decision and sends again only to the others. A 400 for a whole batch is split in halves
 * until the bad object stands alone.
 */
export class BrazeAttributesSink implements DecisionSink {
  readonly metadata: { name: string };
  readonly usesPrevious = true;
  /** Objects per /users/track request. */
  readonly requestSize: number;
  private readonly prefix: string;

  constructor(private readonly options: BrazeSinkOptions) {
    this.prefix = attributePrefix(options.agent, options.delivery);
    this.requestSize = Math.min(TRACK_BATCH_MAX, Math.max(1, options.batchSize ?? TRACK_BATCH_DEFAULT));
    this.metadata = { name: `braze:attributes:${this.prefix}` };
  }

  /** The attribute object for one decision: the values that changed since `previous`. */
  attributeObject(d: Decision, previous?: Decision): Record<string, AttributeValue> {
    const next = attributesOf(d, this.options.agent, this.prefix);
    const out: Record<string, AttributeValue> = {
      external_id: d.userId,
      ...(this.options.updateExistingOnly !== false && { _update_existing_only: true }),
    };
    // A previous decision of another agent version may have other texts: send everything then.
    if (!previous || previous.agentVersion !== d.agentVersion) return { ...out, ...next };
    const before = attributesOf(previous, this.options.agent, this.prefix);
    for (const [k, v] of Object.entries(next)) if (before[k] !== v) out[k] = v;
    for (const k of Object.keys(before)) if (!(k in next)) out[k] = null;
    return out;
  }

  async deliver(decisions: readonly Decision[], context: DeliveryContext = {}): Promise<DeliveryReport> {
    const run: AttributesRun = {
      decisions,
      objects: decisions.map((d) => this.attributeObject(d, context.previous?.get(d.decisionId))),
      results: new Array(decisions.length),
    };
    const retries = this.options.partialRetries ?? 2;
    const requests: number[][] = [];
    for (let start = 0; start < decisions.length; start += this.requestSize) {
      requests.push(Array.from({ length: Math.min(this.requestSize, decisions.length - start) }, (_, i) => start + i));
    }
    await pMap(requests, (idx) => this.send(idx, run, { partial: retries, doubt: retries }), {
      concurrency: this.options.parallelRequests ?? PARALLEL_REQUESTS,
      stopOnError: false,
    });
    return { results: run.results };
  }

  /** Sends the objects `idx`; a 400 for the whole request is split in halves until the bad object stands alone. */
  private send(idx: readonly number[], run: AttributesRun, budget: Budget): Promise<void> {
    return bisect(
      idx,
      (batch) => this.sendOnce(batch, run, budget),
      (i, refusal) => (run.results[i] = failure(refusal)),
    );
  }

  /** One /users/track request: answers each object, or resolves with the 400 that refused them all. */
  private async sendOnce(
    idx: readonly number[],
    run: AttributesRun,
    budget: Budget,
  ): Promise<PayloadValidationError | undefined> {
    let reply: BrazeReply;
    try {
      // Not retried blindly on a 5xx: Braze may have written it (and bills the data points again).
      reply = await this.options.client.post(
        '/users/track',
        { attributes: idx.map((i) => run.objects[i]) },
        { retryInDoubt: false },
      );
    } catch (err) {
      if (refusedAsWhole(err)) return err;
      if (err instanceof RetryableError && err.inDoubt && budget.doubt > 0) {
        budget.doubt -= 1;
        await this.resendUnconfirmed(idx, err, run, budget);
      } else for (const i of idx) run.results[i] = failure(err);
      return undefined;
    }
    await this.settlePartialErrors(idx, reply, run, budget);
    return undefined;
  }

  /** After a request in doubt: asks Braze which users already hold their decision, and sends again to the others only. */
  private async resendUnconfirmed(
    idx: readonly number[],
    err: RetryableError,
    run: AttributesRun,
    budget: Budget,
  ): Promise<void> {
    let landed: boolean[];
    try {
      landed = await this.confirm(idx.map((i) => run.decisions[i]));
    } catch {
      for (const i of idx) run.results[i] = failure(err);
      return;
    }
    idx.forEach((i, k) => landed[k] && (run.results[i] = { status: 'ok' }));
    await this.send(
      idx.filter((_, k) => !landed[k]),
      run,
      budget,
    );
  }

  /** A 2xx may name objects it refused (`errors[].index`): those are sent again while the budget lasts, then rejected. */
  private async settlePartialErrors(
    idx: readonly number[],
    reply: BrazeReply,
    run: AttributesRun,
    budget: Budget,
  ): Promise<void> {
    const failed = new Map<number, string>();
    for (const e of reply.body.errors ?? []) {
      if ((e.input_array ?? 'attributes') === 'attributes' && e.index !== undefined && e.index < idx.length)
        failed.set(idx[e.index], e.type ?? 'error');
    }
    for (const i of idx) if (!failed.has(i)) run.results[i] = { status: 'ok' };
    if (failed.size === 0) return;
    if (budget.partial > 0) {
      budget.partial -= 1;
      await this.send([...failed.keys()], run, budget);
      return;
    }
    for (const [i, type] of failed)
      run.results[i] = {
        status: 'rejected',
        httpStatus: reply.status,
        code: 'partial_error',
        message: `Braze rejected this user's attributes: ${type}`,
      };
  }

  confirm(decisions: readonly Decision[]): Promise<boolean[]> {
    return confirmAfterDelays(this.options, decisions, `${this.prefix}decision_id`);
  }
}

/**
 * Delivery as API-triggered campaign or canvas sends, one per customer at the chosen time:
 * decisions are grouped by `sendAt` (≤ 50 recipients a request) and scheduled with
 * `/campaigns/trigger/schedule/create` (`/canvas/…`), or sent at once when the time is now. Each
 * recipient carries the decision in `trigger_properties` (campaigns) or `context` (Canvases; the
 * legacy `canvas_entry_properties` are read by Braze as context) and writes
 * `<prefix>trigger_<campaign or canvas id>` = decision id as an attribute, which Braze applies
 * before the message is sent: that is how a send left in doubt by a crash or a 5xx is confirmed
 * before it is tried again, so no customer gets the message twice.
 */
export class BrazeTriggerSink implements DecisionSink {
  readonly metadata: { name: string };
  private readonly prefix: string;
  private readonly kind: 'campaign' | 'canvas';
  private readonly targetId: string;
  readonly proofAttribute: string;
  readonly sendProof?: { target: string; withinMs: number };

  constructor(private readonly options: BrazeSinkOptions) {
    const { delivery } = options;
    this.prefix = attributePrefix(options.agent, delivery);
    if (delivery.mode === 'campaign_trigger' && delivery.campaign_id)
      [this.kind, this.targetId] = ['campaign', delivery.campaign_id];
    else if (delivery.mode === 'canvas_trigger' && delivery.canvas_id)
      [this.kind, this.targetId] = ['canvas', delivery.canvas_id];
    else
      throw new Error(
        `a Braze trigger sink needs mode campaign_trigger with campaign_id or canvas_trigger with canvas_id, got ${JSON.stringify(delivery)}`,
      );
    this.proofAttribute = `${this.prefix}trigger_${this.targetId}`;
    if (options.sendProofWithinMs !== undefined)
      this.sendProof = { target: sendTarget(this.kind, this.targetId), withinMs: options.sendProofWithinMs };
    this.metadata = { name: `braze:${delivery.mode}:${this.targetId}` };
  }

  /** The request body for one group of decisions sharing a send time (undefined = now). */
  request(decisions: readonly Decision[], sendAt: string | undefined): { path: string; body: Record<string, unknown> } {
    const propertiesKey = this.kind === 'campaign' ? 'trigger_properties' : 'context';
    const recipients = decisions.map((d) => ({
      external_user_id: d.userId,
      [propertiesKey]: attributesOf(d, this.options.agent, this.prefix),
      attributes: { [this.proofAttribute]: d.decisionId },
    }));
    const idKey = this.kind === 'campaign' ? 'campaign_id' : 'canvas_id';
    const base = this.kind === 'campaign' ? '/campaigns/trigger' : '/canvas/trigger';
    return sendAt === undefined
      ? { path: `${base}/send`, body: { [idKey]: this.targetId, recipients } }
      : { path: `${base}/schedule/create`, body: { [idKey]: this.targetId, recipients, schedule: { time: sendAt } } };
  }

  async deliver(decisions: readonly Decision[]): Promise<DeliveryReport> {
    const results: DeliveryResult[] = new Array(decisions.length);
    const now = (this.options.clock ?? Date.now)();
    const groups = new Map<string, number[]>();
    decisions.forEach((d, i) => {
      const at =
        d.sendAt && Date.parse(d.sendAt) - now >= SCHEDULE_MIN_LEAD_MS
          ? new Date(Date.parse(d.sendAt)).toISOString()
          : '';
      const group = groups.get(at);
      if (group) group.push(i);
      else groups.set(at, [i]);
    });
    const requests: { idx: number[]; at: string | undefined }[] = [];
    for (const [at, members] of groups) {
      for (let start = 0; start < members.length; start += TRIGGER_RECIPIENTS_MAX)
        requests.push({ idx: members.slice(start, start + TRIGGER_RECIPIENTS_MAX), at: at || undefined });
    }
    await pMap(requests, (r) => this.send(r.idx, decisions, r.at, results), {
      concurrency: this.options.parallelRequests ?? PARALLEL_REQUESTS,
      stopOnError: false,
    });
    return { results };
  }

  /** Sends one group sharing a send time; a 400 (nothing was sent) is split in halves so that the others go out. */
  private send(
    idx: readonly number[],
    decisions: readonly Decision[],
    sendAt: string | undefined,
    results: DeliveryResult[],
  ): Promise<void> {
    return bisect(
      idx,
      (batch) => this.sendOnce(batch, decisions, sendAt, results),
      (i, refusal) => (results[i] = failure(refusal)),
    );
  }

  private async sendOnce(
    idx: readonly number[],
    decisions: readonly Decision[],
    sendAt: string | undefined,
    results: DeliveryResult[],
  ): Promise<PayloadValidationError | undefined> {
    const { path, body } = this.request(
      idx.map((i) => decisions[i]),
      sendAt,
    );
    try {
      // A triggered send is not idempotent: a 5xx or lost connection comes back in doubt, not retried blindly.
      await this.options.client.post(path, body, { retryInDoubt: false });
      for (const i of idx) results[i] = { status: 'ok' };
    } catch (err) {
      if (refusedAsWhole(err)) return err;
      for (const i of idx) results[i] = failure(err);
    }
    return undefined;
  }

  confirm(decisions: readonly Decision[]): Promise<boolean[]> {
    return confirmAfterDelays(this.options, decisions, this.proofAttribute);
  }
}
