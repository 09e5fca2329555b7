import { describe, expect, it } from 'vitest';
import {
  sampleRatioCheck,
  userSampleRatioCheck,
  weekStart,
  windowFigures,
  windowReport,
  type DayCell,
  type ExplorationDay,
  type GroupDay,
} from '../../plugin/measure/index.ts';
import { expectClose } from '../helpers/index.ts';
import { aggregatesOf, simulatePopulation } from './simulated-splits.ts';

const SPLITS = 200;
const HOLDOUT = 0.1;

/** Share of `SPLITS` simulated populations the test flags at each alpha, counting users or decisions. */
function alarms(users: number, decisions: number, holdoutBelow: number, alphas: number[]) {
  const byUsers = alphas.map(() => 0);
  const byDecisions = alphas.map(() => 0);
  for (let s = 0; s < SPLITS; s++) {
    const p = simulatePopulation({
      seed: `srm-${users}-${holdoutBelow}-${s}`,
      users,
      decisions,
      holdoutBelow,
      rewards: false,
    });
    const holdoutUsers = p.users.filter((u) => u.holdout).length;
    const groups = [false, true].map((holdout) => ({
      day: 0,
      holdout,
      users: holdout ? holdoutUsers : users - holdoutUsers,
      suppressed: { decided: 0, closed: 0, rewardSum: 0 },
      replicates: null,
    }));
    alphas.forEach((alpha, i) => {
      if (userSampleRatioCheck(groups, HOLDOUT, alpha)!.mismatch) byUsers[i]!++;
      if (sampleRatioCheck(p.treatmentDecisions, p.holdoutDecisions, HOLDOUT, alpha)!.mismatch) byDecisions[i]!++;
    });
  }
  return { byUsers: byUsers.map((n) => n / SPLITS), byDecisions: byDecisions.map((n) => n / SPLITS) };
}

describe('the sample-ratio test on distinct users', () => {
  // 200 correct splits by the holdout hash: a test at p < 0.05 should flag about 5 % of them
  // (binomial: 95 % of runs between 2 % and 8 %). Counting decisions instead flags far more,
  // because a user's decisions all fall on the same side.
  it.each([
    [500, 6_000],
    [5_000, 30_000],
  ])(
    'raises false alarms at its nominal rate over 200 correct splits of %i users × %i decisions',
    (users, decisions) => {
      const rate = alarms(users, decisions, HOLDOUT, [0.05]);
      expect(rate.byUsers[0]).toBeGreaterThanOrEqual(0.02);
      expect(rate.byUsers[0]).toBeLessThanOrEqual(0.08);
      expect(rate.byDecisions[0]).toBeGreaterThan(0.2);
    },
  );

  it('detects a split broken by 2 points (12 % held out instead of 10 %) at 5,000 users', () => {
    // expected power: |600 − 500| against a standard error of 21 users, ≈ 0.99 at p < 0.05 and ≈ 0.9 at 0.001
    const [at05, at001] = alarms(5_000, 30_000, 0.12, [0.05, 0.001]).byUsers;
    expect(at05).toBeGreaterThanOrEqual(0.95);
    expect(at001).toBeGreaterThanOrEqual(0.8);
  });

  it('says it counts users, and how many in each group', () => {
    const groups: GroupDay[] = [
      { day: 0, holdout: false, users: 900, suppressed: { decided: 0, closed: 0, rewardSum: 0 }, replicates: null },
      { day: 1, holdout: true, users: 100, suppressed: { decided: 0, closed: 0, rewardSum: 0 }, replicates: null },
    ];
    expect(userSampleRatioCheck(groups, 0.1, 0.001)).toMatchObject({
      unit: 'users',
      treatmentUsers: 900,
      holdoutUsers: 100,
      observedHoldoutShare: 0.1,
      mismatch: false,
    });
  });
});

describe('the lift interval with users as the unit', () => {
  // 500 users × 6,000 decisions, response rates that differ between users, a true lift of 0.02:
  // the interval of the bootstrap by user should cover it about 95 % of the time; one treating
  // decisions as independent (Welch) covers it much less often.
  it('covers the true lift at its nominal rate over 200 simulated populations, where Welch does not', () => {
    let covered = 0;
    let welchCovered = 0;
    for (let s = 0; s < SPLITS; s++) {
      const p = simulatePopulation({ seed: `lift-${s}`, users: 500, decisions: 6_000, holdoutBelow: 0.5, lift: 0.02 });
      const { cells, groups } = aggregatesOf(p);
      const lift = windowFigures(cells, groups, 0.95).lift!;
      expect(lift.method).toBe('user-bootstrap');
      if (lift.lower <= 0.02 && 0.02 <= lift.upper) covered++;
      const welch = windowFigures(cells, [], 0.95).lift!;
      if (welch.lower <= 0.02 && 0.02 <= welch.upper) welchCovered++;
    }
    expect(covered / SPLITS).toBeGreaterThanOrEqual(0.9);
    expect(covered / SPLITS).toBeLessThanOrEqual(0.99);
    expect(welchCovered / SPLITS).toBeLessThan(0.85);
  });

  it('falls back to the Welch interval of decisions, and says so, when no replicates were kept', () => {
    const p = simulatePopulation({ seed: 'fallback', users: 100, decisions: 1_000, holdoutBelow: 0.5 });
    expect(windowFigures(aggregatesOf(p).cells, [], 0.95).lift!.method).toBe('decision-welch');
  });
});

