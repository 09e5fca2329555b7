import type { RunRow, Store } from '../store/index.ts';

/** What the destination reported of one target's sends in a run. */
export interface SendProofSummary {
  /** Sends it reported (or later events of the message). */
  sent: number;
  /** Still within the wait, without a report. */
  awaited: number;
  /** Not sent, by reason: `no_send_event` (nothing reported within the wait) or `aborted`. */
  notSent: Record<string, number>;
}

/** Earlier runs of the workspace whose silent skips a run warns about again. */
const EARLIER_RUNS = 5;
/** Overdue proofs marked not sent per statement (each one short transaction). */
const EXPIRE_SLICE = 1000;

/**
 * Marks the proofs whose wait is over not sent, then reads this run's proofs by target, and warns
 * about the sends a destination accepted and never made, in this run and in the agent's recent
 * ones (a run ends long before Currents has reported on it: the next run tells).
 */
export async function sendProofReport(
  store: Store,
  run: RunRow,
  now: number,
): Promise<{ sendProof?: Record<string, SendProofSummary>; warnings?: string[] }> {
  while ((await store.expireSendProofs(run.workspace, now, EXPIRE_SLICE)) === EXPIRE_SLICE);
  const own = await proofsOfRun(store, run.workspace, run.runId);
  const warnings = warningsOf(run.runId, own);
  const earlier = (await store.listRuns(run.workspace, EARLIER_RUNS)).filter(
    (r) => r.agentId === run.agentId && r.runId !== run.runId,
  );
  for (const r of earlier) warnings.push(...warningsOf(r.runId, await proofsOfRun(store, run.workspace, r.runId)));
  return {
    ...(Object.keys(own).length > 0 && { sendProof: own }),
    ...(warnings.length > 0 && { warnings }),
  };
}

async function proofsOfRun(store: Store, workspace: string, runId: string): Promise<Record<string, SendProofSummary>> {
  const out: Record<string, SendProofSummary> = {};
  for (const c of await store.sendProofCounts(workspace, runId)) {
    const p = (out[c.target] ??= { sent: 0, awaited: 0, notSent: {} });
    if (c.state === 'sent') p.sent += c.count;
    else if (c.state === 'awaited') p.awaited += c.count;
    else p.notSent[c.reason ?? 'unknown'] = (p.notSent[c.reason ?? 'unknown'] ?? 0) + c.count;
  }
  return out;
}

function warningsOf(runId: string, proofs: Record<string, SendProofSummary>): string[] {
  const warnings: string[] = [];
  for (const [target, p] of Object.entries(proofs)) {
    const total = p.sent + p.awaited + Object.values(p.notSent).reduce((a, b) => a + b, 0);
    const silent = p.notSent.no_send_event ?? 0;
    if (silent > 0)
      warnings.push(
        `${target}: run ${runId} had ${total} sends answered with success, but the destination reported no send for ${silent} of them within the wait: ` +
          'they were skipped (not re-eligible for the campaign, not in its segment, unsubscribed…; see docs/braze.md, "Re-eligibility and the campaign\'s segment"). ' +
          'Those decisions are left out of learning and of the lift.',
      );
    const aborted = p.notSent.aborted ?? 0;
    if (aborted > 0)
      warnings.push(
        `${target}: run ${runId}: ${aborted} of ${total} messages were aborted by the destination (abort_message, or Connected Content failing): left out of learning and of the lift.`,
      );
  }
  return warnings;
}
