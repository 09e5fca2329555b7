/**
 * Shared case tables for the measurement tests: input → expected rows, run with `it.each`.
 *
 * Reference values for the special functions are mpmath 1.3 at 50+ significant digits (erfc,
 * ncdf, √2·erfinv(2p − 1)) evaluated at the exact double of each input (`mpf(0.975)`, not
 * `mpf('0.975')`: near p = 1 the two differ visibly in the quantile), rounded to 17 digits. Lift rows are computed
 * by hand; the derivation sits next to each row.
 */
import type { ArmStats, Lift, LiftRow, Summary } from '../../plugin/measure/index.ts';

/** Relative tolerance for the special functions (their documented accuracy is < 2e-14). */
export const SPECIAL_RELATIVE_TOLERANCE = 1e-13;
/** Absolute tolerance for the normal quantile (documented |error| < 1e-14; the brief asks < 1e-8). */
export const QUANTILE_TOLERANCE = 1e-13;

export interface PointCase {
  title: string;
  x: number;
  expected: number;
}

export const ERFC_CASES: PointCase[] = [
  { title: 'erfc(0) = 1', x: 0, expected: 1 },
  { title: 'erfc(0.1) in the series range', x: 0.1, expected: 0.88753708398171511 },
  { title: 'erfc(0.5)', x: 0.5, expected: 0.47950012218695346 },
  { title: 'erfc(1)', x: 1, expected: 0.15729920705028513 },
  { title: 'erfc(1.4999), the last series point', x: 1.4999, expected: 0.033906748337704729 },
  { title: 'erfc(1.5), the first continued-fraction point', x: 1.5, expected: 0.033894853524689273 },
  { title: 'erfc(2)', x: 2, expected: 0.0046777349810472658 },
  { title: 'erfc(3)', x: 3, expected: 2.2090496998585441e-5 },
  { title: 'erfc(5) keeps full relative precision in the tail', x: 5, expected: 1.5374597944280349e-12 },
  { title: 'erfc(10)', x: 10, expected: 2.0884875837625448e-45 },
  { title: 'erfc(26), near the bottom of the double range', x: 26, expected: 5.6631924088561428e-296 },
  { title: 'erfc(−1) = 2 − erfc(1)', x: -1, expected: 1.8427007929497149 },
  { title: 'erfc(−3)', x: -3, expected: 1.9999779095030014 },
  { title: 'erfc(28) underflows to 0', x: 28, expected: 0 },
  { title: 'erfc(+∞) = 0', x: Infinity, expected: 0 },
  { title: 'erfc(−∞) = 2', x: -Infinity, expected: 2 },
];

export const NORMAL_CDF_CASES: PointCase[] = [
  { title: 'Φ(0) = 0.5', x: 0, expected: 0.5 },
  { title: 'Φ(1)', x: 1, expected: 0.84134474606854295 },
  { title: 'Φ(−1.959963984540054) = 0.025', x: -1.959963984540054, expected: 0.025000000000000011 },
  { title: 'Φ(−3)', x: -3, expected: 0.0013498980316300945 },
  { title: 'Φ(−10) keeps full relative precision in the lower tail', x: -10, expected: 7.6198530241605261e-24 },
  { title: 'Φ(8) is 1 − 6.2e-16', x: 8, expected: 0.99999999999999938 },
];

