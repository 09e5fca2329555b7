import { chiSquare1Survival, meanAndSd, normalQuantile, type Summary } from './stats.ts';

/**
 * The lift report (body of `GET /v1/agents/{id}/report`): treatment vs holdout reward with a
 * confidence interval, a sample-ratio-mismatch check on the split, and per-dimension arm shares.
 *
 * Lift is intention-to-treat: every row counts in the group it was assigned to, whether or not
 * anything was delivered. Dropping suppressed or `frequency = skip` rows would compare a subset
 * the policy (or the guardrails) selected against the whole holdout, which biases the difference;
 * so `deliver` does not enter any figure here.
 */

/** One decision of the agent, as the report needs it. */
export interface LiftRow {
  /** True when the user was in the holdout (got the default arms). */
  holdout: boolean;
  /** Final reward in [0, 1]; rows whose attribution window is still open have reward null and are counted but not averaged. */
  reward: number | null;
  /** Decided dimensions → chosen arm id (absent dimension = not decided). */
  choices: Record<string, string>;
  /** false when the decision was suppressed by guardrails or chose frequency=skip. */
  deliver: boolean;
}

export interface LiftOptions {
  /** The agent's configured holdout share, in [0, 1); the SRM check tests the split against it. */
  holdoutShare: number;
  /** Two-sided confidence level of the lift interval, in (0, 1); default 0.95. */
  confidence?: number;
  /** Significance level below which the SRM p-value flags a mismatch; default 0.001. */
  srmAlpha?: number;
}

/**
 * Reward of one group over its CLOSED rows: `n` closed rows, their reward `sum`, `mean`
 * (null when n = 0) and sample standard deviation `sd` (n − 1 divisor; null when n < 2).
 */
export type GroupStats = Summary;

export interface Lift {
  /** Treatment mean − holdout mean, over closed rows. */
  difference: number;
  /** Lower bound of the Welch normal-approximation interval at `confidence`. */
  lower: number;
  /** Upper bound of that interval. */
  upper: number;
  /** difference / holdout mean; null when the holdout mean is 0. */
  relative: number | null;
  /** True when the interval excludes 0. */
  significant: boolean;
}

export interface SampleRatioCheck {
  expectedHoldoutShare: number;
  /** Holdout rows / all rows (open rows included). */
  observedHoldoutShare: number;
  /** Pearson chi-square statistic of the two counts against the expected split (1 df). */
  chiSquare: number;
  /** P(χ²₁ ≥ chiSquare). */
  pValue: number;
  /** pValue < srmAlpha: the split is not what the hash should produce; distrust the lift. */
  mismatch: boolean;
}

export interface ArmStats {
  /** Treatment rows that chose this arm (open rows included). */
  n: number;
  /** n / rows where the dimension was decided. */
  share: number;
  /** Mean reward of the closed rows that chose this arm; null when none is closed. */
  meanReward: number | null;
}

export interface DimensionStats {
  /** Treatment rows on which this dimension was decided. */
  decided: number;
  /** Arm id → its stats, in order of first appearance. */
  arms: Record<string, ArmStats>;
}

export interface LiftReport {
  decisions: { total: number; closed: number; open: number; treatment: number; holdout: number };
  treatment: GroupStats;
  holdout: GroupStats;
  /** Null when either group has fewer than 2 closed rows. */
  lift: Lift | null;
  /** Null when holdoutShare is 0 (or 1: no split to test) or there are no rows. */
  srm: SampleRatioCheck | null;
  /** Over TREATMENT rows only (holdout rows all carry the default arms), dimensions in order of first appearance. */
  dimensions: Record<string, DimensionStats>;
}

const DEFAULT_CONFIDENCE = 0.95;
const DEFAULT_SRM_ALPHA = 0.001;

