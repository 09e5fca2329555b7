import { bootstrapStandardError, emptyReplicates, mergeReplicates, type ReplicateSums } from './bootstrap.ts';
import {
  liftReportFromCells,
  sampleRatioCheck,
  summaryOfMoments,
  type GroupStats,
  type Lift,
  type LiftCell,
  type LiftReport,
  type SampleRatioCheck,
} from './lift.ts';
import { normalQuantile } from './stats.ts';

/**
 * The honest report: the lift of a window of days (cumulative, and per day or week), with an
 * interval that treats the user as the unit (bootstrap by user, see bootstrap.ts), the
 * sample-ratio test on distinct users, the decisions guardrails suppressed in each group, and
 * exploration as probability mass off the arm the policy estimates best.
 *
 * Everything is read from aggregates per UTC day, so windows are whole UTC days.
 */

/** A report cell with its day (as the store keeps it). */
export type DayCell = LiftCell & { day: number };

/** The aggregates of one group on one day beyond the reward moments of `DayCell`. */
export interface GroupDay {
  day: number;
  holdout: boolean;
  /** Users whose first decision of the agent (in this group) was on this day. */
  users: number;
  /** Decisions that guardrails suppressed (reason `guardrail`), with their closed rewards. */
  suppressed: { decided: number; closed: number; rewardSum: number };
  /** Bootstrap-by-user sums of the closed rewards (see bootstrap.ts); null when none closed. */
  replicates: ReplicateSums | null;
}

/** Exploration of one dimension on one day (treatment decisions that logged their best arm's probability). */
export interface ExplorationDay {
  day: number;
  dimension: string;
  /** Decisions where the policy drew this dimension's arm from a distribution. */
  decided: number;
  /** Of those, decisions whose chosen arm was not the one the policy estimates best. */
  explored: number;
  /** Σ (1 − probability of the estimated best arm): the probability mass spent exploring. */
  offBest: number;
}

export interface WindowOptions {
  holdoutShare: number;
  confidence?: number;
  /** Significance level of the sample-ratio test; default 0.001. */
  srmAlpha?: number;
  /** First and last UTC day of the window (days since 1970-01-01), inclusive; open when absent. */
  fromDay?: number;
  toDay?: number;
  /** Also report each day or ISO week (Monday first) of the window, alone and cumulatively. */
  bucket?: 'day' | 'week';
}

export type WindowLift = Lift & {
  standardError: number;
  /** `user-bootstrap`: users resampled (Poisson bootstrap); `decision-welch`: too few users to resample, decisions treated as independent. */
  method: 'user-bootstrap' | 'decision-welch';
};

export type UserSampleRatioCheck = SampleRatioCheck & {
  /** The test counts distinct users (the unit the holdout hash assigns), first seen in the window. */
  unit: 'users';
  treatmentUsers: number;
  holdoutUsers: number;
};

export interface SuppressedStats {
  /** Decisions guardrails suppressed in this group (they earn what the customer does without a message). */
  decisions: number;
  /** Of the group's decisions. */
  share: number;
  closed: number;
  meanReward: number | null;
}

export interface DimensionExploration {
  decided: number;
  /** Share of decisions that chose an arm other than the estimated best. */
  exploredShare: number;
  /** Mean probability mass off the estimated best arm. */
  offBestMass: number;
}

export interface WindowFigures {
  decisions: LiftReport['decisions'];
  treatment: GroupStats;
  holdout: GroupStats;
  lift: WindowLift | null;
}

export interface BucketFigures {
  /** First and last day of the bucket (ISO dates, UTC). */
  from: string;
  to: string;
  bucket: WindowFigures;
  /** From the window's first day to the end of this bucket. */
  cumulative: WindowFigures;
}

export type WindowReport = Omit<LiftReport, 'lift' | 'srm'> & {
  window: { from: string | null; to: string | null };
  lift: WindowLift | null;
  srm: UserSampleRatioCheck | null;
  suppressed: { treatment: SuppressedStats; holdout: SuppressedStats };
  exploration: { dimensions: Record<string, DimensionExploration>; offBestMass: number | null };
  buckets?: BucketFigures[];
};

