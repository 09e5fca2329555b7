import { changeDetection, type AgentConfig } from '../agent/index.ts';
import { liftReportFromCells, type LiftReport } from '../measure/index.ts';
import type { LeftOutCount, ReportCell } from '../store/index.ts';
import { agentOf, type ServiceState } from './state.ts';

export type AgentReport = LiftReport & {
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
  /** Decisions the destination never sent (see `leftOutOfArms`); absent when there are none. */
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
 * Rewards, arm shares and lift vs holdout with its confidence interval, and the SRM check, from
 * the aggregates the store keeps (never the decision log, so its cost does not grow with it).
 */
export async function report(state: ServiceState, agentId: string): Promise<AgentReport> {
  const agent = agentOf(state, agentId);
  const cells = inConfigOrder(await state.store.reportCells(state.workspace, agentId), agent.config);
  const lift = liftReportFromCells(cells, { holdoutShare: agent.config.holdout });
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
