import { describe, expect, it } from 'vitest';
import {
  liftReport,
  liftReportFromCells,
  type GroupStats,
  type LiftCell,
  type LiftRow,
} from '../../plugin/measure/index.ts';
import { expectClose } from '../helpers/index.ts';
import {
  DIMENSION_ARM_CASES,
  DIMENSION_DECIDED,
  DIMENSION_ROWS,
  LIFT_CASES,
  makeRow,
  rowsWithRewards,
  splitRows,
  SRM_CASES,
} from './cases.ts';

/** Default options for tests that do not look at the SRM check. */
const OPTIONS = { holdoutShare: 0.1 };

function expectGroup(actual: GroupStats, expected: GroupStats): void {
  expect(actual.n).toBe(expected.n);
  expectClose(actual.sum, expected.sum);
  if (expected.mean === null) expect(actual.mean).toBeNull();
  else expectClose(actual.mean!, expected.mean);
  if (expected.sd === null) expect(actual.sd).toBeNull();
  else expectClose(actual.sd!, expected.sd);
}

describe('liftReport', () => {
  describe('lift', () => {
    it.each(LIFT_CASES)('$title', ({ treatment, holdout, confidence, expected }) => {
      const rows = [...rowsWithRewards(treatment, false), ...rowsWithRewards(holdout, true)];
      const { lift } = liftReport(rows, { ...OPTIONS, confidence });
      if (expected === null) {
        expect(lift).toBeNull();
        return;
      }
      expect(lift).not.toBeNull();
      expectClose(lift!.difference, expected.difference);
      expectClose(lift!.lower, expected.lower);
      expectClose(lift!.upper, expected.upper);
      if (expected.relative === null) expect(lift!.relative).toBeNull();
      else expectClose(lift!.relative!, expected.relative);
      expect(lift!.significant).toBe(expected.significant);
    });

    it('does not depend on the order of the rows', () => {
      const rows = [...rowsWithRewards([1, 0, 1, 1, null], false), ...rowsWithRewards([0, 1, null, 0, 0], true)];
      const shuffled = [rows[9], rows[0], rows[5], rows[3], rows[7], rows[1], rows[8], rows[4], rows[2], rows[6]];
      expect(liftReport(shuffled, OPTIONS).lift).toEqual(liftReport(rows, OPTIONS).lift);
    });
  });

  describe('decision counts and group stats', () => {
    // treatment: closed [1, 0, 1, 1] + 2 open; holdout: closed [0, 1, 0, 0] + 3 open
    const rows = [
      ...rowsWithRewards([1, null, 0, 1, null, 1], false),
      ...rowsWithRewards([null, 0, 1, 0, 0, null, null], true),
    ];

    it('counts every row, open ones included, in the decision totals', () => {
      expect(liftReport(rows, OPTIONS).decisions).toEqual({ total: 13, closed: 8, open: 5, treatment: 6, holdout: 7 });
    });

    it('averages the closed rows only in the treatment stats', () => {
      // [1, 0, 1, 1]: sum 3, mean 0.75, s² = 0.75/3 = 0.25
      expectGroup(liftReport(rows, OPTIONS).treatment, { n: 4, sum: 3, mean: 0.75, sd: 0.5 });
    });

    it('averages the closed rows only in the holdout stats', () => {
      // [0, 1, 0, 0]: sum 1, mean 0.25, s² = 0.75/3 = 0.25
      expectGroup(liftReport(rows, OPTIONS).holdout, { n: 4, sum: 1, mean: 0.25, sd: 0.5 });
    });

    it('reports a group whose rows are all open with n 0 and null mean and sd', () => {
      const report = liftReport(
        [...rowsWithRewards([1, 0, 1], false), ...rowsWithRewards([null, null], true)],
        OPTIONS,
      );
      expectGroup(report.holdout, { n: 0, sum: 0, mean: null, sd: null });
      expect(report.decisions.holdout).toBe(2);
      expect(report.lift).toBeNull();
    });

    it('reports an empty log as zero counts, empty groups and no lift, SRM or dimensions', () => {
      const report = liftReport([], OPTIONS);
      expect(report.decisions).toEqual({ total: 0, closed: 0, open: 0, treatment: 0, holdout: 0 });
      expectGroup(report.treatment, { n: 0, sum: 0, mean: null, sd: null });
      expectGroup(report.holdout, { n: 0, sum: 0, mean: null, sd: null });
      expect(report.lift).toBeNull();
      expect(report.srm).toBeNull();
      expect(report.dimensions).toEqual({});
    });

    it('compares groups as assigned (intention to treat): deliver changes nothing', () => {
      const undelivered = DIMENSION_ROWS.map((row): LiftRow => ({ ...row, deliver: false }));
      expect(liftReport(undelivered, OPTIONS)).toEqual(liftReport(DIMENSION_ROWS, OPTIONS));
    });
  });

  describe('sample-ratio mismatch', () => {
    it.each(SRM_CASES)('$title', ({ treatment, holdout, holdoutShare, srmAlpha, expected }) => {
      const { srm } = liftReport(splitRows(treatment, holdout, 0), { holdoutShare, srmAlpha });
      expect(srm).not.toBeNull();
      expect(srm!.expectedHoldoutShare).toBe(holdoutShare);
      expectClose(srm!.observedHoldoutShare, expected.observedHoldoutShare);
      expectClose(srm!.chiSquare, expected.chiSquare);
      expectClose(srm!.pValue, expected.pValue);
      expect(srm!.mismatch).toBe(expected.mismatch);
    });

    it('counts open rows in the split', () => {
      // the 10.2 % case with every row still open: same χ² = 4/9
      const { srm } = liftReport(splitRows(8980, 1020, null), OPTIONS);
      expectClose(srm!.chiSquare, 4 / 9);
      expect(srm!.mismatch).toBe(false);
    });

    it('is null when the agent has no holdout', () => {
      expect(liftReport(splitRows(100, 0, 1), { holdoutShare: 0 }).srm).toBeNull();
    });

    it('is null when there are no rows', () => {
      expect(liftReport([], { holdoutShare: 0.1 }).srm).toBeNull();
    });
  });

  describe('dimensions', () => {
    const { dimensions } = liftReport(DIMENSION_ROWS, OPTIONS);

    it('lists the treatment dimensions and their arms, and nothing from the holdout', () => {
      expect(Object.keys(dimensions)).toEqual(['frequency', 'channel', 'subject_line']);
      expect(Object.keys(dimensions.subject_line.arms)).toEqual(['sl_plain', 'sl_urgency']);
      expect(Object.keys(dimensions.channel.arms)).toEqual(['email', 'sms', 'push']);
    });

    it.each(DIMENSION_DECIDED)('counts %s as decided on %i treatment rows', (dimension, decided) => {
      expect(dimensions[dimension].decided).toBe(decided);
    });

    it.each(DIMENSION_ARM_CASES)('%s', (_title, dimension, arm, expected) => {
      const stats = dimensions[dimension].arms[arm];
      expect(stats.n).toBe(expected.n);
      expectClose(stats.share, expected.share);
      if (expected.meanReward === null) expect(stats.meanReward).toBeNull();
      else expectClose(stats.meanReward!, expected.meanReward);
    });

    it('gives shares that sum to 1 within each dimension', () => {
      for (const { arms } of Object.values(dimensions)) {
        expectClose(
          Object.values(arms).reduce((s, a) => s + a.share, 0),
          1,
        );
      }
    });

    it('keeps an id such as __proto__ as a plain key', () => {
      const choices = JSON.parse('{"__proto__": "x"}') as Record<string, string>;
      const report = liftReport([makeRow({ reward: 1, choices })], OPTIONS);
      expect(Object.keys(report.dimensions)).toEqual(['__proto__']);
      expect(Object.getPrototypeOf(report.dimensions)).toBe(Object.prototype);
      expect(report.dimensions['__proto__'].arms.x).toEqual({ n: 1, share: 1, meanReward: 1 });
    });
  });
});

