import { userKeyOf } from './keys.ts';
import type { ServiceState } from './state.ts';

/** What a destination reported about one message to one user (e.g. a Braze Currents event). */
export interface SendReport {
  userId: string;
  /** The target a sink's `sendProof` names, e.g. `braze:campaign:<campaign_id>`. */
  target: string;
  /** When it happened, epoch ms. */
  at: number;
  /** true: sent (or a later event of the message); false: aborted. */
  sent: boolean;
}

/** Reports settled per transaction: each is one indexed look-up and at most one update. */
const SETTLE_SLICE = 250;

/**
 * Settles the send proofs the reports answer (see `SendProofStore.settleSendProofs`), keyed by
 * the user's keyed hash: the raw id is not stored. Resolves once they are durable.
 */
export async function recordSendReports(
  state: ServiceState,
  reports: readonly SendReport[],
): Promise<{ settled: number; unmatched: number }> {
  const total = { settled: 0, unmatched: 0 };
  for (let i = 0; i < reports.length; i += SETTLE_SLICE) {
    if (i > 0) await new Promise((resolve) => setImmediate(resolve));
    const evidence = reports.slice(i, i + SETTLE_SLICE).map((r) => ({
      userKey: userKeyOf(state.secret, r.userId),
      target: r.target,
      at: r.at,
      sent: r.sent,
    }));
    const slice = await state.store.settleSendProofs(state.workspace, evidence, state.clock());
    total.settled += slice.settled;
    total.unmatched += slice.unmatched;
  }
  return total;
}