const NO_SUPPRESSION = { decided: 0, closed: 0, rewardSum: 0 };

/** A whole-decision cell of one day: `decided` decisions, all closed, `rewards` of them rewarded. */
function dayCell(day: number, holdout: boolean, decided: number, rewards: number): DayCell {
  return {
    day,
    holdout,
    dimension: null,
    arm: null,
    decided,
    closed: decided,
    rewardSum: rewards,
    rewardSquares: rewards,
  };
}

function group(day: number, holdout: boolean, overrides: Partial<GroupDay> = {}): GroupDay {
  return { day, holdout, users: 0, suppressed: NO_SUPPRESSION, replicates: null, ...overrides };
}

describe('windowReport', () => {
  // days 20000–20013 (Friday 2024-10-04 to Thursday 2024-10-17): the holdout converts at 0.1 throughout, treatment at 0.1 in the first week
  // and 0.2 in the second
  const cells = Array.from({ length: 14 }, (_, i) => [
    dayCell(20_000 + i, false, 100, i < 7 ? 10 : 20),
    dayCell(20_000 + i, true, 100, 10),
  ]).flat();

  it('reports the lift of the days asked for, both ends included', () => {
    const report = windowReport(cells, [], [], { holdoutShare: 0.5, fromDay: 20_007, toDay: 20_013 });
    expect(report.window).toEqual({ from: '2024-10-11', to: '2024-10-17' });
    expect(report.decisions.total).toBe(1_400);
    expectClose(report.lift!.difference, 0.1);
  });

  it('reports the whole history when no window is given', () => {
    const report = windowReport(cells, [], [], { holdoutShare: 0.5 });
    expect(report.window).toEqual({ from: null, to: null });
    expectClose(report.lift!.difference, 0.05);
  });

  it('reports each ISO week (Monday first) alone and cumulatively', () => {
    const { buckets } = windowReport(cells, [], [], { holdoutShare: 0.5, bucket: 'week' });
    // day 20000 is Friday 2024-10-04: its week began on Monday 2024-09-30
    expect(weekStart(20_000)).toBe(19_996);
    expect(buckets!.map((b) => [b.from, b.to, b.bucket.decisions.total, b.cumulative.decisions.total])).toEqual([
      ['2024-09-30', '2024-10-06', 600, 600],
      ['2024-10-07', '2024-10-13', 1_400, 2_000],
      ['2024-10-14', '2024-10-20', 800, 2_800],
    ]);
    expectClose(buckets![2]!.bucket.lift!.difference, 0.1);
    expectClose(buckets![2]!.cumulative.lift!.difference, 0.05);
  });

  it('clips the first and last buckets to the window', () => {
    const { buckets } = windowReport(cells, [], [], {
      holdoutShare: 0.5,
      bucket: 'week',
      fromDay: 20_001,
      toDay: 20_010,
    });
    expect(buckets!.map((b) => [b.from, b.to])).toEqual([
      ['2024-10-05', '2024-10-06'],
      ['2024-10-07', '2024-10-13'],
      ['2024-10-14', '2024-10-14'],
    ]);
  });

  it('reports each day when asked', () => {
    const { buckets } = windowReport(cells, [], [], { holdoutShare: 0.5, bucket: 'day', fromDay: 20_012 });
    expect(buckets!.map((b) => [b.from, b.bucket.decisions.total, b.cumulative.decisions.total])).toEqual([
      ['2024-10-16', 200, 200],
      ['2024-10-17', 200, 400],
    ]);
  });

  it('separates the decisions guardrails suppressed in treatment and in holdout, with their rewards', () => {
    const groups = [
      group(20_000, false, { suppressed: { decided: 100, closed: 100, rewardSum: 2 } }),
      group(20_000, true, { suppressed: { decided: 30, closed: 20, rewardSum: 1 } }),
    ];
    const { suppressed } = windowReport(cells, groups, [], { holdoutShare: 0.5, toDay: 20_000 });
    expect(suppressed).toEqual({
      treatment: { decisions: 100, share: 1, closed: 100, meanReward: 0.02 },
      holdout: { decisions: 30, share: 0.3, closed: 20, meanReward: 0.05 },
    });
  });

  it('counts exploration per dimension and as probability mass off the estimated best arm', () => {
    const exploration: ExplorationDay[] = [
      { day: 20_000, dimension: 'channel', decided: 100, explored: 40, offBest: 10 },
      { day: 20_001, dimension: 'channel', decided: 100, explored: 20, offBest: 6 },
      { day: 20_001, dimension: 'subject_line', decided: 50, explored: 25, offBest: 20 },
    ];
    const report = windowReport(cells, [], exploration, { holdoutShare: 0.5 });
    expect(report.exploration.dimensions).toEqual({
      channel: { decided: 200, exploredShare: 0.3, offBestMass: 0.08 },
      subject_line: { decided: 50, exploredShare: 0.5, offBestMass: 0.4 },
    });
    expectClose(report.exploration.offBestMass!, 36 / 250);
  });

  it('tests the split on the users first seen in the window', () => {
    const groups = [
      group(20_000, false, { users: 5_000 }),
      group(20_001, false, { users: 90 }),
      group(20_001, true, { users: 10 }),
    ];
    expect(windowReport(cells, groups, [], { holdoutShare: 0.1, fromDay: 20_001 }).srm).toMatchObject({
      treatmentUsers: 90,
      holdoutUsers: 10,
    });
  });
});
