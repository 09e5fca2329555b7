import type { AgentConfig, Decision, DecisionSink, Delivery, DeliveryReport, DeliveryResult } from '../../plugin/agent/index.ts';
import { attributesOf } from '../../plugin/agent/index.ts';
import type { HubSpotBatchError, HubSpotCrm } from './client.ts';
import { HUBSPOT_BATCH_MAX_INPUTS } from './constants.ts';
import { classifyHubSpotError, ConfigError } from './errors.ts';
import { toDatetimeValue, toPropertyValue } from './mapping.ts';
import { backoffMs, realPacing, type Pacing } from './pacing.ts';
import { withRetries } from './retry.ts';

export interface ContactSinkOptions {
  crm: HubSpotCrm;
  agent: AgentConfig;
  delivery: Delivery;
  pacing?: Pacing;
  /** Inputs per batch update, ≤ 100 (the default). */
  batchSize?: number;
  /** Attempts per batch on 429 burst / 5xx / network before its decisions are reported `retry`. */
  maxAttempts?: number;
  /** Called for every HubSpot call outcome (logs, metrics, tests). */
  onCall?: (event: { size: number; status: number | 'network' | 'ok' | 'multi'; waitMs?: number }) => void;
}

/** One contact's write: the decision behind it and the input indexes it answers for. */
interface Write {
  contactId: string;
  properties: Record<string, string>;
  indexes: number[];
}

/**
 * Decisions as contact properties through batch updates of ≤100 (integrations.md §4). Per batch:
 * 200 → ok; 207 → the contacts named in `errors[].context.ids` rejected, the rest ok; 429
 * TEN_SECONDLY_ROLLING → wait (HubSpot's interval, else 10 s) and resend; 5xx / network →
 * backoff with jitter and resend; 400 → split in halves until the bad contact fails alone;
 * 401/403 → every remaining decision rejected; 429 DAILY → stop, every unsent decision `retry`.
 * A contact is written at most once per call: for several decisions of one contact, the last
 * is written and the earlier ones are reported `rejected` (superseded).
 */
export class HubSpotContactSink implements DecisionSink {
  readonly metadata = { name: 'hubspot:contact_properties' };
  private readonly pacing: Pacing;
  private readonly batchSize: number;
  private readonly prefix: string;
  /** The run engine sends this many decisions per deliver call: one batch update. */
  readonly deliveryBatchSize: number;

  constructor(private readonly options: ContactSinkOptions) {
    if (options.delivery.to !== 'hubspot' || options.delivery.mode !== 'contact_properties') {
      throw new ConfigError(`the HubSpot sink takes {to: hubspot, mode: contact_properties}, got {to: ${options.delivery.to}, mode: ${options.delivery.mode}}`);
    }
    const size = options.batchSize ?? HUBSPOT_BATCH_MAX_INPUTS;
    if (!Number.isInteger(size) || size < 1 || size > HUBSPOT_BATCH_MAX_INPUTS) throw new ConfigError(`batchSize == ${size}, must be an integer in [1, ${HUBSPOT_BATCH_MAX_INPUTS}]`);
    this.batchSize = size;
    this.deliveryBatchSize = size;
    this.pacing = options.pacing ?? realPacing;
    this.prefix = options.delivery.prefix;
  }

  async deliver(decisions: readonly Decision[]): Promise<DeliveryReport> {
    const results: (DeliveryResult | undefined)[] = decisions.map(() => undefined);
    const writes = this.plan(decisions, results);
    const queue: Write[][] = [];
    for (let i = 0; i < writes.length; i += this.batchSize) queue.push(writes.slice(i, i + this.batchSize));
    let stop: DeliveryResult | undefined;
    while (queue.length > 0) {
      const batch = queue.shift()!;
      if (stop) {
        settle(batch, results, stop);
        continue;
      }
      const outcome = await this.send(batch, results);
      if (outcome.split) queue.unshift(...outcome.split);
      if (outcome.stop) stop = outcome.stop;
    }
    return { results: results.map((r) => r ?? { status: 'retry', message: 'not attempted' }) };
  }

  /**
   * Whether each decision is already on its contact: `<prefix>decision_id` equals its id (read by
   * batch read, ≤100 per call). Asked by the run engine after a crash left a batch in doubt.
   */
  async confirm(decisions: readonly Decision[]): Promise<boolean[]> {
    const property = `${this.prefix}decision_id`;
    const ids = [...new Set(decisions.map((d) => d.userId).filter((id) => /^\d+$/.test(id)))];
    const current = new Map<string, string | null | undefined>();
    for (let i = 0; i < ids.length; i += HUBSPOT_BATCH_MAX_INPUTS) {
      const reply = await withRetries(() => this.options.crm.batchRead(ids.slice(i, i + HUBSPOT_BATCH_MAX_INPUTS), [property]), { maxAttempts: this.options.maxAttempts ?? 8, pacing: this.pacing });
      for (const c of reply.results) current.set(c.id, c.properties[property]);
    }
    return decisions.map((d) => current.get(d.userId) === d.decisionId);
  }

