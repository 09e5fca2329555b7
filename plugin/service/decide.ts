import { randomUUID } from 'node:crypto';
import { decide as decideArms, defaultDecision, type Decision, type Profile } from '../agent/index.ts';
import { unitHash } from '../bandit/index.ts';
import { AlreadyStoredError, StorageFault, type DecisionRow } from '../store/index.ts';
import { ConflictError } from './errors.ts';
import type { DecideRequest } from './inputs.ts';
import { decisionIdFor, requestKeyOf, timeOrderedId, userKeyOf, type DecisionKind } from './keys.ts';
import { responseFromRow, rowFromDecision, toResponse, type DecisionResponse } from './decision-record.ts';
import { agentOf, type AgentRuntime, type ServiceState } from './state.ts';

export interface DecideOptions {
  /** Longest wait for the profile source before answering the default arms (none: wait). */
  profileBudgetMs?: number;
  /**
   * `public` for a public key's (an onsite render): logged under the user's public key and request
   * namespace, and never counted as a send for frequency caps (it is not a message). Default `server`.
   */
  kind?: DecisionKind;
  /** The caller's `userKey(req.userId)`, when it has it already (server kind). */
  userKey?: string;
  /**
   * The requestId is most likely new (a batch run's members): skip the lookup before deciding;
   * a requestId that was used after all is caught by the store and replayed.
   */
  likelyNew?: boolean;
  /** Dimensions the request fixes (see the agent's `DecideOptions.pin`). */
  pin?: Readonly<Record<string, string>>;
}

const TIMED_OUT = Symbol('timed out');
type Outcome = { decision: Decision; error?: DecisionResponse['error'] };

/**
 * One decision, logged before it is returned. It degrades to the default arms and never throws
 * for a runtime failure (profile missing or late, store down); the same requestId gets the same
 * decision back.
 */
export async function decide(
  state: ServiceState,
  agentId: string,
  req: DecideRequest,
  options: DecideOptions = {},
): Promise<DecisionResponse> {
  const agent = agentOf(state, agentId);
  const started = process.hrtime.bigint();
  const kind = options.kind ?? 'server';
  const userKey = options.userKey ?? userKeyOf(state.secret, req.userId, kind);
  const request = req.requestId === undefined ? undefined : requestOf(state, agentId, req.requestId, kind);
  if (request && !options.likelyNew) {
    const existing = await state.store.findDecisionByRequest(state.workspace, agentId, request.key);
    if (existing) return replay(existing, userKey, agent);
  }
  let outcome: Outcome;
  try {
    outcome = await decideAndLog(
      state,
      agent,
      req,
      { userKey, kind, request, pin: options.pin },
      options.profileBudgetMs,
    );
  } catch (err) {
    if (request && err instanceof AlreadyStoredError) {
      const existing = await loggedFor(state, agentId, request);
      if (existing) return replay(existing, userKey, agent);
    }
    state.log.error({ err, agentId, userKey }, 'decision failed; answering with the default arms');
    const decision = defaultDecision(
      agent.config,
      agent.version,
      { userId: req.userId, traits: {} },
      state.clock(),
      randomUUID(),
      false,
    );
    outcome = {
      decision,
      error:
        err instanceof StorageFault
          ? { code: err.code, message: `the decision could not be logged (${err.message}); default arms returned` }
          : { code: 'decision_failed', message: 'the decision could not be made or logged; default arms returned' },
    };
  }
  state.metrics?.decisions.inc({ agent: agentId, reason: outcome.decision.reason });
  state.metrics?.decideSeconds.observe(Number(process.hrtime.bigint() - started) / 1e9);
  const response = toResponse(outcome.decision, agent.config);
  if (outcome.error) response.error = outcome.error;
  return response;
}

/** A requestId as the log knows it: its keyed hash, and the decision id it maps to. */
interface LoggedRequest {
  key: string;
  decisionId: string;
}

function requestOf(state: ServiceState, agentId: string, requestId: string, kind: DecisionKind): LoggedRequest {
  return {
    key: requestKeyOf(state.secret, requestId, kind),
    decisionId: decisionIdFor(state.workspace, agentId, requestId, kind),
  };
}

/** The decision logged for a request: by its keyed hash, else by its id (logged before request ids were hashed). */
async function loggedFor(
  state: ServiceState,
  agentId: string,
  request: LoggedRequest,
): Promise<DecisionRow | undefined> {
  return (
    (await state.store.findDecisionByRequest(state.workspace, agentId, request.key)) ??
    (await state.store.getDecision(state.workspace, request.decisionId))
  );
}