const DAY_MS = 86_400_000;

export function isoDay(day: number): string {
  return new Date(day * DAY_MS).toISOString().slice(0, 10);
}

/** The ISO week (Monday first) of a day, as the day number of its Monday. */
export function weekStart(day: number): number {
  // 1970-01-01 (day 0) was a Thursday: Monday is 3 days before it
  return Math.floor((day + 3) / 7) * 7 - 3;
}

export function windowReport(
  cells: readonly DayCell[],
  groups: readonly GroupDay[],
  exploration: readonly ExplorationDay[],
  options: WindowOptions,
): WindowReport {
  const inWindow = (day: number): boolean =>
    (options.fromDay === undefined || day >= options.fromDay) && (options.toDay === undefined || day <= options.toDay);
  const windowCells = cells.filter((c) => inWindow(c.day));
  const windowGroups = groups.filter((g) => inWindow(g.day));
  const base = liftReportFromCells(windowCells, { holdoutShare: options.holdoutShare });
  const figures = windowFigures(windowCells, windowGroups, options.confidence ?? 0.95);
  const report: WindowReport = {
    window: {
      from: options.fromDay === undefined ? null : isoDay(options.fromDay),
      to: options.toDay === undefined ? null : isoDay(options.toDay),
    },
    ...base,
    lift: figures.lift,
    srm: userSampleRatioCheck(windowGroups, options.holdoutShare, options.srmAlpha ?? 0.001),
    suppressed: {
      treatment: suppressedStats(windowGroups, false, base.decisions.treatment),
      holdout: suppressedStats(windowGroups, true, base.decisions.holdout),
    },
    exploration: explorationSummary(exploration.filter((e) => inWindow(e.day))),
  };
  if (options.bucket) report.buckets = bucketFigures(windowCells, windowGroups, options);
  return report;
}

/** Decisions, group rewards and the lift with its user-bootstrap interval, over the given days. */
export function windowFigures(
  cells: readonly DayCell[],
  groups: readonly GroupDay[],
  confidence: number,
): WindowFigures {
  const moments = { treatment: [0, 0, 0, 0], holdout: [0, 0, 0, 0] }; // rows, closed, Σx, Σx²
  for (const c of cells) {
    if (c.dimension !== null) continue;
    const m = c.holdout ? moments.holdout : moments.treatment;
    m[0] += c.decided;
    m[1] += c.closed;
    m[2] += c.rewardSum;
    m[3] += c.rewardSquares;
  }
  const treatment = summaryOfMoments(moments.treatment[1]!, moments.treatment[2]!, moments.treatment[3]!);
  const holdout = summaryOfMoments(moments.holdout[1]!, moments.holdout[2]!, moments.holdout[3]!);
  const total = moments.treatment[0]! + moments.holdout[0]!;
  const closed = treatment.n + holdout.n;
  return {
    decisions: { total, closed, open: total - closed, treatment: moments.treatment[0]!, holdout: moments.holdout[0]! },
    treatment,
    holdout,
    lift: userLift(treatment, holdout, groups, confidence),
  };
}

/**
 * Difference of the closed means with a normal interval whose standard error comes from the
 * bootstrap by user; with too few closed rewards to resample (fewer than 10 usable replicates),
 * the Welch standard error of independent decisions, and `method` says so.
 */
