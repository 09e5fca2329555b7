import { Rng, unitHash } from '../../plugin/bandit/index.ts';
import {
  addToReplicates,
  emptyReplicates,
  userReplicateWeights,
  type DayCell,
  type GroupDay,
} from '../../plugin/measure/index.ts';

/**
 * Simulated populations split by the agent's own holdout hash, as the report's aggregates would
 * count them: users with unequal activity (exponential) and unequal response rates (Beta), each
 * decision a Bernoulli reward. Reproducible from the seed.
 */
export interface Population {
  /** Per user: holdout flag, number of decisions, rewards earned. */
  users: { key: string; holdout: boolean; decisions: number; rewards: number }[];
  treatmentDecisions: number;
  holdoutDecisions: number;
}

export interface PopulationOptions {
  seed: string;
  users: number;
  decisions: number;
  /** Share of users the hash puts in the holdout: the agent's `holdout`, or a broken split. */
  holdoutBelow: number;
  /** Mean response rate of the holdout and the lift treatment adds (absolute). */
  baseRate?: number;
  lift?: number;
  /** false: draw no rewards (the split alone is being tested). */
  rewards?: boolean;
}

export function simulatePopulation(o: PopulationOptions): Population {
  const rng = new Rng(o.seed);
  const activity = Array.from({ length: o.users }, () => -Math.log(1 - rng.next()));
  const total = activity.reduce((a, x) => a + x, 0);
  const base = o.baseRate ?? 0.1;
  const users: Population['users'] = [];
  let treatmentDecisions = 0;
  let holdoutDecisions = 0;
  for (let i = 0; i < o.users; i++) {
    const key = `${o.seed}-user-${i}`;
    const holdout = unitHash(o.seed, key) < o.holdoutBelow;
    const decisions = Math.max(1, Math.round((o.decisions * activity[i]!) / total));
    // Beta(0.5, 4.5)·2·base through two gammas would be exact; a squared uniform is enough spread
    const rate = Math.min(1, 3 * base * rng.next() ** 2 + (holdout ? 0 : (o.lift ?? 0)));
    let rewards = 0;
    if (o.rewards !== false) for (let k = 0; k < decisions; k++) if (rng.next() < rate) rewards++;
    users.push({ key, holdout, decisions, rewards });
    if (holdout) holdoutDecisions += decisions;
    else treatmentDecisions += decisions;
  }
  return { users, treatmentDecisions, holdoutDecisions };
}

/** The population as the store would aggregate it on one day: the whole-decision cells and the group days. */
export function aggregatesOf(p: Population): { cells: DayCell[]; groups: GroupDay[] } {
  const cells: DayCell[] = [false, true].map((holdout) => ({
    day: 0,
    holdout,
    dimension: null,
    arm: null,
    decided: 0,
    closed: 0,
    rewardSum: 0,
    rewardSquares: 0,
  }));
  const groups: GroupDay[] = [false, true].map((holdout) => ({
    day: 0,
    holdout,
    users: 0,
    suppressed: { decided: 0, closed: 0, rewardSum: 0 },
    replicates: emptyReplicates(),
  }));
  const weights = new Float64Array(emptyReplicates().length / 2);
  for (const u of p.users) {
    const g = Number(u.holdout);
    cells[g]!.decided += u.decisions;
    cells[g]!.closed += u.decisions;
    cells[g]!.rewardSum += u.rewards;
    cells[g]!.rewardSquares += u.rewards; // rewards are 0 or 1
    groups[g]!.users += 1;
    userReplicateWeights(u.key, weights);
    // the user's rewards and misses, each added as the store adds a committed reward
    addToReplicates(
      groups[g]!.replicates!,
      weights.map((w) => w * u.rewards),
      1,
    );
    addToReplicates(
      groups[g]!.replicates!,
      weights.map((w) => w * (u.decisions - u.rewards)),
      0,
    );
  }
  return { cells, groups };
}
