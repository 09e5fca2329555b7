import { changeDetection, type AgentConfig } from '../agent/index.ts';
import { liftReportFromCells, type LiftReport } from '../measure/index.ts';
import type { ReportCell } from '../store/index.ts';
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
};

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
  };
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
