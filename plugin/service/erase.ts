import type { EraseReport } from '../store/index.ts';
import { userKeyOf } from './keys.ts';
import type { ServiceState } from './state.ts';

/** Erases the user's decisions (of both kinds), outcomes, events, send counters, outbox rows, audience memberships and cached profile. */
export async function eraseUser(state: ServiceState, userId: string): Promise<EraseReport & { cachedProfile: number }> {
  const userKey = userKeyOf(state.secret, userId);
  const report = sumReports(
    await state.store.eraseUser(state.workspace, userKey),
    // the decisions public keys asked for, logged under the user's other key (keys.ts)
    await state.store.eraseUser(state.workspace, userKeyOf(state.secret, userId, 'public')),
  );
  const cachedProfile = state.profiles.delete(userId) ? 1 : 0;
  // the Connected Content answers remembered for this user (keyed by its hash, see connected-content.ts)
  for (const key of state.failedOpen.keys()) if (key.startsWith(`${userKey}\u0000`)) state.failedOpen.delete(key);
  await state.profileSource?.forget?.(userId);
  state.log.info({ userKey, ...report, cachedProfile }, 'user erased');
  return { ...report, cachedProfile };
}

function sumReports(a: EraseReport, b: EraseReport): EraseReport {
  return {
    decisions: a.decisions + b.decisions,
    outcomes: a.outcomes + b.outcomes,
    events: a.events + b.events,
    sends: a.sends + b.sends,
    deliveries: a.deliveries + b.deliveries,
    audienceMemberships: a.audienceMemberships + b.audienceMemberships,
  };
}
