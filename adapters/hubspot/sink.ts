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
import { resolveContact, type ContactRef, type HubSpotPortals } from './portals.ts';
import { withRetries } from './retry.ts';

export interface ContactSinkOptions {
  /** Each decision is written to its user's own portal (`<portalId>:<contactId>`; bare ids: the default portal). */
  portals: HubSpotPortals;
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
  portalId: string;
  contactId: string;
  properties: Record<string, string>;
  indexes: number[];
}

/** What one portal's share of a `deliver` call works on: a result per decision, and the result every later batch gets once HubSpot said stop. */
interface SinkRun {
  crm: HubSpotCrm;
  results: (DeliveryResult | undefined)[];
  stop?: DeliveryResult;
}

/**
 * Decisions as contact properties through batch updates of ≤100, each portal's decisions with its
 * own client (docs/hubspot.md, "Write decisions to contacts"). Per batch:
 * 200 → ok; 207 → the contacts named in `errors[].context.ids` rejected, the rest ok; 429
 * TEN_SECONDLY_ROLLING → wait (HubSpot's interval, else 10 s) and resend; 5xx / network →
 * backoff with jitter and resend; 400 → split in halves until the bad contact fails alone;
 * 401/403 → every remaining decision rejected; 429 DAILY → stop, every unsent decision `retry`.
 * A contact is written at most once per call: for several decisions of one contact, the last
 * is written and the earlier ones are reported `rejected` (superseded). The daily cap and refused
 * credentials of one portal stop that portal's batches only.
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
    const results: (DeliveryResult | undefined)[] = decisions.map(() => undefined);
    const contacts = await this.contactsOf(decisions, results);
    const writes = this.plan(decisions, contacts, results);
    for (const [portalId, portalWrites] of byPortal(writes)) {
      const run: SinkRun = { crm: this.options.portals.crm(portalId), results };
      for (let i = 0; i < portalWrites.length; i += this.batchSize) {
        await bisect(
          portalWrites.slice(i, i + this.batchSize),
          (batch) => this.write(batch, run),
          (w, refusal) => settle([w], results, resultOf(refusal)),
        );
      }
    }
    return { results: results.map((r) => r ?? { status: 'retry', message: 'not attempted' }) };
  }

  /**
   * Each decision's contact and portal; a user id that names no contact, or whose portal cannot
   * be known (a bare id with several portals installed, none installed), is answered here.
   */
  private async contactsOf(
    decisions: readonly Decision[],
    results: (DeliveryResult | undefined)[],
  ): Promise<(ContactRef | undefined)[]> {
    return Promise.all(
      decisions.map(async (d, i) => {
        try {
          const ref = await resolveContact(this.options.portals, d.userId);
          if (!ref)
            results[i] = {
              status: 'rejected',
              code: 'invalid_contact_id',
              message: `HubSpot contact ids are numeric, optionally after their portal (<portalId>:<contactId>); got "${d.userId}"`,
            };
          return ref;
        } catch (err) {
          results[i] = resultOf(err);
          return undefined;
        }
      }),
    );
  }

  /**
   * Whether each decision is already on its contact: `<prefix>decision_id` equals its id (read by
   * batch read, ≤100 per call). Asked by the run engine after a crash left a batch in doubt.
   */
  async confirm(decisions: readonly Decision[]): Promise<boolean[]> {
    const property = `${this.prefix}decision_id`;
    // a user id whose portal cannot be known was never written
    const contacts = await Promise.all(
      decisions.map((d) => resolveContact(this.options.portals, d.userId).catch(() => undefined)),
    );
    const current = new Map<string, string | null | undefined>(); // "<portal>:<contact>" → its decision id
    const portals = new Map<string, Set<string>>();
    for (const c of contacts) if (c) portals.set(c.portalId, (portals.get(c.portalId) ?? new Set()).add(c.contactId));
    for (const [portalId, set] of portals) {
      const ids = [...set];
      const crm = this.options.portals.crm(portalId);
      for (let i = 0; i < ids.length; i += HUBSPOT_BATCH_MAX_INPUTS) {
        const reply = await withRetries(() => crm.batchRead(ids.slice(i, i + HUBSPOT_BATCH_MAX_INPUTS), [property]), {
          maxAttempts: this.maxAttempts,
          pacing: this.pacing,
        });
        for (const c of reply.results) current.set(`${portalId}:${c.id}`, c.properties[property]);
      }
    }
    return decisions.map((d, i) => {
      const c = contacts[i];
      return c !== undefined && current.get(`${c.portalId}:${c.contactId}`) === d.decisionId;
    });
  }

  /** One write per contact (a contact is its portal and id, however the user id wrote it); superseded decisions are answered here. */
  private plan(
    decisions: readonly Decision[],
    contacts: readonly (ContactRef | undefined)[],
    results: (DeliveryResult | undefined)[],
  ): Write[] {
    const keyOf = (i: number) => `${contacts[i]!.portalId}:${contacts[i]!.contactId}`;
    const last = new Map<string, number>();
    decisions.forEach((_d, i) => {
      if (!results[i]) last.set(keyOf(i), i);
    });
    const writes = new Map<string, Write>();
    for (const [key, i] of last)
      writes.set(key, { ...contacts[i]!, properties: this.propertiesOf(decisions[i]), indexes: [i] });
    decisions.forEach((d, i) => {
      if (results[i] || last.get(keyOf(i)) === i) return;
      const kept = decisions[last.get(keyOf(i))!];
      if (kept.decisionId === d.decisionId)
        writes.get(keyOf(i))!.indexes.push(i); // the same decision twice: answered with it
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
        (await withRetries(() => this.update(run.crm, batch), { maxAttempts: this.maxAttempts, pacing: this.pacing }))
          .errors ?? [],
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
      // The daily cap and refused credentials hold for every later batch of this portal.
      if (err instanceof DailyLimitError || err instanceof AuthError) run.stop = result;
    }
    return undefined;
  }

  /** `POST …/batch/update`, each outcome reported to `onCall`. */
  private async update(crm: HubSpotCrm, batch: readonly Write[]): Promise<HubSpotBatchReply> {
    try {
      const reply = await crm.batchUpdate(batch.map((w) => ({ id: w.contactId, properties: w.properties })));
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

/** The writes of each portal, in the order their portals first appear. */
function byPortal(writes: readonly Write[]): Map<string, Write[]> {
  const out = new Map<string, Write[]>();
  for (const w of writes) {
    const list = out.get(w.portalId);
    if (list) list.push(w);
    else out.set(w.portalId, [w]);
  }
  return out;
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
