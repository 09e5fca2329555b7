import { z } from 'zod';
import { changeDetection, type AgentConfig } from '../agent/index.ts';
import { windowReport, type WindowReport } from '../measure/index.ts';
import type { LeftOutCount, ReportCell } from '../store/index.ts';
import { EVENT_TIME_RANGE } from './inputs.ts';
import { agentOf, type ServiceState } from './state.ts';

const DAY_MS = 86_400_000;
const DAY_RANGE = { from: Math.floor(EVENT_TIME_RANGE.from / DAY_MS), to: Math.floor(EVENT_TIME_RANGE.to / DAY_MS) };

/** A UTC day: `2026-03-01`, or an ISO-8601 time (its UTC day is taken), within the workspace's time range. */
const daySchema = z
  .string()
  .refine((text) => /^\d{4}-\d{2}-\d{2}(T.*)?$/.test(text) && Number.isFinite(Date.parse(text)), {
    message: 'must be a date (YYYY-MM-DD) or an ISO-8601 time',
  })
  .transform((text) => Math.floor(Date.parse(text) / DAY_MS))
  .refine((day) => day >= DAY_RANGE.from && day < DAY_RANGE.to, { message: 'must be between 2000 and 2100' });

/** Query of `GET /v1/agents/{id}/report`: the window (whole UTC days, both ends included) and its buckets. */
export const reportQuerySchema = z
  .strictObject({
    since: daySchema.optional(),
    until: daySchema.optional(),
    bucket: z.enum(['day', 'week']).optional(),
  })
  .refine((q) => q.since === undefined || q.until === undefined || q.since <= q.until, {
    message: 'must not be before since',
    path: ['until'],
  });
export type ReportQuery = z.output<typeof reportQuerySchema>;

export type AgentReport = WindowReport & {
  agentId: string;
  agentVersion: number;
  holdoutShare: number;
  /** With `policy.detect`: how often learning restarted and how close the detector is to the next restart. */
  changeDetector?: {
    restarts: number;
    shortfall: number;
    threshold: number;
    seen: number;
    warmup: number;
    retain: number;
  };
  /** Decisions the destination never sent, over the whole history (see `leftOutOfArms`); absent when there are none. */
  notSent?: NotSent;
};

/** Decisions left out of learning and of both arms of the lift because the destination never sent them. */
export interface NotSent {
  treatment: number;
  holdout: number;
  /** By reason: `no_send_event` (no send reported within the wait), `aborted`. */
  reasons: Record<string, number>;
  explanation: string;
}

/**
 * Rewards, arm shares and lift vs holdout with its interval (bootstrap by user), the sample-ratio
 * test on distinct users, suppressed decisions and exploration, over a window of UTC days, from
 * the aggregates the store keeps (never the decision log, so its cost does not grow with it).
 */
export async function report(state: ServiceState, agentId: string, query: ReportQuery = {}): Promise<AgentReport> {
  const agent = agentOf(state, agentId);
  const [fromDay, toDay] = [query.since ?? DAY_RANGE.from, query.until ?? DAY_RANGE.to];
  const [allCells, groups, exploration] = await Promise.all([
    state.store.reportCells(state.workspace, agentId),
    state.store.reportGroups(state.workspace, agentId, fromDay, toDay),
    state.store.reportExploration(state.workspace, agentId, fromDay, toDay),
  ]);
  const cells = inConfigOrder(allCells, agent.config);
  const lift = windowReport(cells, groups, exploration, {
    holdoutShare: agent.config.holdout,
    fromDay: query.since,
    toDay: query.until,
    bucket: query.bucket,
  });
  const detect = changeDetection(agent.config.policy);
  const { restarts, shortfall, seen } = agent.model.change;
  const changeDetector = detect && {
    restarts,
    shortfall,
    threshold: detect.threshold,
    seen,
    warmup: detect.warmup,
    retain: detect.retain,
  };
  return {
    agentId,
    agentVersion: agent.version,
    holdoutShare: agent.config.holdout,
    ...lift,
    ...(changeDetector && { changeDetector }),
    ...leftOutOfArms(await state.store.leftOutCounts(state.workspace, agentId)),
  };
}

/**
 * The decisions taken out of the arms: a triggered send Braze accepted and never made (the
 * recipient was not re-eligible or not in the campaign's segment, or the message aborted) reached
 * nobody, so counting it would compare people who got nothing with people who got a message.
 * Both arms lose theirs, so that the lift compares people who were sent something.
 */
function leftOutOfArms(counts: LeftOutCount[]): { notSent?: NotSent } {
  if (counts.length === 0) return {};
  const notSent: NotSent = { treatment: 0, holdout: 0, reasons: {}, explanation: '' };
  for (const c of counts) {
    notSent[c.holdout ? 'holdout' : 'treatment'] += c.count;
    notSent.reasons[c.reason] = (notSent.reasons[c.reason] ?? 0) + c.count;
  }
  notSent.explanation =
    `${notSent.treatment} treatment and ${notSent.holdout} holdout decisions are left out of the lift and of learning: ` +
    'the destination accepted their sends but reported none (not re-eligible, not in the campaign segment) or aborted them.';
  return { notSent };
}

/** Report cells with dimensions and arms in the agent's config order (others after, as they come). */
function inConfigOrder(cells: ReportCell[], agent: AgentConfig): ReportCell[] {
  const rank = (cell: ReportCell): [number, number] => {
    const d = agent.dimensions.findIndex((dim) => dim.id === cell.dimension);
    if (d < 0) return [cell.dimension === null ? -1 : agent.dimensions.length, 0];
    const a = agent.dimensions[d]!.arms.findIndex((arm) => arm.id === cell.arm);
    return [d, a < 0 ? Infinity : a];
  };
  return cells
    .map((cell, i) => ({ cell, i, r: rank(cell) }))
    .sort((x, y) => x.r[0] - y.r[0] || x.r[1] - y.r[1] || x.i - y.i)
    .map((x) => x.cell);
}
