/**
 * Attribution: which decisions an outcome event counts for, and for how much. Pure.
 */

export interface GoalLike {
  windowMs: number;
  rewards: readonly { event: string; value: number | { property: string; cap: number } }[];
  combine: 'first' | 'sum' | 'max';
}

export interface AttributableDecision {
  decisionId: string;
  agentId: string;
  userKey: string;
  at: number;
  windowEnd: number;
}

export interface OutcomeEvent {
  event: string;
  timestamp: number;
  userKey: string;
  properties: Record<string, unknown>;
}

/**
 * The reward an event earns under a goal: the first rule naming the event; a fixed value, or a
 * property scaled to [0, 1] by its cap. Undefined when no rule names the event (it is not an outcome
 * of this goal) or the property is missing or not a number.
 */
export function rewardValue(goal: GoalLike, event: string, properties: Record<string, unknown>): number | undefined {
  const rule = goal.rewards.find((r) => r.event === event);
  if (!rule) return undefined;
  if (typeof rule.value === 'number') return rule.value;
  const raw = properties[rule.value.property];
  const v = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : NaN;
  if (!Number.isFinite(v)) return undefined;
  return Math.min(1, Math.max(0, v / rule.value.cap));
}

/** True when the event falls inside the decision's window: at ≤ t < windowEnd. */
export function inWindow(d: AttributableDecision, t: number): boolean {
  return t >= d.at && t < d.windowEnd;
}

/**
 * The decisions an event is attributed to, with its value for each. An event naming a decision
 * (`properties.decision_id`) counts for that decision only, if it is the same user's and inside its
 * window; otherwise it counts for each candidate (the user's latest decision of each agent whose
 * window holds the event's timestamp).
 */
export function attribute(
  event: OutcomeEvent,
  candidates: readonly AttributableDecision[],
  goalOf: (agentId: string) => GoalLike | undefined,
): { decisionId: string; value: number }[] {
  const named = typeof event.properties.decision_id === 'string' ? event.properties.decision_id : undefined;
  const targets = named === undefined ? candidates : candidates.filter((d) => d.decisionId === named);
  const out: { decisionId: string; value: number }[] = [];
  for (const d of targets) {
    if (d.userKey !== event.userKey || !inWindow(d, event.timestamp)) continue;
    const goal = goalOf(d.agentId);
    if (!goal) continue;
    const value = rewardValue(goal, event.event, event.properties);
    if (value !== undefined) out.push({ decisionId: d.decisionId, value });
  }
  return out;
}

/** Combines a decision's outcome values (in time order) into its final reward in [0, 1]; none → 0. */
export function combineRewards(combine: GoalLike['combine'], values: readonly number[]): number {
  if (values.length === 0) return 0;
  switch (combine) {
    case 'first':
      return values[0];
    case 'max':
      return Math.max(...values);
    case 'sum':
      return Math.min(
        1,
        values.reduce((s, v) => s + v, 0),
      );
  }
}
