import { describe, expect, it } from 'vitest';
import { offPolicyExperiment, type SeedResult } from './off-policy-world.ts';

/**
 * The simulator check of off-policy evaluation: for each of 5 seeds, one policy logs 50,000
 * decisions in the simulator's world, three candidates are estimated from that log by each
 * estimator, then run online on the same seeds. Doubly robust must land within 10 % of the online
 * value wherever the diagnostics trust it, and the diagnostics must flag every other case.
 * The table of relative errors is printed (docs/evaluation.md quotes it).
 */
const SEEDS = ['ope-1', 'ope-2', 'ope-3', 'ope-4', 'ope-5'];
const ESTIMATORS = ['dm', 'ips', 'snips', 'dr'] as const;

function relativeError(r: SeedResult, name: (typeof ESTIMATORS)[number]): number {
  return Math.abs(r.evaluation.estimates[name]!.value - r.online) / r.online;
}

describe('off-policy evaluation in the simulator, 5 seeds × 50,000 logged decisions', () => {
  const results = SEEDS.flatMap((seed) => offPolicyExperiment(seed, 50_000));

  it('prints the table of relative errors', () => {
    const rows = results.map((r) => ({
      seed: r.seed,
      candidate: r.candidate,
      online: r.online.toFixed(4),
      ...Object.fromEntries(ESTIMATORS.map((e) => [e, relativeError(r, e).toFixed(3)])),
      ess: Math.round(r.evaluation.diagnostics.effectiveSampleSize),
      meanWeight: r.evaluation.diagnostics.meanWeight.toFixed(3),
      trusted: r.evaluation.diagnostics.trustworthy,
      ...(r.contentOnly && {
        drContentAlone: (Math.abs(r.contentOnly.estimates.dr!.value - r.online) / r.online).toFixed(3),
      }),
    }));
    console.table(rows);
    expect(rows).toHaveLength(SEEDS.length * 4);
  });

  it('puts doubly robust within 10 % of the online value wherever the diagnostics trust it', () => {
    const trusted = results.filter((r) => r.evaluation.diagnostics.trustworthy);
    expect(trusted.length).toBe(3 * SEEDS.length);
    for (const r of trusted) expect(relativeError(r, 'dr'), `${r.seed} ${r.candidate}`).toBeLessThan(0.1);
  });

  it('flags every case where doubly robust is off by more than 10 %', () => {
    for (const r of results)
      if (relativeError(r, 'dr') > 0.1)
        expect(r.evaluation.diagnostics.trustworthy, `${r.seed} ${r.candidate}`).toBe(false);
  });
});
