import type {
  AgentConfig,
  Decision,
  DecisionSink,
  Delivery,
  DeliveryReport,
  DeliveryResult,
} from '../../plugin/agent/index.ts';
import { attributesOf } from '../../plugin/agent/index.ts';
import {
  AdapterError,
  AuthError,
  bisect,
  ConfigError,
  PayloadValidationError,
  realPacing,
  RetryableError,
  type Pacing,
} from '../kit/index.ts';
import type { HubSpotBatchError, HubSpotBatchReply, HubSpotCrm } from './client.ts';
import { HUBSPOT_BATCH_MAX_INPUTS } from './constants.ts';
import { DailyLimitError } from './errors.ts';
import { toDatetimeValue, toPropertyValue } from './mapping.ts';
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

/** What one `deliver` call works on: a result per decision, and the result every later batch gets once HubSpot said stop. */
interface SinkRun {
  results: (DeliveryResult | undefined)[];
  stop?: DeliveryResult;
}

/**
 * Decisions as contact properties through batch updates of ≤100 (docs/hubspot.md, "Write
 * decisions to contacts"). Per batch:
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
  private readonly maxAttempts: number;
  private readonly batchSize: number;
  private readonly prefix: string;
  /** The run engine sends this many decisions per deliver call: one batch update. */
  readonly deliveryBatchSize: number;

  constructor(private readonly options: ContactSinkOptions) {
    if (options.delivery.to !== 'hubspot' || options.delivery.mode !== 'contact_properties') {
      throw new ConfigError(
        `the HubSpot sink takes {to: hubspot, mode: contact_properties}, got {to: ${options.delivery.to}, mode: ${options.delivery.mode}}`,
      );
    }
    const size = options.batchSize ?? HUBSPOT_BATCH_MAX_INPUTS;
    if (!Number.isInteger(size) || size < 1 || size > HUBSPOT_BATCH_MAX_INPUTS)
      throw new ConfigError(`batchSize == ${size}, must be an integer in [1, ${HUBSPOT_BATCH_MAX_INPUTS}]`);
    this.batchSize = size;
    this.deliveryBatchSize = size;
    this.pacing = options.pacing ?? realPacing;
    this.maxAttempts = options.maxAttempts ?? 8;
    this.prefix = options.delivery.prefix;
  }

  async deliver(decisions: readonly Decision[]): Promise<DeliveryReport> {
    const run: SinkRun = { results: decisions.map(() => undefined) };
    const writes = this.plan(decisions, run.results);
    for (let i = 0; i < writes.length; i += this.batchSize) {
      await bisect(
        writes.slice(i, i + this.batchSize),
        (batch) => this.write(batch, run),
        (w, refusal) => settle([w], run.results, resultOf(refusal)),
      );
    }
    return { results: run.results.map((r) => r ?? { status: 'retry', message: 'not attempted' }) };
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
      const reply = await withRetries(
        () => this.options.crm.batchRead(ids.slice(i, i + HUBSPOT_BATCH_MAX_INPUTS), [property]),
        { maxAttempts: this.maxAttempts, pacing: this.pacing },
      );
      for (const c of reply.results) current.set(c.id, c.properties[property]);
    }
    return decisions.map((d) => current.get(d.userId) === d.decisionId);
  }

  /** One write per contact; bad ids and superseded decisions are answered here. */
  private plan(decisions: readonly Decision[], results: (DeliveryResult | undefined)[]): Write[] {
    const last = new Map<string, number>();
    decisions.forEach((d, i) => {
      if (!/^\d+$/.test(d.userId))
        results[i] = {
          status: 'rejected',
          code: 'invalid_contact_id',
          message: `HubSpot contact ids are numeric; got "${d.userId}"`,
        };
      else last.set(d.userId, i);
    });
    const writes = new Map<string, Write>();
    for (const [contactId, i] of last)
      writes.set(contactId, { contactId, properties: this.propertiesOf(decisions[i]), indexes: [i] });
    decisions.forEach((d, i) => {
      if (results[i] || last.get(d.userId) === i) return;
      const kept = decisions[last.get(d.userId)!];
      if (kept.decisionId === d.decisionId)
        writes.get(d.userId)!.indexes.push(i); // the same decision twice: answered with it
      else
        results[i] = {
          status: 'rejected',
          code: 'superseded',
          message: `a later decision (${kept.decisionId}) for this contact in the same delivery was written instead`,
        };
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

  /** One batch update, with the kit's retries: answers each contact, or resolves with the 400 that refused the whole batch. */
  private async write(batch: readonly Write[], run: SinkRun): Promise<PayloadValidationError | undefined> {
    if (run.stop) {
      settle(batch, run.results, run.stop);
      return undefined;
    }
    try {
      const failed = failedIds(
        (await withRetries(() => this.update(batch), { maxAttempts: this.maxAttempts, pacing: this.pacing })).errors ??
          [],
      );
      for (const w of batch) {
        const e = failed.get(w.contactId);
        settle(
          [w],
          run.results,
          e
            ? {
                status: 'rejected',
                httpStatus: 207,
                code: e.category ?? 'error',
                message: e.message ?? 'HubSpot rejected this contact',
              }
            : { status: 'ok' },
        );
      }
    } catch (err) {
      if (err instanceof PayloadValidationError && err.status === 400) return err;
      const result = resultOf(err);
      settle(batch, run.results, result);
      // The daily cap and refused credentials hold for every batch after this one.
      if (err instanceof DailyLimitError || err instanceof AuthError) run.stop = result;
    }
    return undefined;
  }

  /** `POST …/batch/update`, each outcome reported to `onCall`. */
  private async update(batch: readonly Write[]): Promise<HubSpotBatchReply> {
    try {
      const reply = await this.options.crm.batchUpdate(
        batch.map((w) => ({ id: w.contactId, properties: w.properties })),
      );
      this.options.onCall?.({ size: batch.length, status: failedIds(reply.errors ?? []).size > 0 ? 'multi' : 'ok' });
      return reply;
    } catch (err) {
      const status = (err as { code?: unknown } | undefined)?.code;
      this.options.onCall?.({ size: batch.length, status: typeof status === 'number' ? status : 'network' });
      throw err;
    }
  }
}

/**
 * The result of a write that failed: `retry` when HubSpot stayed unavailable or its daily cap is
 * spent (it resets at midnight); `rejected` with code `auth` for refused credentials, else with
 * HubSpot's error category.
 */
function resultOf(err: unknown): DeliveryResult {
  if (err instanceof RetryableError)
    return { status: 'retry', httpStatus: err.status, retryAfterMs: err.retryAfterMs, message: err.message };
  if (err instanceof DailyLimitError) return { status: 'retry', httpStatus: 429, message: err.message };
  const e = err instanceof AdapterError ? err : undefined;
  return {
    status: 'rejected',
    httpStatus: e?.status,
    code: err instanceof AuthError ? 'auth' : (e?.code ?? 'rejected'),
    message: (err as Error).message,
  };
}

function settle(batch: readonly Write[], results: (DeliveryResult | undefined)[], result: DeliveryResult): void {
  for (const w of batch) for (const i of w.indexes) results[i] = result;
}

/** Contact id → its error, from a 207's `errors[].context.ids`. */
function failedIds(errors: HubSpotBatchError[]): Map<string, HubSpotBatchError> {
  const out = new Map<string, HubSpotBatchError>();
  for (const e of errors) for (const id of e.context?.ids ?? []) out.set(id, e);
  return out;
}