/** The report cells a store would keep for `rows` (one day): whole decisions per group, and treatment arms. */
function cellsOf(rows: LiftRow[]): LiftCell[] {
  const cells = new Map<string, LiftCell>();
  const bump = (holdout: boolean, dimension: string | null, arm: string | null, reward: number | null) => {
    const key = `${holdout}/${dimension}/${arm}`;
    const cell = cells.get(key) ?? { holdout, dimension, arm, decided: 0, closed: 0, rewardSum: 0, rewardSquares: 0 };
    cells.set(key, cell);
    cell.decided += 1;
    if (reward === null) return;
    cell.closed += 1;
    cell.rewardSum += reward;
    cell.rewardSquares += reward * reward;
  };
  for (const row of rows) {
    bump(row.holdout, null, null, row.reward);
    if (!row.holdout)
      for (const [dimension, arm] of Object.entries(row.choices)) bump(false, dimension, arm, row.reward);
  }
  return [...cells.values()];
}

describe('liftReportFromCells', () => {
  it.each(LIFT_CASES)(
    'gives the figures of liftReport over the same rows: $title',
    ({ treatment, holdout, confidence, expected }) => {
      const rows = [...rowsWithRewards(treatment, false), ...rowsWithRewards(holdout, true)];
      const fromCells = liftReportFromCells(cellsOf(rows), { ...OPTIONS, confidence });
      const fromRows = liftReport(rows, { ...OPTIONS, confidence });
      expectGroup(fromCells.treatment, fromRows.treatment);
      expectGroup(fromCells.holdout, fromRows.holdout);
      expect(fromCells.decisions).toEqual(fromRows.decisions);
      if (expected === null) expect(fromCells.lift).toBeNull();
      else
        for (const k of ['difference', 'lower', 'upper'] as const) expectClose(fromCells.lift![k], fromRows.lift![k]);
    },
  );

  it('gives the arm shares, mean rewards and SRM check of liftReport', () => {
    const rows = DIMENSION_ROWS;
    const fromCells = liftReportFromCells(cellsOf(rows), OPTIONS);
    const fromRows = liftReport(rows, OPTIONS);
    expect({ dimensions: fromCells.dimensions, srm: fromCells.srm }).toEqual({
      dimensions: fromRows.dimensions,
      srm: fromRows.srm,
    });
  });

  it('returns an empty report for no cells', () => {
    expect(liftReportFromCells([], OPTIONS)).toEqual(liftReport([], OPTIONS));
  });
});
