import { agentModelToJSON, changeDetection, learn } from '../agent/index.ts';
import { combineRewards } from '../measure/index.ts';
import type { DecisionRow, LearningCursor, LeftOut, OutcomeRow, SendProofRow } from '../store/index.ts';
import { decisionFromRow } from './decision-record.ts';
import { followStore } from './follow.ts';
import { yieldToEventLoop, type AgentRuntime, type ServiceState } from './state.ts';

/** Closed decisions read from the store at a time. */
const LEARN_BATCH = 200;
/** Longest stretch of learning between two yields to the event loop. */
const LEARN_SLICE_MS = 5;
/** While a backlog lasts, the learner commits (and snapshots the model) at least this often… */
const COMMIT_EVERY_MS = 1000;
/**
 * …and at most this many decisions at a time: marking a decision learned (and counting it in the
 * report cells) costs about 30 µs inside the commit's transaction, which holds the event loop, so
 * a commit of 5,000 held it for 60–230 ms (measured by the scale bench).
 */
const COMMIT_MAX_DECISIONS = 200;

type Reward = { decisionId: string; reward: number };
type Closed = DecisionRow & { outcomes: OutcomeRow[] };

/**
 * Folds every decision whose window has closed into its agent's model, oldest window first,
 * exactly once: the rewards are marked and the model snapshot written in one transaction.
 * Holdout and suppressed decisions get their reward recorded but teach nothing. Returns the
 * number of decisions closed.
 *
 * A decision delivered by a destination that reports what it really sent (Braze Currents: see
 * `DecisionSink.sendProof`) is learned only once it was sent. One never sent (aborted, or no send
 * reported within the wait) is skipped, not learned with a reward of 0: its outcomes say nothing
 * of its content, which nobody saw, and a 0 would teach that the arms Braze happened to skip are
 * bad. It is committed as left out, which also takes it out of its arm in the report (holdout
 * alike, so that both arms of the lift count only people who were sent something). While such a
 * proof is still awaited, the agent's learning stops at that decision until it is settled.
 *
 * It holds the event loop only in short steps: it folds in slices of LEARN_SLICE_MS and yields
 * between them, reading ahead of its last commit, and commits every COMMIT_MAX_DECISIONS decisions
 * (or every COMMIT_EVERY_MS, and once at the end), the model's copy and the transaction in two turns.
 */
export async function learnClosed(state: ServiceState): Promise<number> {
  if (!(await takeLearnerRole(state))) return 0;
  const now = state.clock();
  await measureLearnerLag(state, now);
  let total = 0;
  try {
    for (const [agentId, agent] of state.agents) total += await learnAgent(state, agentId, agent, now);
  } catch (err) {
    if (!(err instanceof LearnerRoleLost)) throw err;
    await leaveLearnerRole(state);
    return total;
  }
  await measureLearnerLag(state, state.clock());
  return total;
}

/** The learner's role was lost before a commit: the folds since the last commit are another learner's to make. */
class LearnerRoleLost extends Error {}

/**
 * Whether this instance is the learner, taking the role when it is free (several instances on one
 * database: see Store.learner). An instance that becomes the learner loads every model from its
 * latest snapshot first, so that it resumes exactly where the last learner committed.
 */
async function takeLearnerRole(state: ServiceState): Promise<boolean> {
  const held = await state.store.learner.acquire();
  if (held && !state.role.learner) {
    await followStore(state, { models: true, reset: true });
    state.log.info('this instance is the learner');
  }
  if (!held && state.role.learner) await leaveLearnerRole(state);
  state.role.learner = held;
  state.metrics?.learner.set(held ? 1 : 0);
  return held;
}

/** Drops what this instance folded but did not commit: its models come back from the latest snapshots. */
async function leaveLearnerRole(state: ServiceState): Promise<void> {
  state.role.learner = false;
  state.metrics?.learner.set(0);
  state.log.warn('this instance lost the learner role; models reloaded from the latest snapshots');
  await followStore(state, { models: true, reset: true });
}

/** Folds the agent's closed decisions up to `now`, committing as it goes. */
async function learnAgent(state: ServiceState, agentId: string, agent: AgentRuntime, now: number): Promise<number> {
  let total = 0;
  let pending: Reward[] = [];
  let leftOut: LeftOut[] = [];
  let lastCommit = performance.now();
  let after: LearningCursor | undefined;
  // restarts of the change detector already saved: those after it are counted with the commit that saves them
  let restarts = agent.model.change.restarts;
  for (;;) {
    // up to the current time, not the pass's start: what closes while a backlog is folded is folded with it
    const read = await state.store.closedUnlearned(state.workspace, agentId, state.clock(), LEARN_BATCH, after);
    const { sent, notSent, waiting } = await bySendProof(state, read);
    for await (const reward of foldInSlices(agent, sent)) pending.push(reward);
    leftOut.push(...notSent);
    const closed = waiting ? read.slice(0, sent.length + notSent.length) : read;
    const last = closed.at(-1);
    if (last) after = { windowEnd: last.windowEnd, decisionId: last.decisionId };
    const drained = waiting || read.length < LEARN_BATCH;
    const count = pending.length + leftOut.length;
    if (count > 0 && (drained || count >= COMMIT_MAX_DECISIONS || performance.now() - lastCommit > COMMIT_EVERY_MS)) {
      await commitLearned(state, agentId, agent, pending, now, restarts, leftOut);
      total += count;
      pending = [];
      leftOut = [];
      restarts = agent.model.change.restarts;
      lastCommit = performance.now();
      await measureLearnerLag(state, state.clock());
    }
    if (drained) return total;
    await yieldToEventLoop();
  }
}

