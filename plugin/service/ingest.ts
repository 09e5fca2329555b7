import { attribute } from '../measure/index.ts';
import type { EventRow, OutcomeRow } from '../store/index.ts';
import type { SegmentEvent } from './inputs.ts';
import { storedEventBody } from './event-body.ts';
import { userKeyOf } from './keys.ts';
import type { ServiceState } from './state.ts';

/**
 * Stores events (deduplicated by messageId) and the outcomes they earn, in one transaction, and
 * resolves only once they are durable. An event naming `properties.decision_id` counts for that
 * decision; otherwise for the user's latest decision of each agent whose goal window holds it.
 */
export async function ingest(
  state: ServiceState,
  events: SegmentEvent[],
): Promise<{ accepted: number; duplicates: number }> {
  const now = state.clock();
  const rows: EventRow[] = [];
  const outcomes: OutcomeRow[] = [];
  const seen = new Set<string>();
  for (const e of events) {
    if (seen.has(e.messageId)) continue; // a duplicate inside the same batch
    seen.add(e.messageId);
    const userKey = userKeyOf(state.secret, e.userId);
    const timestamp = e.timestamp ?? now;
    rows.push(eventRow(state.workspace, e, userKey, timestamp, now));
    if (e.type === 'identify') state.profiles.delete(e.userId);
    if (e.type === 'track' && e.event) outcomes.push(...(await outcomesOf(state, e, e.event, userKey, timestamp)));
  }
  const result = await state.store.recordEvents(rows, outcomes);
  const duplicates = events.length - result.inserted.length;
  state.metrics?.events.inc({ status: 'accepted' }, result.inserted.length);
  if (duplicates > 0) state.metrics?.events.inc({ status: 'duplicate' }, duplicates);
  return { accepted: result.inserted.length, duplicates };
}

/** The event as stored: keyed by the user's keyed hash, its body without what identifies the person (event-body.ts). */
function eventRow(workspace: string, e: SegmentEvent, userKey: string, timestamp: number, now: number): EventRow {
  return {
    workspace,
    messageId: e.messageId,
    userKey,
    type: e.type,
    event: e.event ?? null,
    timestamp,
    receivedAt: now,
    body: storedEventBody(e),
  };
}

/**
 * The outcomes a track event earns: for the decision it names, else for the user's latest decision
 * of each agent, of each kind (a public key's decisions are logged under the user's other key, so
 * one a stranger asked for never takes the credit of the message that was sent).
 */
async function outcomesOf(
  state: ServiceState,
  e: SegmentEvent,
  event: string,
  userKey: string,
  timestamp: number,
): Promise<OutcomeRow[]> {
  const keys = [userKey, userKeyOf(state.secret, e.userId, 'public')];
  const outcome = { event, timestamp, properties: e.properties };
  const goalOf = (id: string) => state.agents.get(id)?.config.goal;
  const named =
    typeof e.properties.decision_id === 'string'
      ? await state.store.getDecision(state.workspace, e.properties.decision_id)
      : undefined;
  const hits = [];
  if (named) {
    if (keys.includes(named.userKey)) hits.push(...attribute({ ...outcome, userKey: named.userKey }, [named], goalOf));
  } else {
    for (const key of keys) {
      const latest = await state.store.latestDecisions(state.workspace, key, [...state.agents.keys()], timestamp);
      hits.push(...attribute({ ...outcome, userKey: key }, latest, goalOf));
    }
  }
  return hits.map((hit) => ({
    workspace: state.workspace,
    decisionId: hit.decisionId,
    messageId: e.messageId,
    event,
    value: hit.value,
    at: timestamp,
  }));
}