export const NORMAL_QUANTILE_CASES: PointCase[] = [
  { title: 'Φ⁻¹(0.975), the 95 % two-sided z', x: 0.975, expected: 1.9599639845400539 },
  { title: 'Φ⁻¹(0.025)', x: 0.025, expected: -1.9599639845400542 },
  { title: 'Φ⁻¹(0.95), the 90 % two-sided z', x: 0.95, expected: 1.6448536269514723 },
  { title: 'Φ⁻¹(0.995), the 99 % two-sided z', x: 0.995, expected: 2.5758293035489005 },
  { title: 'Φ⁻¹(0.9)', x: 0.9, expected: 1.2815515655446006 },
  { title: 'Φ⁻¹(0.8) in the central region', x: 0.8, expected: 0.84162123357291436 },
  { title: 'Φ⁻¹(0.5) = 0', x: 0.5, expected: 0 },
  { title: 'Φ⁻¹(0.02425), where the tail and central approximations meet', x: 0.02425, expected: -1.9729610513118848 },
  { title: 'Φ⁻¹(0.01) in the lower tail', x: 0.01, expected: -2.3263478740408411 },
  { title: 'Φ⁻¹(0.001)', x: 0.001, expected: -3.0902323061678135 },
  { title: 'Φ⁻¹(1e-10)', x: 1e-10, expected: -6.3613409024040562 },
  { title: 'Φ⁻¹(1e-20)', x: 1e-20, expected: -9.2623400897984076 },
  { title: 'Φ⁻¹(1e-300), far in the tail', x: 1e-300, expected: -37.047096299361199 },
  { title: 'Φ⁻¹(0.999999) in the upper tail', x: 0.999999, expected: 4.7534243088170878 },
];

export const CHI_SQUARE_1_SURVIVAL_CASES: PointCase[] = [
  { title: 'P(χ²₁ > 0) = 1', x: 0, expected: 1 },
  { title: 'P(χ²₁ > −1) = 1', x: -1, expected: 1 },
  { title: 'P(χ²₁ > 1) = P(|Z| > 1)', x: 1, expected: 0.3173105078629141 },
  { title: 'the 10 % critical value 2.705543454095404', x: 2.705543454095404, expected: 0.10000000000000066 },
  { title: 'the 5 % critical value 3.841458820694124', x: 3.841458820694124, expected: 0.050000000000000057 },
  { title: 'the 1 % critical value 6.634896601021214', x: 6.634896601021214, expected: 0.010000000000000009 },
  { title: 'the 0.1 % critical value 10.827566170662733', x: 10.827566170662733, expected: 0.00099999999999999969 },
  { title: 'χ² = 4/9 (the 10.2 % SRM case below)', x: 4 / 9, expected: 0.50498507509384584 },
  { title: 'χ² = 17777.8 (the 50/50 SRM case below) underflows to 0', x: 160_000 / 9, expected: 0 },
];

export interface SummaryCase {
  title: string;
  values: number[];
  expected: Summary;
}

export const MEAN_AND_SD_CASES: SummaryCase[] = [
  { title: 'no values: mean and sd null', values: [], expected: { n: 0, sum: 0, mean: null, sd: null } },
  { title: 'one value: mean only', values: [0.7], expected: { n: 1, sum: 0.7, mean: 0.7, sd: null } },
  // mean 0.75; Σ(x − 0.75)² = 3·0.0625 + 0.5625 = 0.75; s² = 0.75/3 = 0.25
  { title: '[1, 0, 1, 1]: sd 0.5', values: [1, 0, 1, 1], expected: { n: 4, sum: 3, mean: 0.75, sd: 0.5 } },
  // mean 0.5; deviations −0.3, −0.1, 0.4; Σd² = 0.26; s² = 0.13
  {
    title: '[0.2, 0.4, 0.9]: sd √0.13',
    values: [0.2, 0.4, 0.9],
    expected: { n: 3, sum: 1.5, mean: 0.5, sd: 0.36055512754639893 },
  },
  { title: 'equal values: sd 0', values: [0.3, 0.3, 0.3, 0.3], expected: { n: 4, sum: 1.2, mean: 0.3, sd: 0 } },
  // deviations −6, −3, 3, 6 from 1e9 + 10; Σd² = 90; s² = 30 — the one-pass Σx² − n·m² formula gets this wrong
  {
    title: 'a large offset does not cost precision: [1e9+4, 1e9+7, 1e9+13, 1e9+16]',
    values: [1e9 + 4, 1e9 + 7, 1e9 + 13, 1e9 + 16],
    expected: { n: 4, sum: 4e9 + 40, mean: 1e9 + 10, sd: Math.sqrt(30) },
  },
];