  /** One write per contact; bad ids and superseded decisions are answered here. */
  private plan(decisions: readonly Decision[], results: (DeliveryResult | undefined)[]): Write[] {
    const last = new Map<string, number>();
    decisions.forEach((d, i) => {
      if (!/^\d+$/.test(d.userId)) results[i] = { status: 'rejected', code: 'invalid_contact_id', message: `HubSpot contact ids are numeric; got "${d.userId}"` };
      else last.set(d.userId, i);
    });
    const writes = new Map<string, Write>();
    for (const [contactId, i] of last) writes.set(contactId, { contactId, properties: this.propertiesOf(decisions[i]), indexes: [i] });
    decisions.forEach((d, i) => {
      if (results[i] || last.get(d.userId) === i) return;
      const kept = decisions[last.get(d.userId)!];
      if (kept.decisionId === d.decisionId) writes.get(d.userId)!.indexes.push(i); // the same decision twice: answered with it
      else results[i] = { status: 'rejected', code: 'superseded', message: `a later decision (${kept.decisionId}) for this contact in the same delivery was written instead` };
    });
    return [...writes.values()];
  }

  private propertiesOf(d: Decision): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [name, value] of Object.entries(attributesOf(d, this.options.agent, this.prefix))) {
      out[name] = name === `${this.prefix}send_at` ? toDatetimeValue(value) : toPropertyValue(value);
    }
    return out;
  }

  /** Sends one batch until it is answered; returns halves to send instead (400), or a stop for the rest. */
  private async send(batch: Write[], results: (DeliveryResult | undefined)[]): Promise<{ split?: Write[][]; stop?: DeliveryResult }> {
    const maxAttempts = this.options.maxAttempts ?? 8;
    for (let attempt = 0; ; attempt++) {
      try {
        const reply = await this.options.crm.batchUpdate(batch.map((w) => ({ id: w.contactId, properties: w.properties })));
        const failed = failedIds(reply.errors ?? []);
        this.options.onCall?.({ size: batch.length, status: failed.size > 0 ? 'multi' : 'ok' });
        for (const w of batch) {
          const e = failed.get(w.contactId);
          settle([w], results, e ? { status: 'rejected', httpStatus: 207, code: e.category ?? 'error', message: e.message ?? 'HubSpot rejected this contact' } : { status: 'ok' });
        }
        return {};
      } catch (err) {
        const c = classifyHubSpotError(err);
        this.options.onCall?.({ size: batch.length, status: c.status ?? 'network' });
        if (c.family === 'daily') {
          const stop: DeliveryResult = { status: 'retry', httpStatus: 429, message: `HubSpot daily API limit reached; nothing more is sent until it resets: ${c.message}` };
          settle(batch, results, stop);
          return { stop };
        }
        if (c.family === 'auth') {
          const stop: DeliveryResult = { status: 'rejected', httpStatus: c.status, code: 'auth', message: `HubSpot refused the credentials (${c.status}): ${c.message}` };
          settle(batch, results, stop);
          return { stop };
        }
        if (c.family === 'invalid' && batch.length > 1) {
          const mid = Math.ceil(batch.length / 2);
          return { split: [batch.slice(0, mid), batch.slice(mid)] };
        }
        if (c.family === 'invalid' || c.family === 'rejected') {
          settle(batch, results, { status: 'rejected', httpStatus: c.status, code: c.category ?? 'rejected', message: c.message });
          return {};
        }
        const wait = c.retryAfterMs ?? (c.status === 429 ? 10_000 : backoffMs(attempt, this.pacing));
        if (attempt + 1 >= maxAttempts) {
          settle(batch, results, { status: 'retry', httpStatus: c.status, retryAfterMs: wait, message: `HubSpot still failing after ${maxAttempts} attempts: ${c.message}` });
          return {};
        }
        await this.pacing.sleep(wait);
      }
    }
  }
}

function settle(batch: Write[], results: (DeliveryResult | undefined)[], result: DeliveryResult): void {
  for (const w of batch) for (const i of w.indexes) results[i] = result;
}

/** Contact id → its error, from a 207's `errors[].context.ids`. */
function failedIds(errors: HubSpotBatchError[]): Map<string, HubSpotBatchError> {
  const out = new Map<string, HubSpotBatchError>();
  for (const e of errors) for (const id of e.context?.ids ?? []) out.set(id, e);
  return out;
}
