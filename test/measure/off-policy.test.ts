import { describe, expect, it } from 'vitest';
import {
  evaluateOffPolicy,
  factorizedWeight,
  RewardModel,
  TRUST,
  type OffPolicyRounds,
} from '../../plugin/measure/index.ts';
import { expectClose } from '../helpers/index.ts';
import { offPolicyExperiment } from './off-policy-world.ts';

function rounds(
  rows: [reward: number, propensity: number, target: number, value?: number, logged?: number][],
): OffPolicyRounds {
  const column = (k: number) => Float64Array.from(rows, (r) => r[k] ?? 0);
  return { reward: column(0), propensity: column(1), target: column(2), modelValue: column(3), modelLogged: column(4) };
}

describe('evaluateOffPolicy', () => {
  // four logged decisions; weights 2, 0, 1, 1
  const ROUNDS = rounds([
    [1, 0.5, 1, 0.6, 0.5],
    [1, 0.5, 0, 0.2, 0.4],
    [0, 0.25, 0.25, 0.3, 0.1],
    [1, 1, 1, 0.5, 0.5],
  ]);
  const { estimates, diagnostics } = evaluateOffPolicy(ROUNDS);

  it.each([
    ['ips', (2 * 1 + 0 + 0 + 1) / 4],
    ['snips', (2 * 1 + 0 + 0 + 1) / (2 + 0 + 1 + 1)],
    ['dm', (0.6 + 0.2 + 0.3 + 0.5) / 4],
    ['dr', (0.6 + 2 * (1 - 0.5) + 0.2 + 0 + 0.3 + 1 * (0 - 0.1) + 0.5 + 1 * (1 - 0.5)) / 4],
  ] as const)('computes %s from the logged rewards, weights and model', (name, value) => {
    expectClose(estimates[name]!.value, value);
  });

  it('gives a normal interval around each estimate from its standard error', () => {
    const ips = estimates.ips!;
    // terms 2, 0, 0, 1: sample variance 11/12
    expectClose(ips.standardError, Math.sqrt(11 / 12 / 4));
    expectClose(ips.upper - ips.value, 1.959963984540054 * ips.standardError, 1e-9);
  });

  it('reports the effective sample size, the support share, the mean and the largest weight', () => {
    expect(diagnostics).toMatchObject({
      rounds: 4,
      supportShare: 0.75,
      meanWeight: 1,
      largestWeight: 2,
      largestWeightShare: 0.5,
    });
    expectClose(diagnostics.effectiveSampleSize, 16 / 6);
  });

  it('names every reason not to trust the estimate', () => {
    expect(diagnostics.trustworthy).toBe(false);
    expect(diagnostics.warnings.join('\n')).toMatch(/effective sample size 3 < 1000/);
    expect(diagnostics.warnings.join('\n')).toMatch(/one decision carries 50.0 % of the weight/);
  });

  it('flags a candidate whose choices the logger never made by its mean weight', () => {
    // the candidate puts half its mass on a choice the logger never made: weights 1 or 0 on logged choices
    const n = 20_000;
    const half = evaluateOffPolicy({
      reward: new Float64Array(n).fill(0.5),
      propensity: new Float64Array(n).fill(0.5),
      target: Float64Array.from({ length: n }, (_, i) => (i % 2 === 0 ? 0.5 : 0)),
    }).diagnostics;
    expect(half.meanWeight).toBe(0.5);
    expect(half.warnings.some((w) => w.startsWith('mean weight 0.500 is not 1'))).toBe(true);
    expect(half.effectiveSampleSize).toBeGreaterThan(TRUST.minEffectiveSampleSize);
  });

  it('gives no DM or DR without a reward model', () => {
    const { estimates: only } = evaluateOffPolicy({
      reward: ROUNDS.reward,
      propensity: ROUNDS.propensity,
      target: ROUNDS.target,
    });
    expect(Object.keys(only).sort()).toEqual(['ips', 'snips']);
  });
});

describe('factorizedWeight', () => {
  const choices = [
    { dimension: 'channel', logged: 0.5, candidate: 1 },
    { dimension: 'content', logged: 0.25, candidate: 0.5 },
  ];

  it('multiplies the dimensions for the joint weight', () => {
    expect(factorizedWeight(choices)).toEqual({ propensity: 0.125, target: 0.5 });
  });

  it('keeps only the dimension asked for', () => {
    expect(factorizedWeight(choices, 'content')).toEqual({ propensity: 0.25, target: 0.5 });
  });

  it('gives weight 1 to a decision that did not decide the dimension', () => {
    expect(factorizedWeight(choices, 'subject_line')).toEqual({ propensity: 1, target: 1 });
  });
});

describe('RewardModel', () => {
  it('recovers a linear reward per arm by ridge regression, clipped to [0, 1]', () => {
    const model = new RewardModel(2, 2, 1e-6);
    for (let i = 0; i < 200; i++) {
      const x = [1, (i % 10) / 10];
      model.observe(x, 0, 0.1 + 0.5 * x[1]!);
      model.observe(x, 1, 0.9);
    }
    expectClose(model.predict([1, 0.5], 0), 0.35, 1e-6);
    expectClose(model.predict([1, 0.5], 1), 0.9, 1e-6);
    expect(model.predict([1, 10], 0)).toBe(1);
  });
});

describe('off-policy evaluation in the simulator (one seed, 20,000 decisions; the full table is a learning check)', () => {
  const results = offPolicyExperiment('unit-seed', 20_000);

  it('estimates every candidate the diagnostics trust within 10 % of its online value by doubly robust', () => {
    const trusted = results.filter((r) => r.evaluation.diagnostics.trustworthy);
    expect(trusted.map((r) => r.candidate)).toEqual(['sharper', 'greedy', 'content-only']);
    for (const r of trusted) expect(Math.abs(r.evaluation.estimates.dr!.value - r.online) / r.online).toBeLessThan(0.1);
  });

  it('estimates a candidate that changes one dimension the same on that dimension alone as jointly', () => {
    const r = results.find((x) => x.candidate === 'content-only')!;
    expectClose(r.contentOnly!.estimates.dr!.value, r.evaluation.estimates.dr!.value, 1e-12);
    expect(Math.abs(r.contentOnly!.estimates.dr!.value - r.online) / r.online).toBeLessThan(0.1);
  });

  it('flags the candidate that sends where the logger never did', () => {
    const sms = results.find((r) => r.candidate === 'sms-for-all')!;
    expect(sms.evaluation.diagnostics.trustworthy).toBe(false);
    expect(sms.evaluation.diagnostics.meanWeight).toBeLessThan(0.8);
  });
});
