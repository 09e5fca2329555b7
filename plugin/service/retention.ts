import { yieldToEventLoop, type ServiceState } from './state.ts';

/** Rows deleted per retention transaction. */
const PRUNE_BATCH = 500;

/**
 * Retention: deletes decisions (with their outcomes and sends) and events older than
 * `retentionMs`, a short transaction of PRUNE_BATCH rows at a time with a yield between them.
 * The report's aggregates are kept. Returns what was deleted.
 */
export async function prune(state: ServiceState, retentionMs: number): Promise<{ decisions: number; events: number }> {
  const before = state.clock() - retentionMs;
  const deleted = { decisions: 0, events: 0 };
  for (;;) {
    const step = await state.store.prune(before, PRUNE_BATCH);
    deleted.decisions += step.decisions;
    deleted.events += step.events;
    if (step.decisions < PRUNE_BATCH && step.events < PRUNE_BATCH) break;
    await yieldToEventLoop();
  }
  if (deleted.decisions + deleted.events > 0)
    state.log.info(
      { ...deleted, before: new Date(before).toISOString() },
      'retention: old decisions and events deleted',
    );
  return deleted;
}