/** Builds the lift report from the agent's decisions. Options are trusted (validated at the route). */
export function liftReport(rows: readonly LiftRow[], options: LiftOptions): LiftReport {
  const treatmentRewards: number[] = [];
  const holdoutRewards: number[] = [];
  let holdoutRows = 0;
  const dimensions = new Map<string, DimensionTally>();

  for (const row of rows) {
    if (row.holdout) {
      holdoutRows++;
      if (row.reward !== null) holdoutRewards.push(row.reward);
      continue;
    }
    if (row.reward !== null) treatmentRewards.push(row.reward);
    tallyChoices(dimensions, row);
  }

  const closed = treatmentRewards.length + holdoutRewards.length;
  const treatment = meanAndSd(treatmentRewards);
  const holdout = meanAndSd(holdoutRewards);
  return {
    decisions: {
      total: rows.length,
      closed,
      open: rows.length - closed,
      treatment: rows.length - holdoutRows,
      holdout: holdoutRows,
    },
    treatment,
    holdout,
    lift: welchLift(treatment, holdout, options.confidence ?? DEFAULT_CONFIDENCE),
    srm: sampleRatioCheck(
      rows.length - holdoutRows,
      holdoutRows,
      options.holdoutShare,
      options.srmAlpha ?? DEFAULT_SRM_ALPHA,
    ),
    dimensions: dimensionStats(dimensions),
  };
}

/**
 * One aggregate cell of an agent's decisions (a store keeps them as decisions are logged and
 * rewards committed): the decisions of one holdout group, either whole (`dimension` null) or those
 * that chose `arm` on `dimension` (treatment only), with their closed count and reward moments.
 */
export interface LiftCell {
  holdout: boolean;
  dimension: string | null;
  arm: string | null;
  decided: number;
  closed: number;
  rewardSum: number;
  /** Σ reward². */
  rewardSquares: number;
}

/**
 * The lift report from aggregate cells, so that its cost does not grow with the decision log: the
 * same figures as `liftReport` over the rows the cells counted, except that the standard
 * deviations come from the moments (Σx, Σx²), exact enough for rewards in [0, 1]. Dimensions
 * and arms appear in the order of the cells.
 */
export function liftReportFromCells(cells: readonly LiftCell[], options: LiftOptions): LiftReport {
  const groups = { treatment: { rows: 0, n: 0, sum: 0, squares: 0 }, holdout: { rows: 0, n: 0, sum: 0, squares: 0 } };
  const dimensions = new Map<string, DimensionTally>();
  for (const cell of cells) {
    if (cell.dimension === null || cell.arm === null) {
      const g = cell.holdout ? groups.holdout : groups.treatment;
      g.rows += cell.decided;
      g.n += cell.closed;
      g.sum += cell.rewardSum;
      g.squares += cell.rewardSquares;
      continue;
    }
    if (cell.holdout) continue;
    let tally = dimensions.get(cell.dimension);
    if (!tally) dimensions.set(cell.dimension, (tally = { decided: 0, arms: new Map() }));
    tally.decided += cell.decided;
    let arm = tally.arms.get(cell.arm);
    if (!arm) tally.arms.set(cell.arm, (arm = { n: 0, closed: 0, rewardSum: 0 }));
    arm.n += cell.decided;
    arm.closed += cell.closed;
    arm.rewardSum += cell.rewardSum;
  }
  const treatment = summaryOfMoments(groups.treatment.n, groups.treatment.sum, groups.treatment.squares);
  const holdout = summaryOfMoments(groups.holdout.n, groups.holdout.sum, groups.holdout.squares);
  const total = groups.treatment.rows + groups.holdout.rows;
  const closed = treatment.n + holdout.n;
  return {
    decisions: { total, closed, open: total - closed, treatment: groups.treatment.rows, holdout: groups.holdout.rows },
    treatment,
    holdout,
    lift: welchLift(treatment, holdout, options.confidence ?? DEFAULT_CONFIDENCE),
    srm: sampleRatioCheck(
      groups.treatment.rows,
      groups.holdout.rows,
      options.holdoutShare,
      options.srmAlpha ?? DEFAULT_SRM_ALPHA,
    ),
    dimensions: dimensionStats(dimensions),
  };
}