/** A treatment row with no choices and no reward yet; override what a case needs. */
export function makeRow(overrides: Partial<LiftRow> = {}): LiftRow {
  return { holdout: false, reward: null, choices: {}, deliver: true, ...overrides };
}

/** One row per reward (null = still open), all in the treatment group or all in the holdout. */
export function rowsWithRewards(rewards: readonly (number | null)[], holdout: boolean): LiftRow[] {
  return rewards.map((reward) => makeRow({ holdout, reward }));
}

/** `ones` rewards of 1 followed by `count − ones` rewards of 0. */
export function binaryRewards(count: number, ones: number): number[] {
  return Array.from({ length: count }, (_, i) => (i < ones ? 1 : 0));
}

export interface LiftCase {
  title: string;
  treatment: (number | null)[];
  holdout: (number | null)[];
  confidence?: number;
  expected: Lift | null;
}

export const LIFT_CASES: LiftCase[] = [
  {
    // t: mean 0.75, sd 0.5; h: mean 0.25, sd 0.5; d = 0.5; se = √(0.25/4 + 0.25/4) = √0.125 = 0.35355339059327376
    // 0.5 ∓ 1.959963984540054 · 0.35355339059327376 = 0.5 ∓ 0.69295191217483897
    title: 'a difference on 4 rows each has an interval that includes 0',
    treatment: [1, 0, 1, 1],
    holdout: [0, 1, 0, 0],
    expected: {
      difference: 0.5,
      lower: -0.19295191217483897,
      upper: 1.192951912174839,
      relative: 2,
      significant: false,
    },
  },
  {
    // t: 60/100, s² = (100/99)·0.6·0.4; h: 20/100, s² = (100/99)·0.2·0.8
    // se = √((100/99)(0.24 + 0.16)/100) = √(0.4/99) = 0.063564172616372821; 0.4 ∓ 1.96 · se = 0.4 ∓ 0.12458348903517788
    title: 'a clear positive lift (60 % vs 20 % on 100 rows each) has an interval above 0',
    treatment: binaryRewards(100, 60),
    holdout: binaryRewards(100, 20),
    expected: {
      difference: 0.4,
      lower: 0.27541651096482212,
      upper: 0.52458348903517788,
      relative: 2,
      significant: true,
    },
  },
  {
    // same se = √(0.4/99); z = Φ⁻¹(0.95) = 1.6448536269514727; 0.4 ∓ 0.10455375987221032
    title: 'a 90 % confidence level gives the narrower interval with z = 1.6449',
    treatment: binaryRewards(100, 60),
    holdout: binaryRewards(100, 20),
    confidence: 0.9,
    expected: {
      difference: 0.4,
      lower: 0.29544624012778968,
      upper: 0.50455375987221032,
      relative: 2,
      significant: true,
    },
  },
  {
    // both 30/100: d = 0; se = √(2 · (100/99) · 0.21 / 100) = √(0.42/99) = 0.065133894727892961
    title: 'equal rates (30 % vs 30 %) show no lift and an interval around 0',
    treatment: binaryRewards(100, 30),
    holdout: binaryRewards(100, 30),
    expected: {
      difference: 0,
      lower: -0.12766008783949352,
      upper: 0.12766008783949352,
      relative: 0,
      significant: false,
    },
  },
  {
    // t: 10/100, h: 25/100; d = −0.15; se = √((100/99)(0.09 + 0.1875)/100) = √(0.2775/99) = 0.052943652150473177
    // relative = −0.15/0.25 = −0.6
    title: 'a treatment that does worse (10 % vs 25 %) has an interval below 0',
    treatment: binaryRewards(100, 10),
    holdout: binaryRewards(100, 25),
    expected: {
      difference: -0.15,
      lower: -0.25376765142494402,
      upper: -0.046232348575055981,
      relative: -0.6,
      significant: true,
    },
  },
  {
    // t: mean 0.5, s² = 1/3; h: mean 0, sd 0; se = √((1/3)/4) = √(1/12) = 0.28867513459481288
    title: 'relative lift is null when the holdout mean is 0',
    treatment: [1, 0, 1, 0],
    holdout: [0, 0, 0],
    expected: {
      difference: 0.5,
      lower: -0.065792867038085912,
      upper: 1.0657928670380859,
      relative: null,
      significant: false,
    },
  },
  {
    // t: mean 0.5, s² = 0.13; h: [0.1, 0.3] mean 0.2, s² = 0.02; se = √(0.13/3 + 0.02/2) = √(4/75) = 0.23094010767585031
    // relative = 0.3/0.2 = 1.5
    title: 'fractional rewards use unequal group sizes and variances (Welch)',
    treatment: [0.2, 0.4, 0.9],
    holdout: [0.1, 0.3],
    expected: {
      difference: 0.3,
      lower: -0.15263429363046873,
      upper: 0.75263429363046873,
      relative: 1.5,
      significant: false,
    },
  },
  {
    // open rows are not rewards: t closed = [1, 0, 1, 1], h closed = [0, 1, 0, 0] — the first row again
    title: 'open rows do not move the lift',
    treatment: [1, null, 0, 1, null, 1],
    holdout: [null, 0, 1, 0, 0, null, null],
    expected: {
      difference: 0.5,
      lower: -0.19295191217483897,
      upper: 1.192951912174839,
      relative: 2,
      significant: false,
    },
  },
  {
    title: 'no lift with a single closed holdout row (the rest open)',
    treatment: binaryRewards(100, 60),
    holdout: [1, null, null, null],
    expected: null,
  },
  {
    title: 'no lift with a single closed treatment row',
    treatment: [1, null],
    holdout: binaryRewards(10, 2),
    expected: null,
  },
  {
    title: 'no lift with an empty holdout',
    treatment: binaryRewards(10, 5),
    holdout: [],
    expected: null,
  },
];

