import { attribute } from '../measure/index.ts';
import type { EventRow, OutcomeRow } from '../store/index.ts';
import { eventTimeFlaw, eventTimeWindow, type SegmentEvent } from './inputs.ts';
import { storedEventBody } from './event-body.ts';
import { userKeyOf } from './keys.ts';
import type { ServiceState } from './state.ts';

/**
 * Events stored per turn of the event loop. Attributing an event costs a look-up per agent, so a
 * batch of 2,500 in one go held the loop for a few hundred ms; a slice of 100 holds it for about
 * 10 ms (`npm run bench -- blocking`).
 */
export const INGEST_SLICE = 100;

/** An event left out because its time is outside the workspace's window, and why. */
export interface OutOfWindow {
  messageId: string;
  message: string;
}

export interface IngestResult {
  accepted: number;
  duplicates: number;
  /** Events not stored because their time is outside the workspace's window (absent when none). */
  outOfWindow?: OutOfWindow[];
}

/**
 * Stores events (deduplicated by messageId) and the outcomes they earn, INGEST_SLICE at a time
 * (each slice one transaction, letting waiting requests run before the next), and resolves only
 * once they are durable. An event whose time is outside the workspace's window (more than a day
 * ahead, or older than the longest goal window plus its late_margin: it can earn no reward) is
 * left out and reported, so one stale event never costs its batch. An event naming
 * `properties.decision_id` counts for that decision; otherwise for the user's latest decision of
 * each agent whose goal window holds it. A batch cut short (a crash between slices) is sent again
 * by its sender, and the slices already stored are then duplicates.
 */
export async function ingest(state: ServiceState, events: SegmentEvent[]): Promise<IngestResult> {
  const { kept, outOfWindow } = inWindow(state, events);
  const total: IngestResult = { accepted: 0, duplicates: 0 };
  for (let i = 0; i < kept.length; i += INGEST_SLICE) {
    if (i > 0) await new Promise((resolve) => setImmediate(resolve));
    const slice = await ingestSlice(state, kept.slice(i, i + INGEST_SLICE));
    total.accepted += slice.accepted;
    total.duplicates += slice.duplicates;
  }
  if (outOfWindow.length === 0) return total;
  state.metrics?.events.inc({ status: 'out_of_window' }, outOfWindow.length);
  return { ...total, outOfWindow };
}

function inWindow(state: ServiceState, events: SegmentEvent[]): { kept: SegmentEvent[]; outOfWindow: OutOfWindow[] } {
  const goals = [...state.agents.values()].map((a) => a.config.goal);
  const window = eventTimeWindow(state.clock(), goals);
  const kept: SegmentEvent[] = [];
  const outOfWindow: OutOfWindow[] = [];
  for (const e of events) {
    const flaw = e.timestamp === undefined ? undefined : eventTimeFlaw(e.timestamp, window);
    if (flaw) outOfWindow.push({ messageId: e.messageId, message: `timestamp ${flaw}` });
    else kept.push(e);
  }
  return { kept, outOfWindow };
}

/** One slice of events and their outcomes, in one transaction. */
async function ingestSlice(
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
    // only the agents whose goal rewards this event can earn from it: no look-up for the others
    const rewarding = [...state.agents].filter(([, a]) => a.config.goal.rewards.some((r) => r.event === event));
    const agentIds = rewarding.map(([id]) => id);
    for (const key of agentIds.length > 0 ? keys : []) {
      const latest = await state.store.latestDecisions(state.workspace, key, agentIds, timestamp);
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