/**
 * Splits closed decisions, in order, into those sent (or delivered without a proof of send) and
 * those never sent, up to the first whose proof is still awaited (`waiting`).
 */
async function bySendProof(
  state: ServiceState,
  closed: Closed[],
): Promise<{ sent: Closed[]; notSent: LeftOut[]; waiting: boolean }> {
  const proofs = new Map<string, SendProofRow[]>();
  for (const p of await state.store.sendProofsOf(
    state.workspace,
    closed.map((d) => d.decisionId),
  ))
    proofs.set(p.decisionId, [...(proofs.get(p.decisionId) ?? []), p]);
  const now = state.clock();
  const sent: Closed[] = [];
  const notSent: LeftOut[] = [];
  for (const d of closed) {
    const verdict = sendVerdict(proofs.get(d.decisionId) ?? [], now);
    if (verdict === 'wait') return { sent, notSent, waiting: true };
    if (verdict === 'sent') sent.push(d);
    else notSent.push({ decisionId: d.decisionId, reason: verdict });
  }
  return { sent, notSent, waiting: false };
}

/** Sent (by one target at least, or no proof asked), `wait` (a proof still awaited), or why it was not sent. */
function sendVerdict(proofs: SendProofRow[], now: number): 'sent' | 'wait' | string {
  if (proofs.length === 0 || proofs.some((p) => p.state === 'sent')) return 'sent';
  if (proofs.some((p) => p.state === 'awaited' && p.dueAt > now)) return 'wait';
  return proofs.some((p) => p.reason === 'aborted') ? 'aborted' : 'no_send_event';
}

/** Learns each closed decision in turn, yielding to the event loop every LEARN_SLICE_MS. */
async function* foldInSlices(agent: AgentRuntime, closed: Closed[]): AsyncGenerator<Reward> {
  let slice = performance.now();
  for (const row of closed) {
    const reward = combineRewards(
      agent.config.goal.combine,
      row.outcomes.map((o) => o.value),
    );
    learn(agent.config, agent.model, decisionFromRow(row), reward);
    yield { decisionId: row.decisionId, reward };
    if (performance.now() - slice > LEARN_SLICE_MS) {
      await yieldToEventLoop();
      slice = performance.now();
    }
  }
}

async function commitLearned(
  state: ServiceState,
  agentId: string,
  agent: AgentRuntime,
  rewards: Reward[],
  now: number,
  restartsBefore: number,
  leftOut: LeftOut[],
): Promise<void> {
  const snapshot = agentModelToJSON(agent.model);
  // the model's copy and the commit that writes it are the learner's two longest steps: not in one turn
  await yieldToEventLoop();
  // another instance may hold the role since this one lost its connection: it must not commit
  if (!(await state.store.learner.confirm())) throw new LearnerRoleLost('the learner role was lost');
  agent.snapshotSeq = await state.store.commitLearning(
    state.workspace,
    agentId,
    rewards,
    { workspace: state.workspace, agentId, agentVersion: agent.version, state: snapshot, createdAt: now },
    leftOut,
  );
  // counted once the restart is saved with the rewards that caused it
  if (agent.model.change.restarts > restartsBefore) {
    state.metrics?.learningRestarts.inc({ agent: agentId }, agent.model.change.restarts - restartsBefore);
    const retain = changeDetection(agent.config.policy)?.retain;
    state.log.warn(
      { agentId, restarts: agent.model.change.restarts, retain },
      "outcomes fell far below the estimates (policy.detect): learning restarted, each dimension keeping at most retain outcomes' worth",
    );
  }
}

/** Sets the learner-lag gauge (it is also measured at every scrape: see DecisionService). */
async function measureLearnerLag(state: ServiceState, now: number): Promise<void> {
  state.metrics?.learnerLag.set(await learnerLagSeconds(state, now));
}

/** How long the oldest closed decision not yet learned has waited, in seconds (0: none); one indexed look-up per agent. */
export async function learnerLagSeconds(state: ServiceState, now: number): Promise<number> {
  let oldest = Infinity;
  for (const agentId of state.agents.keys()) {
    oldest = Math.min(oldest, (await state.store.oldestUnlearnedWindowEnd(state.workspace, agentId)) ?? Infinity);
  }
  return oldest < now ? (now - oldest) / 1000 : 0;
}