/** `treatment` treatment rows then `holdout` holdout rows, all open unless `reward` is given. */
export function splitRows(treatment: number, holdout: number, reward: number | null = null): LiftRow[] {
  return [
    ...Array.from({ length: treatment }, () => makeRow({ reward })),
    ...Array.from({ length: holdout }, () => makeRow({ holdout: true, reward })),
  ];
}

export interface SrmCase {
  title: string;
  treatment: number;
  holdout: number;
  holdoutShare: number;
  srmAlpha?: number;
  expected: { observedHoldoutShare: number; chiSquare: number; pValue: number; mismatch: boolean };
}

// χ² = (holdout − N·s)² / (N·s·(1 − s)); with N = 10,000 and s = 0.1 the denominator is 900.
export const SRM_CASES: SrmCase[] = [
  {
    // (5000 − 1000)² / 900 = 16,000,000 / 900 = 17,777.8; p = erfc(√8888.9) underflows to 0
    title: 'flags a 50/50 split when 10 % was expected over 10,000 rows',
    treatment: 5000,
    holdout: 5000,
    holdoutShare: 0.1,
    expected: { observedHoldoutShare: 0.5, chiSquare: 160_000 / 9, pValue: 0, mismatch: true },
  },
  {
    // (1020 − 1000)² / 900 = 4/9; p = erfc(√(2/9)) = 0.50498507509384584
    title: 'accepts a 10.2 % / 89.8 % split of 10,000 rows',
    treatment: 8980,
    holdout: 1020,
    holdoutShare: 0.1,
    expected: { observedHoldoutShare: 0.102, chiSquare: 4 / 9, pValue: 0.50498507509384584, mismatch: false },
  },
  {
    title: 'gives χ² = 0 and p = 1 for an exact 10 % split',
    treatment: 9000,
    holdout: 1000,
    holdoutShare: 0.1,
    expected: { observedHoldoutShare: 0.1, chiSquare: 0, pValue: 1, mismatch: false },
  },
  {
    // (1100 − 1000)² / 900 = 100/9 = 11.1; p = erfc(√(50/9)) = 0.000858 < 0.001
    title: 'flags 11 % of 10,000 against 10 % at the default α = 0.001',
    treatment: 8900,
    holdout: 1100,
    holdoutShare: 0.1,
    expected: { observedHoldoutShare: 0.11, chiSquare: 100 / 9, pValue: 0.00085812066639367515, mismatch: true },
  },
  {
    // same χ² = 4/9, p = 0.505 < 0.6
    title: 'uses srmAlpha when given',
    treatment: 8980,
    holdout: 1020,
    holdoutShare: 0.1,
    srmAlpha: 0.6,
    expected: { observedHoldoutShare: 0.102, chiSquare: 4 / 9, pValue: 0.50498507509384584, mismatch: true },
  },
  {
    // s = 0.5, N = 200: (110 − 100)² / (200 · 0.25) = 100/50 = 2; p = erfc(1) = 0.15729920705028513
    title: 'tests a 50 % holdout too',
    treatment: 90,
    holdout: 110,
    holdoutShare: 0.5,
    expected: { observedHoldoutShare: 0.55, chiSquare: 2, pValue: 0.15729920705028513, mismatch: false },
  },
];