/** Who the decision is for, as the log keys it. */
interface Asker {
  userKey: string;
  kind: DecisionKind;
  request?: LoggedRequest;
  pin?: Readonly<Record<string, string>>;
}

/** Reads the profile, decides under the user's lock (frequency caps stay exact) and logs the decision with its send. */
async function decideAndLog(
  state: ServiceState,
  agent: AgentRuntime,
  req: DecideRequest,
  { userKey, kind, request, pin }: Asker,
  profileBudgetMs: number | undefined,
): Promise<Outcome> {
  const now = state.clock();
  const profile = await profileFor(state, req, profileBudgetMs);
  if (profile === TIMED_OUT || !profile) {
    const error =
      profile === TIMED_OUT
        ? { code: 'profile_timeout', message: `the profile source did not answer within ${profileBudgetMs} ms` }
        : {
            code: 'profile_not_found',
            message: `no traits in the request and the profile source has no profile for this user`,
          };
    // Not logged, so it must not take the id a later, logged decision of this requestId gets.
    const holdout = unitHash(agent.config.salt, req.userId) < agent.config.holdout;
    return {
      decision: defaultDecision(
        agent.config,
        agent.version,
        { userId: req.userId, traits: {} },
        now,
        randomUUID(),
        holdout,
      ),
      error,
    };
  }
  const agentId = agent.config.id;
  const decisionId = request?.decisionId ?? timeOrderedId(now);
  const caps = agent.config.guardrails.frequency_caps;
  const horizon = caps.length > 0 ? Math.max(...caps.map((c) => c.perMs)) : 0;
  const decision = await state.store.withUser(state.workspace, userKey, async (tx) => {
    const recentSends =
      horizon > 0
        ? (await tx.sendsSince(now - horizon)).map((s) => ({ at: s.at, channel: s.channel ?? undefined }))
        : [];
    const d = decideArms(agent.config, agent.model, profile, now, state.root.fork(`${agentId}/${decisionId}`), {
      decisionId,
      recentSends,
      context: req.context,
      explain: req.explain ?? false,
      ...(pin && { pin }),
    });
    const row = rowFromDecision(
      state.workspace,
      d,
      userKey,
      request?.key ?? null,
      agent.config.goal.windowMs,
      agent.snapshotSeq,
    );
    const send =
      d.deliver && kind === 'server'
        ? {
            workspace: state.workspace,
            userKey,
            channel: d.choices.channel?.arm ?? null,
            at: Date.parse(d.sendAt!),
            decisionId,
          }
        : undefined;
    await tx.insertDecision(row, send);
    return d;
  });
  return { decision };
}

/** The stored answer to a repeated requestId; the same requestId for another user is a client bug (409). */
function replay(existing: DecisionRow, userKey: string, agent: AgentRuntime): DecisionResponse {
  if (existing.userKey !== userKey)
    throw new ConflictError(
      'request_id_conflict',
      'this requestId was already used for another user; use a new requestId per decision',
    );
  return { ...responseFromRow(existing, agent.config), replayed: true };
}

/** The request's traits, else the cached or freshly read profile (within the budget), with the request's timezone and consent over it. */
async function profileFor(
  state: ServiceState,
  req: DecideRequest,
  budgetMs?: number,
): Promise<Profile | undefined | typeof TIMED_OUT> {
  if (req.traits) return { userId: req.userId, traits: req.traits, timezone: req.timezone, consent: req.consent };
  const cached = state.profiles.get(req.userId);
  const profile =
    cached ??
    (state.profileSource ? await withBudget(state.profileSource.getProfile(req.userId), budgetMs) : undefined);
  if (profile === TIMED_OUT || !profile) return profile;
  if (!cached) state.profiles.set(req.userId, profile);
  return { ...profile, timezone: req.timezone ?? profile.timezone, consent: req.consent ?? profile.consent };
}

/** The promise's value, or TIMED_OUT when it takes longer than `ms` (no budget: waits). */
async function withBudget<T>(promise: Promise<T>, ms: number | undefined): Promise<T | typeof TIMED_OUT> {
  if (ms === undefined) return promise;
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<typeof TIMED_OUT>((resolve) => (timer = setTimeout(() => resolve(TIMED_OUT), ms)));
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}