function userLift(
  treatment: GroupStats,
  holdout: GroupStats,
  groups: readonly GroupDay[],
  confidence: number,
): WindowLift | null {
  if (treatment.n < 2 || holdout.n < 2) return null;
  const replicates = { treatment: emptyReplicates(), holdout: emptyReplicates() };
  for (const g of groups)
    if (g.replicates) mergeReplicates(g.holdout ? replicates.holdout : replicates.treatment, g.replicates);
  const bootstrap = bootstrapStandardError(replicates.treatment, replicates.holdout);
  const welch = Math.sqrt(treatment.sd! ** 2 / treatment.n + holdout.sd! ** 2 / holdout.n);
  const standardError = bootstrap ?? welch;
  const difference = treatment.mean! - holdout.mean!;
  const z = -normalQuantile((1 - confidence) / 2);
  const lower = difference - z * standardError;
  const upper = difference + z * standardError;
  return {
    difference,
    lower,
    upper,
    relative: holdout.mean === 0 ? null : difference / holdout.mean!,
    significant: lower > 0 || upper < 0,
    standardError,
    method: bootstrap === null ? 'decision-welch' : 'user-bootstrap',
  };
}

/** The sample-ratio test on distinct users first seen in the window (decisions per user vary; users are what the hash splits). */
export function userSampleRatioCheck(
  groups: readonly GroupDay[],
  holdoutShare: number,
  alpha: number,
): UserSampleRatioCheck | null {
  let treatmentUsers = 0;
  let holdoutUsers = 0;
  for (const g of groups) {
    if (g.holdout) holdoutUsers += g.users;
    else treatmentUsers += g.users;
  }
  const check = sampleRatioCheck(treatmentUsers, holdoutUsers, holdoutShare, alpha);
  return check && { ...check, unit: 'users', treatmentUsers, holdoutUsers };
}

function suppressedStats(groups: readonly GroupDay[], holdout: boolean, decisions: number): SuppressedStats {
  let n = 0;
  let closed = 0;
  let sum = 0;
  for (const g of groups) {
    if (g.holdout !== holdout) continue;
    n += g.suppressed.decided;
    closed += g.suppressed.closed;
    sum += g.suppressed.rewardSum;
  }
  return {
    decisions: n,
    share: decisions === 0 ? 0 : n / decisions,
    closed,
    meanReward: closed === 0 ? null : sum / closed,
  };
}

function explorationSummary(days: readonly ExplorationDay[]): WindowReport['exploration'] {
  const byDimension = new Map<string, { decided: number; explored: number; offBest: number }>();
  let decided = 0;
  let offBest = 0;
  for (const e of days) {
    let d = byDimension.get(e.dimension);
    if (!d) byDimension.set(e.dimension, (d = { decided: 0, explored: 0, offBest: 0 }));
    d.decided += e.decided;
    d.explored += e.explored;
    d.offBest += e.offBest;
    decided += e.decided;
    offBest += e.offBest;
  }
  return {
    dimensions: Object.fromEntries(
      Array.from(byDimension, ([dimension, d]) => [
        dimension,
        { decided: d.decided, exploredShare: d.explored / d.decided, offBestMass: d.offBest / d.decided },
      ]),
    ),
    offBestMass: decided === 0 ? null : offBest / decided,
  };
}

function bucketFigures(
  cells: readonly DayCell[],
  groups: readonly GroupDay[],
  options: WindowOptions,
): BucketFigures[] {
  const keyOf = (day: number): number => (options.bucket === 'week' ? weekStart(day) : day);
  const starts = [...new Set([...cells.map((c) => keyOf(c.day)), ...groups.map((g) => keyOf(g.day))])].sort(
    (a, b) => a - b,
  );
  const confidence = options.confidence ?? 0.95;
  const length = options.bucket === 'week' ? 7 : 1;
  return starts.map((start) => {
    const end = start + length - 1;
    const within = (day: number): boolean => day >= start && day <= end;
    return {
      from: isoDay(Math.max(start, options.fromDay ?? start)),
      to: isoDay(Math.min(end, options.toDay ?? end)),
      bucket: windowFigures(
        cells.filter((c) => within(c.day)),
        groups.filter((g) => within(g.day)),
        confidence,
      ),
      cumulative: windowFigures(
        cells.filter((c) => c.day <= end),
        groups.filter((g) => g.day <= end),
        confidence,
      ),
    };
  });
}
