/// <reference lib="dom" />
import type * as brazeSdk from '@braze/web-sdk';
import { EXPOSURE_EVENT, FLUSH_WAIT_MS } from './constants.ts';
import type { OnsiteOptions } from './options.ts';

/** The five calls of `@braze/web-sdk` the module makes; a page that already loads Braze may pass its own instance. */
export type BrazeExposureSdk = Pick<
  typeof brazeSdk,
  'initialize' | 'changeUser' | 'openSession' | 'logCustomEvent' | 'requestImmediateDataFlush'
>;

/** The properties of the `nextbest_exposure` custom event (≤ 50 KB per Braze; these are a few bytes). */
export interface ExposureProperties {
  decision_id: string;
  agent_id: string;
  dimension: string;
  arm: string;
}

/**
 * `recorded`: logged and flushed to Braze (it answered 2xx). `queued`: logged, but the flush did
 * not succeed in time; the SDK keeps the event in localStorage and sends it with its next flush.
 * `already-recorded`: this page view already logged this decision's dimension. `not-recorded`:
 * the SDK refused to initialise (bad key or base URL, crawler, opted-out visitor) or to log.
 */
export type ExposureStatus = 'recorded' | 'queued' | 'already-recorded' | 'not-recorded';

export interface ExposureRecord {
  dimension: string;
  arm: string;
  status: ExposureStatus;
}

// Page-view state. A module instance lives exactly as long as the page, so these sets are the
// "once per decision per page view" guard: a second render call, a snippet pasted twice or two
// slots of one dimension never log a second event.
const logged = new Set<string>();
const initialised = new Map<BrazeExposureSdk, string>();
const sessions = new Set<BrazeExposureSdk>();

function ensureInitialised(sdk: BrazeExposureSdk, braze: OnsiteOptions['braze']): boolean {
  const key = `${braze.apiKey}\u0000${braze.baseUrl}`;
  const current = initialised.get(sdk);
  if (current !== undefined) return current === key;
  const ok = sdk.initialize(braze.apiKey, { baseUrl: braze.baseUrl });
  if (ok) initialised.set(sdk, key);
  return ok;
}

/**
 * Logs one `nextbest_exposure` per (decision, dimension) in this page view and asks Braze to send
 * it now. Synchronous up to the flush, so two calls in the same tick cannot both log.
 */
export async function recordExposures(
  sdk: BrazeExposureSdk,
  options: Pick<OnsiteOptions, 'braze' | 'userId' | 'agentId'>,
  decisionId: string,
  shown: readonly { dimension: string; arm: string }[],
): Promise<ExposureRecord[]> {
  const fresh = shown.filter((s) => !logged.has(`${decisionId}\u0000${s.dimension}`));
  const records = new Map<string, ExposureRecord>();
  for (const s of shown) if (!fresh.includes(s)) records.set(s.dimension, { ...s, status: 'already-recorded' });
  if (fresh.length === 0) return shown.map((s) => records.get(s.dimension)!);

  if (!ensureInitialised(sdk, options.braze)) {
    return shown.map((s) => records.get(s.dimension) ?? { ...s, status: 'not-recorded' });
  }
  sdk.changeUser(options.userId);
  // Braze's Web SDK integration opens a session after initialize (and after changeUser, so that
  // it is this visitor's): without one, no session, no in-app message and no session analytics.
  // Once per page view; the SDK itself ends it after sessionTimeoutInSeconds without activity.
  if (!sessions.has(sdk)) {
    sdk.openSession();
    sessions.add(sdk);
  }
  const pending: ExposureRecord[] = [];
  for (const s of fresh) {
    const key = `${decisionId}\u0000${s.dimension}`;
    if (logged.has(key)) continue; // the same dimension listed twice
    const properties: ExposureProperties = {
      decision_id: decisionId,
      agent_id: options.agentId,
      dimension: s.dimension,
      arm: s.arm,
    };
    const ok = sdk.logCustomEvent(EXPOSURE_EVENT, properties);
    const record: ExposureRecord = { ...s, status: ok ? 'queued' : 'not-recorded' };
    if (ok) {
      logged.add(key);
      pending.push(record);
    }
    records.set(s.dimension, record);
  }
  if (pending.length > 0 && (await flush(sdk))) for (const r of pending) r.status = 'recorded';
  return shown.map((s) => records.get(s.dimension)!);
}

/** Asks the SDK to send its queue now; true once Braze answered 2xx, false on failure or after `FLUSH_WAIT_MS`. */
function flush(sdk: BrazeExposureSdk): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), FLUSH_WAIT_MS);
    sdk.requestImmediateDataFlush((success) => {
      clearTimeout(timer);
      resolve(success);
    });
  });
}