/**
 * Treatment rows of the example agent (examples/agents.yaml): subject_line is decided only when the
 * channel is email, and a frequency = skip row decides nothing else. Two holdout rows on the
 * default arms must not show up in the dimension stats.
 */
export const DIMENSION_ROWS: LiftRow[] = [
  makeRow({ reward: 1, choices: { frequency: 'send', channel: 'email', subject_line: 'sl_plain' } }),
  makeRow({ reward: 0, choices: { frequency: 'send', channel: 'email', subject_line: 'sl_urgency' } }),
  makeRow({ reward: null, choices: { frequency: 'send', channel: 'email', subject_line: 'sl_urgency' } }),
  makeRow({ reward: 1, choices: { frequency: 'send', channel: 'sms' } }),
  makeRow({ reward: null, choices: { frequency: 'send', channel: 'push' } }),
  makeRow({ reward: 0, choices: { frequency: 'skip' }, deliver: false }),
  makeRow({ holdout: true, reward: 1, choices: { frequency: 'send', channel: 'email', subject_line: 'sl_plain' } }),
  makeRow({ holdout: true, reward: 1, choices: { frequency: 'send', channel: 'email', subject_line: 'sl_plain' } }),
];

/** Rows of DIMENSION_ROWS on which each dimension was decided (treatment only). */
export const DIMENSION_DECIDED: [string, number][] = [
  ['frequency', 6],
  ['channel', 5],
  ['subject_line', 3],
];

/** dimension, arm → expected stats over DIMENSION_ROWS; shares are of the decided rows above. */
export const DIMENSION_ARM_CASES: [string, string, string, ArmStats][] = [
  // rows 1–5; closed rewards 1, 0, 1 (rows 3 and 5 are open)
  [
    'send is 5 of 6 frequency decisions, mean of its 3 closed rows',
    'frequency',
    'send',
    { n: 5, share: 5 / 6, meanReward: 2 / 3 },
  ],
  ['skip is 1 of 6 frequency decisions', 'frequency', 'skip', { n: 1, share: 1 / 6, meanReward: 0 }],
  // rows 1–3; closed rewards 1, 0
  [
    'email is 3 of 5 channel decisions, mean of its 2 closed rows',
    'channel',
    'email',
    { n: 3, share: 0.6, meanReward: 0.5 },
  ],
  ['sms is 1 of 5 channel decisions', 'channel', 'sms', { n: 1, share: 0.2, meanReward: 1 }],
  ['push has only an open row, so no mean reward', 'channel', 'push', { n: 1, share: 0.2, meanReward: null }],
  // decided on the 3 email rows only, not on sms, push or skip
  ['sl_plain is 1 of the 3 email rows', 'subject_line', 'sl_plain', { n: 1, share: 1 / 3, meanReward: 1 }],
  [
    'sl_urgency is 2 of the 3 email rows, mean of its 1 closed row',
    'subject_line',
    'sl_urgency',
    { n: 2, share: 2 / 3, meanReward: 0 },
  ],
];