/** Mean and sample standard deviation from n, Σx and Σx² (clamped at 0 against rounding). */
export function summaryOfMoments(n: number, sum: number, squares: number): GroupStats {
  if (n === 0) return { n, sum, mean: null, sd: null };
  const mean = sum / n;
  if (n < 2) return { n, sum, mean, sd: null };
  return { n, sum, mean, sd: Math.sqrt(Math.max(0, (squares - sum * mean) / (n - 1))) };
}

/**
 * Difference of means with a Welch (unpooled-variance) normal-approximation interval:
 * d ± z·√(s_t²/n_t + s_h²/n_h), z = Φ⁻¹(1 − (1 − confidence)/2). With the normal rather than
 * Student's t quantile the interval is slightly too narrow for a handful of rows; reports have
 * hundreds. If both groups have zero variance the interval collapses to the difference itself.
 */
export function welchLift(treatment: Summary, holdout: Summary, confidence: number): Lift | null {
  if (treatment.n < 2 || holdout.n < 2) return null;
  // n ≥ 2 guarantees mean and sd are set.
  const tMean = treatment.mean!;
  const hMean = holdout.mean!;
  const difference = tMean - hMean;
  const se = Math.sqrt(treatment.sd! ** 2 / treatment.n + holdout.sd! ** 2 / holdout.n);
  // −Φ⁻¹(α/2) rather than Φ⁻¹(1 − α/2): no rounding of 1 − α/2 for confidence near 1.
  const z = -normalQuantile((1 - confidence) / 2);
  const lower = difference - z * se;
  const upper = difference + z * se;
  return {
    difference,
    lower,
    upper,
    relative: hMean === 0 ? null : difference / hMean,
    significant: lower > 0 || upper < 0,
  };
}

/**
 * Pearson chi-square goodness-of-fit test (1 df) of the treatment/holdout counts against the
 * expected holdout share: χ² = Σ (observed − expected)²/expected over the two groups, which
 * reduces to (holdout − N·s)² / (N·s·(1 − s)).
 */
export function sampleRatioCheck(
  treatment: number,
  holdout: number,
  holdoutShare: number,
  alpha: number,
): SampleRatioCheck | null {
  const total = treatment + holdout;
  if (total === 0 || !(holdoutShare > 0 && holdoutShare < 1)) return null;
  const excess = holdout - total * holdoutShare;
  const chiSquare = (excess * excess) / (total * holdoutShare * (1 - holdoutShare));
  const pValue = chiSquare1Survival(chiSquare);
  return {
    expectedHoldoutShare: holdoutShare,
    observedHoldoutShare: holdout / total,
    chiSquare,
    pValue,
    mismatch: pValue < alpha,
  };
}

interface ArmTally {
  n: number;
  closed: number;
  rewardSum: number;
}

interface DimensionTally {
  decided: number;
  arms: Map<string, ArmTally>;
}

function tallyChoices(dimensions: Map<string, DimensionTally>, row: LiftRow): void {
  for (const [dimension, arm] of Object.entries(row.choices)) {
    let tally = dimensions.get(dimension);
    if (!tally) dimensions.set(dimension, (tally = { decided: 0, arms: new Map() }));
    tally.decided++;
    let armTally = tally.arms.get(arm);
    if (!armTally) tally.arms.set(arm, (armTally = { n: 0, closed: 0, rewardSum: 0 }));
    armTally.n++;
    if (row.reward !== null) {
      armTally.closed++;
      armTally.rewardSum += row.reward;
    }
  }
}

// Maps, then Object.fromEntries: ids come from admin config, and a plain object keyed by them
// would turn an id like "__proto__" into a prototype change instead of a key.
function dimensionStats(dimensions: Map<string, DimensionTally>): Record<string, DimensionStats> {
  return Object.fromEntries(
    Array.from(dimensions, ([dimension, tally]) => [
      dimension,
      {
        decided: tally.decided,
        arms: Object.fromEntries(
          Array.from(tally.arms, ([arm, a]) => [
            arm,
            { n: a.n, share: a.n / tally.decided, meanReward: a.closed === 0 ? null : a.rewardSum / a.closed },
          ]),
        ),
      },
    ]),
  );
}
